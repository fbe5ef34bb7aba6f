"""A tiny Starlette app with switches, standing in for a service in the connector tests.

Every route answers ``200 {"ok": true}`` unless a script says otherwise: ``board.script(path,
[Reply(503), Reply(429, headers={"Retry-After": "1"}), Slow(30)])`` makes the next calls to
``path`` answer those, in order. Every request is recorded. Requests need
``Authorization: Bearer <token>``; a bad token gets a 401 that echoes it back (as careless
services do), so the tests can check it never leaks out of the connector.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TOKEN = "tok-9f8e7d6c5b4a-SECRET"
SIGNING_KEY = "sign-key-0123456789-SECRET"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Slow:
    """Answer only after ``seconds`` (the client is expected to give up first)."""

    seconds: float = 30.0


Step = Reply | Slow


@dataclass
class Seen:
    method: str
    path: str
    query: bytes
    headers: dict[str, str]
    body: bytes
    raw_path: bytes = b""


class Switchboard:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scripts: dict[str, deque[Step]] = defaultdict(deque)
        self.default_headers: dict[str, dict[str, str]] = {}
        self.seen: list[Seen] = []
        self.cancelled: list[str] = []
        self.disconnected: list[str] = []
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self.handle,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                )
            ]
        )

    def script(self, path: str, steps: list[Step]) -> None:
        self.scripts[path].extend(steps)

    def hits(self, path: str, method: str | None = None) -> int:
        return sum(
            1 for s in self.seen if s.path == path and (method is None or s.method == method)
        )

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        self.seen.append(
            Seen(
                request.method,
                path,
                request.scope["query_string"],
                dict(request.headers),
                body,
                request.scope.get("raw_path") or b"",
            )
        )
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            return _json(
                401,
                {"message": f"invalid credentials: {auth!r}", "category": "INVALID_AUTHENTICATION"},
            )
        if path.startswith("/signed"):
            expected = base64.b64encode(
                hmac.new(
                    SIGNING_KEY.encode(), request.scope["query_string"], hashlib.sha256
                ).digest()
            ).decode()
            if request.headers.get("api-auth-signature") != expected:
                return _json(403, {"description": "The signature is invalid"})
        queue = self.scripts.get(path)
        step = queue.popleft() if queue else Reply()
        if isinstance(step, Slow):
            return await self._slow(request, path, step.seconds)
        headers = {**self.default_headers.get(path, {}), **step.headers}
        if step.body is None:
            content: bytes = json.dumps({"ok": True, "path": path}).encode()
        elif isinstance(step.body, dict):
            content = json.dumps(step.body).encode()
        elif isinstance(step.body, str):
            content = step.body.encode()
        else:
            content = step.body
        return Response(
            content, status_code=step.status, headers=headers, media_type=step.content_type
        )

    async def _slow(self, request: Request, path: str, seconds: float) -> Response:
        async def disconnect() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        watcher = asyncio.ensure_future(disconnect())
        try:
            done, _ = await asyncio.wait({watcher}, timeout=seconds)
            if done:
                self.disconnected.append(path)
        except asyncio.CancelledError:
            self.cancelled.append(path)
            raise
        finally:
            watcher.cancel()
        return _json(200, {"ok": True, "slow": True})


def _json(status: int, data: dict[str, Any]) -> Response:
    return Response(json.dumps(data), status_code=status, media_type="application/json")
