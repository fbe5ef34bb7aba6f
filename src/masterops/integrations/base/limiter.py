"""Rate limiting: an async, FIFO-fair token bucket per (service, account, bucket name).

Each bucket holds ``capacity`` tokens and every token comes back exactly ``period`` seconds
after it was spent. That is a rolling window: no window of ``period`` seconds ever holds
more than ``capacity`` calls, which is how HubSpot counts its "ten_secondly_rolling" limit,
and the sustained rate is exactly ``capacity / period``. (A classic continuously refilled
bucket would let almost ``2 * capacity`` calls into one window.)

The bucket also learns from the service: ``observe()`` takes the "calls remaining in this
window" a response reported and the bucket never spends more than that until the window
ends; ``pause()`` stops it for the ``Retry-After`` of a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from masterops.integrations.base.clock import Clock
from masterops.integrations.base.errors import ErrorCategory, IntegrationError
from masterops.integrations.base.telemetry import RateLimitInfo


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """At most ``capacity`` calls in any ``period`` seconds (HubSpot: 100 per 10.0)."""

    capacity: int
    period: float

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {self.capacity}")
        if not self.period > 0:
            raise ValueError(f"period must be positive, got {self.period}")

    @property
    def rate(self) -> float:
        """Calls per second when saturated."""
        return self.capacity / self.period


class TokenBucket:
    """One rate limit. Waiters are served strictly in arrival order.

    Not thread-safe: use it from one event loop (every connector of a process shares one).
    """

    def __init__(self, spec: LimitSpec, clock: Clock, *, name: str = "default") -> None:
        self.spec = spec
        self.name = name
        self._clock = clock
        self._grants: deque[float] = deque()  # times of the last `capacity` grants
        self._queue: deque[asyncio.Future[None]] = deque()  # head = the waiter being served
        self._granted = 0  # grants ever made; a grant's sequence number
        self._paused_until = -math.inf
        self._budget: int | None = None  # what the service said is left, net of later grants
        self._budget_until = -math.inf
        self._observed = -1  # sequence number of the grant behind the newest observation

    @property
    def granted(self) -> int:
        """Number of tokens handed out so far."""
        return self._granted

    @property
    def waiting(self) -> int:
        """Number of callers queued for a token."""
        return len(self._queue)

    def delay(self) -> float:
        """Seconds before a token could be handed out, ignoring callers already queued."""
        return self._delay(self._clock.monotonic())

    def try_acquire(self) -> int | None:
        """A token's sequence number if one is free and nobody is queued, else None."""
        now = self._clock.monotonic()
        if not self._queue and self._delay(now) <= 0:
            return self._take(now)
        return None

    async def acquire(self) -> int:
        """Wait for a token (FIFO) and return its sequence number, for ``observe(seq=...)``.

        Cancelling a waiting caller gives its place to the next one.
        """
        seq = self.try_acquire()
        if seq is not None:
            return seq
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(ticket)
        if self._queue[0] is ticket:
            ticket.set_result(None)
        try:
            await ticket  # our turn at the head of the queue
            while True:
                now = self._clock.monotonic()
                delay = self._delay(now)
                if delay <= 0:
                    return self._take(now)
                # Re-check after sleeping: a pause or an observation may have arrived.
                await self._clock.sleep(delay)
        finally:
            self._leave(ticket)

    def observe(
        self, remaining: int, window: float | None = None, *, seq: int | None = None
    ) -> None:
        """The service says ``remaining`` calls are left in its window of ``window`` seconds.

        ``seq`` is the sequence number ``acquire()`` returned for the request whose response
        carried the figure: grants made after it may not be counted by the service yet, so
        they are subtracted, and figures older than the newest one seen are ignored.
        Without ``window`` the bucket's own period is assumed.
        """
        if seq is not None:
            if seq < self._observed:
                return
            self._observed = seq
            unseen = self._granted - seq
        else:
            unseen = 0
        now = self._clock.monotonic()
        self._budget = max(0, remaining - unseen)
        self._budget_until = now + (
            window if window is not None and window > 0 else self.spec.period
        )

    def learn(self, info: RateLimitInfo, seq: int, *, status: int, now: datetime) -> float | None:
        """Apply what one response (to the call holding token ``seq``) said; return the wait
        it asks for: its ``Retry-After``, or for a 429 without one, the window."""
        if info.remaining is not None:
            window = info.window
            if window is None and info.reset_at is not None:
                window = (info.reset_at - now).total_seconds()
            self.observe(info.remaining, window, seq=seq)
        if status != 429:
            return info.retry_after
        # Without Retry-After, the service's window (or ours) is the safe pause.
        pause = info.retry_after
        pause = pause if pause is not None else info.window or self.spec.period
        self.pause(pause)
        return pause

    def pause(self, seconds: float) -> None:
        """Hand out nothing for ``seconds`` (a 429's ``Retry-After``). Pauses never shorten."""
        self._paused_until = max(self._paused_until, self._clock.monotonic() + max(0.0, seconds))

    def rejection(
        self, service: str, operation: str, endpoint: str | None, remaining: float | None
    ) -> IntegrationError:
        """The error for a call whose token would come after its deadline (nothing sent)."""
        wait = self.delay()
        left = max(0.0, remaining or 0.0)
        return IntegrationError(
            f"rate limited: the next {self.name!r} token comes in {wait:.1f} s but the "
            f"deadline is {left:.1f} s away",
            category=ErrorCategory.RATE_LIMIT,
            service=service,
            operation=operation,
            retryable=True,
            retry_after=wait,
            request_sent=False,
            endpoint=endpoint,
            details={"bucket": self.name, "wait_s": round(wait, 3)},
        )

    def snapshot(self) -> dict[str, Any]:
        """State for the dashboard and health details."""
        now = self._clock.monotonic()
        in_window = sum(1 for t in self._grants if t > now - self.spec.period)
        return {
            "capacity": self.spec.capacity,
            "period_s": self.spec.period,
            "used_in_window": in_window,
            "waiting": len(self._queue),
            "paused_for_s": max(0.0, self._paused_until - now),
            "service_budget": self._budget if now < self._budget_until else None,
        }

    def _delay(self, now: float) -> float:
        delay = self._paused_until - now
        if len(self._grants) >= self.spec.capacity:
            delay = max(delay, self._grants[0] + self.spec.period - now)
        if self._budget is not None:
            if now >= self._budget_until:
                self._budget = None
            elif self._budget <= 0:
                delay = max(delay, self._budget_until - now)
        return delay

    def _take(self, now: float) -> int:
        self._grants.append(now)
        if len(self._grants) > self.spec.capacity:
            self._grants.popleft()
        if self._budget is not None:
            self._budget -= 1
        self._granted += 1
        return self._granted

    def _leave(self, ticket: asyncio.Future[None]) -> None:
        if self._queue and self._queue[0] is ticket:
            self._queue.popleft()
            if self._queue and not self._queue[0].done():
                self._queue[0].set_result(None)
        else:
            # Cancelled before reaching the head.
            with contextlib.suppress(ValueError):
                self._queue.remove(ticket)


class LimiterRegistry:
    """Every bucket of the process, keyed by (service, account, bucket name).

    Connectors of the same service and account share buckets, whichever instance calls.
    The first registration of a key fixes its ``LimitSpec``.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def get(self, service: str, account: str, name: str, spec: LimitSpec) -> TokenBucket:
        key = (service, account, name)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(spec, self._clock, name=name)
        return bucket

    def snapshot(self) -> list[dict[str, Any]]:
        """One row per bucket: service, account, bucket and its state."""
        return [
            {"service": service, "account": account, "bucket": name, **bucket.snapshot()}
            for (service, account, name), bucket in sorted(self._buckets.items())
        ]
