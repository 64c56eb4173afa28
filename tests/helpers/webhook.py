"""A chat webhook on 127.0.0.1 that records what it is sent (``--notify``), and can refuse it for a while."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Hooks:
    """What the webhook received; it answers ``failing`` with HTTP ``status`` ``failures`` times first."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        self.failures = 0
        self.status = 503


@contextmanager
def serving() -> Iterator[tuple[str, Hooks]]:
    """The webhook's URL (its path a token, as a chat's is) and what it receives, while it runs."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            hooks.attempts += 1
            if hooks.failures:
                hooks.failures -= 1
                self.send_response(hooks.status)
            else:
                hooks.bodies.append(body)
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN", hooks
    server.shutdown()
