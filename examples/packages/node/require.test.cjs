// The package from CommonJS (require), with node's own test runner: startMock's own server,
// stopped at the end, and `npx biometric-kz-mock` running the packaged executable and stopping it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
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

test('a mock nobody stopped neither keeps node running nor outlives it', () => {
  const script = "require('biometric-kz-mock').startMock().then((mock) => console.log(mock.process.pid))";
  const pid = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 }));
  assert.ok(pid > 0);
  // Killed as node exited: gone, or a zombie until whoever inherited it reaps it.
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && alive(); i++) execFileSync('sleep', ['0.1']);
  assert.equal(alive(), false, `the mock (pid ${pid}) outlived node`);
});

test('a bad flag fails startMock with what the server said', async () => {
  await assert.rejects(startMock({ noSuchFlag: 1 }), /unexpected argument '--no-such-flag'/);
});

test('npx biometric-kz-mock runs the packaged executable', () => {
  const out = execFileSync('npx', ['--no-install', 'biometric-kz-mock', '--version'], { encoding: 'utf8' });
  assert.match(out, /^biometric-kz-mock \d+\.\d+\.\d+/);
});

test('npx biometric-kz-mock serve answers, and a SIGTERM to npx stops the server', async () => {
  // npm passes the signal to the shell it ran the launcher with, not to the launcher: the launcher
  // stops the server when that shell goes (issue 33's note: the server used to be left running).
  const npx = spawn('npx', ['--no-install', 'biometric-kz-mock', 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [first] = await once(npx.stdout.setEncoding('utf8'), 'data');
  const url = first.match(/^listening on (http:\/\/\S+)/)[1];
  assert.equal((await fetch(`${url}/__admin/health`)).status, 200);
  npx.kill('SIGTERM');
  await once(npx, 'exit');
  let up = true;
  for (let i = 0; i < 100 && up; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    up = await fetch(`${url}/__admin/health`).then(() => true, () => false);
  }
  assert.equal(up, false, `the server at ${url} outlived npx`);
});

test('serve through the package launcher answers, and stops on SIGTERM as the server does', async () => {
  // The launcher itself (as npx's child would be): the signal reaches the server through it.
  const launcher = require.resolve('biometric-kz-mock/package.json').replace(/package\.json$/, 'bin/biometric-kz-mock.cjs');
  const server = spawn(process.execPath, [launcher, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = await once(server.stdout.setEncoding('utf8'), 'data');
  const url = first.match(/^listening on (http:\/\/\S+)/)[1];
  assert.equal((await fetch(`${url}/__admin/health`)).status, 200);
  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  assert.equal(code, 0);
});
