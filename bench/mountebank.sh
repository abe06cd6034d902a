#!/usr/bin/env bash
# A mountebank imposter served by devenv (`mountebank = "imposter.json"`) and
# by mountebank 2.9.1 itself: the same file, the same wrk load, two requests
# (the first stub, and one that falls through five stubs to the last).
#
#   bench/mountebank.sh            # writes bench/results/mountebank.md
#
# Needs: wrk, node, and the mock references (bash tests/support/mock_refs.sh;
# $DEVENV_MOCK_REFS, default /var/cache/devenv-ci/mock-refs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
THREADS=${THREADS:-1}
REFS=${DEVENV_MOCK_REFS:-/var/cache/devenv-ci/mock-refs}
MB=$REFS/node_modules/.bin/mb
OUT=$ROOT/bench/results/mountebank.md
PRIO=${PRIO:--10}
NICE=()
if [[ $EUID == 0 && $PRIO != 0 ]]; then NICE=(nice -n "$PRIO"); fi

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 3; }
[[ -x $MB ]] || { echo "mountebank is missing at $MB: bash tests/support/mock_refs.sh" >&2; exit 3; }
[[ ${SKIP_BUILD:-0} == 1 ]] || cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/devenv

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "never answered: $1" >&2; return 1; }

P_DEVENV=$(free_port); P_MB=$(free_port); P_MB_ADMIN=$(free_port)
mkdir -p "$WORK/repo" "$WORK/home" "$WORK/mb"
# Five stubs with the usual predicates, then a catch-all; a JSON body.
imposter() {
  cat <<JSON
{"protocol": "http", "port": $1, "recordRequests": false,
 "stubs": [
  {"predicates": [{"equals": {"method": "GET", "path": "/v1/health"}}],
   "responses": [{"is": {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": {"ok": true}}}]},
  {"predicates": [{"equals": {"method": "POST", "path": "/v1/orders"}}, {"contains": {"body": "sku"}}],
   "responses": [{"is": {"statusCode": 201}}]},
  {"predicates": [{"matches": {"path": "^/v1/orders/\\\\d+$"}}],
   "responses": [{"is": {"body": "order"}}]},
  {"predicates": [{"deepEquals": {"query": {"page": "1"}}}],
   "responses": [{"is": {"body": "page"}}]},
  {"predicates": [{"exists": {"headers": {"X-Api-Key": true}}}],
   "responses": [{"is": {"statusCode": 401}}]},
  {"responses": [{"is": {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": {"fallback": true}}}]}
 ]}
JSON
}
imposter 4545 > "$WORK/repo/imposter.json"
cat > "$WORK/repo/devenv.toml" <<TOML
[project]
name = "bench"
[mocks.upstream]
port = 4545
mountebank = "imposter.json"
TOML

measure() {
  local url=$1 out
  "${NICE[@]}" wrk -t1 -c"$CONNS" -d2s "$url" >/dev/null
  out=$("${NICE[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url")
  echo "$out" >&2
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$rps $p50 $p99"
}

(cd "$WORK/repo" && DEVENV_HOME="$WORK/home" exec "${NICE[@]}" "$BIN" mock serve upstream --port "$P_DEVENV" >"$WORK/devenv.log" 2>&1) &
PID_DEVENV=$!; PIDS+=("$PID_DEVENV")
wait_http "http://127.0.0.1:$P_DEVENV/v1/health"
read -r D1 D1_50 D1_99 < <(measure "http://127.0.0.1:$P_DEVENV/v1/health")
read -r D2 D2_50 D2_99 < <(measure "http://127.0.0.1:$P_DEVENV/v1/other")
kill "$PID_DEVENV"; wait "$PID_DEVENV" 2>/dev/null || true

(cd "$WORK/mb" && exec "${NICE[@]}" "$MB" start --port "$P_MB_ADMIN" --allowInjection false --loglevel warn --nologfile >"$WORK/mb.log" 2>&1) &
PID_MB=$!; PIDS+=("$PID_MB")
wait_http "http://127.0.0.1:$P_MB_ADMIN/imposters"
imposter "$P_MB" | curl -fs -X POST "http://127.0.0.1:$P_MB_ADMIN/imposters" -H 'Content-Type: application/json' -d @- >/dev/null
wait_http "http://127.0.0.1:$P_MB/v1/health"
read -r M1 M1_50 M1_99 < <(measure "http://127.0.0.1:$P_MB/v1/health")
read -r M2 M2_50 M2_99 < <(measure "http://127.0.0.1:$P_MB/v1/other")
kill "$PID_MB"; wait "$PID_MB" 2>/dev/null || true

ratio() { python3 -c "print(f'{float(\"$1\")/float(\"$2\"):.1f}')"; }
cat > "$OUT" <<MD
# mountebank imposters: devenv vs mountebank

One imposter file (five stubs with equals, contains, matches, deepEquals and
exists predicates, then a catch-all; JSON bodies), served by \`devenv mock
serve\` (release) and by mountebank $(node -p "require('$REFS/node_modules/mountebank/package.json').version") on loopback, hammered
with \`wrk -t$THREADS -c$CONNS -d$DURATION --latency\` after a 2 s warm-up, on this
$(nproc)-core machine (wrk shares the cores). Produced by \`bench/mountebank.sh\`
on $(date -u +%Y-%m-%d); load average at the end: $(cut -d" " -f1-3 /proc/loadavg).

| request | server | requests/s | p50 | p99 |
|---|---|---|---|---|
| \`GET /v1/health\` (first stub) | devenv | $D1 | $D1_50 | $D1_99 |
| | mountebank | $M1 | $M1_50 | $M1_99 |
| \`GET /v1/other\` (all six stubs tried) | devenv | $D2 | $D2_50 | $D2_99 |
| | mountebank | $M2 | $M2_50 | $M2_99 |

- devenv / mountebank throughput: **$(ratio "$D1" "$M1")x** on the first stub,
  **$(ratio "$D2" "$M2")x** through all of them. mountebank also closes every
  connection (\`Connection: close\`); devenv keeps them open.
MD
cat "$OUT"
