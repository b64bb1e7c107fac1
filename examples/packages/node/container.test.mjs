// Testcontainers (Node): the mock's image with the package's helpers over the mapped port. Needs
// a Docker-compatible engine (DOCKER_HOST) and the image (BKZ_MOCK_IMAGE, default biometric-kz-mock:latest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BiometricKzMockContainer } from 'biometric-kz-mock/testcontainers';

test('the container with the same helpers', async () => {
  const mock = await new BiometricKzMockContainer(undefined, { flags: ['--strict'] }).start();
  try {
    const flow = await mock.newFlow();
    const { session_id } = await flow.createSession();
    await flow.complete(session_id);
    assert.equal((await flow.result(session_id)).flow_session_result, true);
    assert.equal((await flow.requests()).length, 2);
  } finally {
    await mock.stop();
  }
});
