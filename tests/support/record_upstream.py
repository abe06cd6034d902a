#!/usr/bin/env python3
"""A small real upstream for `devenv mock record` tests: a separate process
that answers a few fixed routes the way a real API would (JSON, a large
text body, a binary body, cookies, a route that needs a bearer token, one
that echoes a secret). Usage: record_upstream.py PORT SECRET"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
SECRET = sys.argv[2]
BIG = ("line of a large body\n" * 500).encode()
LOGO = bytes(range(256)) * 8


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/v1/items":
            page = query.split("page=")[-1] if "page=" in query else "1"
            body = json.dumps({"page": int(page), "items": ["a" + page, "b" + page]}).encode()
            self.answer(200, body, "application/json",
                        [("Set-Cookie", "session=s3cr3t-cookie; Path=/"), ("X-Request-Id", "r-" + page)])
        elif path == "/v1/big":
            self.answer(200, BIG, "text/plain; charset=utf-8")
        elif path == "/v1/logo":
            self.answer(200, LOGO, "image/png")
        elif path == "/v1/me":
            if self.headers.get("Authorization") != "Bearer tok-123":
                self.answer(401, b'{"error":"unauthorized"}', "application/json")
            else:
                self.answer(200, b'{"user":"alice"}', "application/json",
                            [("X-Api-Key", "upstream-key-999")])
        elif path == "/v1/config":
            body = json.dumps({"key": SECRET, "region": "eu"}).encode()
            self.answer(200, body, "application/json")
        elif path == "/v1/moved":
            self.answer(302, b"", "text/plain", [("Location", "/v1/items")])
        else:
            self.answer(404, b"no such route\n", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(n) or b"{}")
        body = json.dumps({"id": 7, "name": data.get("name")}).encode()
        self.answer(201, body, "application/json", [("Location", "/v1/items/7")])


ThreadingHTTPServer(("127.0.0.1", PORT), Upstream).serve_forever()
