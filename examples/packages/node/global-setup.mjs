// Vitest global setup: one mock for every test file and worker — BKZ_MOCK_URL's if set, else the
// packaged server on a free port — handed to the tests as inject('bkzMockUrl').
import { startMock } from 'biometric-kz-mock';

export default async function setup(project) {
  const mock = process.env.BKZ_MOCK_URL ? null : await startMock();
  project.provide('bkzMockUrl', process.env.BKZ_MOCK_URL ?? mock.url);
  return async () => {
    await mock?.stop();
  };
}
