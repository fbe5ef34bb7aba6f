"""The circuit breaker against a reference model, for arbitrary call sequences."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masterops.integrations.base import (
    BreakerRegistry,
    BreakerSettings,
    CircuitBreaker,
    CircuitOpenError,
    ErrorCategory,
    FakeClock,
)
from masterops.observability.events import EventRecorder, LogEvent


@dataclass
class Model:
    """The specification, written as plainly as possible."""

    settings: BreakerSettings
    state: str = "closed"
    consecutive: int = 0
    recent: deque[bool] = field(default_factory=deque)
    opened_at: float = 0.0
    probe_successes: int = 0
    transitions: list[str] = field(default_factory=list)

    def move(self, state: str) -> None:
        self.state = state
        self.transitions.append(state)
        self.recent.clear()
        self.probe_successes = 0

    def effective(self, now: float) -> str:
        if self.state == "open" and now >= self.opened_at + self.settings.cooldown:
            self.move("half_open")
        return self.state

    def call(self, now: float, outcome: str) -> bool:
        """Returns whether the call was admitted."""
        if self.effective(now) == "open":
            return False
        if outcome == "neutral":
            return True
        failed = outcome == "failure"
        if self.state == "half_open":
            if failed:
                self.opened_at = now
                self.move("open")
            else:
                self.probe_successes += 1
                if self.probe_successes >= self.settings.success_threshold:
                    self.consecutive = 0
                    self.move("closed")
            return True
        self.recent.append(failed)
        while len(self.recent) > self.settings.window:
            self.recent.popleft()
        self.consecutive = self.consecutive + 1 if failed else 0
        rate = self.settings.failure_rate
        too_many = failed and self.consecutive >= self.settings.failure_threshold
        too_often = (
            failed
            and rate is not None
            and len(self.recent) >= self.settings.min_calls
            and sum(self.recent) / len(self.recent) >= rate
        )
        if too_many or too_often:
            self.opened_at = now
            self.move("open")
        return True


ops = st.lists(
    st.one_of(
        st.sampled_from(["success", "failure", "neutral"]),
        st.floats(0.0, 40.0, allow_nan=False).map(lambda dt: round(dt, 3)),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(
    threshold=st.integers(1, 6),
    successes=st.integers(1, 3),
    cooldown=st.sampled_from([5.0, 30.0]),
    rate=st.one_of(st.none(), st.sampled_from([0.3, 0.5, 1.0])),
    window=st.integers(2, 10),
    min_calls=st.integers(1, 10),
    sequence=ops,
)
def test_breaker_matches_the_reference_model(
    threshold: int,
    successes: int,
    cooldown: float,
    rate: float | None,
    window: int,
    min_calls: int,
    sequence: list[str | float],
) -> None:
    settings_ = BreakerSettings(
        failure_threshold=threshold,
        success_threshold=successes,
        cooldown=cooldown,
        failure_rate=rate,
        window=window,
        min_calls=min_calls,
    )
    clock = FakeClock()
    recorder = EventRecorder()
    breaker = CircuitBreaker("hubspot", "teelixir", settings_, clock, recorder)
    model = Model(settings_)

    async def scenario() -> None:
        for op in sequence:
            now = clock.monotonic()  # the model reads the same clock, rounding included
            if isinstance(op, float):
                await clock.advance(op)
                now = clock.monotonic()
            else:
                admission = breaker.try_admit()
                admitted = model.call(now, op)
                assert (admission is not None) == admitted
                if admission is not None:
                    breaker.record(admission, op)  # type: ignore[arg-type]
            assert breaker.state == model.effective(now)

    asyncio.run(scenario())
    transitions = [e.status for e in recorder.logs]
    assert transitions == [f"breaker_{s}" for s in model.transitions]


def test_stale_outcomes_are_ignored() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("n8n", "bob", BreakerSettings(failure_threshold=1), clock)
    slow_call = breaker.try_admit()
    fast_call = breaker.try_admit()
    assert slow_call is not None and fast_call is not None
    breaker.record(fast_call, "failure")
    assert breaker.state == "open"
    breaker.record(slow_call, "success")  # admitted before the breaker opened
    assert breaker.state == "open"


async def test_half_open_admits_limited_probes() -> None:
    clock = FakeClock()
    settings_ = BreakerSettings(failure_threshold=1, cooldown=10.0, half_open_max_calls=1)
    breaker = CircuitBreaker("n8n", "bob", settings_, clock)
    first = breaker.try_admit()
    assert first is not None
    breaker.record(first, "failure")
    assert breaker.try_admit() is None and breaker.retry_in() == 10.0
    await clock.advance(10.0)
    probe = breaker.try_admit()
    assert probe is not None and probe.probe
    assert breaker.try_admit() is None  # one probe at a time
    assert breaker.retry_in() == 0.0
    breaker.record(probe, "neutral")  # a 429 on the probe frees the slot
    assert breaker.try_admit() is not None


def test_rejection_error_and_states() -> None:
    clock = FakeClock()
    recorder = EventRecorder()
    registry = BreakerRegistry(clock, recorder)
    breaker = registry.get(
        "unleashed", "teelixir", BreakerSettings(failure_threshold=2, cooldown=60)
    )
    assert registry.get("unleashed", "teelixir", BreakerSettings()) is breaker
    registry.get("hubspot", "teelixir", BreakerSettings())
    for _ in range(2):
        admission = breaker.try_admit()
        assert admission is not None
        breaker.record(admission, "failure")
    error = breaker.rejection("list_products", "/Products/{page}")
    assert isinstance(error, CircuitOpenError)
    assert error.category is ErrorCategory.SERVER and error.retryable and not error.request_sent
    assert error.retry_after == 60.0
    assert "2024-01-01T00:01:00+00:00" in error.message  # the fake wall clock + cooldown
    states = {(s.service, s.state) for s in registry.states()}
    assert states == {("hubspot", "closed"), ("unleashed", "open")}
    unleashed = next(s for s in registry.states() if s.service == "unleashed")
    assert unleashed.failures == 2 and unleashed.to_dict()["next_probe_at"].startswith("2024")
    [event] = recorder.logs
    assert isinstance(event, LogEvent)
    assert (event.source, event.service, event.status, event.level) == (
        "integration",
        "unleashed",
        "breaker_open",
        "error",
    )
    assert event.details["failures"] == 2


def test_settings_validate() -> None:
    with pytest.raises(ValueError):
        BreakerSettings(failure_threshold=0)
    with pytest.raises(ValueError):
        BreakerSettings(failure_rate=1.5)
