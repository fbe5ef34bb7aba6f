"""A real local HTTP server standing in for Slack or a generic webhook: it answers each
POST with the next planned status (then 200) and keeps every request it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpSink:
    url: str
    plan: list[int]
    received: list[Received] = field(default_factory=list)

    @property
    def delivered(self) -> list[Received]:
        """The requests it answered with success."""
        return [r for r, ok in zip(self.received, self._outcomes, strict=True) if ok]

    _outcomes: list[bool] = field(default_factory=list)


@contextmanager
def http_sink(*failures: int) -> Iterator[HttpSink]:
    """A server on 127.0.0.1 that answers the first POSTs with ``failures`` (e.g. 503,
    503) and every later one with 200."""
    sink = HttpSink(url="", plan=list(failures))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = sink.plan.pop(0) if sink.plan else 200
                sink.received.append(Received(self.path, dict(self.headers), body))
                sink._outcomes.append(status < 400)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status < 400 else b"no")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/sinkSecret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
