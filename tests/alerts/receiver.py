"""A webhook receiver on 127.0.0.1 for the alert tests: a real HTTP server in a thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "hook-s3cr3t-0123456789"
POLL_S = 0.02


class LocalReceiver:
    """A webhook receiver on a free loopback port: answers `status`, keeps the bodies."""

    def __init__(self, status: int = 200) -> None:
        received: list[dict[str, Any]] = []
        self.bodies = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{SECRET}"
        # shutdown() waits for the serving loop's next look at it: 0.5 s by default, per test
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
        )

    def __enter__(self) -> LocalReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
