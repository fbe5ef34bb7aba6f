"""What the connector tells the world: endpoint templates, rate-limit headers, events.

Events go through the runtime's ``TelemetryHub``; subscribers (database writers, the log,
Prometheus) only enqueue, so emitting never waits on I/O. Everything emitted here is
redacted, and endpoints are always templates (``/crm/v3/objects/{type}/{id}``), never raw
ids or query strings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from string import Formatter
from typing import Any
from urllib.parse import quote

import httpx

from masterops.integrations.base.clock import Clock
from masterops.integrations.base.errors import IntegrationError
from masterops.observability.events import ApiCall, Level, LogEvent, TelemetryHub
from masterops.observability.redaction import Redactor

_REMAINING = (b"x-hubspot-ratelimit-remaining", b"x-ratelimit-remaining", b"ratelimit-remaining")
_LIMIT = (b"x-hubspot-ratelimit-max", b"x-ratelimit-limit", b"ratelimit-limit")
_RESET = (b"x-ratelimit-reset", b"ratelimit-reset")
_INTERVAL_MS = b"x-hubspot-ratelimit-interval-milliseconds"
_RETRY_AFTER = b"retry-after"
_WANTED = frozenset((*_REMAINING, *_LIMIT, *_RESET, _INTERVAL_MS, _RETRY_AFTER))
_EPOCH_THRESHOLD = 1_000_000_000  # a reset larger than this is a Unix time, not a delay


@functools.lru_cache(maxsize=1024)
def template_fields(template: str) -> tuple[str, ...]:
    """The ``{name}`` fields of an endpoint template."""
    return tuple(name for _, name, _, _ in Formatter().parse(template) if name)


def render_path(template: str, params: Mapping[str, object] | None = None) -> str:
    """Fill an endpoint template with URL-quoted ``params`` (``/`` in a value is quoted too)."""
    names = template_fields(template)
    if not names:
        return template
    params = params or {}
    missing = [name for name in names if name not in params]
    if missing:
        raise ValueError(f"endpoint {template!r} needs path parameters {missing}")
    return template.format_map({name: quote(str(params[name]), safe="") for name in names})


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What one response said about the service's rate limit (every field optional).

    ``remaining`` calls are left in a window of ``window`` seconds that ends by
    ``reset_at``; ``retry_after`` is the wait a 429 (or 503) asked for, in seconds.
    """

    remaining: int | None = None
    limit: int | None = None
    window: float | None = None
    reset_at: datetime | None = None
    retry_after: float | None = None


NO_RATE_LIMIT_INFO = RateLimitInfo()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_rate_limit_headers(headers: httpx.Headers, now: datetime) -> RateLimitInfo:
    """Read HubSpot's ``X-HubSpot-RateLimit-*``, the common ``X-RateLimit-*`` and the IETF
    ``RateLimit-*`` headers and ``Retry-After``."""
    # One pass over the raw headers: this runs on every response, and httpx's Headers.get
    # scans the whole list for each name asked.
    found: dict[bytes, str] = {}
    for key, value in headers.raw:
        name = key.lower()
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    if not found:
        return NO_RATE_LIMIT_INFO
    remaining = _first_int(found, _REMAINING)
    interval = header_int(found.get(_INTERVAL_MS))
    reset = _first_float(found, _RESET)
    window = interval / 1000.0 if interval is not None and interval > 0 else None
    reset_at: datetime | None = None
    if reset is not None:
        if reset > _EPOCH_THRESHOLD:
            reset_at = datetime.fromtimestamp(reset, UTC)
        else:
            reset_at = now + timedelta(seconds=reset)
    elif window is not None and remaining is not None:
        # A rolling window frees its calls one by one; a full window is the latest bound.
        reset_at = now + timedelta(seconds=window)
    return RateLimitInfo(
        remaining=remaining,
        limit=_first_int(found, _LIMIT),
        window=window,
        reset_at=reset_at,
        retry_after=parse_retry_after(found.get(_RETRY_AFTER), now),
    )


