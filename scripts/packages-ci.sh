#!/usr/bin/env bash
# Builds the pip and npm packages (scripts/package.sh) and proves that a user with Python or Node and
# no Rust goes from the built files to passing tests: each is installed into a fresh environment
# whose PATH has no cargo, and the suites in examples/packages — not part of the packages — run
# there: pytest with -n 4 and mypy --strict for Python; Vitest, node:test through require(), npx
# and tsc for Node. Then the platforms without an executable: pip picks the py3-none-any wheel
# there, and it, like the npm package without its platform package, says how to build from source.
#
# Usage: scripts/packages-ci.sh       Env: WORK (scratch; default /tmp/bkz-packages). Leaves the
# environments in WORK/py and WORK/node for the Testcontainers suites (scripts/container-ci.sh).
set -euo pipefail
PROJ=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/bkz-packages}
DIST=$WORK/dist
say() { echo "[packages-ci] $*" >&2; }
timed() { local s=$SECONDS; "${@:2}"; say "$((SECONDS - s)) s: $1"; }
mkdir -p "$WORK"

timed "the packages built" "$PROJ/scripts/package.sh" "$DIST"
VERSION=$(cd "$DIST" && ls biometric-kz-mock-linux-x64-*.tgz | sed 's/^biometric-kz-mock-linux-x64-\(.*\)\.tgz$/\1/')
WHEEL=$DIST/biometric_kz_mock-$VERSION-py3-none-manylinux_2_34_x86_64.whl
ANY=$DIST/biometric_kz_mock-$VERSION-py3-none-any.whl

# The users' PATH: this machine's, without any folder that has cargo or rustc in it.
CLEAN_PATH=$(python3 -c 'import os, sys
print(os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
      if d and not any(os.path.exists(os.path.join(d, t)) for t in ("cargo", "rustc"))))')
user() { env -u BKZ_MOCK_BIN -u BKZ_MOCK_URL -u CARGO_HOME -u RUSTUP_HOME PATH="$1" "${@:2}"; }
user "$CLEAN_PATH" sh -c '! command -v cargo' >/dev/null || { say "cargo is still on the users' PATH"; exit 1; }

# 1. Python: the wheel from its file into a fresh virtual environment, used as an activated one.
rm -rf "$WORK/py" "$WORK/py-any" "$WORK/node" "$WORK/npm-only" "$WORK/pick"
python3 -m venv "$WORK/py"
"$WORK/py/bin/pip" install -q --disable-pip-version-check "$WHEEL[testcontainers]" \
  "pytest==9.2.0" "pytest-xdist==3.8.0" "mypy==1.19.1" "testcontainers==4.15.0"
PY_PATH=$WORK/py/bin:$CLEAN_PATH
(cd "$PROJ/examples/packages/python" \
  && timed "pytest -n 4" user "$PY_PATH" python -m pytest -q -n 4 -p no:cacheprovider test_helpers.py \
  && user "$PY_PATH" mypy --strict --cache-dir "$WORK/mypy-cache" typed_use.py)
say "python: the wheel's suite passed in 4 workers; mypy --strict is clean"

# 2. pip takes the wheel with the executable only where it runs, and the other one elsewhere.
for pick in manylinux_2_34_x86_64:manylinux_2_34 manylinux_2_28_x86_64:any macosx_11_0_arm64:any \
            musllinux_1_2_x86_64:any win_amd64:any; do
  platform=${pick%%:*}; expected=${pick##*:}
  "$WORK/py/bin/pip" download -q --disable-pip-version-check --no-index --find-links "$DIST" --only-binary=:all: \
    --platform "$platform" --python-version 3.11 --no-deps -d "$WORK/pick/$platform" "biometric-kz-mock==$VERSION"
  got=$(ls "$WORK/pick/$platform")
  case $got in *"-$expected"*) ;; *) say "pip took $got for $platform, expected the $expected wheel"; exit 1;; esac
done
say "pip: the executable's wheel on manylinux_2_34_x86_64 only, py3-none-any elsewhere"

# 3. Where there is no executable: the py3-none-any wheel's fixtures fail saying how to build one.
python3 -m venv "$WORK/py-any"
"$WORK/py-any/bin/pip" install -q --disable-pip-version-check "$ANY" "pytest==9.2.0"
printf 'def test_needs_a_mock(bkz_flow):\n    pass\n' > "$WORK/py-any/test_no_executable.py"
out=$(cd "$WORK/py-any" && user "$WORK/py-any/bin:$CLEAN_PATH" python -m pytest -q -p no:cacheprovider test_no_executable.py 2>&1 || true)
echo "$out" | grep -q "ExecutableNotFound: No biometric-kz-mock executable was found" \
  && echo "$out" | grep -q "cargo install --locked --path ." \
  || { echo "$out"; say "the py3-none-any wheel did not say how to build the executable"; exit 1; }
say "python without the executable: the fixture says how to build it"

# 4. Node: both tarballs from their files into a fresh project (the recipes' package.json).
mkdir -p "$WORK/node"
cp "$PROJ"/examples/packages/node/{package.json,tsconfig.json,*.mjs,*.cjs,*.ts,*.cts} "$WORK/node/"
(cd "$WORK/node" \
  && timed "npm install" user "$CLEAN_PATH" npm install --no-audit --no-fund --loglevel=error --save-dev \
       "$DIST/biometric-kz-mock-linux-x64-$VERSION.tgz" "$DIST/biometric-kz-mock-$VERSION.tgz" \
  && timed "npm test" user "$CLEAN_PATH" npm test)
say "node: Vitest, node:test (require), npx and tsc passed"

# 5. npm without the platform package: a clear error from the helpers and from npx.
mkdir -p "$WORK/npm-only"
(cd "$WORK/npm-only" && echo '{"name": "npm-only", "private": true}' > package.json \
  && user "$CLEAN_PATH" npm install --no-audit --no-fund --loglevel=error --omit=optional "$DIST/biometric-kz-mock-$VERSION.tgz")
out=$(cd "$WORK/npm-only" && user "$CLEAN_PATH" npx --no-install biometric-kz-mock serve 2>&1 || true)
echo "$out" | grep -q "biometric-kz-mock-linux-x64, which carries the executable, is not installed" \
  || { echo "$out"; say "npx without the platform package did not say what to install"; exit 1; }
say "npm without the platform package: npx says what to install"
say "OK"
