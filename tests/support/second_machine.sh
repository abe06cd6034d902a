#!/usr/bin/env bash
# tests/support/second_machine.sh: a real second machine for the remote-engine
# tests (tests/remote_engine.rs, bench/remote.sh): a network namespace with its
# own Docker engine, its own sshd and its own registry, reached from here only
# over SSH, as a team's big build box would be.
#
#   namespace       devenv-remote   (ip netns; veth devenv-r0 here <-> eth0 there)
#   this side       10.77.0.1/24    on devenv-r0
#   the machine     10.77.0.2/24    sshd on :22 (key-only root login)
#   its engine      unix:///var/run/devenv-remote/docker.sock, its own
#                   --data-root/--exec-root, bridge and iptables inside the
#                   namespace; published ports bind to the namespace's
#                   127.0.0.1, which this side cannot reach
#   its registry    127.0.0.1:5000 inside the namespace: a second
#                   docker-registry serving setup.sh's registry storage, so
#                   registry_mirror = "127.0.0.1:5000" makes real pulls there
#   client          /var/cache/devenv-ci/remote/id_ed25519 (key),
#                   /var/cache/devenv-ci/remote/known_hosts, and
#                   /etc/ssh/ssh_config.d/devenv-remote.conf, so any ssh
#                   (devenv's, docker's, compose's) runs
#                   `ssh root@10.77.0.2` non-interactively
#
# sshd hands every session DOCKER_HOST (SetEnv), so `docker` on the machine,
# including `docker system dial-stdio`, finds its engine as it would at
# /var/run/docker.sock on a real one. GatewayPorts clientspecified lets a
# reverse forward bind on the engine's network gateway, where containers
# reach the mocks that run here. A second sshd on :2222 has the default
# (GatewayPorts no), for the test of the warning an sshd like that earns.
#
# Run as root after tests/support/setup.sh (it needs the registry's storage).
# Idempotent: what answers is left alone. Prints the facts on stdout.
# --down stops the daemons and removes the namespace (keeps key and data).
set -euo pipefail

NS=devenv-remote
HOST_IF=devenv-r0
HOST_ADDR=10.77.0.1
REMOTE_ADDR=10.77.0.2
RUN_DIR=/var/run/devenv-remote
STATE_DIR=/var/lib/devenv-remote
CLIENT_DIR=/var/cache/devenv-ci/remote
SOCK=$RUN_DIR/docker.sock
SSH_CONFIG=/etc/ssh/ssh_config.d/devenv-remote.conf
REGISTRY_STORAGE=/var/lib/devenv-test/registry

say() { printf 'second_machine: %s\n' "$*" >&2; }
die() { printf 'second_machine: ERROR: %s\n' "$*" >&2; exit 1; }
# nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup mounts dockerd needs.
in_ns() { nsenter --net="/var/run/netns/$NS" "$@"; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, dockerd, sshd)"
mkdir -p "$RUN_DIR" "$STATE_DIR" "$CLIENT_DIR"
exec 9>"$RUN_DIR/setup.lock"
flock 9

