#!/usr/bin/env bash
# bench/engines.sh: the same no-op `devenv up` on each kind of engine, and
# the engine's /_ping round trip as `doctor` measures it, beside Docker
# Compose v2 on the same engines where it connects.
#
#   engines   the main dockerd's local socket (tests/support/setup.sh),
#             the TLS-only dockerd on tcp://127.0.0.1:23760 (engine_tls.sh),
#             Podman rootful and rootless (podman.sh)
#   stack     two busybox services, one HTTP-gated, already up
#
# Usage: bench/engines.sh [RUNS]   (DEVENV_BIN overrides the binary;
# writes bench/results/engines.md)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-20}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${DEVENV_BIN:-$TARGET/release/devenv}
[ -x "$BIN" ] || cargo build --release --quiet
COMPOSE=$(bash bench/support/compose-v2.sh)
WORK=$(mktemp -d /tmp/devenv-bench-engines.XXXXXX)
OUT=$ROOT/bench/results/engines.md
CERTS=/var/cache/devenv-ci/engine-tls/client
ROOTLESS_SOCK=/run/user/$(id -u devpodman)/podman/podman.sock
export NO_COLOR=1

# name|variables
ENGINES="local socket|DOCKER_HOST=unix:///var/run/docker.sock
tcp + TLS (verified, client cert)|DOCKER_HOST=tcp://127.0.0.1:23760 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$CERTS
Podman rootful|DOCKER_HOST=unix:///var/run/devenv-test/podman.sock
Podman rootless|DOCKER_HOST=unix://$ROOTLESS_SOCK"

cleanup() {
	while IFS='|' read -r name vars; do
		slug=$(echo "$name" | tr -c 'a-z0-9\n' '-')
		(cd "$WORK/$slug" 2>/dev/null && env $vars DEVENV_HOME="$WORK/home" "$BIN" down --volumes -q >/dev/null 2>&1) || true
		(cd "$WORK/$slug-compose" 2>/dev/null && env $vars "$COMPOSE" down -v >/dev/null 2>&1) || true
	done <<<"$ENGINES"
	rm -rf "$WORK"
}
trap cleanup EXIT

{
	echo "# Engines: a no-op up on each kind of engine"
	echo
	echo "Measured by \`bench/engines.sh $RUNS\` on $(date -u +%Y-%m-%d) (2 cores)."
	echo "Stack: two busybox services (one HTTP-gated), already up. \`ping\` is doctor's"
	echo "\`ping_ms\`: the middle of three \`/_ping\` round trips, each on a new connection"
	echo "(TLS: with its handshake). Times in ms (hyperfine, $RUNS runs)."
	echo
	echo "| engine | ping | devenv up (no-op) median | mean ± σ | compose v2 up -d (no-op) median |"
	echo "|---|---|---|---|---|"
} >"$OUT.tmp"

i=0
while IFS='|' read -r name vars; do
	i=$((i + 1))
	slug=$(echo "$name" | tr -c 'a-z0-9\n' '-')
	project="bench-engines-$i"
	mkdir -p "$WORK/$slug" "$WORK/$slug-compose"
	cat >"$WORK/$slug/devenv.toml" <<TOML
[project]
name = "$project"
[settings]
registry_mirror = "127.0.0.1:5000"

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
ports = ["auto:8080"]
ready = { http = "/", port = 8080 }

[services.idle]
image = "busybox:latest"
command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
TOML
	cat >"$WORK/$slug-compose/compose.yaml" <<YAML
name: $project-compose
services:
  web:
    image: 127.0.0.1:5000/library/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1::8080"]
  idle:
    image: 127.0.0.1:5000/library/busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
YAML
	echo "engines: $name" >&2
	(cd "$WORK/$slug" && env $vars DEVENV_HOME="$WORK/home" "$BIN" up -q >/dev/null)
	ping=$(cd "$WORK/$slug" && env $vars DEVENV_HOME="$WORK/home" "$BIN" doctor --json |
		python3 -c 'import json,sys; c=[c for c in json.load(sys.stdin)["checks"] if c["name"]=="engine"][0]; print("%.2f" % c["engine"]["ping_ms"])')
	(cd "$WORK/$slug" && env $vars DEVENV_HOME="$WORK/home" hyperfine -N -w 3 -r "$RUNS" \
		--export-json "$WORK/$slug.json" "$BIN up -q" >/dev/null)
	compose="n/a"
	if (cd "$WORK/$slug-compose" && env $vars "$COMPOSE" up -d --quiet-pull >/dev/null 2>&1); then
		(cd "$WORK/$slug-compose" && env $vars hyperfine -N -w 2 -r "$RUNS" \
			--export-json "$WORK/$slug-compose.json" "$COMPOSE up -d" >/dev/null 2>&1) &&
			compose=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f" % (r["median"]*1000))' "$WORK/$slug-compose.json")
	fi
	python3 - "$WORK/$slug.json" "$name" "$ping" "$compose" >>"$OUT.tmp" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = lambda s: "%.1f" % (s * 1000)
print(f"| {sys.argv[2]} | {sys.argv[3]} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'])} | {sys.argv[4]} |")
PY
done <<<"$ENGINES"

{
	echo
	echo "Notes: a no-op \`up\` is one list of the project's containers and the readiness checks"
	echo "of what runs, plus a \`/_ping\` over TCP and TLS (on a local socket the engine's API"
	echo "version is remembered per daemon process). Over TLS, every request opens its own connection with a"
	echo "full handshake (bollard's own transports do not pool either), so the TLS row pays one"
	echo "handshake per request. Compose v2 \`up -d\` resolves and inspects every service's image"
	echo "and container each time."
} >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
