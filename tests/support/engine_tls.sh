#!/usr/bin/env bash
# tests/support/engine_tls.sh: a second, real dockerd that serves the Docker
# API only over TLS with client certificates, for tests/engine_tls.rs.
#
#   address        tcp://127.0.0.1:23760   (--tlsverify: the client must show a cert the CA signed)
#   its own socket unix:///var/run/devenv-test/tls-docker.sock (for this script only)
#   certificates   /var/cache/devenv-ci/engine-tls/
#                    ca.pem                     the CA that signed the server and the client
#                    client/{ca,cert,key}.pem   a DOCKER_CERT_PATH that works
#                    wrong/{ca,cert,key}.pem    the same file names, from another CA
#                    server/{cert,key}.pem      the engine's (SAN 127.0.0.1, localhost)
#
# It has its own --data-root, --exec-root and --pidfile (and so its own
# containerd), its own default bridge and no iptables rules: the main engine
# on /var/run/docker.sock is never touched. NOT --bridge=none: a dockerd
# started with it deletes the docker0 interface at startup (libnetwork's
# removeDefaultBridgeInterface), which is the main engine's. So the script
# makes a bridge of its own, devenv-tls0 (172.31.254.1/24), and passes
# --bridge=devenv-tls0. Project networks devenv creates are user-defined
# bridges; published ports go through docker-proxy. The busybox test image
# is copied in with `docker save | docker load`; the loopback registry
# serves pulls as well.
#
# Certificates are made once with the openssl CLI and cached; the engine is
# left running (teardown: kill the pid in /var/run/devenv-test/tls-dockerd.pid).
# Idempotent: an engine that already answers over TLS is left alone.
# Needs: root, dockerd (tests/support/setup.sh installs it), openssl.
set -euo pipefail

PORT=23760
CERTS=/var/cache/devenv-ci/engine-tls
RUN_DIR=/var/run/devenv-test
DATA_ROOT=/var/lib/devenv-test/tls-docker
EXEC_ROOT=$RUN_DIR/tls-exec
SOCK=$RUN_DIR/tls-docker.sock
PIDFILE=$RUN_DIR/tls-dockerd.pid
LOG=/var/log/devenv-test-tls-dockerd.log
IMAGES="127.0.0.1:5000/library/busybox:latest"
BRIDGE=devenv-tls0
BRIDGE_CIDR=172.31.254.1/24

say() { printf 'engine_tls: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

command -v dockerd >/dev/null || die "dockerd is not installed (run tests/support/setup.sh first)"
command -v openssl >/dev/null || die "openssl is not installed"

# --- certificates (cached) -------------------------------------------------
# One CA signs the server and a client; a second CA signs a "wrong" client,
# so a test can offer files that look right and are not.
make_ca() { # dir
	openssl genrsa -out "$1/ca-key.pem" 2048 2>/dev/null
	openssl req -new -x509 -days 3650 -key "$1/ca-key.pem" -sha256 \
		-subj "/CN=devenv test CA $(basename "$1")" -out "$1/ca.pem"
}
make_leaf() { # ca_dir out_dir cn ext
	local ca=$1 out=$2 cn=$3 ext=$4
	openssl genrsa -out "$out/key.pem" 2048 2>/dev/null
	openssl req -new -key "$out/key.pem" -subj "/CN=$cn" -out "$out/req.csr"
	printf '%s\n' "$ext" > "$out/ext.cnf"
	openssl x509 -req -days 3650 -sha256 -in "$out/req.csr" -CA "$ca/ca.pem" \
		-CAkey "$ca/ca-key.pem" -CAcreateserial -out "$out/cert.pem" -extfile "$out/ext.cnf" 2>/dev/null
	rm -f "$out/req.csr" "$out/ext.cnf"
	chmod 0644 "$out/cert.pem"
	chmod 0600 "$out/key.pem"
}
if [ ! -s "$CERTS/wrong/cert.pem" ]; then
	say "making certificates in $CERTS"
	rm -rf "$CERTS.tmp"
	mkdir -p "$CERTS.tmp"/{ca,other-ca,server,client,wrong}
	make_ca "$CERTS.tmp/ca"
	make_ca "$CERTS.tmp/other-ca"
	make_leaf "$CERTS.tmp/ca" "$CERTS.tmp/server" localhost \
		"subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth"
	make_leaf "$CERTS.tmp/ca" "$CERTS.tmp/client" client "extendedKeyUsage = clientAuth"
	make_leaf "$CERTS.tmp/other-ca" "$CERTS.tmp/wrong" client "extendedKeyUsage = clientAuth"
	cp "$CERTS.tmp/ca/ca.pem" "$CERTS.tmp/ca.pem"
	cp "$CERTS.tmp/ca/ca.pem" "$CERTS.tmp/client/ca.pem"
	cp "$CERTS.tmp/other-ca/ca.pem" "$CERTS.tmp/wrong/ca.pem"
	rm -rf "$CERTS"
	mv "$CERTS.tmp" "$CERTS"
fi

tls_answers() {
	timeout 5 docker --tlsverify --tlscacert "$CERTS/client/ca.pem" --tlscert "$CERTS/client/cert.pem" \
		--tlskey "$CERTS/client/key.pem" -H "tcp://127.0.0.1:$PORT" version --format '{{.Server.Version}}' \
		>/dev/null 2>&1
}

# --- the engine ------------------------------------------------------------
if tls_answers; then
	say "already answering on tcp://127.0.0.1:$PORT"
else
	if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		die "dockerd $(cat "$PIDFILE") runs but does not answer over TLS; see $LOG"
	fi
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		ip link add "$BRIDGE" type bridge
		ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
	fi
	ip link set "$BRIDGE" up
	mkdir -p "$RUN_DIR" "$DATA_ROOT" "$EXEC_ROOT"
	rm -f "$SOCK" "$PIDFILE"
	say "starting dockerd on tcp://127.0.0.1:$PORT (log $LOG)"
	nohup dockerd \
		--data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE" \
		--bridge="$BRIDGE" --iptables=false --ip-masq=false \
		-H "unix://$SOCK" -H "tcp://127.0.0.1:$PORT" \
		--tlsverify --tlscacert "$CERTS/ca.pem" \
		--tlscert "$CERTS/server/cert.pem" --tlskey "$CERTS/server/key.pem" \
		>"$LOG" 2>&1 </dev/null &
	for _ in $(seq 1 60); do
		tls_answers && break
		sleep 0.5
	done
	tls_answers || die "dockerd did not answer over TLS within 30 s; see $LOG"
fi

# --- images ----------------------------------------------------------------
for image in $IMAGES; do
	if ! docker -H "unix://$SOCK" image inspect "$image" >/dev/null 2>&1; then
		say "loading $image"
		docker save "$image" | docker -H "unix://$SOCK" load >/dev/null
	fi
done

echo "TLS engine: tcp://127.0.0.1:$PORT (DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$CERTS/client)"
