"""Answers and the API-key guard shared by every public API route."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from masterops_sandbox.n8n.validation import ApiError, BadJson

Handler = Callable[[Request], Awaitable[Response]]
KeySource = Callable[[], str]

MISSING_KEY = "'X-N8N-API-KEY' header required"
BAD_KEY = "unauthorized"
NOT_FOUND = "Not Found"
#: n8n's rate limiter (express-rate-limit, configured with n8n's own error body) says this.
TOO_MANY_REQUESTS = "Too many requests"
# What Express's final handler sends when n8n's body parser throws (NODE_ENV=production).
BAD_JSON_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
    "</head>\n<body>\n<pre>Internal Server Error</pre>\n</body>\n</html>\n"
)


class N8nJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"


def ok(payload: Any, status: int = 200) -> Response:
    return N8nJSONResponse(payload, status_code=status)


def message(status: int, text: str) -> Response:
    return N8nJSONResponse({"message": text}, status_code=status)


def too_many_requests(retry_after: int | None) -> Response:
    """n8n's rate-limit answer: 429 with its ``{"message": ...}`` error body and, when the
    wait is known, ``Retry-After`` in whole seconds."""
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return N8nJSONResponse({"message": TOO_MANY_REQUESTS}, status_code=429, headers=headers)


def guarded(api_key: KeySource, handler: Handler) -> Handler:
    """Check ``X-N8N-API-KEY`` first (the real server authenticates before it validates),
    then turn ``ApiError`` and ``BadJson`` into the real server's answers."""

    async def endpoint(request: Request) -> Response:
        key = request.headers.get("x-n8n-api-key")
        if not key:
            return message(401, MISSING_KEY)
        if not hmac.compare_digest(key.encode(), api_key().encode()):
            return message(401, BAD_KEY)
        try:
            return await handler(request)
        except ApiError as exc:
            return message(exc.status, exc.message)
        except BadJson:
            return HTMLResponse(BAD_JSON_PAGE, status_code=500)

    return endpoint
