"""A real HTTP receiver for webhook tests: a server in a thread on this helper's ports."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTS = range(19100, 19200)


@dataclass
class Receiver:
    port: int = 0
    status: int = 200
    headers_out: dict = field(default_factory=dict)
    received: list = field(default_factory=list)  # (headers dict, body str)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


def start() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            for name, value in receiver.headers_out.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            return

    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError:
            continue
        receiver.port = port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return receiver, server
    raise RuntimeError("No free port in 19100-19199")
