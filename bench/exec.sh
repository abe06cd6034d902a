#!/usr/bin/env bash
# bench/exec.sh: `devenv exec SERVICE -- true` against Docker Compose v2's
# `docker compose exec -T SERVICE true`, each on its own running busybox
# container from the loopback registry (tests/support/setup.sh), and the
# bare `docker exec` as the floor. Issue 13: devenv's overhead at most
# compose's.
#
# Usage: bench/exec.sh [RUNS]   (writes bench/results/exec.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-30}
BIN=${DEVENV_BIN:-$ROOT/target/release/devenv}
[ -x "$BIN" ] || cargo build --release --quiet
COMPOSE=$(bench/support/compose-v2.sh)
WORK=$(mktemp -d /tmp/devenv-bench-exec.XXXXXX)
OUT=$ROOT/bench/results/exec.md
export NO_COLOR=1 DEVENV_HOME=$WORK/home DOCKER_HOST=unix:///var/run/docker.sock
cleanup() {
	(cd "$WORK/devenv" && "$BIN" down -q >/dev/null 2>&1) || true
	(cd "$WORK/compose" && "$COMPOSE" down -t 0 >/dev/null 2>&1) || true
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/devenv" "$WORK/compose"
cat >"$WORK/devenv/devenv.toml" <<'TOML'
[project]
name = "bench-exec"
[settings]
registry_mirror = "127.0.0.1:5000"
[services.web]
image = "busybox:latest"
command = ["sleep", "3600"]
TOML
cat >"$WORK/compose/compose.yaml" <<'YAML'
name: bench-exec-compose
services:
  web:
    image: 127.0.0.1:5000/library/busybox:latest
    command: ["sleep", "3600"]
YAML
(cd "$WORK/devenv" && "$BIN" up -q)
(cd "$WORK/compose" && "$COMPOSE" up -d --quiet-pull >/dev/null 2>&1)
hyperfine -N --warmup 3 --runs "$RUNS" \
	-n "devenv exec web -- true" "sh -c 'cd $WORK/devenv && $BIN exec -T web -- true'" \
	-n "docker compose exec -T web true (v2 binary)" "sh -c 'cd $WORK/compose && $COMPOSE exec -T web true'" \
	-n "docker exec (floor)" "docker exec devenv_bench-exec_web true" \
	--export-json "$WORK/exec.json" >&2
python3 - "$WORK/exec.json" "$OUT" "$RUNS" <<'PY'
import json, statistics, sys, datetime
rows = [(r["command"], [t * 1000 for t in r["times"]]) for r in json.load(open(sys.argv[1]))["results"]]
with open(sys.argv[2], "w") as f:
    f.write("# `exec` into a service (issue 13): devenv vs Docker Compose v2\n\n")
    f.write(f"Measured by `bench/exec.sh {sys.argv[3]}` on {datetime.date.today()} (2 cores, release build, Docker 20.10,\n")
    f.write("Compose v2.40.3's Go binary). Each command runs `true` in a running busybox container.\n\n")
    f.write("| command | median [ms] | mean ± σ [ms] | min [ms] | max [ms] |\n|---|---:|---:|---:|---:|\n")
    for name, t in rows:
        f.write(f"| {name} | {statistics.median(t):.1f} | {statistics.mean(t):.1f} ± {statistics.stdev(t):.1f} | {min(t):.1f} | {max(t):.1f} |\n")
print(open(sys.argv[2]).read())
PY
