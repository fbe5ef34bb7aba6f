"""``/graphql``: the schema behind the API's token check.

The token is checked before strawberry sees the request, the same way and with the same
JSON refusals as the REST API (401 without a usable token, 403 below read scope, 429
over the rate). A request strawberry cannot take (no query, bad JSON) and a query that
fails validation (unknown field, too deep, too many tokens or aliases) answer 400 with
``{"errors": [...]}``; a query that ran answers 200, with errors beside the data when a
resolver refused an argument. No IDE page: it would load scripts from a CDN.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException as GraphQLHTTPError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse

from masterops.web.auth import authenticate, require_scope
from masterops.web.graphql.loaders import Loaders
from masterops.web.graphql.schema import schema
from masterops.web.responses import BadRequest, error


class _View(GraphQL[dict[str, Any], None]):
    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        engine = request.app.state.engine
        return {
            "grant": request.scope["masterops.grant"],
            "engine": engine,
            "loaders": Loaders(engine),  # per request: its batches and cache end with it
        }

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        # No data and no error from a resolver (those have a path): refused before it ran.
        if isinstance(response_data, dict) and response_data.get("data") is None:
            errors = response_data.get("errors") or []
            if errors and not any(isinstance(e, dict) and e.get("path") for e in errors):
                response.status_code = 400
        return response


class GraphQLEndpoint:
    """The ASGI app ``create_app`` routes ``/graphql`` to."""

    def __init__(self) -> None:
        self._view = _View(schema, graphql_ide=None, allow_queries_via_get=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            grant = await authenticate(request)
            require_scope(grant, "read")
        except BadRequest as exc:
            await error(exc.status, exc.code, exc.message, exc.headers)(scope, receive, send)
            return
        scope["masterops.grant"] = grant
        try:
            response = await self._view.run(Request(scope, receive))
        except GraphQLHTTPError as exc:
            response = error(exc.status_code, "bad_request", exc.reason)
        await response(scope, receive, send)
