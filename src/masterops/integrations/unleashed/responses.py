"""Reading Unleashed answers: records and pages, and what the quota headers say.

The service's quota headers (the sandbox's reading of the unverified facts):

- ``X-Quota-Warning: 90|95|100`` on answers once that share of the month's calls is used;
  it repeats on every answer, so ``ServiceQuotaWarnings`` logs each level once a month;
- ``X-Quota-Reset: <ISO 8601 UTC>`` on the answer that blocks a call because the quota is
  used up (429 in the sandbox, whatever the status). ``quota_block_error`` turns it into a
  non-retryable RATE_LIMIT error: nothing can succeed before the reset, so retrying would
  only burn the caller's time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from masterops.db.quota import period_of
from masterops.integrations.base import ErrorCategory, IntegrationError, parse_retry_after
from masterops.integrations.unleashed.models import Page, Resource, UnleashedModel
from masterops.observability.events import LogEvent, TelemetryHub
from masterops.observability.redaction import Redactor

R = TypeVar("R", bound=UnleashedModel)
M = TypeVar("M", bound=BaseModel)

WARNING_HEADER = "x-quota-warning"
RESET_HEADER = "x-quota-reset"
SERVICE = "unleashed"


class AnswerReader:
    """Validates 2xx bodies into models; a body of the wrong shape is a non-retryable
    UNKNOWN ``IntegrationError`` (a contract change, which no retry cures)."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor

    def record(self, model: type[M], response: httpx.Response, operation: str, path: str) -> M:
        try:
            return model.model_validate(response.json())
        except (ValidationError, ValueError) as exc:
            raise self._shape_error(exc, operation, path, response) from None

    def page(
        self, resource: Resource[R], response: httpx.Response, operation: str, path: str
    ) -> Page[R]:
        try:
            return resource.parse_page(response.json())
        except (ValidationError, ValueError) as exc:
            raise self._shape_error(exc, operation, path, response) from None

    def _shape_error(
        self, exc: Exception, operation: str, path: str, response: httpx.Response
    ) -> IntegrationError:
        # Only the first lines, cut short: pydantic's full text echoes whole inputs. Masked
        # before the cut, which could leave a piece of a secret that no longer matches it.
        summary = self._redactor.text(" ".join(str(exc).splitlines()[0:3]))[:300]
        return IntegrationError(
            f"unexpected answer shape: {summary}",
            category=ErrorCategory.UNKNOWN,
            service=SERVICE,
            operation=operation,
            status=response.status_code,
            retryable=False,
            endpoint=path,
            details={"exception": type(exc).__name__},
        )


def quota_block_error(
    response: httpx.Response, error: IntegrationError, now: datetime
) -> IntegrationError:
    """``error`` unchanged, unless ``response`` is the service's monthly-quota block."""
    reset = response.headers.get(RESET_HEADER)
    if reset is None:
        return error
    return IntegrationError(
        f"Unleashed monthly API call quota exhausted for this account; calls are blocked "
        f"until {reset}",
        category=ErrorCategory.RATE_LIMIT,
        service=SERVICE,
        operation=error.operation,
        status=error.status,
        retryable=False,
        details={**error.details, "quota": "monthly", "quota_reset": reset},
        retry_after=seconds_until(reset, now),
        request_sent=False,
        endpoint=error.endpoint,
    )


def seconds_until(value: str, now: datetime) -> float | None:
    """Seconds from ``now`` to an ISO 8601 instant (or an HTTP-date); None if unreadable."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return parse_retry_after(value, now)
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


class ServiceQuotaWarnings:
    """Logs the service's ``X-Quota-Warning`` once per level and month (per connector)."""

    def __init__(self, hub: TelemetryHub, business_id: str) -> None:
        self._hub = hub
        self._business_id = business_id
        self._seen: set[tuple[str, str]] = set()

    def observe(self, response: httpx.Response, now: datetime) -> None:
        value = response.headers.get(WARNING_HEADER)
        if value is None:
            return
        percent = value.strip()
        key = (period_of(now), percent)
        if key in self._seen:
            return
        self._seen.add(key)
        self._hub.emit(
            LogEvent(
                source="integration",
                service=SERVICE,
                operation="quota",
                level="error" if percent == "100" else "warn",
                message=f"Unleashed reports {percent} % of this account's monthly API calls used",
                status="quota_warning",
                details={
                    "threshold_percent": percent,
                    "reported_by": "service",
                    "status_code": response.status_code,
                    "period": key[0],
                },
                business_id=self._business_id,
                created_at=now,
            )
        )
