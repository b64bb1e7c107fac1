#!/usr/bin/env bash
# Instructions per request, counted by callgrind (valgrind): the same total run after run,
# whatever else this shared machine is doing, where requests/s moves 10-20 % (BENCHMARKS.md,
# "counted instructions"). Counts our release server and the load bench's stateful ceiling
# (`BKZ_BENCH_SERVE=stateful`) answering the same requests from one keep-alive client:
# result polling of a finished session, and session create. Each is run twice, with 200 and with
# 2,200 requests, and the difference divided by 2,000, so start-up and shutdown cancel out.
#
#   scripts/count-instructions.sh            # needs valgrind and python3
#   BKZ_COUNT_SERVER=/path/to/older/biometric-kz-mock scripts/count-instructions.sh
#                                            # another build of ours (an earlier commit) instead
#
# Builds nothing itself: run `cargo build --release` and `cargo bench --bench load --no-run` first.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (Debian: apt-get install valgrind)" >&2; exit 2; }
server=${BKZ_COUNT_SERVER:-target/release/biometric-kz-mock}
ceiling=$(ls -t target/release/deps/load-* 2>/dev/null | grep -v '\.d$' | head -1 || true)
[[ -x $server && -n $ceiling ]] || { echo "build first: cargo build --release && cargo bench --bench load --no-run" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# client KIND N PORT: N requests of KIND (poll or create) over one keep-alive connection.
client() {
    python3 - "$@" <<'PY'
import http.client, json, sys
kind, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
key = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000"
c = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None):
    c.request(method, path, body=body, headers={"content-type": "application/json"})
    r = c.getresponse()
    return r.status, r.read()
create = json.dumps({"api_key": key})
if kind == "create":
    for _ in range(n):
        call("POST", "/api/v1/flows/session/create/", create)
else:
    session = json.loads(call("POST", "/api/v1/flows/session/create/", create)[1])["session_id"]
    call("POST", f"/__admin/sessions/{session}/complete", "")  # the ceiling answers it too
    for _ in range(n):
        call("GET", f"/api/v1/flows/session/result/?session_id={session}&flow_api_key={key}")
PY
}

# count WHO KIND N: total instructions of one run.
count() {
    local who=$1 kind=$2 n=$3 out="$scratch/$1-$2-$3.out" port pid
    if [[ $who == ours ]]; then
        port=$((20000 + RANDOM % 20000))
        valgrind --tool=callgrind --callgrind-out-file="$out" "$server" serve --port "$port" >/dev/null 2>&1 &
        pid=$!
        until curl -sf "http://127.0.0.1:$port/__admin/health" >/dev/null 2>&1; do sleep 0.2; done
    else
        BKZ_BENCH_SERVE=stateful valgrind --tool=callgrind --callgrind-out-file="$out" "$ceiling" \
            >"$scratch/addr" 2>/dev/null &
        pid=$!
        until grep -q http "$scratch/addr" 2>/dev/null; do sleep 0.2; done
        port=$(sed 's/.*://' "$scratch/addr")
    fi
    client "$kind" "$n" "$port"
    kill -INT "$pid"
    sleep 1
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sed -n 's/^totals: //p' "$out"
}

for kind in poll create; do
    for who in ours ceiling; do
        small=$(count "$who" "$kind" 200)
        large=$(count "$who" "$kind" 2200)
        printf '%-8s %-7s %8d instructions per request\n' "$kind" "$who" $(((large - small) / 2000))
    done
done
