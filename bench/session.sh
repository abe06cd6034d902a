#!/usr/bin/env bash
# bench/session.sh: a no-op `devenv up` before and after the session layer
# and the one settings resolution (issue 11), on the same running stack:
# Redis (redis stack, published port), busybox httpd (published port) and
# one mock, images from the loopback registry (tests/support/setup.sh).
#
# The new build also takes the per-clone lock and checks every host port
# before any phase; this measures what that costs.
#
# Usage: BINS="before=/tmp/devenv-old issue-11=/tmp/devenv-11" bench/session.sh [RUNS]
#   Each LABEL=PATH is measured beside the current build (target/release/devenv,
#   labelled "now"), in one hyperfine run; writes bench/results/session.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-200}
BINS=${BINS:?set BINS to LABEL=PATH pairs of earlier devenv builds}
AFTER=${AFTER_BIN:-$ROOT/target/release/devenv}
[ -x "$AFTER" ] || cargo build --release --quiet
WORK=$(mktemp -d /tmp/devenv-bench-session.XXXXXX)
OUT=$ROOT/bench/results/session.md
export NO_COLOR=1 DEVENV_HOME=$WORK/home HOME=$WORK/userhome
unset DEVENV_REGISTRY_MIRROR

cleanup() {
	(cd "$WORK/repo" && "$AFTER" down --volumes -q >/dev/null 2>&1) || true
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/repo" "$HOME"
cat >"$WORK/repo/devenv.toml" <<'TOML'
[project]
name = "bench-session"

[settings]
registry_mirror = "127.0.0.1:5000"

[services.cache]
stack = "redis"
ports = ["auto:6379"]

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
ports = ["auto:8080"]
ready = { http = "/", port = 8080 }

[mocks.payments]
port = "auto"
[[mocks.payments.routes]]
path = "/health"
json = { ok = true }
TOML

cd "$WORK/repo"
"$AFTER" up -q
# Every binary must see the stack as unchanged (same labels, same state).
ARGS=()
for pair in $BINS; do
	label=${pair%%=*} bin=${pair#*=}
	"$bin" up -v 2>&1 | grep -q "services: all running and unchanged"
	ARGS+=(-n "$label: devenv up (no-op)" "$bin up -q")
done
"$AFTER" up -v 2>&1 | grep -q "services: all running and unchanged"
ARGS+=(-n "now: devenv up (no-op)" "$AFTER up -q")

hyperfine -N --warmup 10 --runs "$RUNS" "${ARGS[@]}" --export-json "$WORK/noop.json" >&2

python3 - "$WORK/noop.json" "$OUT" "$RUNS" <<'PY'
import json, statistics, sys, datetime
data = json.load(open(sys.argv[1]))["results"]
rows = []
for r in data:
    t = [x * 1000 for x in r["times"]]
    rows.append((r["command"], statistics.median(t), statistics.mean(t), statistics.stdev(t), min(t), max(t)))
base = rows[0][1]
with open(sys.argv[2], "w") as f:
    f.write("# No-op `up` across the session layer (issue 11) and the untrusted-input hardening (issue 12)\n\n")
    f.write(f"Measured by `bench/session.sh {sys.argv[3]}` on {datetime.date.today()} (2 cores, release builds,\n")
    f.write("Docker 20.10 from Debian). Stack: Redis + busybox httpd with published ports, one mock; all running.\n\n")
    f.write("| command | median [ms] | mean ± σ [ms] | min [ms] | max [ms] |\n|---|---:|---:|---:|---:|\n")
    for name, med, mean, sd, lo, hi in rows:
        f.write(f"| {name} | {med:.1f} | {mean:.1f} ± {sd:.1f} | {lo:.1f} | {hi:.1f} |\n")
    f.write("\nMedians against the first row: " + ", ".join(f"{r[0].split(':')[0]} {r[1] - base:+.2f} ms" for r in rows[1:]) + ".\n")
print(open(sys.argv[2]).read())
PY
