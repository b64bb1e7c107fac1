// The ES module face of lib/testcontainers.cjs.
import api from './testcontainers.cjs';

export const { BiometricKzMockContainer } = api;