def header_int(value: str | None) -> int | None:
    """A header's integer value, or None when absent or not a number."""
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _first_int(found: dict[bytes, str], names: tuple[bytes, ...]) -> int | None:
    for name in names:
        value = header_int(found.get(name))
        if value is not None:
            return value
    return None


def _first_float(found: dict[bytes, str], names: tuple[bytes, ...]) -> float | None:
    for name in names:
        value = found.get(name)
        if value is not None:
            try:
                return float(value.strip())
            except ValueError:
                continue
    return None


class ConnectorTelemetry:
    """Builds and emits one connector's events, redacted, through the hub."""

    def __init__(
        self,
        hub: TelemetryHub,
        clock: Clock,
        *,
        service: str,
        business_id: str,
        redactor: Redactor,
    ) -> None:
        self.hub = hub
        self._clock = clock
        self._service = service
        self._business_id = business_id
        self._redactor = redactor

    def api_call(
        self,
        endpoint: str,
        method: str,
        operation: str,
        started: float,
        response: httpx.Response | None = None,
        info: RateLimitInfo | None = None,
        error: IntegrationError | None = None,
        *,
        expected: bool = False,
    ) -> None:
        """One attempt that reached the transport (answered or not), begun at ``started``
        on the clock's monotonic scale. An ``expected`` error answer (the 404 a caller
        checking for existence looks for) is an outcome, not an error: the row is a
        success that keeps its status code."""
        status = response.status_code if response is not None else None
        info = info or NO_RATE_LIMIT_INFO
        if expected:
            error = None
        self.hub.emit(
            ApiCall(
                service=self._service,
                endpoint=endpoint,
                method=method,
                status_code=status,
                success=error is None,
                duration_ms=(self._clock.monotonic() - started) * 1000.0,
                operation=operation,
                business_id=self._business_id,
                response_size_bytes=len(response.content) if response is not None else None,
                rate_limit_remaining=info.remaining,
                rate_limit_reset_at=info.reset_at,
                error_category=error.category.value if error is not None else None,
                error_message=self._redactor.text(str(error)) if error is not None else None,
                created_at=self._clock.now(),
            )
        )

    def retry(
        self,
        *,
        operation: str,
        endpoint: str,
        method: str,
        attempt: int,
        delay: float,
        error: IntegrationError,
        reason: str,
    ) -> None:
        """Attempt ``attempt`` failed and another follows after ``delay`` seconds."""
        self._log(
            "warn",
            "retry",
            f"attempt {attempt} failed ({error.category.value}: {error.message}); "
            f"retrying in {delay:.3f} s",
            operation,
            {
                "endpoint": endpoint,
                "method": method,
                "attempt": attempt,
                "delay_s": round(delay, 3),
                "reason": reason,
                "error": error.to_dict(),
            },
        )

    def failure(
        self,
        *,
        operation: str,
        endpoint: str,
        method: str,
        attempts: int,
        error: IntegrationError,
        reason: str,
        duration_ms: float,
        expected: bool = False,
    ) -> None:
        """The call failed for good after ``attempts`` attempts. An ``expected`` answer (a
        404 the caller was checking for) is logged at debug level, not as a failure."""
        self._log(
            "debug" if expected else "error",
            "expected" if expected else "failure",
            str(error),
            operation,
            {
                "endpoint": endpoint,
                "method": method,
                "attempts": attempts,
                "reason": reason,
                "error": error.to_dict(),
            },
            duration_ms=duration_ms,
        )

    def _log(
        self,
        level: Level,
        status: str,
        message: str,
        operation: str,
        details: dict[str, Any],
        duration_ms: float | None = None,
    ) -> None:
        self.hub.emit(
            LogEvent(
                source="integration",
                service=self._service,
                operation=operation,
                level=level,
                message=self._redactor.text(message),
                status=status,
                details=self._redactor.mapping(details),
                duration_ms=duration_ms,
                business_id=self._business_id,
                created_at=self._clock.now(),
            )
        )
