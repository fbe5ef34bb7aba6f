"""``CallLimit``: tighter bounds on every call a connector makes inside ``limited()``.

A diagnosis (``ops test``) wants the first failure and its cause within a few seconds, not
the patience a sync needs to get through: few attempts per call, one deadline shared by all
the calls, and no waiting for an open circuit breaker to admit calls again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from masterops.integrations.base.errors import ErrorCategory, IntegrationError
from masterops.integrations.base.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class CallLimit:
    """Every call ends by ``expires_at`` (on the connector clock's monotonic scale) after at
    most ``max_attempts`` attempts; ``seconds`` is the deadline as it was given."""

    expires_at: float
    max_attempts: int
    seconds: float

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not self.seconds > 0:
            raise ValueError(f"the deadline must be positive, got {self.seconds}")

    def remaining(self, now: float) -> float:
        return self.expires_at - now

    def narrow(self, policy: RetryPolicy, now: float) -> RetryPolicy:
        """``policy`` for a call starting at ``now``: no more attempts and no later deadline
        than this limit allows, and an open breaker is never waited for."""
        remaining = self.remaining(now)
        if remaining <= 0:
            raise ValueError("the limit has expired; check remaining() first")
        deadline = remaining if policy.deadline is None else min(policy.deadline, remaining)
        return dataclasses.replace(
            policy,
            max_attempts=min(policy.max_attempts, self.max_attempts),
            deadline=deadline,
            wait_for_breaker=False,
        )

    def expired(self, service: str, operation: str, endpoint: str) -> IntegrationError:
        """The error of a call that would start after the deadline (nothing is sent)."""
        return IntegrationError(
            f"not sent: the {self.seconds:g} s deadline had passed",
            category=ErrorCategory.TIMEOUT,
            service=service,
            operation=operation,
            retryable=False,
            request_sent=False,
            endpoint=endpoint,
        )
