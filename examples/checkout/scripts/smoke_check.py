"""The setup hook: checks, with the rendered .env, that every dependency of
the service answers: PostgreSQL and Redis at the protocol level, the payments
mock over HTTP. Standard library only."""
import json
import socket
import sys
import urllib.parse
import urllib.request

from pathlib import Path

env = dict(
    line.split("=", 1)
    for line in Path(".env").read_text().splitlines()
    if line and not line.startswith("#")
)


def redis_ping(url):
    u = urllib.parse.urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=3) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        return s.recv(64).startswith(b"+PONG")


def postgres_answers(url):
    # An SSLRequest: every PostgreSQL server answers it with one byte, S or N.
    u = urllib.parse.urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=3) as s:
        s.sendall((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))
        return s.recv(1) in (b"S", b"N")


def payments_ok(url):
    with urllib.request.urlopen(url + "/v1/health", timeout=3) as r:
        return json.load(r).get("ok") is True


checks = {
    "postgres": lambda: postgres_answers(env["DATABASE_URL"]),
    "redis": lambda: redis_ping(env["REDIS_URL"]),
    "payments mock": lambda: payments_ok(env["PAYMENTS_URL"]),
}
failed = False
for name, check in checks.items():
    try:
        ok = check()
    except OSError as e:
        ok, why = False, e
    else:
        why = "unexpected answer"
    print(f"{name}: {'ok' if ok else f'FAILED ({why})'}")
    failed |= not ok
sys.exit(1 if failed else 0)
