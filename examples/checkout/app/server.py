"""checkout: a small HTTP service. POST /checkout {"amount": 1200, "card": "..."}
charges the payment provider, stores the order in PostgreSQL (through psql,
to stay dependency-free) and counts orders in Redis. GET /health reports the
configuration it runs with. Configuration comes from the environment
(devenv.toml's [env], which `devenv up` gives the process), else from the
.env it renders. Standard library only."""
import json
import os
import socket
import subprocess
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOTENV = ROOT / ".env"
KEYS = ["DATABASE_URL", "REDIS_URL", "PAYMENTS_URL", "LOG_LEVEL"]
FILE = dict(
    line.split("=", 1)
    for line in (DOTENV.read_text().splitlines() if DOTENV.exists() else [])
    if line and not line.startswith("#")
)
ENV = {k: os.environ.get(k) or FILE.get(k, "") for k in KEYS}


def redis(*args):
    u = urllib.parse.urlparse(ENV["REDIS_URL"])
    cmd = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
    with socket.create_connection((u.hostname, u.port), timeout=3) as s:
        s.sendall(cmd.encode())
        return s.recv(256).decode().strip()


def charge(amount, card):
    req = urllib.request.Request(
        ENV["PAYMENTS_URL"] + "/v1/charges",
        data=json.dumps({"amount": amount, "card": card}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def store(amount, charge_id):
    sql = f"INSERT INTO orders (amount, currency, charge_id) VALUES ({int(amount)}, 'EUR', '{charge_id}') RETURNING id"
    out = subprocess.run(["psql", ENV["DATABASE_URL"], "-tAc", sql], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"ok": True, "log_level": ENV["LOG_LEVEL"], "payments": ENV["PAYMENTS_URL"]})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/checkout":
            return self.reply(404, {"error": "not found"})
        doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, result = charge(doc["amount"], doc.get("card", "4242424242424242"))
        if status != 201:
            return self.reply(402, {"error": result})
        order = store(doc["amount"], result["id"])
        count = redis("INCR", "orders:count")
        self.reply(201, {"order": order, "charge": result["id"], "orders_so_far": count.lstrip(":")})


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"checkout listening on http://127.0.0.1:{port}")
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
