"""Circuit breaker per (service, account): stop calling a service that is known to be down.

closed --(N consecutive failures, or a failure rate over the last calls)--> open
open --(cooldown elapsed)--> half_open --(K successful probes)--> closed
half_open --(a failed probe)--> open

Only network errors, timeouts and 5xx answers are failures. A 429 is flow control and any
other 4xx proves the service is up, so neither ever counts as a failure. Transitions are
reported as ``LogEvent``s (status ``breaker_open``/``breaker_half_open``/``breaker_closed``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from masterops.integrations.base.clock import Clock
from masterops.integrations.base.errors import CircuitOpenError, ErrorCategory
from masterops.observability.events import Event, Level, LogEvent

State = Literal["closed", "open", "half_open"]
Outcome = Literal["success", "failure", "neutral"]


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """When a breaker opens and how it recovers.

    ``failure_rate`` (0..1), when set, also opens the breaker once at least ``min_calls`` of
    the last ``window`` calls were made and that share of them failed.
    ``half_open_max_calls`` probes may be in flight at once while half-open.
    """

    failure_threshold: int = 5
    failure_rate: float | None = None
    window: int = 20
    min_calls: int = 10
    cooldown: float = 30.0
    success_threshold: int = 2
    half_open_max_calls: int = 1

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.success_threshold < 1:
            raise ValueError("failure_threshold and success_threshold must be at least 1")
        if self.half_open_max_calls < 1 or self.window < 1 or self.cooldown < 0:
            raise ValueError("half_open_max_calls and window must be >= 1, cooldown >= 0")
        if self.failure_rate is not None and not 0 < self.failure_rate <= 1:
            raise ValueError(f"failure_rate must be in (0, 1], got {self.failure_rate}")


@dataclass(frozen=True, slots=True)
class BreakerState:
    """A breaker as health checks and the dashboard see it."""

    service: str
    account: str
    state: State
    failures: int
    opened_at: datetime | None
    next_probe_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "account": self.account,
            "state": self.state,
            "failures": self.failures,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "next_probe_at": self.next_probe_at.isoformat() if self.next_probe_at else None,
        }


@dataclass(frozen=True, slots=True)
class Admission:
    """Permission for one call; hand it back to ``CircuitBreaker.record``."""

    generation: int
    probe: bool


class CircuitBreaker:
    """One breaker. Not thread-safe: use it from one event loop."""

    def __init__(
        self,
        service: str,
        account: str,
        settings: BreakerSettings,
        clock: Clock,
        emit: Callable[[Event], None] | None = None,
    ) -> None:
        self.service = service
        self.account = account
        self.settings = settings
        self._clock = clock
        self._emit = emit
        self._state: State = "closed"
        self._generation = 0  # bumped on every transition; stale outcomes are ignored
        self._failures = 0  # consecutive failures (kept while open, for reporting)
        self._recent: deque[bool] = deque(maxlen=settings.window)  # True = failure
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._opened_mono = 0.0
        self._opened_at: datetime | None = None

    @property
    def state(self) -> State:
        self._refresh()
        return self._state

    def try_admit(self) -> Admission | None:
        """An ``Admission`` if a call may go out now, else None (see ``retry_in``)."""
        self._refresh()
        if self._state == "closed":
            return Admission(self._generation, probe=False)
        if (
            self._state == "half_open"
            and self._probes_in_flight < self.settings.half_open_max_calls
        ):
            self._probes_in_flight += 1
            return Admission(self._generation, probe=True)
        return None

    def retry_in(self) -> float:
        """Seconds until the breaker admits a probe (0 when probes are already in flight)."""
        self._refresh()
        if self._state == "open":
            return max(0.0, self._opened_mono + self.settings.cooldown - self._clock.monotonic())
        return 0.0

    def open_until(self) -> datetime | None:
        """Wall time of the next probe while open."""
        if self._state != "open" or self._opened_at is None:
            return None
        return self._opened_at + timedelta(seconds=self.settings.cooldown)

    def rejection(self, operation: str, endpoint: str | None = None) -> CircuitOpenError:
        """The error for a call this breaker refused (nothing was sent)."""
        until = self.open_until()
        when = f"until {until.isoformat()}" if until else "while its probes run"
        return CircuitOpenError(
            f"circuit breaker open {when}; failing fast without calling the service",
            category=ErrorCategory.SERVER,
            service=self.service,
            operation=operation,
            retryable=True,
            retry_after=self.retry_in() if until else None,
            request_sent=False,
            endpoint=endpoint,
            details={"breaker": self.snapshot().to_dict()},
        )

    def record(self, admission: Admission, outcome: Outcome) -> None:
        """Report how an admitted call ended."""
        if admission.generation != self._generation:
            return  # admitted before the last transition: says nothing about the present
        if admission.probe:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
        if outcome == "neutral":
            return
        failed = outcome == "failure"
        if self._state == "half_open":
            if failed:
                self._failures += 1
                self._open("a probe failed")
            else:
                self._probe_successes += 1
                if self._probe_successes >= self.settings.success_threshold:
                    self._transition("closed", f"{self._probe_successes} probes succeeded")
            return
        self._recent.append(failed)
        if not failed:
            self._failures = 0
            return
        self._failures += 1
        if self._failures >= self.settings.failure_threshold:
            self._open(f"{self._failures} consecutive failures")
            return
        rate = self.settings.failure_rate
        if rate is not None and len(self._recent) >= self.settings.min_calls:
            share = sum(self._recent) / len(self._recent)
            if share >= rate:
                self._open(f"{share:.0%} of the last {len(self._recent)} calls failed")

    def snapshot(self) -> BreakerState:
        self._refresh()
        return BreakerState(
            service=self.service,
            account=self.account,
            state=self._state,
            failures=self._failures,
            opened_at=self._opened_at if self._state != "closed" else None,
            next_probe_at=self.open_until(),
        )

    def _refresh(self) -> None:
        if (
            self._state == "open"
            and self._clock.monotonic() >= self._opened_mono + self.settings.cooldown
        ):
            self._transition("half_open", "cooldown elapsed")

    def _open(self, reason: str) -> None:
        self._opened_mono = self._clock.monotonic()
        self._opened_at = self._clock.now()
        self._transition("open", reason)

    def _transition(self, state: State, reason: str) -> None:
        self._state = state
        self._generation += 1
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._recent.clear()
        if state == "closed":
            self._failures = 0
            self._opened_at = None
        if self._emit is not None:
            self._emit(self._event(state, reason))

    def _event(self, state: State, reason: str) -> LogEvent:
        level: Level = "error" if state == "open" else "warn" if state == "half_open" else "info"
        next_probe = self.open_until()
        text = {
            "open": f"circuit breaker opened ({reason}); calls fail fast until "
            f"{next_probe.isoformat() if next_probe else 'the cooldown ends'}",
            "half_open": f"circuit breaker half-open ({reason}); probing",
            "closed": f"circuit breaker closed ({reason})",
        }[state]
        return LogEvent(
            source="integration",
            service=self.service,
            operation=None,
            level=level,
            message=text,
            status=f"breaker_{state}",
            details={
                "account": self.account,
                "state": state,
                "reason": reason,
                "failures": self._failures,
                "next_probe_at": next_probe.isoformat() if next_probe else None,
            },
            business_id=self.account,
            created_at=self._clock.now(),
        )


class BreakerRegistry:
    """Every breaker of the process, keyed by (service, account).

    The first registration of a key fixes its settings.
    """

    def __init__(self, clock: Clock, emit: Callable[[Event], None] | None = None) -> None:
        self._clock = clock
        self._emit = emit
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def get(self, service: str, account: str, settings: BreakerSettings) -> CircuitBreaker:
        key = (service, account)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = CircuitBreaker(service, account, settings, self._clock, self._emit)
            self._breakers[key] = breaker
        return breaker

    def states(self) -> list[BreakerState]:
        """The current state of every breaker, sorted by service and account."""
        return [self._breakers[key].snapshot() for key in sorted(self._breakers)]
