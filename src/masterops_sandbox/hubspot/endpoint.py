"""What every HubSpot route does before and after its own work.

In order: a queued one-off failure, bearer-token auth (401), the rate limits
(429; search has its own), object type resolution (400), scopes (403), then the
handler. Errors become HubSpot's JSON body; rate-limit headers go on every
answer that passed the limiter, errors included.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from masterops_sandbox.hubspot.errors import (
    HubSpotError,
    error_response,
    validation_error,
)
from masterops_sandbox.hubspot.objecttypes import ObjectType, object_type
from masterops_sandbox.hubspot.portal import Portal
from masterops_sandbox.hubspot.sandbox import HubSpotSandbox
from masterops_sandbox.hubspot.values import iso_ms

_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. Read more about "
    "required scopes here: https://developers.hubspot.com/scopes."
)

# Which scope of a type a route needs: "read", "write", "schema_read", "schema_write", a
# literal scope ("crm.objects.owners.read") or None.
Access = str | None


@dataclass
class Call:
    """One authenticated request, as a handler sees it."""

    request: Request
    sandbox: HubSpotSandbox
    portal: Portal
    type: ObjectType  # the path's objectType (contacts for routes without one)
    to_type: ObjectType | None  # the path's toObjectType, on association routes

    @property
    def params(self) -> dict[str, Any]:
        return self.request.path_params

    @property
    def batch_action(self) -> str:
        """What follows ``/batch/`` in the path: "read", "upsert", "associate/default"..."""
        return self.request.url.path.partition("/batch/")[2]

    def now_ms(self) -> int:
        return self.sandbox.now_ms()

    def now_iso(self) -> str:
        return iso_ms(self.sandbox.now_ms())

    async def json(self) -> Any:
        raw = await self.request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise validation_error(f"Invalid input JSON on line 1: {exc}") from exc

    async def json_object(self) -> dict[str, Any]:
        body = await self.json()
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected an object")
        return body


Handler = Callable[[Call], Awaitable[Response]]


def _scope_for(kind: ObjectType, access: str) -> str:
    if access.startswith("crm."):  # a route that needs one fixed scope (owners)
        return access
    return {
        "read": kind.read_scope,
        "write": kind.write_scope,
        "schema_read": kind.schema_read_scope,
        "schema_write": kind.schema_write_scope,
    }[access]


def _seconds_to_midnight(sandbox: HubSpotSandbox) -> float:
    moment = sandbox.now()
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - moment).total_seconds()


def endpoint(
    sandbox: HubSpotSandbox,
    handler: Handler,
    *,
    access: Access = "read",
    search: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` with failures, auth, limits, type resolution and scopes."""

    async def run(request: Request) -> Response:
        headers: dict[str, str] = {}
        try:
            failure = sandbox.failures.take(request.method, request.url.path)
            if failure is not None:
                raise failure
            portal = _authenticate(sandbox, request)
            headers = portal.limits.admit(
                sandbox.clock(),
                sandbox.now().date(),
                _seconds_to_midnight(sandbox),
                search=search,
                retry_after=sandbox.send_retry_after,
                with_category=sandbox.rate_limit_category,
            )
            params = request.path_params
            kind = object_type(params.get("objectType", "contacts"))
            to_name = params.get("toObjectType")
            to_kind = object_type(to_name) if to_name is not None else None
            if access is not None:
                needed = [_scope_for(kind, access)]
                if to_kind is not None:
                    needed.append(_scope_for(to_kind, access))
                missing = [s for s in needed if s not in portal.scopes]
                if missing:
                    raise HubSpotError(
                        403,
                        "MISSING_SCOPES",
                        _SCOPES_MESSAGE,
                        errors=[
                            {
                                "message": "One or more of the following scopes are required.",
                                "context": {"requiredGranularScopes": needed},
                            }
                        ],
                        extra={"links": {"scopes": "https://developers.hubspot.com/scopes"}},
                    )
            response = await handler(Call(request, sandbox, portal, kind, to_kind))
        except HubSpotError as error:
            return error_response(error, sandbox.correlation.next(), headers)
        response.headers.update(headers)
        return response

    return run


def _authenticate(sandbox: HubSpotSandbox, request: Request) -> Portal:
    header = request.headers.get("authorization")
    if not header:
        raise HubSpotError(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE)
    scheme, _, token = header.partition(" ")
    portal = sandbox.portal_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if portal is None:
        raise HubSpotError(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found or invalid: the access token is not recognized.",
        )
    return portal
