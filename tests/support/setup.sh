#!/usr/bin/env bash
# tests/support/setup.sh: make the real components devenv's tests run against
# available on this machine, offline, using only Debian packages.
#
# Fixed addresses the tests use:
#   Docker engine   unix:///var/run/docker.sock   (Debian's docker.io, dockerd 20.10, API 1.41)
#   registry        127.0.0.1:5000                (Debian's docker-registry, plain HTTP on loopback)
#   Pushgateway     http://127.0.0.1:9091          (Debian's prometheus-pushgateway, no persistence)
#
# Installed, not started: Debian's prometheus (2.42, with promtool), which
# tests/metrics_prometheus.rs runs privately on a free port against a private
# Pushgateway, with contrib/prometheus's recording rules loaded.
#
# Images in the registry, built from Debian bookworm packages (debootstrap + docker import):
#   127.0.0.1:5000/library/postgres:16 and :15   PostgreSQL 15, official-image env contract
#                                                (16 is a stand-in: Debian packages no PostgreSQL 16;
#                                                the image's labels say what it holds)
#   127.0.0.1:5000/library/redis:7               redis-server 7.0, listens on all interfaces
#   127.0.0.1:5000/library/busybox:latest        busybox-static with applet links
# and, from a second tree (mariadb-server, rabbitmq-server; its own recipe hash):
#   127.0.0.1:5000/library/mariadb:10.11            MariaDB 10.11, official-image env contract
#   127.0.0.1:5000/library/rabbitmq:3.10-management RabbitMQ 3.10 with the management plugin
# With registry_mirror = "127.0.0.1:5000", "postgres:16" resolves to the first of these.
#
# Requirements: a Debian (bookworm) machine, run as root; only the Debian mirror
# configured for apt has to answer. No systemd needed: daemons are started in the
# background, with pid files under /var/run/devenv-test/ (see teardown.sh) and
# logs in /var/log/devenv-test-*.log.
#
# Idempotent: whatever already answers is left alone. Images are cached by a
# hash of their recipe (this file's image functions, the entrypoint scripts, the
# package list), so a second run takes a few seconds. If a component cannot be
# provided, the script exits non-zero: CI must fail, not skip.
#
# Progress goes to stderr; a short summary goes to stdout.
#
# --point-devenv: also point the invoking user's devenv at the registry, once
# for every shell: `registry_mirror` in their user config
# ($XDG_CONFIG_HOME/devenv/config.toml, default ~/.config/devenv/config.toml),
# unless that file already sets one. CI does not pass it (tests isolate HOME).
set -euo pipefail

POINT_DEVENV=0
for arg in "$@"; do
	case "$arg" in
		--point-devenv) POINT_DEVENV=1 ;;
		*) echo "setup.sh: unknown argument $arg (known: --point-devenv)" >&2; exit 2 ;;
	esac
done

REGISTRY=127.0.0.1:5000
PUSHGATEWAY=127.0.0.1:9091
DOCKER_SOCK=/var/run/docker.sock
RUN_DIR=/var/run/devenv-test
STATE_DIR=/var/lib/devenv-test
CACHE_DIR=/var/cache/devenv-test
SUITE=bookworm

# Bump when the recipe changes in a way the hashed text does not show.
RECIPE_VERSION=1
ROOTFS_PACKAGES=postgresql-15,redis-server
IMAGE_TAGS="postgres:16 postgres:15 redis:7 busybox:latest"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts dockerd)"

mkdir -p "$RUN_DIR" "$STATE_DIR" "$CACHE_DIR"

# One run at a time (tests may call this concurrently). Daemons started below
# close fd 9 so they do not keep the lock.
exec 9>"$RUN_DIR/setup.lock"
flock 9

# ---------------------------------------------------------------- packages

APT_UPDATED=0
wait_for_apt() {
	local i
	for i in $(seq 1 600); do
		pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null || pgrep -x apt >/dev/null || return 0
		[ "$i" = 1 ] && say "waiting for another apt/dpkg to finish"
		sleep 1
	done
	die "another apt/dpkg has been running for 10 minutes"
}

apt_install() {
	wait_for_apt
	if [ "$APT_UPDATED" = 0 ]; then
		say "apt-get update"
		apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 9>&- || die "apt-get update failed"
		APT_UPDATED=1
	fi
	say "installing: $*"
	DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >&2 9>&- \
		|| die "apt-get install $* failed"
}

pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# package:command pairs; a package counts as present when its command is on
# PATH (git, curl may come from elsewhere), busybox-static must be the package.
ensure_packages() {
	local missing=() pair pkg cmd
	for pair in docker.io:dockerd docker-registry:docker-registry debootstrap:debootstrap \
		busybox-static: prometheus-pushgateway:prometheus-pushgateway prometheus:promtool curl:curl \
		hyperfine:hyperfine docker-compose:docker-compose git:git \
		postgresql-client:pg_isready redis-tools:redis-cli debian-archive-keyring: procps:pgrep; do
		pkg=${pair%%:*} cmd=${pair#*:}
		if [ -n "$cmd" ]; then
			command -v "$cmd" >/dev/null 2>&1 && continue
		fi
		pkg_installed "$pkg" && [ -z "$cmd" ] && continue
		missing+=("$pkg")
	done
	# pg_isready is a wrapper from postgresql-client-common: make sure a real client is there.
	if ! printf '%s\n' "${missing[@]:-}" | grep -x postgresql-client >/dev/null \
		&& ! ls /usr/lib/postgresql/*/bin/psql >/dev/null 2>&1; then
		missing+=(postgresql-client)
	fi
	if [ "${#missing[@]}" -gt 0 ]; then
		apt_install "${missing[@]}"
	fi
}

# ---------------------------------------------------------------- daemons

# Start a command in the background, detached from this script's stdio and lock.
# $1 = pid file, $2 = log file, rest = command.
start_daemon() {
	local pidfile=$1 logfile=$2
	shift 2
	# No job control here, so the child is not a group leader and setsid execs
	# in place: $! is the daemon's pid.
	(cd / && exec setsid nohup "$@" </dev/null >>"$logfile" 2>&1 9>&-) &
	echo $! >"$pidfile"
}

# Stop a daemon a package's init script started (only possible where
# policy-rc.d allows it): it listens on all interfaces with the package's config.
stop_packaged_daemon() {
	local pidfile=$1 pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		say "stopping the packaged daemon with pid $pid ($pidfile)"
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	fi
}

docker_answers() {
	curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1
}

ensure_docker() {
	local i
	if docker_answers; then
		return 0
	fi
	command -v dockerd >/dev/null 2>&1 || apt_install docker.io
	command -v dockerd >/dev/null 2>&1 || die "dockerd is not available after installing docker.io"
	if pgrep -x dockerd >/dev/null; then
		say "dockerd is running but $DOCKER_SOCK does not answer yet; waiting"
	else
		say "starting dockerd (log /var/log/devenv-test-dockerd.log)"
		start_daemon "$RUN_DIR/dockerd.pid" /var/log/devenv-test-dockerd.log \
			dockerd --host "unix://$DOCKER_SOCK"
	fi
	for i in $(seq 1 300); do
		docker_answers && return 0
		if [ -f "$RUN_DIR/dockerd.pid" ] && ! kill -0 "$(cat "$RUN_DIR/dockerd.pid")" 2>/dev/null \
			&& ! pgrep -x dockerd >/dev/null; then
			tail -n 20 /var/log/devenv-test-dockerd.log >&2 || true
			die "dockerd exited; see /var/log/devenv-test-dockerd.log"
		fi
		sleep 0.2
	done
	tail -n 20 /var/log/devenv-test-dockerd.log >&2 || true
	die "the Docker engine did not answer on $DOCKER_SOCK within 60 s"
}

registry_answers() {
	# 200 without credentials: a registry that asks for auth is not ours.
	curl -fsS --max-time 2 -o /dev/null "http://$REGISTRY/v2/" 2>/dev/null
}

ensure_registry() {
	local i conf=$STATE_DIR/registry.yml
	registry_answers && return 0
	command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
	stop_packaged_daemon /var/run/docker-registry.pid   # its config asks for auth, on :5000
	mkdir -p "$STATE_DIR/registry"
	cat >"$conf" <<EOF
version: 0.1
log:
  level: warn
  fields:
    service: devenv-test-registry
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
	say "starting docker-registry on $REGISTRY (log /var/log/devenv-test-registry.log)"
	start_daemon "$RUN_DIR/registry.pid" /var/log/devenv-test-registry.log docker-registry serve "$conf"
	for i in $(seq 1 150); do
		registry_answers && return 0
		if ! kill -0 "$(cat "$RUN_DIR/registry.pid")" 2>/dev/null; then
			tail -n 20 /var/log/devenv-test-registry.log >&2 || true
			die "docker-registry exited (is $REGISTRY taken by something that wants auth?)"
		fi
		sleep 0.2
	done
	die "the registry did not answer on http://$REGISTRY/v2/ within 30 s"
}

pushgateway_answers() {
	curl -fsS --max-time 2 -o /dev/null "http://$PUSHGATEWAY/metrics" 2>/dev/null
}

ensure_pushgateway() {
	local i
	pushgateway_answers && return 0
	command -v prometheus-pushgateway >/dev/null 2>&1 || apt_install prometheus-pushgateway
	# A copy started by the package's init script (persisting, on :9091 of all
	# interfaces) is not what the tests expect.
	stop_packaged_daemon /run/prometheus/prometheus-pushgateway.pid
	say "starting prometheus-pushgateway on $PUSHGATEWAY (log /var/log/devenv-test-pushgateway.log)"
	start_daemon "$RUN_DIR/pushgateway.pid" /var/log/devenv-test-pushgateway.log \
		prometheus-pushgateway --web.listen-address="$PUSHGATEWAY" --persistence.file=
	for i in $(seq 1 150); do
		pushgateway_answers && return 0
		if ! kill -0 "$(cat "$RUN_DIR/pushgateway.pid")" 2>/dev/null; then
			tail -n 20 /var/log/devenv-test-pushgateway.log >&2 || true
			die "prometheus-pushgateway exited"
		fi
		sleep 0.2
	done
	die "the Pushgateway did not answer on http://$PUSHGATEWAY/metrics within 30 s"
}

# ---------------------------------------------------------------- image recipe

# The official postgres image's docker-entrypoint.sh contract, for PostgreSQL 15
# from Debian: POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
# POSTGRES_USER (postgres), POSTGRES_DB (= user), POSTGRES_INITDB_ARGS, PGDATA,
# *_FILE variants, /docker-entrypoint-initdb.d/ scripts; initdb only into an
# empty data dir; runs as root, fixes ownership, drops to postgres.
PG_ENTRYPOINT=$(cat <<'ENTRYPOINT'
#!/bin/bash
# devenv test image: a small stand-in for the official postgres image's entrypoint.
set -Eeo pipefail

# usage: file_env VAR [DEFAULT] -- reads VAR or VAR_FILE
file_env() {
	local var=$1 fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val=$def
	if [ "${!var:-}" ]; then
		val=${!var}
	elif [ "${!fileVar:-}" ]; then
		val=$(<"${!fileVar}")
	fi
	export "$var"="$val"
	unset "$fileVar"
}

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

# first arg is `-f` or `--some-option`: run postgres with it
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	mkdir -p /var/run/postgresql
	chown postgres:postgres /var/run/postgresql
	chmod 03775 /var/run/postgresql || :
	export HOME=/var/lib/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"

	if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.

			       See PostgreSQL documentation about "trust":
			       https://www.postgresql.org/docs/current/auth-trust.html
		EOE
		exit 1
	fi
	if [ "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
		echo >&2 "Error: $PGDATA is not empty but holds no PG_VERSION; refusing to initdb over it"
		exit 1
	fi

	# --pwfile refuses a properly-empty file, hence the "\n"
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"

	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
	shift
	auth=$(postgres -C password_encryption "$@")
	: "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
	{
		printf '\n'
		if [ 'trust' = "$POSTGRES_HOST_AUTH_METHOD" ]; then
			printf '# warning trust is enabled for all connections\n'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >>"$PGDATA/pg_hba.conf"
	set -- postgres "$@"

	# a temporary server on the unix socket only, to create the database
	PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
	psql_run() {
		psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
	}
	exists=$(psql_run --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)
	if [ -z "$exists" ]; then
		psql_run --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi ;;
			*.sql) echo "$0: running $f"; psql_run --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_run --dbname "$POSTGRES_DB" ;;
			*) [ -e "$f" ] && echo "$0: ignoring $f" ;;
		esac
	done
	PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD
	echo
	echo 'PostgreSQL init process complete; ready for start up.'
	echo
fi

if [ "$1" = 'postgres' ]; then
	# The official image says STOPSIGNAL SIGINT (fast shutdown); `docker import`
	# cannot set it, so turn the engine's SIGTERM into SIGINT here.
	"$@" &
	pid=$!
	for sig in INT QUIT HUP USR1 USR2; do trap "kill -$sig $pid 2>/dev/null" "$sig"; done
	trap "kill -INT $pid 2>/dev/null" TERM
	while :; do
		status=0
		wait "$pid" || status=$?
		kill -0 "$pid" 2>/dev/null || exit "$status"
	done
fi

exec "$@"
ENTRYPOINT
)

# The official redis image's behaviour: a bare `redis-server` (any options)
# accepts connections from other hosts (no protected mode; the built-in default
# bind is already `* -::*`), runs as the redis user in /data.
REDIS_ENTRYPOINT=$(cat <<'ENTRYPOINT'
#!/bin/sh
# devenv test image: a small stand-in for the official redis image's entrypoint.
set -e

# first arg is `-f` or `--some-option`, or `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ]; then
	# The official image compiles protected mode off; Debian's is on. Say it
	# on the command line unless the caller (or their config file) decides.
	decided=
	for a in "$@"; do
		case "$a" in
			--protected-mode) decided=1 ;;
			*.conf) [ -f "$a" ] && grep -qE '^[[:space:]]*protected-mode' "$a" && decided=1 ;;
		esac
	done
	[ -n "$decided" ] || set -- "$@" --protected-mode no
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

um=$(umask)
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
ENTRYPOINT
)

# The Debian mirror apt uses (deb822 .sources or one-line .list), for $SUITE.
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk -v suite="$SUITE" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ") && uris != "") {
					split(uris, u, " "); print u[1]; found = 1; exit
				}
				types = ""; uris = ""; suites = ""; enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
				if (key == "types") types = $0
				else if (key == "uris") uris = $0
				else if (key == "suites") suites = $0
				else if (key == "enabled") enabled = tolower($0)
			}
			END { if (!found) flush() }
		' "$f")
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" \
			| awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

umount_under() {
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" || true
	done
}

# Build the shared PostgreSQL + Redis root file system and write it as a tar.
build_rootfs_tar() {
	local out=$1 dir mirror pid
	mirror=$(debian_mirror) || die "no Debian '$SUITE' mirror found in /etc/apt/sources.list{,.d/}"
	dir=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
	chmod 0755 "$dir"   # becomes the image's /
	say "debootstrap --variant=minbase --include=$ROOTFS_PACKAGES $SUITE from $mirror (about a minute)"
	if ! debootstrap --variant=minbase --include="$ROOTFS_PACKAGES" "$SUITE" "$dir" "$mirror" \
		>"$CACHE_DIR/debootstrap.log" 2>&1; then
		tail -n 30 "$CACHE_DIR/debootstrap.log" >&2 || true
		[ -f "$dir/debootstrap/debootstrap.log" ] && tail -n 30 "$dir/debootstrap/debootstrap.log" >&2
		rm -rf --one-file-system "$dir"
		die "debootstrap failed (full log: $CACHE_DIR/debootstrap.log)"
	fi
	# Nothing may keep running inside the tree (a package's postinst might start a daemon).
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$dir" ] && kill -9 "$pid" 2>/dev/null || true
	done
	umount_under "$dir"

	# PostgreSQL: no packaged cluster, an empty data dir owned by postgres.
	rm -rf "$dir/var/lib/postgresql/15" "$dir/etc/postgresql/15"
	mkdir -p "$dir/var/lib/postgresql/data" "$dir/docker-entrypoint-initdb.d" "$dir/data" "$dir/usr/local/bin"
	chroot "$dir" chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data
	chmod 0700 "$dir/var/lib/postgresql/data"
	chroot "$dir" chown redis:redis /data
	printf '%s\n' "$PG_ENTRYPOINT" >"$dir/usr/local/bin/docker-entrypoint.sh"
	printf '%s\n' "$REDIS_ENTRYPOINT" >"$dir/usr/local/bin/redis-entrypoint.sh"
	chmod 0755 "$dir/usr/local/bin/docker-entrypoint.sh" "$dir/usr/local/bin/redis-entrypoint.sh"
	chroot "$dir" /usr/lib/postgresql/15/bin/postgres --version >/dev/null || die "postgres does not run in the tree"
	chroot "$dir" redis-server --version >/dev/null || die "redis-server does not run in the tree"
	chroot "$dir" sh -c 'command -v pg_isready && command -v redis-cli && command -v setpriv' >/dev/null \
		|| die "pg_isready, redis-cli or setpriv missing from the tree"

	# Trim what a container never reads.
	rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
		"$dir"/usr/share/locale/* "$dir"/usr/share/i18n "$dir"/usr/share/lintian \
		"$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* \
		"$dir"/var/log/* "$dir"/debootstrap "$dir"/dev/* "$dir"/proc/* "$dir"/sys/* "$dir"/tmp/* \
		"$dir"/etc/hostname "$dir"/etc/machine-id
	: >"$dir/etc/machine-id"

	tar --numeric-owner --xattrs -C "$dir" -cf "$out.tmp" .
	mv "$out.tmp" "$out"
	rm -rf --one-file-system "$dir"
}

# The busybox image: one static binary and its applet links.
build_busybox_tar() {
	local out=$1 dir bb a
	bb=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
	[ -x "$bb" ] || die "busybox-static is not installed"
	dir=$(mktemp -d "$CACHE_DIR/busybox.XXXXXX")
	chmod 0755 "$dir"
	mkdir -p "$dir/bin" "$dir/usr/bin" "$dir/etc" "$dir/root" "$dir/tmp" "$dir/var/www"
	chmod 1777 "$dir/tmp"
	cp "$bb" "$dir/bin/busybox"
	for a in $("$bb" --list) sh httpd nc wget sleep echo cat ls env true false grep test printf mkdir rm; do
		[ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
	done
	ln -sf ../../bin/env "$dir/usr/bin/env"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
	tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$out" .
	rm -rf "$dir"
}

# Import the tars with the official images' config, push all tags.
import_and_push() {
	local hash=$1 rootfs=$2 bbtar=$3 sys_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	say "importing postgres"
	docker import \
		-c "ENV PATH=/usr/lib/postgresql/15/bin:$sys_path" \
		-c 'ENV PG_MAJOR=15' -c 'ENV LANG=C.UTF-8' -c 'ENV PGDATA=/var/lib/postgresql/data' \
		-c 'VOLUME /var/lib/postgresql/data' -c 'EXPOSE 5432' \
		-c "LABEL dev.devenv.test.recipe=$hash" \
		-c 'LABEL org.opencontainers.image.version=15' \
		-c 'LABEL dev.devenv.test.contains="PostgreSQL 15 (Debian bookworm); the postgres:16 tag is a stand-in: Debian packages no 16"' \
		-c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c 'CMD ["postgres"]' \
		- "$REGISTRY/library/postgres:16" <"$rootfs" >/dev/null
	docker tag "$REGISTRY/library/postgres:16" "$REGISTRY/library/postgres:15"
	say "importing redis"
	docker import \
		-c "ENV PATH=$sys_path" -c 'ENV LANG=C.UTF-8' \
		-c 'VOLUME /data' -c 'WORKDIR /data' -c 'EXPOSE 6379' \
		-c "LABEL dev.devenv.test.recipe=$hash" \
		-c 'LABEL org.opencontainers.image.version=7.0' \
		-c 'LABEL dev.devenv.test.contains="Redis 7.0 (Debian bookworm redis-server)"' \
		-c 'ENTRYPOINT ["/usr/local/bin/redis-entrypoint.sh"]' -c 'CMD ["redis-server"]' \
		- "$REGISTRY/library/redis:7" <"$rootfs" >/dev/null
	say "importing busybox"
	docker import \
		-c 'ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin' \
		-c "LABEL dev.devenv.test.recipe=$hash" \
		-c 'CMD ["sh"]' \
		- "$REGISTRY/library/busybox:latest" <"$bbtar" >/dev/null
	local t
	for t in $IMAGE_TAGS; do
		say "pushing $REGISTRY/library/$t"
		docker push --quiet "$REGISTRY/library/$t" >/dev/null || die "docker push $REGISTRY/library/$t failed"
	done
}

recipe_hash() {
	{
		echo "recipe $RECIPE_VERSION suite $SUITE packages $ROOTFS_PACKAGES tags $IMAGE_TAGS"
		dpkg-query -W -f='${Package} ${Version}\n' busybox-static 2>/dev/null || true
		declare -f build_rootfs_tar build_busybox_tar import_and_push
		printf '%s\n' "$PG_ENTRYPOINT" "$REDIS_ENTRYPOINT"
	} | sha256sum | cut -c1-16
}

# Is NAME:TAG in the registry, built from recipe HASH (label on its config)?
registry_has() {
	local name=$1 tag=$2 hash=$3 manifest digest
	manifest=$(curl -fsS --max-time 5 \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REGISTRY/v2/library/$name/manifests/$tag" 2>/dev/null) || return 1
	digest=$(printf '%s' "$manifest" | tr -d ' \n\t' \
		| grep -o '"config":{[^}]*}' | grep -o 'sha256:[0-9a-f]*' | head -n 1)
	[ -n "$digest" ] || return 1
	curl -fsS --max-time 5 "http://$REGISTRY/v2/library/$name/blobs/$digest" 2>/dev/null \
		| tr -d ' \n\t' | grep -F "\"dev.devenv.test.recipe\":\"$hash\"" >/dev/null
}

ensure_images() {
	local hash=$1 marker=$STATE_DIR/images.$1.done t all=1 rootfs bbtar d
	if [ -f "$marker" ]; then
		for t in $IMAGE_TAGS; do
			registry_has "${t%%:*}" "${t#*:}" "$hash" || { all=0; break; }
		done
		[ "$all" = 1 ] && return 0
	fi
	# leftovers of an interrupted run
	rm -f "$CACHE_DIR"/*.tmp "$CACHE_DIR"/*.part
	for d in "$CACHE_DIR"/rootfs.*; do [ -d "$d" ] && umount_under "$d"; done
	rm -rf --one-file-system "$CACHE_DIR"/rootfs.* "$CACHE_DIR"/busybox.*
	rootfs=$CACHE_DIR/$hash.tar
	if [ ! -s "$rootfs" ]; then
		rm -f "$CACHE_DIR"/*.tar   # older recipes' trees
		build_rootfs_tar "$rootfs"
	else
		say "reusing the cached tree $rootfs"
	fi
	bbtar=$CACHE_DIR/busybox.$hash.tar.part
	build_busybox_tar "$bbtar"
	import_and_push "$hash" "$rootfs" "$bbtar"
	rm -f "$bbtar"
	for t in $IMAGE_TAGS; do
		registry_has "${t%%:*}" "${t#*:}" "$hash" || die "$REGISTRY/library/$t is not in the registry after the push"
	done
	rm -f "$STATE_DIR"/images.*.done
	date -u +%FT%TZ >"$marker"
}

# ---------------------------------------------------------------- service images

# A second tree for the servers Debian packages beside PostgreSQL and Redis.
# It has its own recipe hash, tar and marker, so changing it never rebuilds
# the first tree (and the first's clean-up never removes this one's cache).
SERVICES_VERSION=1
SERVICES_PACKAGES=mariadb-server,mariadb-client,rabbitmq-server
SERVICE_IMAGE_TAGS="mariadb:10.11 rabbitmq:3.10-management"
SERVICES_CACHE=$CACHE_DIR/services

# The official mariadb image's docker-entrypoint.sh contract
# (MariaDB/mariadb-docker 11.4/docker-entrypoint.sh), for MariaDB 10.11 from
# Debian: MARIADB_* or the MYSQL_* spelling (MARIADB_ wins), *_FILE variants;
# on an empty datadir, one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
# or MARIADB_RANDOM_ROOT_PASSWORD; MARIADB_ROOT_HOST (%), MARIADB_DATABASE,
# MARIADB_USER/MARIADB_PASSWORD (granted the database), time zones loaded
# unless MARIADB_INITDB_SKIP_TZINFO, /docker-entrypoint-initdb.d/ scripts.
# All of that runs in a temporary server started with --skip-networking; the
# real server starts only after it stopped, so nothing answers on TCP before
# the database, the user and the scripts are done.
MARIADB_ENTRYPOINT=$(cat <<'ENTRYPOINT'
#!/bin/bash
# devenv test image: a small stand-in for the official mariadb image's entrypoint.
set -eo pipefail
shopt -s nullglob

note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
fail() { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; exit 1; }

file_env() {
	local var=$1 fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		fail "Both $var and $fileVar are set (but are exclusive)"
	fi
	local val=$def
	if [ "${!var:-}" ]; then
		val=${!var}
	elif [ "${!fileVar:-}" ]; then
		val=$(<"${!fileVar}")
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# MARIADB_xyz from MYSQL_xyz when unset, then both the same
maria_env() {
	local var=$1 maria="MARIADB_${1#MYSQL_}"
	shift
	file_env "$var" "$@"
	file_env "$maria" "${!var}"
	if [ "${!maria:-}" ]; then
		export "$var"="${!maria}"
	fi
}

if [ "${1:0:1}" = '-' ]; then
	set -- mariadbd "$@"
fi

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

if [ "$1" = 'mariadbd' ] && [ "$(id -u)" = '0' ]; then
	mkdir -p "$DATADIR" /run/mysqld
	find "$DATADIR" /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' +
	exec setpriv --reuid=mysql --regid=mysql --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = 'mariadbd' ] && [ ! -d "$DATADIR/mysql" ]; then
	maria_env MYSQL_ROOT_HOST '%'
	maria_env MYSQL_DATABASE
	maria_env MYSQL_USER
	maria_env MYSQL_PASSWORD
	maria_env MYSQL_ROOT_PASSWORD
	: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
	: "${MARIADB_RANDOM_ROOT_PASSWORD:=${MYSQL_RANDOM_ROOT_PASSWORD:-}}"
	: "${MARIADB_INITDB_SKIP_TZINFO:=${MYSQL_INITDB_SKIP_TZINFO:-}}"
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		fail $'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
	fi

	note "Initializing database files"
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
		--skip-test-db --default-time-zone=SYSTEM --skip-log-bin >/dev/null
	note "Database files initialized"

	note "Starting temporary server"
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" &
	pid=$!
	sql() { mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET" "$@"; }
	for i in {30..0}; do
		if MYSQL_PWD= sql --database=mysql <<<'SELECT 1' &>/dev/null; then
			break
		fi
		sleep 1
	done
	[ "$i" != 0 ] || fail "Unable to start server."
	note "Temporary server started."

	if [ -z "$MARIADB_INITDB_SKIP_TZINFO" ]; then
		mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null | MYSQL_PWD= sql --database=mysql
	fi
	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64)
		note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	esc() { local s=${1//\\/\\\\}; echo "${s//\'/\\\'}"; }
	rootpw=$(esc "$MARIADB_ROOT_PASSWORD")
	rootCreate=
	if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != 'localhost' ]; then
		rootCreate="CREATE USER 'root'@'${MARIADB_ROOT_HOST}' IDENTIFIED BY '${rootpw}'; GRANT ALL ON *.* TO 'root'@'${MARIADB_ROOT_HOST}' WITH GRANT OPTION;"
	fi
	MYSQL_PWD= sql --database=mysql <<-EOSQL
		SET @@SESSION.SQL_LOG_BIN=0;
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		SET PASSWORD FOR 'root'@'localhost'= PASSWORD('${rootpw}');
		${rootCreate}
	EOSQL
	if [ -n "$MARIADB_DATABASE" ]; then
		note "Creating database ${MARIADB_DATABASE}"
		MYSQL_PWD=$MARIADB_ROOT_PASSWORD sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
	fi
	if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
		note "Creating user ${MARIADB_USER}"
		userpw=$(esc "$MARIADB_PASSWORD")
		grant=
		if [ -n "$MARIADB_DATABASE" ]; then
			note "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE}"
			grant="GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'%';"
		fi
		MYSQL_PWD=$MARIADB_ROOT_PASSWORD sql --database=mysql <<<"CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$userpw'; $grant"
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh) note "$0: running $f"; . "$f" ;;
			*.sql) note "$0: running $f"; MYSQL_PWD=$MARIADB_ROOT_PASSWORD sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} <"$f" ;;
			*.sql.gz) note "$0: running $f"; gunzip -c "$f" | MYSQL_PWD=$MARIADB_ROOT_PASSWORD sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} ;;
			*) note "$0: ignoring $f" ;;
		esac
	done

	note "Stopping temporary server"
	kill "$pid"
	wait "$pid"
	note "Temporary server stopped"
	echo
	note "MariaDB init process done. Ready for start up."
	echo
fi

exec "$@"
ENTRYPOINT
)

# The official rabbitmq image's docker-entrypoint.sh (docker-library/rabbitmq
# 4.1/ubuntu/docker-entrypoint.sh): as root, chown /var/lib/rabbitmq and drop
# to the rabbitmq user; the server itself reads RABBITMQ_DEFAULT_USER,
# RABBITMQ_DEFAULT_PASS and RABBITMQ_DEFAULT_VHOST (3.9 and later). The
# -management tags enable rabbitmq_management, and root's Erlang cookie is the
# server's, so `rabbitmq-diagnostics` works from `docker exec`.
RABBITMQ_ENTRYPOINT=$(cat <<'ENTRYPOINT'
#!/bin/bash
# devenv test image: a small stand-in for the official rabbitmq image's entrypoint.
set -euo pipefail

if [[ "$1" == rabbitmq* ]] && [ "$(id -u)" = '0' ]; then
	if [ "$1" = 'rabbitmq-server' ]; then
		find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
	fi
	export HOME=/var/lib/rabbitmq
	exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$BASH_SOURCE" "$@"
fi

# rabbitmq-server execs erl in place (beam.smp is the container's process)
export RUNNING_UNDER_SYSTEMD=true
exec "$@"
ENTRYPOINT
)

build_services_tar() {
	local out=$1 dir mirror pid
	mirror=$(debian_mirror) || die "no Debian '$SUITE' mirror found in /etc/apt/sources.list{,.d/}"
	mkdir -p "$SERVICES_CACHE"
	dir=$(mktemp -d "$SERVICES_CACHE/rootfs.XXXXXX")
	chmod 0755 "$dir"
	say "debootstrap --variant=minbase --include=$SERVICES_PACKAGES $SUITE from $mirror (a few minutes)"
	if ! debootstrap --variant=minbase --include="$SERVICES_PACKAGES" "$SUITE" "$dir" "$mirror" \
		>"$SERVICES_CACHE/debootstrap.log" 2>&1; then
		tail -n 30 "$SERVICES_CACHE/debootstrap.log" >&2 || true
		rm -rf --one-file-system "$dir"
		die "debootstrap of the service tree failed (full log: $SERVICES_CACHE/debootstrap.log)"
	fi
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$dir" ] && kill -9 "$pid" 2>/dev/null || true
	done
	umount_under "$dir"

	# MariaDB: no packaged datadir (the entrypoint initialises an empty one),
	# listening on every interface as the official image's config does.
	rm -rf "$dir"/var/lib/mysql/*
	mkdir -p "$dir/var/lib/mysql" "$dir/run/mysqld" "$dir/docker-entrypoint-initdb.d" "$dir/usr/local/bin"
	sed -i -e 's/^\(bind-address\)/#&/' "$dir"/etc/mysql/mariadb.conf.d/50-server.cnf
	printf '[mariadbd]\nskip-host-cache\nskip-name-resolve\n' >"$dir/etc/mysql/mariadb.conf.d/05-docker.cnf"
	chroot "$dir" chown mysql:mysql /var/lib/mysql /run/mysqld
	# RabbitMQ: fresh state, the management plugin on, root shares the cookie.
	rm -rf "$dir"/var/lib/rabbitmq/mnesia "$dir"/var/lib/rabbitmq/.erlang.cookie
	printf '[rabbitmq_management].\n' >"$dir/etc/rabbitmq/enabled_plugins"
	ln -sf /var/lib/rabbitmq/.erlang.cookie "$dir/root/.erlang.cookie"
	chroot "$dir" chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq

	chroot "$dir" mariadbd --version >/dev/null || die "mariadbd does not run in the service tree"
	chroot "$dir" sh -c 'command -v mariadb-admin && command -v mariadb && command -v setpriv && test -x /usr/lib/rabbitmq/bin/rabbitmq-server' >/dev/null \
		|| die "mariadb-admin, mariadb, setpriv or rabbitmq-server missing from the service tree"

	rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
		"$dir"/usr/share/locale/* "$dir"/usr/share/i18n "$dir"/usr/share/lintian \
		"$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* \
		"$dir"/var/log/* "$dir"/debootstrap "$dir"/dev/* "$dir"/proc/* "$dir"/sys/* "$dir"/tmp/* \
		"$dir"/etc/hostname "$dir"/etc/machine-id
	: >"$dir/etc/machine-id"
	# The servers' log directories, emptied with the rest of /var/log above.
	mkdir -p "$dir/var/log/mysql" "$dir/var/log/rabbitmq"
	chroot "$dir" chown mysql:adm /var/log/mysql
	chroot "$dir" chown rabbitmq:rabbitmq /var/log/rabbitmq

	tar --numeric-owner --xattrs -C "$dir" -cf "$out.tmp" .
	mv "$out.tmp" "$out"
	rm -rf --one-file-system "$dir"
}

# The tree's tar with the entrypoint scripts added: they change more often
# than the packages, and adding them takes seconds, not a debootstrap.
services_image_tar() {
	local tree=$1 out=$2 stage
	stage=$(mktemp -d "$SERVICES_CACHE/stage.XXXXXX")
	mkdir -p "$stage/usr/local/bin"
	printf '%s\n' "$MARIADB_ENTRYPOINT" >"$stage/usr/local/bin/mariadb-entrypoint.sh"
	printf '%s\n' "$RABBITMQ_ENTRYPOINT" >"$stage/usr/local/bin/rabbitmq-entrypoint.sh"
	chmod 0755 "$stage"/usr/local/bin/*.sh
	cp "$tree" "$out"
	tar --numeric-owner --owner=0 --group=0 -C "$stage" -rf "$out" ./usr/local/bin/mariadb-entrypoint.sh ./usr/local/bin/rabbitmq-entrypoint.sh
	rm -rf "$stage"
}

import_and_push_services() {
	local hash=$1 rootfs=$2 sys_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin t
	say "importing mariadb"
	docker import \
		-c "ENV PATH=$sys_path" -c 'ENV LANG=C.UTF-8' -c 'ENV MARIADB_VERSION=1:10.11' \
		-c 'VOLUME /var/lib/mysql' -c 'EXPOSE 3306' \
		-c "LABEL dev.devenv.test.recipe=$hash" \
		-c 'ENTRYPOINT ["/usr/local/bin/mariadb-entrypoint.sh"]' -c 'CMD ["mariadbd"]' \
		- "$REGISTRY/library/mariadb:10.11" <"$rootfs" >/dev/null
	say "importing rabbitmq"
	docker import \
		-c "ENV PATH=/usr/lib/rabbitmq/bin:$sys_path" -c 'ENV LANG=C.UTF-8' \
		-c 'ENV RABBITMQ_LOGS=-' -c 'ENV HOME=/var/lib/rabbitmq' \
		-c 'VOLUME /var/lib/rabbitmq' -c 'EXPOSE 4369 5671 5672 15672 25672' \
		-c "LABEL dev.devenv.test.recipe=$hash" \
		-c 'ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint.sh"]' -c 'CMD ["rabbitmq-server"]' \
		- "$REGISTRY/library/rabbitmq:3.10-management" <"$rootfs" >/dev/null
	for t in $SERVICE_IMAGE_TAGS; do
		say "pushing $REGISTRY/library/$t"
		docker push --quiet "$REGISTRY/library/$t" >/dev/null || die "docker push $REGISTRY/library/$t failed"
	done
}

# The tree: the packages and how the tree is made.
services_tree_hash() {
	{
		echo "services $SERVICES_VERSION suite $SUITE packages $SERVICES_PACKAGES"
		declare -f build_services_tar
	} | sha256sum | cut -c1-16
}

# The images: the tree, the entrypoints and how they are imported.
services_recipe_hash() {
	{
		echo "tree $(services_tree_hash) tags $SERVICE_IMAGE_TAGS"
		declare -f services_image_tar import_and_push_services
		printf '%s\n' "$MARIADB_ENTRYPOINT" "$RABBITMQ_ENTRYPOINT"
	} | sha256sum | cut -c1-16
}

ensure_service_images() {
	local hash=$1 marker=$STATE_DIR/services.$1.done t all=1 rootfs d
	if [ -f "$marker" ]; then
		for t in $SERVICE_IMAGE_TAGS; do
			registry_has "${t%%:*}" "${t#*:}" "$hash" || { all=0; break; }
		done
		[ "$all" = 1 ] && return 0
	fi
	mkdir -p "$SERVICES_CACHE"
	rm -f "$SERVICES_CACHE"/*.tmp "$SERVICES_CACHE"/*.part
	for d in "$SERVICES_CACHE"/rootfs.*; do [ -d "$d" ] && umount_under "$d"; done
	rm -rf --one-file-system "$SERVICES_CACHE"/rootfs.* "$SERVICES_CACHE"/stage.*
	rootfs=$SERVICES_CACHE/$(services_tree_hash).tar
	if [ ! -s "$rootfs" ]; then
		rm -f "$SERVICES_CACHE"/*.tar
		build_services_tar "$rootfs"
	else
		say "reusing the cached service tree $rootfs"
	fi
	services_image_tar "$rootfs" "$SERVICES_CACHE/image.$hash.part"
	import_and_push_services "$hash" "$SERVICES_CACHE/image.$hash.part"
	rm -f "$SERVICES_CACHE/image.$hash.part"
	for t in $SERVICE_IMAGE_TAGS; do
		registry_has "${t%%:*}" "${t#*:}" "$hash" || die "$REGISTRY/library/$t is not in the registry after the push"
	done
	rm -f "$STATE_DIR"/services.*.done
	date -u +%FT%TZ >"$marker"
}

# A copy of Prometheus the package's init script may have started (on :9090
# of all interfaces, scraping with the package's config) is not one the
# tests use; they start their own.
stop_packaged_prometheus() {
	command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
		|| die "prometheus and promtool are not available after installing prometheus"
	stop_packaged_daemon /run/prometheus/prometheus.pid
}

# ---------------------------------------------------------------- main

ensure_packages
stop_packaged_prometheus
ensure_docker
ensure_registry
ensure_pushgateway
HASH=$(recipe_hash)
ensure_images "$HASH"
SERVICES_HASH=$(services_recipe_hash)
ensure_service_images "$SERVICES_HASH"

engine=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) \
	|| die "docker version failed against $DOCKER_SOCK"
echo "docker engine: $engine at unix://$DOCKER_SOCK"
echo "registry: http://$REGISTRY"
for t in $IMAGE_TAGS; do
	holds=$(docker image inspect --format '{{ index .Config.Labels "dev.devenv.test.contains" }}' "$REGISTRY/library/$t" 2>/dev/null || true)
	echo "image: $REGISTRY/library/$t (recipe $HASH)${holds:+: $holds}"
done
for t in $SERVICE_IMAGE_TAGS; do
	echo "image: $REGISTRY/library/$t (recipe $SERVICES_HASH)"
done
echo "pushgateway: http://$PUSHGATEWAY"
echo "prometheus: $(prometheus --version 2>&1 | head -n 1) (started by the tests themselves)"

# The user's own config, so that every later shell finds the images too
# (an inline DEVENV_REGISTRY_MIRROR lasts one command).
if [ "$POINT_DEVENV" = 1 ]; then
	config=${XDG_CONFIG_HOME:-$HOME/.config}/devenv/config.toml
	if [ -f "$config" ] && grep -q '^[[:space:]]*registry_mirror' "$config"; then
		echo "devenv: $config already sets registry_mirror; left as it is"
	else
		mkdir -p "$(dirname "$config")"
		if [ -f "$config" ] && grep -q '^\[settings\]' "$config"; then
			sed -i "/^\[settings\]/a registry_mirror = \"$REGISTRY\"" "$config"
		else
			printf '\n[settings]\nregistry_mirror = "%s"\n' "$REGISTRY" >>"$config"
		fi
		echo "devenv: registry_mirror = \"$REGISTRY\" written to $config"
	fi
fi
