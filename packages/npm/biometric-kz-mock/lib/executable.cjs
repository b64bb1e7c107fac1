'use strict';
// Where the mock's executable is: BKZ_MOCK_BIN, else the platform package's (installed by npm as an
// optional dependency on the one platform it carries), else a clear error saying how to build it.
const fs = require('node:fs');
const path = require('node:path');

const PLATFORM_PACKAGE = 'biometric-kz-mock-linux-x64';
const CARRIED = 'Linux x86-64 with glibc 2.34 or later';

class ExecutableNotFound extends Error {
  get name() { return 'ExecutableNotFound'; }
}

function howToBuild(why) {
  return `${why}. The package carries the executable for ${CARRIED} only (this is ${process.platform} ${process.arch}${libc()}). ` +
    'Build it from source with Rust (https://rustup.rs): in a checkout of the biometric-kz-mock repository, ' +
    '`cargo install --locked --path .` (or `cargo build --release`), then set BKZ_MOCK_BIN=/path/to/biometric-kz-mock. ' +
    'Or point BKZ_MOCK_URL at a running mock (connectMock), or run its container (biometric-kz-mock/testcontainers).';
}

function libc() {
  if (process.platform !== 'linux') return '';
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  return glibc ? `, glibc ${glibc}` : ', not glibc (musl?)';
}

function executable() {
  const given = process.env.BKZ_MOCK_BIN;
  if (given) {
    try {
      fs.accessSync(given, fs.constants.X_OK);
      if (fs.statSync(given).isFile()) return given;
    } catch { /* said below */ }
    throw new ExecutableNotFound(howToBuild(`BKZ_MOCK_BIN=${given} is not an executable file`));
  }
  if (process.platform !== 'linux' || process.arch !== 'x64' || libc().includes('musl')) {
    throw new ExecutableNotFound(howToBuild('No biometric-kz-mock executable is packaged for this platform'));
  }
  let manifest;
  try {
    manifest = require.resolve(`${PLATFORM_PACKAGE}/package.json`);
  } catch {
    throw new ExecutableNotFound(
      `The package ${PLATFORM_PACKAGE}, which carries the executable, is not installed (npm leaves optional ` +
      'dependencies out with --omit=optional, or when biometric-kz-mock is installed from a file without it): ' +
      `install it beside biometric-kz-mock (npm install ${PLATFORM_PACKAGE}, or its .tgz), or set BKZ_MOCK_BIN.`);
  }
  return path.join(path.dirname(manifest), 'bin', 'biometric-kz-mock');
}

module.exports = { executable, ExecutableNotFound, howToBuild };
