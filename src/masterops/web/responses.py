"""JSON answers and query-string parsing shared by the receivers and the API."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response


class BadRequest(Exception):
    """A request the server cannot act on; becomes ``{"error": code, "message": ...}``."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = "bad_request",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = dict(headers or {})


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)  # PostgreSQL's ROUND() and AVG() return numerics
    raise TypeError(f"cannot serialise {type(value).__name__}")


class JSON(Response):
    """A JSON response that serialises datetimes (ISO 8601) and decimals (floats)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_default, separators=(",", ":")).encode()


def error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSON:
    return JSON({"error": code, "message": message}, status_code=status, headers=headers)


def parse_json_body(body: bytes) -> Any:
    """The body as JSON, or a 400 saying why not (a body nested too deep included, which
    Python's parser answers with a RecursionError)."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}", code="malformed_json") from None
    except RecursionError:
        raise BadRequest(
            "the body is not usable JSON: it is nested too deep", code="malformed_json"
        ) from None


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, read as it streams in and abandoned as soon as it passes
    ``limit`` bytes (a 413), so a huge or endless chunked upload never sits in memory."""
    too_large = BadRequest(f"the body is over {limit} bytes", status=413, code="too_large")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def check_params(params: QueryParams, allowed: Iterable[str]) -> None:
    """Refuse unknown query parameters (a typo must not silently widen a query) and
    values holding a NUL, which no database text column can hold or be compared with."""
    known = set(allowed)
    unknown = sorted(set(params.keys()) - known)
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known)) or 'none'}"
        )
    for name, value in params.multi_items():
        if "\x00" in value:
            raise BadRequest(f"{name} must not contain a NUL character (%00)")


def int_param(params: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {value}")
    return value


def float_param(
    params: Mapping[str, str], name: str, default: float, *, low: float, high: float
) -> float:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or not low < value <= high:
        raise BadRequest(f"{name} must be above {low:g} and at most {high:g}, got {raw}")
    return value


def choice_param(params: Mapping[str, str], name: str, choices: Iterable[str]) -> str | None:
    raw = params.get(name)
    options = tuple(choices)
    if raw is not None and raw not in options:
        raise BadRequest(f"{name} must be one of {', '.join(options)}, got {raw!r}")
    return raw
