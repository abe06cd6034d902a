#!/usr/bin/env bash
# tests/support/podman.sh: Podman's Docker-compatible API, rootful and
# rootless, for tests/podman.rs. Debian's podman (4.3).
#
#   rootful   unix:///var/run/devenv-test/podman.sock          (root's storage)
#   rootless  unix:///run/user/<uid>/podman/podman.sock        (user devpodman, its own storage)
#
# Each is `podman system service --time=0 unix://PATH`, started in the
# background with a pid file under /var/run/devenv-test/ (teardown: kill it),
# log in /var/log/devenv-test-podman-*.log.
#
# What this sandbox needs, and why (all in /var/cache/devenv-ci/podman/):
#   containers.conf   [containers] default_ulimits = [] (else runc fails with
#                     "error setting rlimit type 7"); runtime = "runc" (crun
#                     refuses the hybrid cgroup setup); cgroupfs and a file
#                     events log (no systemd).
#   registries.conf   127.0.0.1:5000 is a plain-HTTP loopback registry: insecure.
# Rootless also needs a user with /etc/subuid and /etc/subgid ranges, an
# XDG_RUNTIME_DIR of its own, and /dev/net/tun usable by that user (slirp4netns
# and rootlessport publish ports through it): the device is 0600 here, and
# 0666 as on a stock Debian, so the script sets that.
#
# Images: the busybox test image and busybox-healthy (the same with a
# HEALTHCHECK, built here on the main engine) are copied in with
# `docker save | podman load` (they keep their names,
# 127.0.0.1:5000/library/busybox{,-healthy}:latest); pulls from the loopback
# registry work too. Idempotent: a service that answers is left alone.
# Needs: root, the main engine and registry from tests/support/setup.sh.
set -euo pipefail

RUN_DIR=/var/run/devenv-test
CONF_DIR=/var/cache/devenv-ci/podman
ROOTFUL_SOCK=$RUN_DIR/podman.sock
USER_NAME=devpodman
IMAGES="127.0.0.1:5000/library/busybox:latest 127.0.0.1:5000/library/busybox-healthy:latest"

say() { printf 'podman.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

if ! command -v podman >/dev/null || ! command -v newuidmap >/dev/null || ! command -v slirp4netns >/dev/null; then
	say "installing podman, uidmap, slirp4netns (Debian)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		podman uidmap slirp4netns >/dev/null
fi

mkdir -p "$CONF_DIR" "$RUN_DIR"
cat >"$CONF_DIR/containers.conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
cat >"$CONF_DIR/registries.conf" <<'CONF'
unqualified-search-registries = []

[[registry]]
location = "127.0.0.1:5000"
insecure = true
CONF
chmod 0644 "$CONF_DIR/containers.conf" "$CONF_DIR/registries.conf"

answers() { # socket
	curl -sf --max-time 3 --unix-socket "$1" http://podman/_ping >/dev/null 2>&1
}

# start NAME SOCKET [as USER with XDG_RUNTIME_DIR]: the API service, in the background.
start() {
	local name=$1 sock=$2 user=${3:-} runtime=${4:-}
	local pidfile=$RUN_DIR/podman-$name.pid log=/var/log/devenv-test-podman-$name.log
	if answers "$sock"; then
		say "$name: already answering on unix://$sock"
		return
	fi
	if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		die "$name: podman $(cat "$pidfile") runs but does not answer; see $log"
	fi
	rm -f "$sock"
	say "$name: starting podman system service on unix://$sock (log $log)"
	local env=(CONTAINERS_CONF="$CONF_DIR/containers.conf" CONTAINERS_REGISTRIES_CONF="$CONF_DIR/registries.conf")
	if [ -z "$user" ]; then
		env "${env[@]}" nohup podman system service --time=0 "unix://$sock" >"$log" 2>&1 </dev/null &
		echo $! >"$pidfile"
	else
		: >"$log"
		chown "$user" "$log"
		# setpriv keeps this shell's pid: $! is the service itself.
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$(getent passwd "$user" | cut -d: -f6)" \
			USER="$user" XDG_RUNTIME_DIR="$runtime" "${env[@]}" \
			setpriv --reuid="$user" --regid="$user" --init-groups \
			nohup podman system service --time=0 "unix://$sock" >"$log" 2>&1 </dev/null &
		echo $! >"$pidfile"
	fi
	for _ in $(seq 1 60); do
		answers "$sock" && return
		kill -0 "$(cat "$pidfile")" 2>/dev/null || die "$name: podman exited; see $log"
		sleep 0.5
	done
	die "$name: podman did not answer within 30 s; see $log"
}

# load SOCKET: the test images, by `docker save | load` through the API.
load() {
	local sock=$1 image
	for image in $IMAGES; do
		if ! docker -H "unix://$sock" image inspect "$image" >/dev/null 2>&1; then
			say "loading $image into unix://$sock"
			docker save "$image" | docker -H "unix://$sock" load >/dev/null
		fi
	done
}

# A busybox with a HEALTHCHECK (healthy once /tmp/healthy exists), built on
# the main engine: Podman keeps docker-format health checks it loads.
if ! docker image inspect 127.0.0.1:5000/library/busybox-healthy:latest >/dev/null 2>&1; then
	say "building busybox-healthy on the main engine"
	printf 'FROM 127.0.0.1:5000/library/busybox:latest\nHEALTHCHECK --interval=1s --timeout=2s CMD test -f /tmp/healthy\n' |
		docker build -q -t 127.0.0.1:5000/library/busybox-healthy:latest - >/dev/null
fi

# --- rootful ----------------------------------------------------------------
start rootful "$ROOTFUL_SOCK"
load "$ROOTFUL_SOCK"

# --- rootless ---------------------------------------------------------------
if ! id "$USER_NAME" >/dev/null 2>&1; then
	say "adding user $USER_NAME"
	useradd --create-home --shell /bin/sh "$USER_NAME"
fi
grep -q "^$USER_NAME:" /etc/subuid || usermod --add-subuids 300000-365535 "$USER_NAME"
grep -q "^$USER_NAME:" /etc/subgid || usermod --add-subgids 300000-365535 "$USER_NAME"
uid=$(id -u "$USER_NAME")
runtime=/run/user/$uid
mkdir -p "$runtime/podman"
chown -R "$USER_NAME:" "$runtime"
chmod 0700 "$runtime"
[ -c /dev/net/tun ] || die "no /dev/net/tun: rootless Podman cannot publish ports here"
chmod 0666 /dev/net/tun
start rootless "$runtime/podman/podman.sock" "$USER_NAME" "$runtime"
load "$runtime/podman/podman.sock"

echo "Podman rootful: unix://$ROOTFUL_SOCK"
echo "Podman rootless: unix://$runtime/podman/podman.sock (user $USER_NAME)"
