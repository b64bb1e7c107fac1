#!/usr/bin/env node
'use strict';
// `npx biometric-kz-mock serve ...`: runs the packaged executable with the same arguments, passes
// signals on (Ctrl-C, SIGTERM from a test runner) and exits as it does.
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
