"""Webhook subscriptions and signed, batched, retried delivery (HubSpot's v3 signature).

Changes made through the API become events queued per portal. A background task
(started on the first event while an event loop runs) POSTs them as JSON arrays
of at most 100, signed with the portal's client secret::

    X-HubSpot-Signature-v3     base64(HMAC-SHA256(secret, "POST" + uri + body + timestamp))
    X-HubSpot-Request-Timestamp  milliseconds since the epoch

A batch that fails (an exception or a non-2xx answer) is retried with
``attemptNumber`` raised, up to ``max_attempts``. Tests call ``flush()`` and read
``pending``/``deliveries`` instead of waiting.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from masterops_sandbox.hubspot.values import to_ms

SendFn = Callable[[str, bytes, dict[str, str]], Awaitable[int]]
"""Delivers one request: (url, body, headers) -> HTTP status. Raising counts as a failure."""

EVENT_KINDS = ("creation", "deletion", "propertyChange")


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """HubSpot's v3 signature of a request, as the receiver must recompute it."""
    message = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Subscription:
    id: int
    event_type: str  # "contact.creation", "deal.propertyChange", ...
    property_name: str | None  # propertyChange only: None means every property

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": str(self.id), "eventType": self.event_type, "active": True}
        if self.property_name is not None:
            body["propertyName"] = self.property_name
        return body


class Subscriptions:
    """The subscriptions of one portal's app."""

    def __init__(self, first_id: int) -> None:
        self._next_id = first_id
        self._items: dict[int, Subscription] = {}

    def add(self, event_type: str, property_name: str | None = None) -> Subscription:
        """Subscribe to ``<singular type>.<creation|deletion|propertyChange>``."""
        _, _, kind = event_type.partition(".")
        if kind not in EVENT_KINDS:
            raise ValueError(f"unsupported webhook event type {event_type!r}")
        for existing in self._items.values():
            if (existing.event_type, existing.property_name) == (event_type, property_name):
                return existing
        subscription = Subscription(self._next_id, event_type, property_name)
        self._next_id += 1
        self._items[subscription.id] = subscription
        return subscription

    def remove(self, subscription_id: int) -> bool:
        return self._items.pop(subscription_id, None) is not None

    def clear(self) -> None:
        self._items.clear()

    def all(self) -> list[Subscription]:
        return list(self._items.values())

    def match(self, event_type: str, property_name: str | None = None) -> list[Subscription]:
        return [
            s
            for s in self._items.values()
            if s.event_type == event_type
            and (s.property_name is None or s.property_name == property_name)
        ]

    def to_state(self) -> dict[str, Any]:
        return {
            "next_id": self._next_id,
            "items": [[s.id, s.event_type, s.property_name] for s in self._items.values()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self._next_id = int(state["next_id"])
        self._items = {int(i): Subscription(int(i), t, p) for i, t, p in state["items"]}


@dataclass
class _Queued:
    portal_id: int
    url: str
    secret: str
    event: dict[str, Any]


@dataclass
class Delivery:
    """One delivery attempt, kept for inspection."""

    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None  # None when sending raised
    events: list[dict[str, Any]] = field(default_factory=list)


class WebhookDispatcher:
    """Queues events and delivers them, in the background or on ``flush()``."""

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        send: SendFn | None = None,
        auto_deliver: bool = True,
        max_attempts: int = 10,
        batch_size: int = 100,
        retry_delay: float = 0.05,
    ) -> None:
        self._now = now
        self._send = send
        self.auto_deliver = auto_deliver
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.retry_delay = retry_delay  # seconds before the first retry; doubles, capped at 5 s
        self._queue: list[_Queued] = []
        self.deliveries: deque[Delivery] = deque(maxlen=1000)
        self.delivered_count = 0
        self.dead: list[dict[str, Any]] = []  # events that exhausted their attempts
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def set_sender(self, send: SendFn | None) -> None:
        """Replace how requests go out (None: a real HTTP POST with httpx)."""
        self._send = send

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Events queued and not yet delivered, oldest first."""
        return [item.event for item in self._queue]

    def enqueue(self, portal_id: int, url: str, secret: str, events: list[dict[str, Any]]) -> None:
        self._queue.extend(_Queued(portal_id, url, secret, event) for event in events)
        if self.auto_deliver:
            self._kick()

    def _kick(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): events wait for flush()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        delay = self.retry_delay
        while self._queue:
            delivered = await self.flush()
            if self._queue and delivered == 0:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                delay = self.retry_delay

    async def flush(self) -> int:
        """Try every queued event once, in batches; return how many were delivered."""
        async with self._lock:
            batch_items, self._queue = self._queue, []
            groups: dict[tuple[int, str], list[_Queued]] = {}
            for item in batch_items:
                groups.setdefault((item.portal_id, item.url), []).append(item)
            delivered = 0
            retry: list[_Queued] = []
            for items in groups.values():
                for start in range(0, len(items), self.batch_size):
                    chunk = items[start : start + self.batch_size]
                    if await self._deliver(chunk):
                        delivered += len(chunk)
                    else:
                        retry.extend(self._after_failure(chunk))
            self._queue = retry + self._queue  # events queued meanwhile stay behind the retries
            self.delivered_count += delivered
            return delivered

    def _after_failure(self, chunk: list[_Queued]) -> list[_Queued]:
        kept: list[_Queued] = []
        for item in chunk:
            item.event["attemptNumber"] += 1
            if item.event["attemptNumber"] >= self.max_attempts:
                self.dead.append(item.event)
            else:
                kept.append(item)
        return kept

    async def _deliver(self, chunk: list[_Queued]) -> bool:
        first = chunk[0]
        events = [item.event for item in chunk]
        body = json.dumps(events, separators=(",", ":")).encode()
        timestamp = to_ms(self._now())
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": sign_v3(first.secret, "POST", first.url, body, timestamp),
            "X-HubSpot-Request-Timestamp": str(timestamp),
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)",
        }
        status: int | None
        try:
            status = await (self._send or self._http_send)(first.url, body, headers)
        except Exception:  # any failure to deliver is retried, as HubSpot does
            status = None
        self.deliveries.append(
            Delivery(first.url, headers, body, status, [dict(e) for e in events])
        )
        return status is not None and 200 <= status < 300

    async def _http_send(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        response = await self._client.post(url, content=body, headers=headers)
        return response.status_code

    async def aclose(self) -> None:
        """Stop background delivery and close the HTTP client; queued events stay queued."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
