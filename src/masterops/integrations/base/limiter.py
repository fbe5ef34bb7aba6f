"""Rate limiting: an async, FIFO-fair token bucket per (service, account, bucket name).

Each bucket holds ``capacity`` tokens and every token comes back ``period`` seconds after
the service last saw it: ``period`` after the grant, or after the answer once one arrived
(``answered()``, which ``learn()`` calls). That is a rolling window, which is how HubSpot
counts its "ten_secondly_rolling" limit: the service counts a call somewhere between our
grant and its answer, so a token that comes back ``period`` after the answer can never
meet the service's count of the same call in one window, however the network jitters.
On its own that paces at ``capacity / (period + latency)``; what the service reports
(below) wins most of the latency back. Returning a token one period after the grant
instead is not safe: the call reaches the service later than it leaves, and a full
60-second push against the sandbox's rolling window measured 18 x 429 that way (each
pausing the bucket a whole window), against none from the answer. (A classic continuously
refilled bucket would let almost ``2 * capacity`` calls into one window.)

The bucket also learns from the service: ``observe()`` takes the "calls remaining in this
window" a response reported, as of the moment the service counted that call. Less our
calls it may not have counted yet, that figure is exact where our window is only a bound
(the service counted our calls before we saw their answers), so it may let a call through
that our window still holds back; and our calls it counted refill it one by one as they
leave its rolling window. When the figure shows calls we cannot account for (another
process on the same account) it only holds us back, until one window after it.
``pause()`` stops the bucket for the ``Retry-After`` of a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Iterator
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
    """What the service said in the answer to call ``seq``: ``remaining`` calls left in
    its window at the moment it counted that call. Forgotten at ``until``.

    ``counted``: our calls it surely counted (granted less than a window before the
    answer, answered before that call was granted); each leaves its window one window
    after its own answer. ``uncounted``: our calls it may not have counted yet (in flight
    alongside, or granted after ``seq``); each may still take a place until one window
    after its answer. ``foreign``: it counted more than our calls could explain.
    """

    remaining: int
    seq: int
    window: float
    until: float
    counted: list[_Grant]
    uncounted: list[_Grant]
    granted: int  # grants made before the figure arrived; later ones take from it too
    foreign: bool


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
        self._wake: asyncio.Future[None] | None = None  # the head waiter's early wake-up

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
                await self._sleep(delay)
        finally:
            self._leave(ticket)

    async def _sleep(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when the service says what it can take (an
        observation may free a call our own window holds back). Either way the caller
        checks again: a pause or an answer may have come meanwhile (answers only push
        tokens later, so waking at the old time is never late)."""
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wake = wake
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        try:
            await asyncio.wait((sleeper, wake), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            self._wake = None

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

        Our calls it may not have counted (granted after ``seq``, or answered after
        ``seq`` was granted) are subtracted until a window after their answer; our calls it
        surely counted (answered before, granted less than a window ago) give a call back
        a window after their answer; figures older than the newest one seen are ignored,
        and a figure holds until one window from now.
        """
        now = self._clock.monotonic()
        span = window if window is not None and window > 0 else self.spec.period
        figure = self._grant(seq) if seq is not None else None
        if seq is not None:
            if seq < self._observed:
                return
            self._observed = seq
        if figure is None:
            # Which call the figure is about is unknown: it only holds us back, less the
            # calls granted after it.
            after = self._granted if seq is None else seq
            self._budget = _Budget(remaining, after, span, now + span, [], [], after, True)
            return
        sent = figure.at
        counted: list[_Grant] = []
        uncounted: list[_Grant] = []
        possible = 1  # our calls that could be in the service's count: this one and ...
        for grant in self._grants:
            if grant.seq == figure.seq:
                continue
            done_before = grant.answered is not None and grant.answered <= sent
            if grant.seq > figure.seq or not done_before:
                uncounted.append(grant)
                possible += 1
            elif grant.at > now - span:
                counted.append(grant)
                possible += 1
            elif grant.answered is not None and grant.answered > sent - span:
                possible += 1  # granted over a window ago, maybe counted still
        foreign = self.spec.capacity - remaining > possible
        self._budget = _Budget(
            remaining, figure.seq, span, now + span, counted, uncounted, self._granted, foreign
        )
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

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
        delay = self._window_delay(now)
        budget = self._budget
        if budget is not None:
            if now >= budget.until:
                self._budget = None
            else:
                said = self._budget_delay(budget, now)
                # The service's figure is exact where our window is a bound: it may let a
                # call through that our window holds back, unless others use the account.
                delay = max(delay, said) if budget.foreign else min(delay, said)
        return max(delay, self._paused_until - now)

    def _window_delay(self, now: float) -> float:
        out = [g.expires for g in self._grants if g.expires > now]
        if len(out) < self.spec.capacity:
            return -math.inf
        # The token that frees a place: the (excess + 1)-th to come back.
        out.sort()
        return out[len(out) - self.spec.capacity] - now

    def _budget_delay(self, budget: _Budget, now: float) -> float:
        left = self._budget_left(budget, now)
        if left > 0:
            return -math.inf
        back = sorted(t for t in self._comebacks(budget) if t > now)
        need = 1 - left
        free_at = back[need - 1] if need <= len(back) else budget.until
        return min(free_at, budget.until) - now

    def _comebacks(self, budget: _Budget) -> Iterator[float]:
        """When each call the figure depends on stops taking a place in the service."""
        window = budget.window
        for grant in budget.counted:
            yield _given_back(grant, window)
        for grant in budget.uncounted:
            yield _given_back(grant, window)
        for grant in self._grants:
            if grant.seq > budget.granted:
                yield _given_back(grant, window)

    def _budget_left(self, budget: _Budget, now: float) -> int:
        """Calls the service would take now: what it said, less our calls it may not have
        counted that may still hold a place, plus the calls it counted that have left."""
        window = budget.window
        left = budget.remaining
        left += sum(1 for g in budget.counted if _given_back(g, window) <= now)
        left -= sum(1 for g in budget.uncounted if _given_back(g, window) > now)
        left -= sum(
            1 for g in self._grants if g.seq > budget.granted and _given_back(g, window) > now
        )
        return left

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
