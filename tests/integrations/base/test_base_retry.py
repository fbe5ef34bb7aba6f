"""Retry decisions: backoff bounds, idempotency, Retry-After and the deadline."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masterops.integrations.base import (
    CircuitOpenError,
    ErrorCategory,
    IntegrationError,
    RetryPolicy,
    decide,
)


def error(
    *,
    sent: bool = True,
    retryable: bool = True,
    retry_after: float | None = None,
    category: ErrorCategory = ErrorCategory.SERVER,
    cls: type[IntegrationError] = IntegrationError,
) -> IntegrationError:
    return cls(
        "boom",
        category=category,
        service="hubspot",
        operation="op",
        retryable=retryable,
        request_sent=sent,
        retry_after=retry_after,
    )


@given(
    base=st.floats(0.0, 5.0),
    cap=st.floats(0.0, 60.0),
    retry=st.integers(0, 2000),
    seed=st.integers(0, 2**32),
)
def test_backoff_is_full_jitter_within_bounds(
    base: float, cap: float, retry: int, seed: int
) -> None:
    policy = RetryPolicy(base_delay=base, max_delay=cap)
    delay = policy.backoff(retry, random.Random(seed))
    assert 0.0 <= delay <= min(cap, base * 2.0 ** min(retry, 1023))


def test_backoff_is_jittered_not_constant() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0)
    rng = random.Random(7)
    delays = [policy.backoff(3, rng) for _ in range(200)]
    assert min(delays) < 1.0 and max(delays) > 7.0 and len(set(delays)) == 200


@given(
    attempt=st.integers(1, 10),
    sent=st.booleans(),
    idempotent=st.booleans(),
    retryable=st.booleans(),
    retry_after=st.one_of(st.none(), st.floats(0, 200)),
    elapsed=st.floats(0, 100),
    deadline=st.one_of(st.none(), st.floats(1, 100)),
    seed=st.integers(0, 1000),
)
def test_decide_obeys_every_rule(
    attempt: int,
    sent: bool,
    idempotent: bool,
    retryable: bool,
    retry_after: float | None,
    elapsed: float,
    deadline: float | None,
    seed: int,
) -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, deadline=deadline)
    failure = error(sent=sent, retryable=retryable, retry_after=retry_after)
    decision = decide(
        policy,
        failure,
        attempt=attempt,
        idempotent=idempotent,
        elapsed=elapsed,
        rng=random.Random(seed),
    )
    if decision.delay is None:
        return
    assert retryable
    assert idempotent or not sent  # a create that may have arrived is never repeated
    assert attempt < policy.max_attempts
    if deadline is not None:
        assert elapsed + decision.delay < deadline  # never sleeps past the deadline
    if retry_after is not None:
        assert decision.delay == retry_after
    else:
        assert 0 <= decision.delay <= policy.backoff_ceiling(attempt - 1)


def test_retry_after_past_the_deadline_gives_up_now() -> None:
    policy = RetryPolicy(deadline=30.0)
    decision = decide(
        policy,
        error(sent=False, retry_after=45.0, category=ErrorCategory.RATE_LIMIT),
        attempt=1,
        idempotent=False,
        elapsed=0.0,
        rng=random.Random(0),
    )
    assert decision.delay is None and "beyond the deadline" in decision.reason


def test_an_open_breaker_is_waited_for_only_briefly() -> None:
    policy = RetryPolicy(max_delay=5.0, deadline=60.0)
    short = error(sent=False, retry_after=2.0, cls=CircuitOpenError)
    long = error(sent=False, retry_after=25.0, cls=CircuitOpenError)
    rng = random.Random(0)
    assert decide(policy, short, attempt=1, idempotent=False, elapsed=0, rng=rng).delay == 2.0
    assert decide(policy, long, attempt=1, idempotent=False, elapsed=0, rng=rng).delay is None


def test_policy_validates() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(deadline=0)
    assert RetryPolicy().backoff_ceiling(100) == RetryPolicy().max_delay
