"""A request body limit for the API: the body is read as it streams in, at most
``limit`` bytes, before the application sees it, so an oversized (or endless, chunked)
upload is a 413 after about ``limit`` bytes, with or without a valid token."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masterops.web.responses import error

API_BODY_LIMIT = 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int = API_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = error(413, "too_large", f"the body is over {self.limit} bytes")
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await too_large(scope, receive, send)
                return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)
