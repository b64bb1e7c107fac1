#!/usr/bin/env node
'use strict';
// `npx biometric-kz-mock serve ...`: runs the packaged executable with the same arguments, passes
// signals on (Ctrl-C, SIGTERM from a test runner, npx stopped) and exits as it does.
const { spawn } = require('node:child_process');
const { executable, ExecutableNotFound } = require('../lib/executable.cjs');

let file;
try {
  file = executable();
} catch (error) {
  if (!(error instanceof ExecutableNotFound)) throw error;
  console.error(`biometric-kz-mock: ${error.message}`);
  process.exit(1);
}
const child = spawn(file, process.argv.slice(2), { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
// Under npx (npm exec), a SIGTERM sent to npx reaches only the shell npm started us with, which
// dies without passing it on: we would be left running, the server holding its port. So when our
// parent goes away there, the server is stopped as if the signal had reached us. Only under npx:
// a launcher run from a shell that exits (`biometric-kz-mock serve &` in a CI step) stays up.
if (process.env.npm_command === 'exec') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 200).unref();
}
child.on('error', (error) => {
  console.error(`biometric-kz-mock: could not run ${file}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal); // die of the same signal, as a shell would report it
    process.kill(process.pid, signal);
  }
  else process.exit(code ?? 1);
});
