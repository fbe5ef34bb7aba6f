"""Fault injection for the sandbox services, deterministic by seed.

A ``FaultInjector`` wraps one service's ASGI app. Each request draws from a
seeded random generator and may be answered with a 429, a 5xx, an HTML error
page, a truncated JSON body, a slow answer or a dropped connection instead of
the real answer. Switches change at run time through ``FaultInjector.configure``
or the ``/_sandbox/faults`` control endpoint.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_sandbox"

#: The policies a HubSpot 429 names; ``FaultConfig.policy_429`` picks one for injected 429s.
RATE_LIMIT_POLICIES = ("TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY")

# A service's own rate-limit answer, built for an injected 429 so that it looks exactly
# like the real one: (request scope, Retry-After whole seconds or None, policy or None)
# -> an ASGI app (a response) to answer with.
RateLimitAnswer = Callable[[Scope, int | None, str | None], ASGIApp]


class ConnectionDropped(Exception):
    """Raised inside the app to make the transport drop the connection mid-answer."""


@dataclass
class FaultConfig:
    """Shares (0..1) of requests that misbehave, and how."""

    rate_429: float = 0.0
    # Seconds sent in Retry-After with an injected 429, rounded up to whole seconds (HTTP
    # allows only whole seconds or a date); None sends no header.
    retry_after: float | None = None
    # The policyName of an injected HubSpot 429 (one of RATE_LIMIT_POLICIES); None picks
    # SECONDLY on search paths and TEN_SECONDLY_ROLLING elsewhere, as the real limits do.
    policy_429: str | None = None
    rate_5xx: float = 0.0
    status_5xx: int = 503
    rate_html: float = 0.0  # a 502 with an HTML page, as a proxy in front would answer
    rate_malformed: float = 0.0  # a 200 whose JSON body is cut short
    rate_slow: float = 0.0
    slow_seconds: float = 30.0
    rate_drop: float = 0.0  # headers sent, then the connection is cut
    path_pattern: str | None = None  # only requests whose path matches this regex
    seed: int = 0

    def validate(self) -> None:
        for f in fields(self):
            if f.name.startswith("rate_"):
                value = getattr(self, f.name)
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{f.name} must be between 0 and 1, got {value}")
        if self.path_pattern is not None:
            re.compile(self.path_pattern)
        if self.retry_after is not None and not 0 <= self.retry_after < 86_400 * 366:
            raise ValueError(f"retry_after must be seconds >= 0, got {self.retry_after}")
        if self.policy_429 is not None and self.policy_429 not in RATE_LIMIT_POLICIES:
            raise ValueError(
                f"policy_429 must be one of {', '.join(RATE_LIMIT_POLICIES)}, "
                f"got {self.policy_429!r}"
            )

    def retry_after_seconds(self) -> int | None:
        """``retry_after`` as the whole seconds the header carries (rounded up)."""
        return None if self.retry_after is None else math.ceil(self.retry_after)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>"
)


class FaultInjector:
    """ASGI middleware that injects faults into the wrapped service."""

    def __init__(
        self,
        app: ASGIApp,
        service: str,
        config: FaultConfig | None = None,
        *,
        rate_limited: RateLimitAnswer | None = None,
    ) -> None:
        """``rate_limited`` builds the service's own 429 answer; without one an injected 429
        is a small generic JSON body."""
        self.app = app
        self.service = service
        self.rate_limited = rate_limited
        self.config = config or FaultConfig()
        self._random = random.Random(self.config.seed)
        self.injected: dict[str, int] = {}

    def configure(self, **changes: Any) -> FaultConfig:
        """Replace some switches; unknown names raise ``TypeError``, bad values ``ValueError``."""
        merged = {**self.config.to_dict(), **changes}
        config = FaultConfig(**merged)
        config.validate()
        self.config = config
        self._random = random.Random(config.seed)
        return config

    def reset(self) -> None:
        self.configure(**FaultConfig(seed=self.config.seed).to_dict())
        self.injected.clear()

    def _choose(self, path: str) -> str | None:
        cfg = self.config
        if cfg.path_pattern is not None and not re.search(cfg.path_pattern, path):
            return None
        draw = self._random.random()
        for name in ("429", "5xx", "html", "malformed", "slow", "drop"):
            share = float(getattr(cfg, f"rate_{name}"))
            if draw < share:
                return name
            draw -= share
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self._choose(scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.injected[fault] = self.injected.get(fault, 0) + 1
        if fault == "429":
            await self._rate_limited(scope, receive, send)
        elif fault == "5xx":
            body = json.dumps({"status": "error", "message": "Injected server error"}).encode()
            await _answer(
                send, self.config.status_5xx, [(b"content-type", b"application/json")], body
            )
        elif fault == "html":
            await _answer(send, 502, [(b"content-type", b"text/html")], HTML_ERROR_PAGE)
        elif fault == "malformed":
            await self._truncated(scope, receive, send)
        elif fault == "slow":
            await asyncio.sleep(self.config.slow_seconds)
            await self.app(scope, receive, send)
        elif fault == "drop":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"results": [', "more_body": True})
            raise ConnectionDropped(f"{self.service}: connection dropped by fault injection")

    async def _rate_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = self.config.retry_after_seconds()
        if self.rate_limited is not None:
            answer = self.rate_limited(scope, seconds, self.config.policy_429)
            await answer(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json")]
        if seconds is not None:
            headers.append((b"retry-after", str(seconds).encode()))
        body = json.dumps(
            {"status": "error", "message": "Injected rate limit", "errorType": "RATE_LIMIT"}
        ).encode()
        await _answer(send, 429, headers, body)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the real app, then send only the first half of its body."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks) or b'{"results": []}'
        cut = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers = [(b"content-type", b"application/json")] + [
            (k, v) for k, v in headers if k.lower() != b"content-type"
        ]
        await _answer(send, int(start.get("status", 200)), headers, cut)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
