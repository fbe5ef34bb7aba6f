"""``IntegrationError``: the one exception a connector raises, and how it is classified.

Every failure of a call to a service (an HTTP error status, a network error, a timeout, an
open circuit breaker, a rate-limit wait past the deadline) becomes an ``IntegrationError``
with a category, the HTTP status if there was one, the service, the operation and whether
retrying later can help. Messages and details are redacted before they are stored here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import httpx

from masterops.observability.redaction import Redactor

_NO_REDACTION = Redactor()
_MESSAGE_KEYS = ("message", "Message", "description", "Description", "error_description")
_FALLBACK_KEYS = ("detail", "title", "error", "errorMessage", "msg")
_DETAIL_KEYS = {
    "category": "error_type",
    "errorType": "error_type",
    "subCategory": "sub_category",
    "correlationId": "correlation_id",
    "policyName": "policy_name",
    "code": "code",
}
_MAX_MESSAGE = 200
_MAX_SNIPPET = 500

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_JSON_MESSAGE = re.compile(r'"(?:message|Message|description)"\s*:\s*"((?:[^"\\]|\\.)*)')
_SPACE = re.compile(r"\s+")
# Control characters other than white space: a NUL cannot be stored in a PostgreSQL text
# column at all (the row holding the error would be refused), and the others only garble
# a terminal. What a service sends is shown, with these as U+FFFD.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ErrorCategory(StrEnum):
    """What kind of failure, independent of the service's own vocabulary."""

    NETWORK = "NETWORK"
    AUTHENTICATION = "AUTHENTICATION"
    AUTHORIZATION = "AUTHORIZATION"
    RATE_LIMIT = "RATE_LIMIT"
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    SERVER = "SERVER"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"


#: Statuses worth retrying unless a ``RetryPolicy`` says otherwise.
DEFAULT_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

_STATUS_CATEGORIES = {
    400: ErrorCategory.VALIDATION,
    401: ErrorCategory.AUTHENTICATION,
    403: ErrorCategory.AUTHORIZATION,
    404: ErrorCategory.NOT_FOUND,
    405: ErrorCategory.VALIDATION,
    408: ErrorCategory.TIMEOUT,
    409: ErrorCategory.CONFLICT,
    410: ErrorCategory.NOT_FOUND,
    412: ErrorCategory.CONFLICT,
    413: ErrorCategory.VALIDATION,
    415: ErrorCategory.VALIDATION,
    422: ErrorCategory.VALIDATION,
    423: ErrorCategory.CONFLICT,  # HubSpot: record locked
    429: ErrorCategory.RATE_LIMIT,
}


def category_for_status(status: int) -> ErrorCategory:
    """The category of an HTTP error status."""
    if status in _STATUS_CATEGORIES:
        return _STATUS_CATEGORIES[status]
    if status >= 500:
        return ErrorCategory.SERVER
    if 400 <= status < 500:
        return ErrorCategory.VALIDATION
    return ErrorCategory.UNKNOWN


class IntegrationError(Exception):
    """A call to a service failed.

    ``str(error)`` is one line naming the service, operation, status and reason;
    ``to_dict()`` is the same for JSON output. ``retryable`` says whether the same call may
    succeed later. ``retry_after`` is the wait, in seconds, the service or the breaker asked
    for. ``request_sent`` is False only when the request provably never left this process
    (connect errors, breaker rejections, rate-limit waits, a 429), which is what decides
    whether a non-idempotent call may be retried.
    """

    def __init__(
        self,
        message: str,
        *,
        category: ErrorCategory,
        service: str,
        operation: str | None = None,
        status: int | None = None,
        retryable: bool = False,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
        request_sent: bool = True,
        endpoint: str | None = None,
    ) -> None:
        self.message = _one_line(message) or category.value.lower()
        self.category = category
        self.service = service
        self.operation = operation
        self.status = status
        self.retryable = retryable
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after
        self.request_sent = request_sent
        self.endpoint = endpoint
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"{self.service} {self.operation}" if self.operation else self.service
        status = f"HTTP {self.status} " if self.status is not None else ""
        return f"{where}: {status}{self.category.value}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"IntegrationError(category={self.category.value}, service={self.service!r}, "
            f"operation={self.operation!r}, status={self.status}, retryable={self.retryable}, "
            f"message={self.message!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (already redacted)."""
        return {
            "category": self.category.value,
            "service": self.service,
            "operation": self.operation,
            "endpoint": self.endpoint,
            "status": self.status,
            "retryable": self.retryable,
            "retry_after": self.retry_after,
            "message": self.message,
            "details": self.details,
            "summary": str(self),
        }

    @classmethod
    def from_response(
        cls,
        response: httpx.Response,
        *,
        service: str,
        operation: str | None = None,
        endpoint: str | None = None,
        redactor: Redactor | None = None,
        retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES,
        retry_after: float | None = None,
    ) -> IntegrationError:
        """Classify a non-2xx response. Tolerates empty, non-JSON, truncated and HTML bodies."""
        redactor = redactor or _NO_REDACTION
        status = response.status_code
        reason, fields, snippet = describe_body(
            response.content, response.reason_phrase, redact=redactor.text
        )
        details: dict[str, Any] = {"status": status, **fields}
        if snippet:
            details["body"] = snippet
        if retry_after is not None:
            details["retry_after_s"] = retry_after
        return cls(
            redactor.text(reason),
            category=category_for_status(status),
            service=service,
            operation=operation,
            status=status,
            retryable=status in retry_statuses,
            details=redactor.mapping(details),
            retry_after=retry_after,
            # A 429 means the service refused the call before doing anything.
            request_sent=status != 429,
            endpoint=endpoint,
        )

    @classmethod
    def malformed_body(
        cls,
        response: httpx.Response,
        exc: ValueError,
        *,
        service: str,
        operation: str | None = None,
        endpoint: str | None = None,
    ) -> IntegrationError:
        """A 2xx whose body should be JSON but is not (cut short, an HTML page): retryable."""
        return cls(
            f"malformed JSON in a {response.status_code} answer ({exc})",
            category=ErrorCategory.SERVER,
            service=service,
            operation=operation,
            status=response.status_code,
            retryable=True,
            endpoint=endpoint,
            details={"bytes": len(response.content)},
        )

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        service: str,
        operation: str | None = None,
        endpoint: str | None = None,
        redactor: Redactor | None = None,
        timeout_s: float | None = None,
    ) -> IntegrationError:
        """Classify an httpx (or asyncio timeout) exception raised while calling a service."""
        redactor = redactor or _NO_REDACTION
        category, sent, text = _classify_exception(exc, timeout_s)
        return cls(
            redactor.text(text),
            category=category,
            service=service,
            operation=operation,
            retryable=category in (ErrorCategory.NETWORK, ErrorCategory.TIMEOUT),
            details={"exception": type(exc).__name__},
            request_sent=sent,
            endpoint=endpoint,
        )


