#!/usr/bin/env bash
# bench/remote.sh: an engine on another machine (issue 17), on the second
# machine of tests/support/second_machine.sh (a network namespace with its
# own dockerd and sshd, reached over a veth pair and SSH).
#
#   no-op up     the same running stack (a busybox httpd and a redis, each
#                with a published port, and a mock) on the local engine and
#                on DOCKER_HOST=ssh://root@10.77.0.2; target: remote at most
#                local + 2 SSH round trips
#   SSH RTT      one request/response over the open SSH connection (redis
#                PING through the forwarded port, one connection, 2000
#                times), beside the same PING on the machine itself and the
#                veth's own TCP handshake
#   throughput   through the forwarded port here vs directly on the remote
#                machine's 127.0.0.1: small requests (wrk, 16 connections,
#                5 s) and a bulk transfer (256 MiB over one connection);
#                target: forwarded at least half of direct
#   compose      docker compose v2 on the same ssh:// engine: its no-op
#                `up -d`, and whether its published port answers here
#
# Usage: bench/remote.sh [RUNS]   (run as root after tests/support/setup.sh
# and tests/support/second_machine.sh; DEVENV_BIN overrides the binary;
# writes bench/results/remote.md)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-10}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${DEVENV_BIN:-$TARGET/release/devenv}
REG=127.0.0.1:5000
REMOTE=ssh://root@10.77.0.2
NS=/var/run/netns/devenv-remote
[ -x "$BIN" ] || { echo "bench: no release binary at $BIN (cargo build --release, or set DEVENV_BIN / CARGO_TARGET_DIR)" >&2; exit 1; }
for t in hyperfine wrk curl python3; do
	command -v "$t" >/dev/null || apt-get install -y "$t" >/dev/null
done
V2=$(bash bench/support/compose-v2.sh 2>/dev/null)
WORK=$(mktemp -d /tmp/devenv-bench-remote.XXXXXX)
OUT=$ROOT/bench/results/remote.md
export NO_COLOR=1
unset DEVENV_REGISTRY_MIRROR DOCKER_HOST
say() { printf 'bench: %s\n' "$*" >&2; }
in_remote() { nsenter --net="$NS" "$@"; }

