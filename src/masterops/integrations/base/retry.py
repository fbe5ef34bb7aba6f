"""When to try a failed call again, and after how long.

Hand-written rather than built on tenacity: the rules depend on facts tenacity's
predicates do not see together (whether the request may have reached the server, whether
the call is idempotent, a ``Retry-After`` compared with the remaining deadline, a breaker's
next probe) and all waiting must go through the injectable ``Clock``. The whole decision is
the pure function ``decide()``, which the property tests exercise directly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from masterops.integrations.base.errors import (
    DEFAULT_RETRY_STATUSES,
    CircuitOpenError,
    IntegrationError,
)

#: Methods that are safe to repeat by their HTTP definition.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped in attempts and in total time.

    Retry ``n`` (0 for the first retry) waits a uniformly random time in
    ``[0, min(max_delay, base_delay * 2**n)]``, or the service's ``Retry-After`` when it
    sent one. ``deadline`` bounds the whole call, attempts, waits for tokens and sleeps
    included; a wait that would end past it fails the call at once instead.
    ``retry_statuses`` are the HTTP statuses worth another attempt. With
    ``wait_for_breaker`` False a call refused by an open circuit breaker fails at once
    instead of waiting for its next probe.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float | None = 60.0
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    wait_for_breaker: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(f"deadline must be positive, got {self.deadline}")

    def backoff_ceiling(self, retry: int) -> float:
        """The largest backoff of retry ``retry`` (0-based): ``min(max_delay, base * 2**n)``."""
        # 2.0**1024 overflows; by 2**1023 the product is already past any cap (or zero).
        return min(self.max_delay, self.base_delay * 2.0 ** min(retry, 1023))

    def backoff(self, retry: int, rng: random.Random) -> float:
        """A full-jitter delay for retry ``retry`` (0-based)."""
        return rng.uniform(0.0, self.backoff_ceiling(retry))


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """``delay`` seconds before the next attempt, or None to give up; ``reason`` says why."""

    delay: float | None
    reason: str

    @property
    def retry(self) -> bool:
        return self.delay is not None


def decide(
    policy: RetryPolicy,
    error: IntegrationError,
    *,
    attempt: int,
    idempotent: bool,
    elapsed: float,
    rng: random.Random,
) -> RetryDecision:
    """Whether attempt number ``attempt`` (1-based), which failed with ``error`` after
    ``elapsed`` seconds of the call, should be followed by another one.

    A call that is not idempotent is never repeated once its request may have reached the
    service (``error.request_sent``): a create that timed out may have created.
    """
    if not error.retryable:
        return RetryDecision(None, "not retryable")
    if error.request_sent and not idempotent:
        return RetryDecision(None, "not idempotent and the request may have reached the service")
    if attempt >= policy.max_attempts:
        return RetryDecision(None, f"gave up after {attempt} attempts")
    if isinstance(error, CircuitOpenError) and not policy.wait_for_breaker:
        return RetryDecision(None, "circuit breaker open; not waiting for it")
    remaining = math.inf if policy.deadline is None else policy.deadline - elapsed
    if error.retry_after is not None:
        delay = max(0.0, error.retry_after)
        if isinstance(error, CircuitOpenError) and delay > policy.max_delay:
            return RetryDecision(None, f"circuit breaker open for another {delay:.1f} s")
        if delay >= remaining:
            return RetryDecision(
                None, f"asked to wait {delay:.1f} s, beyond the deadline ({remaining:.1f} s left)"
            )
        return RetryDecision(delay, f"waiting {delay:.1f} s as asked")
    delay = policy.backoff(attempt - 1, rng)
    if delay >= remaining:
        return RetryDecision(None, f"deadline reached ({policy.deadline:g} s)")
    return RetryDecision(delay, f"backing off {delay:.3f} s")