def _classify_exception(
    exc: BaseException, timeout_s: float | None
) -> tuple[ErrorCategory, bool, str]:
    """(category, may the request have reached the server, message)."""
    detail = str(exc) or type(exc).__name__
    # Before the request left: nothing can have happened on the server.
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return ErrorCategory.TIMEOUT, False, f"could not connect in time ({detail})"
    if isinstance(exc, httpx.ConnectError):
        return ErrorCategory.NETWORK, False, f"could not connect ({detail})"
    if isinstance(exc, httpx.TimeoutException):
        return ErrorCategory.TIMEOUT, True, f"no answer in time ({detail})"
    if isinstance(exc, TimeoutError):
        limit = f" within {timeout_s:g} s" if timeout_s is not None else ""
        return ErrorCategory.TIMEOUT, True, f"no complete answer{limit}; the attempt was cancelled"
    if isinstance(exc, httpx.RemoteProtocolError):
        return ErrorCategory.NETWORK, True, f"connection broken mid-answer ({detail})"
    if isinstance(exc, httpx.NetworkError | httpx.ProtocolError | OSError):
        return ErrorCategory.NETWORK, True, f"network error ({detail})"
    if isinstance(exc, httpx.DecodingError):
        return ErrorCategory.UNKNOWN, True, f"undecodable answer ({detail})"
    return ErrorCategory.UNKNOWN, True, f"{type(exc).__name__}: {detail}"


def describe_body(
    body: bytes, reason_phrase: str = "", *, redact: Callable[[str], str] = str
) -> tuple[str, dict[str, Any], str]:
    """Extract (short reason, known JSON fields, text snippet) from an error body.

    The reason comes from JSON ``message``/``Message``/``description`` (also from JSON cut
    short), else an HTML ``<title>``/``<h1>``, else the start of the text, else the HTTP
    reason phrase. ``redact`` masks secrets in the whole snippet and the whole reason (once
    unescaped) before either is cut short: a cut through a secret would leave a piece that
    no longer matches it. The fields are returned as found, for the caller to redact.
    """
    text = _CONTROL.sub("\ufffd", body.decode("utf-8", errors="replace")).strip()
    snippet = _truncate(_SPACE.sub(" ", redact(text)), _MAX_SNIPPET)
    if not text:
        return reason_phrase or "empty response body", {}, ""
    fields: dict[str, Any] = {}
    reason: str | None = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        reason = _json_reason(data)
        fields = {
            name: data[key]
            for key, name in _DETAIL_KEYS.items()
            if isinstance(data.get(key), str | int)
        }
    elif data is None and text[:1] in "{[":
        match = _JSON_MESSAGE.search(text)
        if match:
            reason = _unescape_json(match.group(1))
        fields["malformed_json"] = True
    if reason is None and "<" in text:
        match = _TITLE.search(text) or _H1.search(text)
        if match:
            reason = html.unescape(_TAG.sub("", match.group(1)))
        else:
            reason = html.unescape(_TAG.sub(" ", text))
    if reason is None or not reason.strip():
        reason = text if data is None else (reason_phrase or text)
    return _truncate(_one_line(redact(reason)), _MAX_MESSAGE), fields, snippet


def _json_reason(data: dict[str, Any]) -> str | None:
    for key in _MESSAGE_KEYS + _FALLBACK_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, dict):
            nested = _json_reason(value)
            if nested:
                return nested
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _json_reason(errors[0])
    return None


def _unescape_json(fragment: str) -> str:
    try:
        value = json.loads(f'"{fragment}"')
    except ValueError:
        return fragment
    return value if isinstance(value, str) else fragment


def _one_line(text: str) -> str:
    # Also here: a JSON message may carry a control character escaped ("\u0000").
    return _SPACE.sub(" ", _CONTROL.sub("\ufffd", text)).strip()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class CircuitOpenError(IntegrationError):
    """The circuit breaker refused the call: nothing was sent. ``retry_after`` says when the
    breaker will admit a probe."""
