"""HubSpot's own error vocabulary, turned into ``IntegrationError``s.

Whole-call failures are classified by the base connector from the HTTP status. What is
left here: the error items inside a 207 batch answer (each names the inputs it concerns in
``context.ids``, with HubSpot's category but no HTTP status) and answers whose 2xx body is
not the shape HubSpot documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.observability.redaction import Redactor

SERVICE = "hubspot"

# HubSpot category -> (our category, the HTTP status HubSpot uses for it on single calls).
_CATEGORIES: dict[str, tuple[ErrorCategory, int | None]] = {
    "OBJECT_NOT_FOUND": (ErrorCategory.NOT_FOUND, 404),
    "VALIDATION_ERROR": (ErrorCategory.VALIDATION, 400),
    "PROPERTY_DOESNT_EXIST": (ErrorCategory.VALIDATION, 400),
    "INVALID_EMAIL": (ErrorCategory.VALIDATION, 400),
    "CONFLICT": (ErrorCategory.CONFLICT, 409),
    "OBJECT_ALREADY_EXISTS": (ErrorCategory.CONFLICT, 409),
    "LOCKED": (ErrorCategory.CONFLICT, 423),
    "INVALID_AUTHENTICATION": (ErrorCategory.AUTHENTICATION, 401),
    "MISSING_SCOPES": (ErrorCategory.AUTHORIZATION, 403),
    "RATE_LIMITS": (ErrorCategory.RATE_LIMIT, 429),
    "RATE_LIMIT": (ErrorCategory.RATE_LIMIT, 429),
    "INTERNAL_ERROR": (ErrorCategory.SERVER, 500),
}


def error_ids(item: Mapping[str, Any]) -> list[str]:
    """The inputs a batch error item names: ``context.ids`` (or ``context.id``)."""
    context = item.get("context")
    if not isinstance(context, Mapping):
        return []
    found: list[str] = []
    for key in ("ids", "id"):
        values = context.get(key)
        if isinstance(values, list):
            found.extend(str(v) for v in values if isinstance(v, str | int))
        elif isinstance(values, str | int):
            found.append(str(values))
    return found


def item_error(
    item: Mapping[str, Any], *, operation: str, endpoint: str, redactor: Redactor
) -> IntegrationError:
    """The ``IntegrationError`` for one error item of a batch answer (its ids not included:
    they are input values, which may be emails)."""
    raw_category = item.get("category")
    category, status = _CATEGORIES.get(
        raw_category if isinstance(raw_category, str) else "", (ErrorCategory.UNKNOWN, None)
    )
    message = item.get("message")
    details: dict[str, Any] = {}
    if isinstance(raw_category, str):
        details["error_type"] = raw_category
    sub = item.get("subCategory")
    if isinstance(sub, str):
        details["sub_category"] = sub
    return IntegrationError(
        redactor.text(message if isinstance(message, str) else "batch input failed"),
        category=category,
        service=SERVICE,
        operation=operation,
        status=status,
        # The call succeeded as a whole: repeating it would meet the same answer.
        retryable=category in (ErrorCategory.RATE_LIMIT, ErrorCategory.SERVER),
        details=redactor.mapping(details),
        endpoint=endpoint,
    )


def batch_errors(
    body: Mapping[str, Any], *, operation: str, endpoint: str, redactor: Redactor
) -> list[tuple[list[str], IntegrationError]]:
    """The error items of a batch answer: (the input ids each names, its error)."""
    items = body.get("errors")
    return [
        (
            error_ids(item),
            item_error(item, operation=operation, endpoint=endpoint, redactor=redactor),
        )
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping)
    ]


def missing_result(*, operation: str, endpoint: str) -> IntegrationError:
    """For an input HubSpot's batch answer says nothing about."""
    return IntegrationError(
        "HubSpot's batch answer holds neither a result nor an error for this input",
        category=ErrorCategory.UNKNOWN,
        service=SERVICE,
        operation=operation,
        endpoint=endpoint,
    )


def unexpected_body(
    problem: str, *, status: int, operation: str, endpoint: str
) -> IntegrationError:
    """A 2xx answer that is valid JSON but not the shape HubSpot documents."""
    return IntegrationError(
        f"unexpected answer: {problem}",
        category=ErrorCategory.UNKNOWN,
        service=SERVICE,
        operation=operation,
        status=status,
        endpoint=endpoint,
    )
