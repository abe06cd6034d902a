#!/usr/bin/env bash
# tests/support/teardown.sh: stop what tests/support/setup.sh started (for local
# use; CI machines are thrown away). Only daemons recorded in the pid files under
# /var/run/devenv-test/ are stopped, and only if the pid still runs the expected
# program. Images, the registry's storage and the image cache are kept, so the
# next setup.sh is fast; pass --purge to remove those too.
set -euo pipefail

RUN_DIR=/var/run/devenv-test
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

stop() {
	local name=$1 exe=$2 pidfile=$RUN_DIR/$1.pid pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
		&& [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" = "$exe" ]; then
		echo "teardown: stopping $name (pid $pid)" >&2
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "teardown: $name did not stop in 30 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

# engine_tls.sh and podman.sh (rootless Podman's pid runs as its user).
stop podman-rootless podman
stop podman-rootful podman
stop tls-dockerd dockerd
stop pushgateway prometheus-pushgateway
stop registry docker-registry
stop dockerd dockerd

if [ "$PURGE" = 1 ]; then
	echo "teardown: removing /var/lib/devenv-test and /var/cache/devenv-test" >&2
	rm -rf /var/lib/devenv-test /var/cache/devenv-test
fi
