#!/usr/bin/env bash
# Builds the packages Python and Node users install, into OUT (nothing is published):
# - biometric_kz_mock-VERSION-py3-none-manylinux_2_34_x86_64.whl: the executable and the Python
#   module (maturin, "bin" bindings; packages/python);
# - biometric_kz_mock-VERSION-py3-none-any.whl: the same module without the executable, which pip
#   takes on every other platform, where starting a mock says how to build it from source;
# - biometric-kz-mock-VERSION.tgz and biometric-kz-mock-linux-x64-VERSION.tgz: the npm package and
#   its platform package with the executable (packages/npm), the executable taken from the wheel,
#   so the crate is built once (cargo build --release, through maturin).
# Every version is the crate's (Cargo.toml). Needs cargo, python3 and npm; fetches crates, PyPI and
# npm packages only. Env: TOOLS, where the build's Python tools go (default target/package-tools).
#
# Usage: scripts/package.sh OUT
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
PROJ=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
TOOLS=${TOOLS:-$PROJ/target/package-tools}
say() { echo "[package] $*" >&2; }
for tool in cargo python3 npm; do
  command -v "$tool" >/dev/null || { say "needs $tool on PATH (cargo: https://rustup.rs; python3 with venv; npm)"; exit 1; }
done

VERSION=$(cd "$PROJ" && cargo metadata --no-deps --format-version 1 --locked \
  | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "biometric-kz-mock"))')
say "version $VERSION"
rm -f "$OUT"/biometric_kz_mock-*.whl "$OUT"/biometric-kz-mock-*.tgz

# 1. The wheel with the executable. maturin checks the executable's glibc symbols against the tag.
[ -x "$TOOLS/bin/maturin" ] || {
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check "maturin==1.16.0" "wheel==0.48.0"
}
(cd "$PROJ/packages/python" && "$TOOLS/bin/maturin" build --release --locked --compatibility manylinux_2_34 --out "$OUT")
WHEEL=$OUT/biometric_kz_mock-$VERSION-py3-none-manylinux_2_34_x86_64.whl
[ -f "$WHEEL" ] || { say "maturin did not make $WHEEL"; exit 1; }

# 2. The same wheel without the executable, tagged for every platform.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
"$TOOLS/bin/wheel" unpack -d "$SCRATCH/any" "$WHEEL" >/dev/null
TREE=$SCRATCH/any/biometric_kz_mock-$VERSION
rm -r "$TREE/biometric_kz_mock-$VERSION.data"
sed -i -e 's/^Root-Is-Purelib: .*/Root-Is-Purelib: true/' -e 's/^Tag: .*/Tag: py3-none-any/' \
  "$TREE/biometric_kz_mock-$VERSION.dist-info/WHEEL"
"$TOOLS/bin/wheel" pack -d "$OUT" "$TREE" >/dev/null
[ -f "$OUT/biometric_kz_mock-$VERSION-py3-none-any.whl" ] || { say "no py3-none-any wheel"; exit 1; }

# 3. The npm packages, their versions the crate's, the executable the wheel's.
for package in biometric-kz-mock biometric-kz-mock-linux-x64; do
  cp -r "$PROJ/packages/npm/$package" "$SCRATCH/$package"
  (cd "$SCRATCH/$package" && npm pkg set "version=$VERSION")
done
(cd "$SCRATCH/biometric-kz-mock" && npm pkg set "optionalDependencies.biometric-kz-mock-linux-x64=$VERSION")
mkdir -p "$SCRATCH/biometric-kz-mock-linux-x64/bin"
python3 - "$WHEEL" "$SCRATCH/biometric-kz-mock-linux-x64/bin/biometric-kz-mock" "$VERSION" <<'PY'
import os, sys, zipfile
wheel, target, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive, open(target, "wb") as out:
    out.write(archive.read(f"biometric_kz_mock-{version}.data/scripts/biometric-kz-mock"))
os.chmod(target, 0o755)
PY
for package in biometric-kz-mock-linux-x64 biometric-kz-mock; do
  (cd "$SCRATCH/$package" && npm pack --silent --pack-destination "$OUT" >/dev/null)
done
say "built in $OUT:"
(cd "$OUT" && ls -l biometric_kz_mock-*.whl biometric-kz-mock-*.tgz) >&2
