#!/usr/bin/env bash
# bench/noop13.sh: issue 13's no-op number. A running stack's no-op `up`
# with one service built from the repository and one supervised process,
# against the same stack without them (one Redis from an image both times).
#
# Usage: bench/noop13.sh [RUNS]   (writes bench/results/noop13.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-100}
BIN=${DEVENV_BIN:-$ROOT/target/release/devenv}
[ -x "$BIN" ] || cargo build --release --quiet
WORK=$(mktemp -d /tmp/devenv-bench-noop13.XXXXXX)
OUT=$ROOT/bench/results/noop13.md
export NO_COLOR=1 DEVENV_HOME=$WORK/home
cleanup() {
	for d in plain full; do (cd "$WORK/$d" && "$BIN" down -q >/dev/null 2>&1) || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/plain" "$WORK/full/api"
BASE='[settings]
registry_mirror = "127.0.0.1:5000"
[services.cache]
stack = "redis"
ports = ["auto:6379"]'
printf '[project]\nname = "bench-noop13-plain"\n%s\n' "$BASE" >"$WORK/plain/devenv.toml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/full/devenv.toml" <<TOML
[project]
name = "bench-noop13-full"
$BASE
[services.api]
build = "api"
ports = ["auto:8080"]
ready = { http = "/", port = 8080 }
[processes.web]
command = ["python3", "-m", "http.server", "$PORT", "--bind", "127.0.0.1"]
ready = { http = "/", port = $PORT }
TOML
cat >"$WORK/full/api/Dockerfile" <<'DOCKER'
FROM 127.0.0.1:5000/library/busybox:latest
RUN mkdir -p /www && echo ok > /www/index.html
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
DOCKER
(cd "$WORK/plain" && "$BIN" up -q)
(cd "$WORK/full" && "$BIN" trust -q >/dev/null && "$BIN" up -q)
hyperfine -N --warmup 10 --runs "$RUNS" \
	-n "no-op up: Redis" "sh -c 'cd $WORK/plain && exec $BIN up -q'" \
	-n "no-op up: Redis + a built service + a process" "sh -c 'cd $WORK/full && exec $BIN up -q'" \
	--export-json "$WORK/n.json" >&2
python3 - "$WORK/n.json" "$OUT" "$RUNS" <<'PY'
import json, statistics, sys, datetime
rows = [(r["command"], [t * 1000 for t in r["times"]]) for r in json.load(open(sys.argv[1]))["results"]]
a, b = statistics.median(rows[0][1]), statistics.median(rows[1][1])
with open(sys.argv[2], "w") as f:
    f.write("# No-op `up` with a built service and a supervised process (issue 13)\n\n")
    f.write(f"Measured by `bench/noop13.sh {sys.argv[3]}` on {datetime.date.today()} (2 cores, release build). Both stacks running;\n")
    f.write("`sh -c` adds the same few ms to both rows.\n\n")
    f.write("| command | median [ms] | mean ± σ [ms] | min [ms] | max [ms] |\n|---|---:|---:|---:|---:|\n")
    for name, t in rows:
        f.write(f"| {name} | {statistics.median(t):.1f} | {statistics.mean(t):.1f} ± {statistics.stdev(t):.1f} | {min(t):.1f} | {max(t):.1f} |\n")
    f.write(f"\nThe built service and the process add {b - a:+.2f} ms (target: at most 2 ms).\n")
print(open(sys.argv[2]).read())
PY
