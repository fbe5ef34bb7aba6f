"""Health checks: ``HealthResult`` and how a connector's probe is judged.

healthy: the authenticated probe succeeded, in time, with no 429 or failed attempt on the
way; degraded: it succeeded slowly or after retries, or was rate limited; down: anything
else, with the category, status and message of the failure; disabled: not configured.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from masterops.integrations.base.clock import Clock
from masterops.integrations.base.errors import ErrorCategory, IntegrationError
from masterops.observability.redaction import Redactor

HealthStatus = Literal["healthy", "degraded", "down", "disabled"]
#: How bad each status is, worst last: the one scale for health exit codes, alert levels
#: and the metrics. "disabled" (no credentials) is configuration, not health: absent.
SEVERITY: dict[str, int] = {"healthy": 0, "degraded": 1, "down": 2}


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """A probe slower than ``degraded_after_ms`` makes the service "degraded"; the whole
    check (retries included) is cut off after ``timeout`` seconds."""

    degraded_after_ms: float = 2000.0
    timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class HealthResult:
    """The outcome of ``BaseConnector.health()``.

    ``status`` is "healthy" only when the authenticated probe really succeeded in time;
    "degraded" when it succeeded slowly or was rate limited; "down" otherwise, with the
    reason in ``message`` and ``details`` (category, status); "disabled" when the service
    is not configured for this business. ``breaker`` is the circuit breaker's state.
    """

    service: str
    business_id: str
    status: HealthStatus
    latency_ms: float | None
    message: str
    checked_at: datetime
    breaker: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "healthy"

    @classmethod
    def disabled(
        cls, service: str, business_id: str, reason: str, checked_at: datetime
    ) -> HealthResult:
        """A service that is not configured (missing credentials) for a business."""
        return cls(
            service=service,
            business_id=business_id,
            status="disabled",
            latency_ms=None,
            message=reason,
            checked_at=checked_at,
            breaker="closed",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "business_id": self.business_id,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "message": self.message,
            "checked_at": self.checked_at.isoformat(),
            "breaker": self.breaker,
            "details": self.details,
        }


# While a health check runs its probe, the connector notes every failed attempt here, so a
# probe that only succeeded after a 429 or a 5xx is "degraded", not "healthy".
_probe_trace: ContextVar[list[IntegrationError] | None] = ContextVar("probe_trace", default=None)


def note_failed_attempt(error: IntegrationError) -> None:
    """Called by the connector for each failed attempt; a no-op outside a health check."""
    trace = _probe_trace.get()
    if trace is not None:
        trace.append(error)


async def run_health_check(
    probe: Callable[[], Awaitable[Mapping[str, Any] | None]],
    *,
    service: str,
    business_id: str,
    clock: Clock,
    settings: HealthSettings,
    redactor: Redactor,
    breaker_state: Callable[[], str],
) -> HealthResult:
    """Run ``probe`` under ``settings.timeout`` and judge it; the reason is never lost."""
    checked_at = clock.now()
    trace: list[IntegrationError] = []
    token = _probe_trace.set(trace)
    started = clock.monotonic()
    status: HealthStatus
    details: dict[str, Any] = {}
    try:
        async with clock.timeout(settings.timeout):
            extra = await probe()
        details.update(redactor.mapping(dict(extra or {})))
    except IntegrationError as exc:
        status = "degraded" if exc.category is ErrorCategory.RATE_LIMIT else "down"
        message = str(exc)
        details["error"] = exc.to_dict()
    except TimeoutError:
        status = "down"
        message = f"{service}: TIMEOUT: the health probe took over {settings.timeout:g} s"
        details["error"] = {"category": ErrorCategory.TIMEOUT.value}
    except Exception as exc:  # a bug in probe() must still give a result with its reason
        status = "down"
        message = redactor.text(f"{service}: probe raised {type(exc).__name__}: {exc}")
        details["error"] = {
            "category": ErrorCategory.UNKNOWN.value,
            "exception": type(exc).__name__,
        }
    else:
        latency = (clock.monotonic() - started) * 1000.0
        status, message = _judge_success(trace, latency, settings)
    finally:
        _probe_trace.reset(token)
    if trace:
        details["failed_attempts"] = [error.to_dict() for error in trace]
    return HealthResult(
        service=service,
        business_id=business_id,
        status=status,
        latency_ms=round((clock.monotonic() - started) * 1000.0, 3),
        message=message,
        checked_at=checked_at,
        breaker=breaker_state(),
        details=details,
    )


def _judge_success(
    trace: list[IntegrationError], latency_ms: float, settings: HealthSettings
) -> tuple[HealthStatus, str]:
    if any(error.category is ErrorCategory.RATE_LIMIT for error in trace):
        return (
            "degraded",
            f"the probe succeeded but was rate limited ({len(trace)} failed attempts)",
        )
    if trace:
        return (
            "degraded",
            f"the probe succeeded after {len(trace)} failed attempts (last: {trace[-1]})",
        )
    if latency_ms > settings.degraded_after_ms:
        return "degraded", (
            f"the probe succeeded slowly: {latency_ms:.0f} ms "
            f"(over {settings.degraded_after_ms:.0f} ms)"
        )
    return "healthy", f"the probe succeeded in {latency_ms:.0f} ms"
