// Vitest with one biometric-kz-mock for the whole run (global-setup.mjs), each test on a flow of its own.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./global-setup.mjs'],
    include: ['*.test.mjs'],
    exclude: ['container.test.mjs'],
  },
});
