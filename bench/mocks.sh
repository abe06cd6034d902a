#!/usr/bin/env bash
# The mock server's numbers, side by side with mountebank (and the real
# WireMock when its jar is around), all serving the same JSON stub on
# loopback, measured with wrk.
#
#   bench/mocks.sh                 # writes bench/results/mocks.md
#
# Needs: wrk (apt-get install wrk), node + `npm install mountebank` in
# $MB_DIR (default /tmp/mockwork/mb), optionally `npm install wiremock` in
# $WM_DIR (default /tmp/mockwork/wm) and java.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
THREADS=${THREADS:-1}
MB_DIR=${MB_DIR:-/tmp/mockwork/mb}
WM_DIR=${WM_DIR:-/tmp/mockwork/wm}
OUT=$ROOT/bench/results/mocks.md
# Other work on the machine (parallel builds) inflates latency tails; as root
# every server and wrk run at the same raised priority so they compete less
# with it. PRIO=0 turns that off.
PRIO=${PRIO:--10}
NICE=()
if [[ $EUID == 0 && $PRIO != 0 ]]; then NICE=(nice -n "$PRIO"); fi

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 3; }
cargo build --release --quiet
BIN=$ROOT/target/release/devenv

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "never answered: $1" >&2; return 1; }

# The stub: GET /v1/health -> 200 {"ok":true} (application/json).
mkdir -p "$WORK/repo/mocks/mappings" "$WORK/home"
cat > "$WORK/repo/mocks/mappings/health.json" <<'JSON'
{"request": {"method": "GET", "url": "/v1/health"},
 "response": {"status": 200, "jsonBody": {"ok": true}, "headers": {"Content-Type": "application/json"}}}
JSON
P_DEVENV=$(free_port)
cat > "$WORK/repo/devenv.toml" <<TOML
[project]
name = "bench"
[mocks.payments]
port = $P_DEVENV
wiremock = "mocks"
TOML

# wrk output -> "req/s p50 p99"
measure() {
  local url=$1 out
  "${NICE[@]}" wrk -t1 -c"$CONNS" -d2s "$url" >/dev/null # warm-up
  out=$("${NICE[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url")
  echo "$out" >&2
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "$rps $p50 $p99 ${non2xx:-0}"
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# devenv
(cd "$WORK/repo" && DEVENV_HOME="$WORK/home" exec "${NICE[@]}" "$BIN" mock serve payments >"$WORK/devenv.log" 2>&1) &
PID_DEVENV=$!; PIDS+=("$PID_DEVENV")
wait_http "http://127.0.0.1:$P_DEVENV/v1/health"
sleep 2
IDLE_DEVENV=$(rss_kb "$PID_DEVENV")
read -r D_RPS D_P50 D_P99 D_ERR < <(measure "http://127.0.0.1:$P_DEVENV/v1/health")
LOADED_DEVENV=$(rss_kb "$PID_DEVENV")
kill "$PID_DEVENV"; wait "$PID_DEVENV" 2>/dev/null || true

# mountebank: one imposter with the same stub
P_MB_ADMIN=$(free_port); P_MB=$(free_port)
"${NICE[@]}" "$MB_DIR/node_modules/.bin/mb" --port "$P_MB_ADMIN" --loglevel warn --nologfile >"$WORK/mb.log" 2>&1 &
PID_MB=$!; PIDS+=("$PID_MB")
wait_http "http://127.0.0.1:$P_MB_ADMIN/imposters"
curl -fs -X POST "http://127.0.0.1:$P_MB_ADMIN/imposters" -H 'Content-Type: application/json' -d @- >/dev/null <<JSON
{"port": $P_MB, "protocol": "http", "host": "127.0.0.1", "recordRequests": false,
 "stubs": [{"predicates": [{"equals": {"method": "GET", "path": "/v1/health"}}],
            "responses": [{"is": {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{\"ok\":true}"}}]}]}
JSON
wait_http "http://127.0.0.1:$P_MB/v1/health"
sleep 2
IDLE_MB=$(ps -o rss= --ppid "$PID_MB" -p "$PID_MB" | awk '{s+=$1} END {print s}')
read -r M_RPS M_P50 M_P99 M_ERR < <(measure "http://127.0.0.1:$P_MB/v1/health")
kill "$PID_MB"; wait "$PID_MB" 2>/dev/null || true

# The real WireMock, when available (reference, not the named peer).
WM_ROW=""
JAR=$(ls "$WM_DIR"/node_modules/wiremock/build/wiremock-standalone-*.jar 2>/dev/null | head -1 || true)
if [[ -n "$JAR" ]] && command -v java >/dev/null; then
  P_WM=$(free_port)
  "${NICE[@]}" java -jar "$JAR" --port "$P_WM" --bind-address 127.0.0.1 --root-dir "$WORK/repo/mocks" --disable-banner --no-request-journal >"$WORK/wm.log" 2>&1 &
  PID_WM=$!; PIDS+=("$PID_WM")
  wait_http "http://127.0.0.1:$P_WM/v1/health"
  sleep 2
  IDLE_WM=$(rss_kb "$PID_WM")
  read -r W_RPS W_P50 W_P99 W_ERR < <(measure "http://127.0.0.1:$P_WM/v1/health")
  kill "$PID_WM"; wait "$PID_WM" 2>/dev/null || true
  WM_ROW="| WireMock 3.13.2 (java -jar, reference) | $W_RPS | $W_P50 | $W_P99 | $W_ERR | $((IDLE_WM / 1024)) MB |"
fi

RATIO=$(python3 -c "print(f'{float(\"$D_RPS\")/float(\"$M_RPS\"):.1f}')")
CPU=$(nproc)
LOAD=$(cut -d" " -f1-3 /proc/loadavg)
cat > "$OUT" <<MD
# Mock server: devenv vs mountebank

One JSON stub (\`GET /v1/health\` -> \`200 {"ok":true}\`), served on loopback
and hammered with \`wrk -t$THREADS -c$CONNS -d$DURATION --latency\` after a 2 s
warm-up, on this $CPU-core machine (wrk shares the cores with the server).
Idle memory is VmRSS 2 s after start-up, before any load. Produced by
\`bench/mocks.sh\` on $(date -u +%Y-%m-%d); load average when it finished: $LOAD
(other builds share the machine; latency tails grow with the load). Servers and
wrk ran at nice ${NICE[2]:-0} alike.

| server | requests/s | p50 | p99 | non-2xx | idle RSS |
|---|---|---|---|---|---|
| devenv mock serve (release) | $D_RPS | $D_P50 | $D_P99 | $D_ERR | $((IDLE_DEVENV / 1024)) MB ($IDLE_DEVENV kB) |
| mountebank $(node -p "require('$MB_DIR/node_modules/mountebank/package.json').version") | $M_RPS | $M_P50 | $M_P99 | $M_ERR | $((IDLE_MB / 1024)) MB |
$WM_ROW

- devenv / mountebank throughput: **${RATIO}x**
- devenv RSS after the load run (request journal full at its
  $(grep -o 'JOURNAL_LIMIT: usize = [0-9_]*' "$ROOT/src/mocks/engine.rs" | awk '{print $NF}') entries): $((LOADED_DEVENV / 1024)) MB

Targets from the issue: >= 20,000 requests/s, p99 < 2 ms, >= 5x mountebank,
idle mock < 15 MB RSS.
MD
cat "$OUT"
