"""What every sandbox service shares: a call log, fault injection and control routes.

``ServiceHarness`` wraps a service's ASGI app. The outermost layer answers the
control routes under ``/_sandbox`` (never rate limited, never faulted, no auth);
then every other request is counted per endpoint template and passed through the
fault injector to the service itself::

    GET    /_sandbox/state    {"service", "state": <service counts>, "faults", "injected"}
    GET    /_sandbox/calls    {"total", "calls": [{"method", "endpoint", "count"}]}
    PUT    /_sandbox/faults   body: FaultConfig fields to change -> the new config (400 on bad)
    DELETE /_sandbox/faults   all switches off
    POST   /_sandbox/reset    clear the call log and the faults
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masterops_sandbox.faults import (
    CONTROL_PREFIX,
    ConnectionDropped,
    FaultConfig,
    FaultInjector,
    RateLimitAnswer,
)

StateFn = Callable[[], dict[str, Any]]


class ServiceHarness:
    """One sandbox service: its app, its faults, its call log and its control routes."""

    def __init__(
        self,
        name: str,
        app: ASGIApp,
        *,
        state: StateFn,
        fault_config: FaultConfig | None = None,
        rate_limited: RateLimitAnswer | None = None,
    ) -> None:
        """``rate_limited`` builds the service's own 429 for injected rate limits."""
        self.name = name
        self.service_app = app
        self._state = state
        self.faults = FaultInjector(app, name, fault_config, rate_limited=rate_limited)
        self.calls: Counter[tuple[str, str]] = Counter()

    def state(self) -> dict[str, Any]:
        return self._state()

    def call_count(self, endpoint: str | None = None, method: str | None = None) -> int:
        """Calls seen so far, optionally only for one endpoint template and method."""
        return sum(
            n
            for (m, e), n in self.calls.items()
            if (endpoint is None or e == endpoint) and (method is None or m == method)
        )

    def reset_calls(self) -> None:
        self.calls.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.service_app(scope, receive, send)
            return
        if scope["path"].startswith(CONTROL_PREFIX):
            await self._control(scope, receive, send)
            return
        try:
            await self.faults(scope, receive, send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or scope["path"]
            self.calls[(scope["method"], template)] += 1

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][len(CONTROL_PREFIX) :]
        method = scope["method"]
        status = 200
        payload: Any = None
        if path == "/state" and method == "GET":
            payload = {
                "service": self.name,
                "state": self.state(),
                "faults": self.faults.config.to_dict(),
                "injected": dict(self.faults.injected),
            }
        elif path == "/calls" and method == "GET":
            payload = {
                "total": sum(self.calls.values()),
                "calls": [
                    {"method": m, "endpoint": e, "count": n}
                    for (m, e), n in sorted(self.calls.items())
                ],
            }
        elif path == "/faults" and method == "PUT":
            body = await _read_body(receive)
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object")
                payload = self.faults.configure(**changes).to_dict()
            except (ValueError, TypeError) as exc:
                status, payload = 400, {"message": f"bad fault switches: {exc}"}
        elif path == "/faults" and method == "DELETE":
            self.faults.reset()
            payload = self.faults.config.to_dict()
        elif path == "/reset" and method == "POST":
            self.faults.reset()
            self.reset_calls()
            payload = {"reset": True}
        else:
            status, payload = 404, {"message": f"no sandbox control route {method} {path}"}
        body = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class SandboxTransport(httpx.ASGITransport):
    """An in-process transport that turns an injected dropped connection into what
    a real socket would give the client: ``httpx.RemoteProtocolError``.

    ASGITransport ignores timeouts, so clients must enforce their own deadline
    (BaseConnector wraps every attempt in a cancelling timeout)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
