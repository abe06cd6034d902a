#!/usr/bin/env bash
# Issue 8: from a fresh clone of the example to "ready", images present.
# devenv: `git clone` + `devenv up --yes` (tools, mocks, services, migration
# job, config, hook), per phase from `devenv metrics --json`.
# Peer: the same stack with docker-compose 1.29 plus the shell steps a team
# would script without devenv: wait for health, run the migration, render
# .env with sed, run the same smoke check. The mock is a busybox httpd
# serving the health stub (cheaper than any real mock server: it favours
# the peer).
# Needs tests/support/setup.sh (engine, loopback registry, images).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
REG=127.0.0.1:5000
cargo build --release --quiet
BIN=$PWD/${CARGO_TARGET_DIR:-target}/release/devenv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DEVENV_HOME=$work/home DEVENV_REGISTRY_MIRROR=$REG DEVENV_NO_METRICS=
now() { date +%s.%N; }

# An origin repository holding the example.
origin=$work/origin
cp -r examples/checkout "$origin"
git -C "$origin" init -q -b main
git -C "$origin" -c user.email=b@x -c user.name=b add .
git -C "$origin" -c user.email=b@x -c user.name=b commit -qm example

devenv_times=()
phases_json=$work/phases.json
echo "[]" > "$phases_json"
for i in $(seq "$RUNS"); do
  clone=$work/devenv-$i
  t0=$(now)
  git clone -q "$origin" "$clone"
  (cd "$clone" && "$BIN" -q up --yes >/dev/null 2>&1)
  t1=$(now)
  devenv_times+=("$(echo "$t1 - $t0" | bc)")
  (cd "$clone" && "$BIN" metrics --json) | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
last = [r for r in runs if r.get("kind", "up") == "up"][-1]
acc = json.load(open(sys.argv[1]))
acc.append({p["name"]: p["seconds"] for p in last["phases"]})
json.dump(acc, open(sys.argv[1], "w"))' "$phases_json"
  (cd "$clone" && "$BIN" -q reset --yes >/dev/null 2>&1)
done

# The peer: compose file and shell steps.
compose_times=()
for i in $(seq "$RUNS"); do
  clone=$work/compose-$i
  git clone -q "$origin" "$clone"
  mkdir -p "$clone/mockroot/v1"
  echo '{"ok": true}' > "$clone/mockroot/v1/health"
  cat > "$clone/docker-compose.yml" <<YAML
version: "2.4"
services:
  db:
    image: $REG/library/postgres:16
    environment: { POSTGRES_USER: devenv, POSTGRES_PASSWORD: devenv, POSTGRES_DB: checkout }
    ports: ["127.0.0.1:25432:5432"]
    healthcheck: { test: ["CMD-SHELL", "pg_isready -q -h 127.0.0.1 -U devenv -d checkout"], interval: 1s, retries: 60 }
  cache:
    image: $REG/library/redis:7
    ports: ["127.0.0.1:26379:6379"]
    healthcheck: { test: ["CMD", "redis-cli", "ping"], interval: 1s, retries: 60 }
  payments:
    image: $REG/library/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    volumes: ["./mockroot:/www:ro"]
    ports: ["127.0.0.1:28081:8080"]
  migrate:
    image: $REG/library/postgres:16
    volumes: ["./migrations:/migrations:ro"]
    depends_on: { db: { condition: service_healthy } }
    command: ["sh", "-c", "for f in /migrations/*.sql; do psql postgres://devenv:devenv@db:5432/checkout -v ON_ERROR_STOP=1 -q -f \$\$f || exit 1; done"]
YAML
  t0=$(now)
  (
    cd "$clone"
    docker-compose -p "bench$i" up -d db cache payments >/dev/null 2>&1
    until [ "$(docker inspect -f '{{.State.Health.Status}}' "bench${i}_db_1")" = healthy ] &&
          [ "$(docker inspect -f '{{.State.Health.Status}}' "bench${i}_cache_1")" = healthy ]; do sleep 0.2; done
    docker-compose -p "bench$i" run --rm migrate >/dev/null 2>&1
    sed -e 's/{{ log_level }}/info/' \
        -e 's#{{ services.db.url }}#postgres://devenv:devenv@127.0.0.1:25432/checkout#' \
        -e 's#{{ services.cache.url }}#redis://127.0.0.1:26379/0#' \
        -e 's#{{ mocks.payments.url }}#http://127.0.0.1:28081#' \
        -e 's/{{ environment }}/local/' templates/app.env.j2 > .env
    python3 scripts/smoke_check.py >/dev/null
  )
  t1=$(now)
  compose_times+=("$(echo "$t1 - $t0" | bc)")
  (cd "$clone" && docker-compose -p "bench$i" down -v >/dev/null 2>&1)
done

python3 - "$phases_json" "${devenv_times[*]}" "${compose_times[*]}" > bench/results/e2e.md <<'PY'
import json, statistics, sys
phases = json.load(open(sys.argv[1]))
d = [float(x) for x in sys.argv[2].split()]
c = [float(x) for x in sys.argv[3].split()]
med = statistics.median
print("## Fresh clone to ready (issue 8)")
print()
print(f"`bench/e2e.sh`, {len(d)} runs each, release build, images present in the engine. devenv: `git clone` + `devenv up --yes`")
print("(mocks, services, migration job, config, smoke-check hook). Peer: the same stack with docker-compose 1.29 (1 s healthchecks) plus the")
print("shell steps a team would script: wait for health, run the migration, render .env with sed, the same smoke check; its mock is a")
print("busybox httpd (cheaper than a real mock server, which favours the peer).")
print()
print("| | median [s] | min [s] | max [s] |")
print("|:---|---:|---:|---:|")
print(f"| devenv: clone + `up` | {med(d):.2f} | {min(d):.2f} | {max(d):.2f} |")
print(f"| docker-compose + shell steps | {med(c):.2f} | {min(c):.2f} | {max(c):.2f} |")
print()
print("devenv's time per phase (median over the runs, from `devenv metrics --json`):")
print()
print("| phase | median [s] |")
print("|:---|---:|")
names = []
for p in phases:
    for k in p:
        if k not in names:
            names.append(k)
for n in names:
    vals = [p[n] for p in phases if n in p]
    print(f"| {n} | {med(vals):.3f} |")
PY
cat bench/results/e2e.md
