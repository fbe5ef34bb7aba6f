"""HubSpot's error bodies and the JSON responses the sandbox sends.

Every error HubSpot returns has the shape
``{status: "error", message, correlationId, category, subCategory?, context?, errors?}``;
handlers raise ``HubSpotError`` and the endpoint wrapper renders it with a
deterministic correlation id.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json;charset=utf-8"


class HubSpotError(Exception):
    """An error answer: raise it anywhere below a route to send HubSpot's error body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        sub_category: str | None = None,
        context: Mapping[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.sub_category = sub_category
        self.context = dict(context) if context else None
        self.errors = errors
        self.extra = dict(extra) if extra else {}
        self.headers = dict(headers) if headers else {}

    def body(self, correlation_id: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.sub_category is not None:
            payload["subCategory"] = self.sub_category
        if self.context is not None:
            payload["context"] = self.context
        if self.errors is not None:
            payload["errors"] = self.errors
        payload.update(self.extra)
        return payload


def validation_error(message: str, **kwargs: Any) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **kwargs)


def not_found(message: str = "Object not found.", **kwargs: Any) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", message, **kwargs)


class CorrelationIds:
    """UUID-shaped correlation ids drawn from a seeded generator, so runs repeat."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"hubspot-correlation:{seed}")

    def next(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(dumps(payload), status, headers=headers, media_type=JSON_TYPE)


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(b"", status, headers=headers)


def error_response(
    error: HubSpotError, correlation_id: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The answer for ``error``: its body and status, ``headers`` plus its own, and the
    correlation id in ``X-HubSpot-Correlation-Id`` as HubSpot sends it."""
    merged = {**(headers or {}), **error.headers, "X-HubSpot-Correlation-Id": correlation_id}
    return json_response(error.body(correlation_id), error.status, merged)