running() { # pidfile exe
	local pid
	pid=$(cat "$1" 2>/dev/null || true)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
		&& [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" = "$2" ]
}

stop() { # name exe
	local pidfile=$RUN_DIR/$1.pid pid
	if running "$pidfile" "$2"; then
		pid=$(cat "$pidfile")
		say "stopping $1 (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

if [ "${1:-}" = "--down" ]; then
	stop sshd sshd
	stop sshd-nogw sshd
	stop registry docker-registry
	stop dockerd dockerd
	ip netns del "$NS" 2>/dev/null || true
	rm -f "$SSH_CONFIG"
	exit 0
fi

# Start a daemon inside the namespace, detached from our stdio and lock.
start_in_ns() { # pidfile logfile cmd...
	local pidfile=$1 logfile=$2
	shift 2
	(cd / && exec setsid nohup nsenter --net="/var/run/netns/$NS" "$@" </dev/null >>"$logfile" 2>&1 9>&-) &
	echo $! >"$pidfile"
}

wait_for() { # what seconds cmd...
	local what=$1 tries=$(($2 * 5))
	shift 2
	for _ in $(seq 1 "$tries"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	die "$what did not come up"
}

# ---------------------------------------------------------------- packages
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ "${#need[@]}" -gt 0 ]; then
	say "installing ${need[*]}"
	# Debian's postinst would start an sshd on :22 of every interface; keep it off.
	had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
	[ "$had_policy" = 1 ] || printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 9>&-
	DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >&2 9>&- \
		|| die "apt-get install ${need[*]} failed"
	[ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
fi
[ -d "$REGISTRY_STORAGE" ] || die "no registry storage at $REGISTRY_STORAGE: run tests/support/setup.sh first"

# ---------------------------------------------------------------- network
# `grep -q` stops reading at the first match, and under pipefail the
# writer's SIGPIPE made the check fail and add the address twice
# ("Address already assigned"): these greps read everything.
if ! ip netns list | grep -w "$NS" >/dev/null; then
	say "creating namespace $NS"
	ip netns add "$NS"
fi
# A namespace deleted just before (--down) takes its veth end with it, and
# the kernel drops this end a moment later: a pair left half is made anew.
if ip link show "$HOST_IF" >/dev/null 2>&1 && ! in_ns ip link show eth0 >/dev/null 2>&1; then
	ip link del "$HOST_IF" 2>/dev/null || true
fi
if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
	ip link add "$HOST_IF" type veth peer name eth0 netns "$NS"
fi
ip addr show dev "$HOST_IF" | grep -F "$HOST_ADDR/" >/dev/null || ip addr add "$HOST_ADDR/24" dev "$HOST_IF"
ip link set "$HOST_IF" up
in_ns ip addr show dev eth0 | grep -F "$REMOTE_ADDR/" >/dev/null || in_ns ip addr add "$REMOTE_ADDR/24" dev eth0
in_ns ip link set lo up
in_ns ip link set eth0 up
in_ns ip route replace default via "$HOST_ADDR"


# ---------------------------------------------------------------- registry
if ! running "$RUN_DIR/registry.pid" docker-registry; then
	cat >"$STATE_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_STORAGE
  maintenance:
    readonly:
      enabled: true
http:
  addr: 127.0.0.1:5000
EOF
	say "starting its registry (log /var/log/devenv-remote-registry.log)"
	start_in_ns "$RUN_DIR/registry.pid" /var/log/devenv-remote-registry.log \
		docker-registry serve "$STATE_DIR/registry.yml"
fi
wait_for "the machine's registry" 30 in_ns curl -fsS --max-time 2 http://127.0.0.1:5000/v2/

# ---------------------------------------------------------------- engine
engine_answers() { curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping; }
if ! engine_answers >/dev/null 2>&1; then
	stop dockerd dockerd
	mkdir -p "$STATE_DIR/docker" "$RUN_DIR/exec"
	say "starting its dockerd (log /var/log/devenv-remote-dockerd.log)"
	start_in_ns "$RUN_DIR/dockerd.pid" /var/log/devenv-remote-dockerd.log \
		dockerd --data-root "$STATE_DIR/docker" --exec-root "$RUN_DIR/exec" \
		--pidfile "$RUN_DIR/dockerd.real.pid" -H "unix://$SOCK" \
		--bip 172.30.0.1/16 --default-address-pool base=172.31.0.0/16,size=24
	for _ in $(seq 1 300); do
		engine_answers >/dev/null 2>&1 && break
		kill -0 "$(cat "$RUN_DIR/dockerd.pid")" 2>/dev/null || {
			tail -n 20 /var/log/devenv-remote-dockerd.log >&2
			die "its dockerd exited"
		}
		sleep 0.2
	done
	engine_answers >/dev/null 2>&1 || die "its dockerd did not answer on $SOCK within 60 s"
fi
# The pid file dockerd writes names dockerd itself.
[ -f "$RUN_DIR/dockerd.real.pid" ] && cp "$RUN_DIR/dockerd.real.pid" "$RUN_DIR/dockerd.pid"

# ---------------------------------------------------------------- sshd
[ -f "$STATE_DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C devenv-remote-host -f "$STATE_DIR/ssh_host_ed25519_key"
[ -f "$CLIENT_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C devenv-ci -f "$CLIENT_DIR/id_ed25519"
install -m 0600 "$CLIENT_DIR/id_ed25519.pub" "$STATE_DIR/authorized_keys"
mkdir -p /run/sshd
chmod 0755 /run/sshd
cat >"$STATE_DIR/sshd_config.new" <<EOF
ListenAddress $REMOTE_ADDR:22
HostKey $STATE_DIR/ssh_host_ed25519_key
PidFile $RUN_DIR/sshd.real.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $STATE_DIR/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
GatewayPorts clientspecified
StreamLocalBindUnlink yes
MaxSessions 64
MaxStartups 64:30:128
ClientAliveInterval 5
ClientAliveCountMax 3
SetEnv DOCKER_HOST=unix://$SOCK
Subsystem sftp internal-sftp
EOF
if ! cmp -s "$STATE_DIR/sshd_config.new" "$STATE_DIR/sshd_config"; then
	mv "$STATE_DIR/sshd_config.new" "$STATE_DIR/sshd_config"
	stop sshd sshd
else
	rm -f "$STATE_DIR/sshd_config.new"
fi
/usr/sbin/sshd -t -f "$STATE_DIR/sshd_config" || die "sshd refuses its config"
if ! running "$RUN_DIR/sshd.pid" sshd; then
	say "starting its sshd on $REMOTE_ADDR:22 (log /var/log/devenv-remote-sshd.log)"
	start_in_ns "$RUN_DIR/sshd.pid" /var/log/devenv-remote-sshd.log \
		/usr/sbin/sshd -D -e -f "$STATE_DIR/sshd_config"
	sleep 0.3
	# nsenter execs in place: the pid is sshd's.
fi
# The same machine through an sshd left at GatewayPorts' default.
sed -e "s/^ListenAddress .*/ListenAddress $REMOTE_ADDR:2222/" \
	-e "s|^PidFile .*|PidFile $RUN_DIR/sshd-nogw.real.pid|" \
	-e '/^GatewayPorts /d' "$STATE_DIR/sshd_config" >"$STATE_DIR/sshd_nogw_config.new"
if ! cmp -s "$STATE_DIR/sshd_nogw_config.new" "$STATE_DIR/sshd_nogw_config"; then
	mv "$STATE_DIR/sshd_nogw_config.new" "$STATE_DIR/sshd_nogw_config"
	stop sshd-nogw sshd
else
	rm -f "$STATE_DIR/sshd_nogw_config.new"
fi
/usr/sbin/sshd -t -f "$STATE_DIR/sshd_nogw_config" || die "sshd refuses the :2222 config"
if ! running "$RUN_DIR/sshd-nogw.pid" sshd; then
	say "starting a second sshd on $REMOTE_ADDR:2222 without GatewayPorts (log /var/log/devenv-remote-sshd-nogw.log)"
	start_in_ns "$RUN_DIR/sshd-nogw.pid" /var/log/devenv-remote-sshd-nogw.log \
		/usr/sbin/sshd -D -e -f "$STATE_DIR/sshd_nogw_config"
	sleep 0.3
fi

# ---------------------------------------------------------------- client
printf '%s %s\n[%s]:2222 %s\n' "$REMOTE_ADDR" "$(cut -d' ' -f1,2 "$STATE_DIR/ssh_host_ed25519_key.pub")" \
	"$REMOTE_ADDR" "$(cut -d' ' -f1,2 "$STATE_DIR/ssh_host_ed25519_key.pub")" >"$CLIENT_DIR/known_hosts"
cat >"$SSH_CONFIG" <<EOF
# devenv's test machine (tests/support/second_machine.sh)
Host $REMOTE_ADDR devenv-remote
	HostName $REMOTE_ADDR
	User root
	IdentityFile $CLIENT_DIR/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $CLIENT_DIR/known_hosts
	StrictHostKeyChecking yes
	BatchMode yes
EOF
grep -q '^Include /etc/ssh/ssh_config.d/\*.conf' /etc/ssh/ssh_config 2>/dev/null \
	|| die "/etc/ssh/ssh_config does not include /etc/ssh/ssh_config.d/*.conf"

wait_for "ssh root@$REMOTE_ADDR" 20 ssh -o ConnectTimeout=2 "root@$REMOTE_ADDR" true
wait_for "ssh -p 2222 root@$REMOTE_ADDR" 20 ssh -o ConnectTimeout=2 -p 2222 "root@$REMOTE_ADDR" true
remote_version=$(ssh "root@$REMOTE_ADDR" docker version --format '{{.Server.Version}}') \
	|| die "docker on the machine does not reach its engine"
# The images the tests use, pulled there through its own registry once.
for img in busybox:latest redis:7; do
	ssh "root@$REMOTE_ADDR" docker image inspect "127.0.0.1:5000/library/$img" >/dev/null 2>&1 \
		|| ssh "root@$REMOTE_ADDR" docker pull -q "127.0.0.1:5000/library/$img" >/dev/null \
		|| die "the machine could not pull 127.0.0.1:5000/library/$img"
done

echo "second machine: ssh://root@$REMOTE_ADDR (namespace $NS, this side $HOST_ADDR)"
echo "the same through an sshd without GatewayPorts: ssh://root@$REMOTE_ADDR:2222"
echo "its engine: docker $remote_version at unix://$SOCK"
echo "its registry: 127.0.0.1:5000 (inside the namespace)"
echo "ssh client: $SSH_CONFIG, key $CLIENT_DIR/id_ed25519"
