"""Rate limiting: an async, FIFO-fair token bucket per (service, account, bucket name).

Each bucket holds ``capacity`` tokens and every token comes back ``period`` seconds after
the service last saw it: ``period`` after the grant, or after the answer once one arrived
(``answered()``, which ``learn()`` calls). That is a rolling window, which is how HubSpot
counts its "ten_secondly_rolling" limit: the service counts a call somewhere between our
grant and its answer, so a token that comes back ``period`` after the answer can never
meet the service's count of the same call in one window, however the network jitters.
The sustained rate is ``capacity / (period + latency)``; with HubSpot's 10 s window and a
latency of tens of milliseconds that is above 0.99 of the ceiling. (A classic continuously
refilled bucket would let almost ``2 * capacity`` calls into one window.)

The bucket also learns from the service: ``observe()`` takes the "calls remaining in this
window" a response reported. Calls the service counted come back one by one as they leave
its rolling window, so the figure is a budget that our own answered calls refill as their
``period`` passes; calls we cannot account for (another process on the same account) are
held until one window after the figure. ``pause()`` stops the bucket for the
``Retry-After`` of a 429.
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


@dataclass(slots=True)
class _Grant:
    """One token handed out: when, and when its answer arrived (None: not yet)."""

    seq: int
    at: float
    answered: float | None = None
    expires: float = 0.0  # when the token is back in our own window


@dataclass(slots=True)
class _Budget:
    """What the service said after counting call ``seq``: ``remaining`` calls left, and
    which of our calls it had counted (``counted``), each of which gives a call back one
    service window after its answer. Forgotten at ``until``."""

    remaining: int
    seq: int
    window: float
    until: float
    counted: list[_Grant]


class TokenBucket:
    """One rate limit. Waiters are served strictly in arrival order.

    Not thread-safe: use it from one event loop (every connector of a process shares one).
    """

    def __init__(self, spec: LimitSpec, clock: Clock, *, name: str = "default") -> None:
        self.spec = spec
        self.name = name
        self._clock = clock
        # Grants in sequence order whose token may still be out; the oldest leave once back.
        self._grants: deque[_Grant] = deque()
        self._queue: deque[asyncio.Future[None]] = deque()  # head = the waiter being served
        self._granted = 0  # grants ever made; a grant's sequence number
        self._paused_until = -math.inf
        self._budget: _Budget | None = None
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
                # Re-check after sleeping: a pause, an answer or an observation may have
                # arrived. Answers only push tokens later, so the wake-up is never late.
                await self._clock.sleep(delay)
        finally:
            self._leave(ticket)

    def answered(self, seq: int) -> None:
        """The answer to the call holding token ``seq`` arrived now: the service counted the
        call by now at the latest, so the token comes back ``period`` from now."""
        grant = self._grant(seq)
        if grant is not None and grant.answered is None:
            now = self._clock.monotonic()
            grant.answered = now
            grant.expires = max(grant.expires, now + self.spec.period)

    def observe(
        self, remaining: int, window: float | None = None, *, seq: int | None = None
    ) -> None:
        """The service says ``remaining`` calls are left in its rolling window of ``window``
        seconds (default: the bucket's period), having counted the call holding ``seq``.

        Grants made after ``seq`` may not be counted by the service yet, so they are
        subtracted, and figures older than the newest one seen are ignored. Our calls the
        service surely counted (granted less than a window ago) give a call back one window
        after their answer; the rest of the figure holds until one window from now.
        """
        now = self._clock.monotonic()
        span = window if window is not None and window > 0 else self.spec.period
        if seq is not None:
            if seq < self._observed:
                return
            self._observed = seq
            counted = [g for g in self._grants if g.seq <= seq and g.at > now - span]
        else:
            seq, counted = self._granted, []
        self._budget = _Budget(remaining, seq, span, now + span, counted)

    def learn(self, info: RateLimitInfo, seq: int, *, status: int, now: datetime) -> float | None:
        """Apply what one response (to the call holding token ``seq``) said; return the wait
        it asks for: its ``Retry-After``, or for a 429 without one, the window."""
        self.answered(seq)
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
        budget = self._budget
        left = None
        if budget is not None and now < budget.until:
            left = max(0, self._budget_left(budget, now))
        return {
            "capacity": self.spec.capacity,
            "period_s": self.spec.period,
            "used_in_window": sum(1 for g in self._grants if g.expires > now),
            "waiting": len(self._queue),
            "paused_for_s": max(0.0, self._paused_until - now),
            "service_budget": left,
        }

    def _grant(self, seq: int) -> _Grant | None:
        # Sequence numbers in the deque are consecutive: it only loses its oldest.
        if not self._grants:
            return None
        index = seq - self._grants[0].seq
        return self._grants[index] if 0 <= index < len(self._grants) else None

    def _delay(self, now: float) -> float:
        delay = self._paused_until - now
        out = [g.expires for g in self._grants if g.expires > now]
        if len(out) >= self.spec.capacity:
            # The token that frees a place: the (excess + 1)-th to come back.
            out.sort()
            delay = max(delay, out[len(out) - self.spec.capacity] - now)
        budget = self._budget
        if budget is not None:
            if now >= budget.until:
                self._budget = None
            else:
                left = self._budget_left(budget, now)
                if left <= 0:
                    back = sorted(
                        t
                        for t in (_given_back(g, budget.window) for g in budget.counted)
                        if t > now
                    )
                    need = 1 - left
                    free_at = back[need - 1] if need <= len(back) else budget.until
                    delay = max(delay, min(free_at, budget.until) - now)
        return delay

    def _budget_left(self, budget: _Budget, now: float) -> int:
        """Calls the service would take now: what it said, less our calls since, plus the
        calls it counted that have left its window."""
        back = sum(1 for g in budget.counted if _given_back(g, budget.window) <= now)
        return budget.remaining - (self._granted - budget.seq) + back

    def _take(self, now: float) -> int:
        grants = self._grants
        while grants and grants[0].expires <= now:
            grants.popleft()
        self._granted += 1
        grants.append(_Grant(self._granted, now, None, now + self.spec.period))
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


def _given_back(grant: _Grant, window: float) -> float:
    """When the service has surely dropped ``grant`` from its window: one window after the
    answer (it counted the call before answering); never while the call is unanswered."""
    return math.inf if grant.answered is None else grant.answered + window


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
