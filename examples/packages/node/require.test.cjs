// The package from CommonJS (require), with node's own test runner: startMock's own server,
// stopped at the end, and `npx biometric-kz-mock` running the packaged executable.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { startMock, MockError } = require('biometric-kz-mock');

test('startMock from require: a flow, a session, a finished result, then stop', async () => {
  const mock = await startMock({ seed: 7, strict: true });
  try {
    assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const flow = await mock.newFlow({ technologies: ['LDHP', 'F2F'] });
    const { session_id } = await flow.createSession();
    await mock.complete(session_id, { scenario: 'happy-path' });
    assert.equal((await flow.result(session_id)).status, 'FINISHED');
    await assert.rejects(flow.createSession({ edocument: { skip_input: true } }), (error) =>
      error instanceof MockError && error.status === 400);
  } finally {
    await mock.stop();
  }
  assert.equal(mock.process.exitCode, 0, mock.logs());
});

test('a bad flag fails startMock with what the server said', async () => {
  await assert.rejects(startMock({ noSuchFlag: 1 }), /unexpected argument '--no-such-flag'/);
});

test('npx biometric-kz-mock runs the packaged executable', () => {
  const out = execFileSync('npx', ['--no-install', 'biometric-kz-mock', '--version'], { encoding: 'utf8' });
  assert.match(out, /^biometric-kz-mock \d+\.\d+\.\d+/);
});