WEB_L=29081 WEB_R=29082 CACHE_L=29379 CACHE_R=29380 MOCK_L=29090 MOCK_R=29091 WEB_C=29083
cleanup() {
	(cd "$WORK/local" 2>/dev/null && DEVENV_HOME=$WORK/home-local "$BIN" down -q >/dev/null 2>&1) || true
	(cd "$WORK/remote" 2>/dev/null && DEVENV_HOME=$WORK/home-remote DOCKER_HOST=$REMOTE "$BIN" down -q >/dev/null 2>&1) || true
	DOCKER_HOST=$REMOTE "$V2" -p bench-remote-v2 -f "$WORK/compose.yml" down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

stack() { # project web cache mock
	cat <<TOML
[project]
name = "$1"

[settings]
registry_mirror = "$REG"

[services.web]
image = "busybox:latest"
command = ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && dd if=/dev/zero of=/www/big bs=1M count=256 2>/dev/null && exec httpd -f -p 8080 -h /www"]
ports = ["$2:8080"]
ready = { http = "/index.html", port = 8080 }

[services.cache]
image = "redis:7"
ports = ["$3:6379"]
ready = { tcp = 6379 }

[mocks.payments]
port = $4
[[mocks.payments.routes]]
method = "GET"
path = "/health"
status = 200
TOML
}
mkdir -p "$WORK/local" "$WORK/remote"
stack bench-remote-local $WEB_L $CACHE_L $MOCK_L >"$WORK/local/devenv.toml"
stack bench-remote-ssh $WEB_R $CACHE_R $MOCK_R >"$WORK/remote/devenv.toml"
cat >"$WORK/compose.yml" <<YAML
services:
  web:
    image: $REG/library/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:$WEB_C:8080"]
YAML

DL="cd $WORK/local && DEVENV_HOME=$WORK/home-local $BIN up -q"
DR="cd $WORK/remote && DEVENV_HOME=$WORK/home-remote DOCKER_HOST=$REMOTE $BIN up -q"
say "first ups"
sh -c "$DL"
sh -c "$DR"

say "no-op up ($((RUNS * 10)) runs each)"
hyperfine -N --warmup 3 --runs $((RUNS * 10)) --export-json "$WORK/noop.json" --output=null \
	-n "devenv up (no-op, local engine)" "sh -c '$DL'" \
	-n "devenv up (no-op, ssh:// engine)" "sh -c '$DR'" >&2

say "SSH round trip"
rtt() { # host port count -> median microseconds of a redis PING on one connection
	python3 - "$@" <<'PY'
import socket, sys, time, statistics
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
times = []
for _ in range(n):
    t = time.perf_counter()
    s.sendall(b"PING\r\n")
    assert s.recv(16).startswith(b"+PONG")
    times.append((time.perf_counter() - t) * 1e6)
print(f"{statistics.median(times):.0f}")
PY
}
handshake() { # host port count -> median microseconds of a TCP connect
	python3 - "$@" <<'PY'
import socket, sys, time, statistics
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
for _ in range(n):
    t = time.perf_counter()
    socket.create_connection((host, port)).close()
    times.append((time.perf_counter() - t) * 1e6)
print(f"{statistics.median(times):.0f}")
PY
}
rtt_fwd=$(rtt 127.0.0.1 $CACHE_R 2000)
rtt_direct=$(in_remote bash -c "$(declare -f rtt); rtt 127.0.0.1 $CACHE_R 2000")
rtt_local=$(rtt 127.0.0.1 $CACHE_L 2000)
tcp_veth=$(handshake 10.77.0.2 22 200)

say "throughput: small requests (wrk)"
wrk_rps() { wrk -t2 -c16 -d5s "$1" | awk '/Requests\/sec/ {print $2}'; }
rps_fwd=$(wrk_rps "http://127.0.0.1:$WEB_R/index.html")
rps_direct=$(in_remote bash -c "$(declare -f wrk_rps); wrk_rps http://127.0.0.1:$WEB_R/index.html")
rps_local=$(wrk_rps "http://127.0.0.1:$WEB_L/index.html")

say "throughput: bulk (256 MiB)"
bulk() { # url -> MiB/s, best of 3
	local best=0 s
	for _ in 1 2 3; do
		s=$(curl -fsS -o /dev/null -w '%{speed_download}' "$1")
		best=$(python3 -c "print(max($best, $s / 1048576))")
	done
	printf '%.0f\n' "$best"
}
bulk_fwd=$(bulk "http://127.0.0.1:$WEB_R/big")
bulk_direct=$(in_remote bash -c "$(declare -f bulk); bulk http://127.0.0.1:$WEB_R/big")
bulk_local=$(bulk "http://127.0.0.1:$WEB_L/big")

say "docker compose v2 on $REMOTE"
C2="DOCKER_HOST=$REMOTE $V2 -p bench-remote-v2 -f $WORK/compose.yml up -d"
compose_ok=0
if sh -c "$C2" >/dev/null 2>&1; then
	compose_ok=1
	hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$WORK/compose.json" --output=null \
		-n "docker compose v2 up -d (no-op, ssh:// engine, 1 service)" "sh -c '$C2'" >&2
	code() { local c; c=$("$@" 2>/dev/null || true); [ "${c:-000}" = 000 ] && echo "no answer" || echo "HTTP $c"; }
	compose_here=$(code curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_C/index.html")
	compose_there=$(code in_remote curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_C/index.html")
fi

row() {
	python3 - "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    ms = lambda v: f"{v*1000:.0f}" if v >= 0.1 else f"{v*1000:.1f}"
    print(f"| {r['command']} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | {ms(r['min'])} | {ms(r['max'])} | {len(r['times'])} |")
PY
}
read -r noop_l noop_r <<<"$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' '.join(f\"{x['median']*1000:.2f}\" for x in r))" "$WORK/noop.json")"
{
	echo "# An engine on another machine: devenv over ssh://"
	echo
	echo "Measured by \`bench/remote.sh $RUNS\` on $(date -u +%Y-%m-%d) ($(nproc) cores, Docker $(docker version --format '{{.Server.Version}}') here and there,"
	echo "$(ssh -V 2>&1 | cut -d, -f1), Compose $("$V2" version --short)). The second machine is a network namespace"
	echo "with its own dockerd and sshd (tests/support/second_machine.sh), over a veth pair: its"
	echo "network round trip is tiny, so SSH's own costs show. Times in ms unless marked."
	echo
	echo "| command | median | mean ± σ | min | max | runs |"
	echo "|---|---|---|---|---|---|"
	row "$WORK/noop.json"
	[ "$compose_ok" = 0 ] || row "$WORK/compose.json"
	echo
	echo "| round trip (median of 2000, one connection) | µs |"
	echo "|---|---|"
	echo "| redis PING through the ssh forward | $rtt_fwd |"
	echo "| redis PING on the remote machine itself | $rtt_direct |"
	echo "| redis PING, local engine's published port | $rtt_local |"
	echo "| TCP handshake to the remote machine (veth) | $tcp_veth |"
	echo
	echo "| throughput | forwarded here | direct there | local engine | forwarded / direct |"
	echo "|---|---|---|---|---|"
	awk -v f="$rps_fwd" -v d="$rps_direct" -v l="$rps_local" 'BEGIN { printf "| small requests (wrk -t2 -c16, req/s) | %.0f | %.0f | %.0f | %.2f |\n", f, d, l, f/d }'
	awk -v f="$bulk_fwd" -v d="$bulk_direct" -v l="$bulk_local" 'BEGIN { printf "| bulk, 256 MiB on one connection (MiB/s) | %.0f | %.0f | %.0f | %.2f |\n", f, d, l, f/d }'
	echo
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	awk -v l="$noop_l" -v r="$noop_r" -v rtt="$rtt_fwd" 'BEGIN { b = l + 2*rtt/1000; printf "| no-op up on ssh:// ≤ local + 2 SSH round trips | %.2f ms vs %.2f + 2 × %.3f = %.2f ms | %s |\n", r, l, rtt/1000, b, (r <= b) ? "met" : "NOT met" }'
	awk -v f="$rps_fwd" -v d="$rps_direct" 'BEGIN { printf "| forwarded small requests ≥ half of direct | %.2f of direct | %s |\n", f/d, (f >= d/2) ? "met" : "NOT met" }'
	awk -v f="$bulk_fwd" -v d="$bulk_direct" 'BEGIN { printf "| forwarded bulk ≥ half of direct | %.2f of direct | %s |\n", f/d, (f >= d/2) ? "met" : "NOT met" }'
	if [ "$compose_ok" = 1 ]; then
		echo "| compose v2 on the same ssh:// engine | works; its published port answers here: $compose_here, there: $compose_there | (no forwarding) |"
	else
		echo "| compose v2 on the same ssh:// engine | \`up -d\` failed | — |"
	fi
	echo
	echo "Notes: both stacks run, unchanged; each has its own DEVENV_HOME. The no-op up on the"
	echo "ssh:// engine finds its ControlMaster alive and its forwards recorded, so it starts no"
	echo "ssh process: every engine request is a channel of the one connection. \"Direct there\""
	echo "runs the same client inside the remote machine's namespace against its own 127.0.0.1"
	echo "(the docker-proxy in front of the container, as here). Compose v2 starts"
	echo "\`ssh … docker system dial-stdio\` per API connection and forwards nothing."
} >"$OUT"
cat "$OUT"
