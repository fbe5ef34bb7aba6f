"""Errors the Unleashed sandbox answers with.

The real error body is unverified (clients have seen ``description`` as well as
``message``/``Message``); the sandbox always answers ``{"description": "..."}``,
for every status it produces (400, 403, 404, 405, 429, 500).
"""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.types import Send


class UnleashedError(Exception):
    """An answer other than success: its status and description."""

    status = 400

    def __init__(self, description: str, status: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        if status is not None:
            self.status = status


class ValidationFailed(UnleashedError, ValueError):
    """The request (or a Python API call) asks for something invalid: 400."""

    status = 400


class NotFound(UnleashedError, LookupError):
    status = 404


def error_body(description: str) -> bytes:
    return json.dumps({"description": description}).encode()


async def refuse(
    send: Send, status: int, description: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer a request the service turns away before any route (authentication, quota,
    rate limit): the error body, its length and type, then ``extra`` headers."""
    body = error_body(description)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_response(
    status: int, description: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        error_body(description),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
