"""The platform routes library workflows call, and the fields each answer has.

``ops workflows validate`` checks that an expression reading a platform answer names a
field that answer really has (``$json.success_rate_pct``, not ``$json.success_rate``,
which n8n would quietly render as "undefined"). The shapes are written here, by hand,
because the workflow domain may not import the web layer; tests/workflows compare each
one with what the running API answers, so a renamed field fails a test, not a workflow.

A shape is a dict of field -> sub-shape: ``None`` for a scalar (or a value not looked
into), a dict for an object, a one-element list for an array of that element.
"""

from __future__ import annotations

import re
from typing import Any

Shape = dict[str, Any]

_JOB = {
    "job_id": None,
    "status": None,
    "entity": None,
    "businesses": [None],
    "url": None,
}
_JOB_STATUS = {
    **_JOB,
    "created_at": None,
    "started_at": None,
    "ended_at": None,
    "results": [None],
    "error": None,
}
_REPORT = {
    "business_id": None,
    "business_name": None,
    "title": None,
    "period": {
        "kind": None,
        "key": None,
        "timezone": None,
        "first_day": None,
        "last_day": None,
        "start": None,
        "end": None,
    },
    "generated_at": None,
    "low_stock_threshold": None,
    "orders": {
        "count": None,
        "value": None,
        "currency": None,
        "by_status": [{"status": None, "count": None, "value": None}],
        "trend": [{"day": None, "orders": None, "value": None}],
    },
    "top_products": [{"product_code": None, "description": None, "quantity": None, "value": None}],
    "low_stock": [{"product_code": None, "description": None, "available": None}],
    "low_stock_total": None,
    "customers": {"new": None, "ordering": None},
    "syncs": [
        {
            "entity": None,
            "runs": None,
            "failed_runs": None,
            "refused_items": None,
            "last_status": None,
            "last_error": None,
        }
    ],
    "workflows": [
        {
            "workflow_name": None,
            "executions": None,
            "failed": None,
            "last_error": None,
            "success_rate_pct": None,
        }
    ],
    "errors": [{"service": None, "errors": None, "last_message": None}],
    "quotas": [{"service": None, "window": None, "used": None, "limit": None, "percent": None}],
}

#: (METHOD, path with ``{id}`` for a path parameter) -> the answer's shape.
ROUTES: dict[tuple[str, str], Shape] = {
    ("POST", "/api/v1/jobs/sync"): _JOB,
    ("GET", "/api/v1/jobs/{id}"): _JOB_STATUS,
    ("POST", "/api/v1/health/rounds"): {
        "status": None,
        "checked": None,
        "counts": {},
        "alerts": None,
    },
    ("GET", "/api/v1/reports/daily"): {
        "count": None,
        "subject": None,
        "text": None,
        "reports": [_REPORT],
    },
    ("POST", "/api/v1/exports"): {
        "name": None,
        "format": None,
        "business": None,
        "rows": None,
        "file": None,
        "path": None,
    },
    ("POST", "/api/v1/reports/daily/deliveries"): {
        "count": None,
        "sent": None,
        "error": None,
        "message": None,
        "deliveries": [
            {
                "business_id": None,
                "business_name": None,
                "kind": None,
                "period": None,
                "status": None,
                "channels": [None],
                "error": None,
            }
        ],
    },
    ("POST", "/api/v1/workflow-errors"): {"id": None, "recorded": None},
    # The order receiver: signed with the business's secret, not called with a token. Its
    # answer is 202 {received, new, event_id, status[, reason]}, else {error, message}.
    ("POST", "/webhooks/orders/{id}"): {
        "received": None,
        "new": None,
        "event_id": None,
        "status": None,
        "reason": None,
        "error": None,
        "message": None,
    },
}

#: Routes a workflow calls signed (HMAC), without the platform's API token.
SIGNED_ROUTES = frozenset({("POST", "/webhooks/orders/{id}")})


def full_response(shape: Shape) -> Shape:
    """The item an HTTP Request node set to include the response status gives:
    ``{body, headers, statusCode, statusMessage}`` around the answer."""
    return {"body": shape, "headers": {}, "statusCode": None, "statusMessage": None}


_EXPRESSION_PART = re.compile(r"\{\{.*?\}\}")


def route_of(method: str, url: str, base: str) -> tuple[str, str] | None:
    """The (METHOD, route) ``url`` calls when it starts with ``base``, expressions in the
    path read as ``{id}``; None when the URL is not the platform's or not a known route."""
    text = url.removeprefix("=")
    if not text.startswith(base):
        return None
    path = _EXPRESSION_PART.sub("{id}", text[len(base) :]).split("?", 1)[0]
    key = (method.upper(), path)
    return key if key in ROUTES else None


def platform_paths() -> list[str]:
    return sorted({f"{method} {path}" for method, path in ROUTES})


def missing_field(shape: Shape, path: list[str]) -> str | None:
    """The first segment of ``path`` (field names, ``[]`` for an index) that ``shape``
    does not have, as a dotted prefix; None when the shape has it or stops looking."""
    current: Any = shape
    walked: list[str] = []
    for segment in path:
        if current is None or current == {}:
            return None  # a scalar or an open object: not looked into
        if segment == "[]":
            if not isinstance(current, list):
                return None
            current = current[0]
            walked.append("[]")
            continue
        if isinstance(current, list):
            return None  # .length, .map, ... on an array
        if segment not in current:
            return ".".join([*walked, segment]).replace(".[]", "[]")
        current = current[segment]
        walked.append(segment)
    return None
