"""The HubSpot app: its routes, and the entry points that wrap it in a harness."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.faults import RateLimitAnswer
from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.hubspot import (
    routes_associations,
    routes_associations_v3,
    routes_batch,
    routes_labels,
    routes_merge,
    routes_objects,
    routes_owners,
    routes_pipelines,
    routes_properties,
    routes_search,
    routes_webhooks,
)
from masterops_sandbox.hubspot.endpoint import Access, Handler, endpoint
from masterops_sandbox.hubspot.errors import error_response, json_response
from masterops_sandbox.hubspot.portal import OWNERS_SCOPE
from masterops_sandbox.hubspot.ratelimit import RateLimited
from masterops_sandbox.hubspot.sandbox import HubSpotSandbox
from masterops_sandbox.hubspot.webhooks import SendFn

_OBJECTS = "/crm/v3/objects/{objectType}"
_ONE = _OBJECTS + "/{objectId}"
_PROPERTIES = "/crm/v3/properties/{objectType}"
_GROUPS = _PROPERTIES + "/groups"
_PIPELINES = "/crm/v3/pipelines/{objectType}"
_PIPELINE = _PIPELINES + "/{pipelineId}"
_STAGES = _PIPELINE + "/stages"
_OWNERS = "/crm/v3/owners"
_V3_BATCH = "/crm/v3/associations/{objectType}/{toObjectType}/batch"
_V4_ONE = "/crm/v4/objects/{objectType}/{objectId}/associations"
_V4_BATCH = "/crm/v4/associations/{objectType}/{toObjectType}/batch"
_LABELS = "/crm/v4/associations/{objectType}/{toObjectType}/labels"
_HOOKS = "/webhooks/v3/{appId}"

# (path, method, handler, scope access, search limiter). Order matters where a literal
# segment ("search", "batch/read", "default") competes with a path parameter.
_ROUTES: tuple[tuple[str, str, Handler, Access, bool], ...] = (
    (_OBJECTS, "GET", routes_objects.list_objects, "read", False),
    (_OBJECTS, "POST", routes_objects.create_object, "write", False),
    (_OBJECTS + "/search", "POST", routes_search.search_objects, "read", True),
    (_OBJECTS + "/merge", "POST", routes_merge.merge_objects, "write", False),
    (_OBJECTS + "/batch/read", "POST", routes_batch.batch, "read", False),
    (_OBJECTS + "/batch/{action}", "POST", routes_batch.batch, "write", False),
    (_ONE, "GET", routes_objects.get_object, "read", False),
    (_ONE, "PATCH", routes_objects.update_object, "write", False),
    (_ONE, "DELETE", routes_objects.archive_object, "write", False),
    (_PROPERTIES, "GET", routes_properties.list_properties, "schema_read", False),
    (_PROPERTIES, "POST", routes_properties.create_property, "schema_write", False),
    (_GROUPS, "GET", routes_properties.list_groups, "schema_read", False),
    (_GROUPS, "POST", routes_properties.create_group, "schema_write", False),
    (_GROUPS + "/{groupName}", "GET", routes_properties.get_group, "schema_read", False),
    (_GROUPS + "/{groupName}", "PATCH", routes_properties.update_group, "schema_write", False),
    (_GROUPS + "/{groupName}", "DELETE", routes_properties.archive_group, "schema_write", False),
    (_PROPERTIES + "/{propertyName}", "GET", routes_properties.get_property, "schema_read", False),
    (
        _PROPERTIES + "/{propertyName}",
        "PATCH",
        routes_properties.update_property,
        "schema_write",
        False,
    ),
    (
        _PROPERTIES + "/{propertyName}",
        "DELETE",
        routes_properties.archive_property,
        "schema_write",
        False,
    ),
    (_PIPELINES, "GET", routes_pipelines.list_pipelines, "read", False),
    (_PIPELINES, "POST", routes_pipelines.create_pipeline, "write", False),
    (_PIPELINE, "GET", routes_pipelines.get_pipeline, "read", False),
    (_PIPELINE, "PATCH", routes_pipelines.update_pipeline, "write", False),
    (_PIPELINE, "PUT", routes_pipelines.replace_pipeline, "write", False),
    (_PIPELINE, "DELETE", routes_pipelines.archive_pipeline, "write", False),
    (_STAGES, "GET", routes_pipelines.list_stages, "read", False),
    (_STAGES, "POST", routes_pipelines.create_stage, "write", False),
    (_STAGES + "/{stageId}", "GET", routes_pipelines.get_stage, "read", False),
    (_STAGES + "/{stageId}", "PATCH", routes_pipelines.update_stage, "write", False),
    (_STAGES + "/{stageId}", "PUT", routes_pipelines.replace_stage, "write", False),
    (_STAGES + "/{stageId}", "DELETE", routes_pipelines.archive_stage, "write", False),
    # The official SDKs call the owners list with a trailing slash.
    (_OWNERS, "GET", routes_owners.list_owners, OWNERS_SCOPE, False),
    (_OWNERS + "/", "GET", routes_owners.list_owners, OWNERS_SCOPE, False),
    (_OWNERS + "/{ownerId}", "GET", routes_owners.get_owner, OWNERS_SCOPE, False),
    (_V3_BATCH + "/read", "POST", routes_associations_v3.batch_read, "read", False),
    (_V3_BATCH + "/create", "POST", routes_associations_v3.batch_create, "write", False),
    (_V3_BATCH + "/archive", "POST", routes_associations_v3.batch_archive, "write", False),
    (_LABELS, "GET", routes_labels.list_labels, "read", False),
    (_LABELS, "POST", routes_labels.create_label, "write", False),
    (_LABELS, "PUT", routes_labels.update_label, "write", False),
    (_LABELS + "/{associationTypeId}", "DELETE", routes_labels.delete_label, "write", False),
    (
        _V4_ONE + "/default/{toObjectType}/{toObjectId}",
        "PUT",
        routes_associations.associate_default,
        "write",
        False,
    ),
    (
        _V4_ONE + "/{toObjectType}/{toObjectId}",
        "PUT",
        routes_associations.associate_labelled,
        "write",
        False,
    ),
    (
        _V4_ONE + "/{toObjectType}/{toObjectId}",
        "DELETE",
        routes_associations.remove_association,
        "write",
        False,
    ),
    (_V4_ONE + "/{toObjectType}", "GET", routes_associations.list_associations, "read", False),
    (
        _V4_BATCH + "/associate/default",
        "POST",
        routes_associations.batch_associations,
        "write",
        False,
    ),
    (_V4_BATCH + "/read", "POST", routes_associations.batch_associations, "read", False),
    (_V4_BATCH + "/{action}", "POST", routes_associations.batch_associations, "write", False),
    (_HOOKS + "/settings", "GET", routes_webhooks.get_settings, None, False),
    (_HOOKS + "/settings", "PUT", routes_webhooks.put_settings, None, False),
    (_HOOKS + "/subscriptions", "GET", routes_webhooks.list_subscriptions, None, False),
    (_HOOKS + "/subscriptions", "POST", routes_webhooks.create_subscription, None, False),
    (
        _HOOKS + "/subscriptions/{subscriptionId}",
        "DELETE",
        routes_webhooks.delete_subscription,
        None,
        False,
    ),
)


def hubspot_app(sandbox: HubSpotSandbox) -> Starlette:
    """The Starlette app serving ``sandbox`` (without the harness around it)."""

    async def http_error(request: Request, exc: Exception) -> Response:
        # Unknown paths and methods get HubSpot's JSON error shape, not Starlette's text.
        assert isinstance(exc, HTTPException)
        category = "OBJECT_NOT_FOUND" if exc.status_code == 404 else "VALIDATION_ERROR"
        body = {
            "status": "error",
            "message": f"{request.method} {request.url.path}: {exc.detail}",
            "correlationId": sandbox.correlation.next(),
            "category": category,
        }
        return json_response(body, exc.status_code)

    routes = [
        Route(
            path,
            endpoint(sandbox, handler, access=access, search=search),
            methods=[method],
            name=f"{method} {path}",
        )
        for path, method, handler, access, search in _ROUTES
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


def injected_rate_limit(sandbox: HubSpotSandbox) -> RateLimitAnswer:
    """The 429 fault injection answers with: the limiter's own error (same body, same
    rate-limit headers for the caller's portal), so a client cannot tell them apart."""

    def answer(scope: Scope, retry_after: int | None, policy: str | None) -> ASGIApp:
        search = scope["path"].endswith("/search")
        chosen = policy or ("SECONDLY" if search else "TEN_SECONDLY_ROLLING")
        portal = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    portal = sandbox.portal_for_token(token.strip())
        # Like the limiter: the search limit's 429 carries no rate-limit headers.
        headers = portal.limits.headers() if portal is not None and chosen != "SECONDLY" else {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        error = RateLimited(chosen, headers, with_category=sandbox.rate_limit_category)
        return error_response(error, sandbox.correlation.next())

    return answer


def build_hubspot(
    accounts: Mapping[str, SandboxAccount],
    *,
    seed: int = 0,
    webhook_url: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    send_webhook: SendFn | None = None,
    auto_deliver_webhooks: bool = True,
) -> tuple[HubSpotSandbox, ServiceHarness]:
    """The sandbox's state (for its Python API) and the harness serving it.

    ``clock`` (seconds, monotonic) drives the rate limits; ``now`` stamps records,
    events and the daily reset. ``send_webhook`` replaces the HTTP POST of webhook
    deliveries (e.g. to deliver in-process); with ``auto_deliver_webhooks`` off,
    events wait for ``sandbox.flush_webhooks()``."""
    sandbox = HubSpotSandbox(
        accounts,
        seed=seed,
        webhook_url=webhook_url,
        clock=clock,
        now=now,
        send_webhook=send_webhook,
        auto_deliver_webhooks=auto_deliver_webhooks,
    )
    harness = ServiceHarness(
        "hubspot",
        hubspot_app(sandbox),
        state=sandbox.state,
        rate_limited=injected_rate_limit(sandbox),
    )
    return sandbox, harness


def create_hubspot(
    accounts: Mapping[str, SandboxAccount],
    *,
    seed: int = 0,
    webhook_url: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ServiceHarness:
    """The HubSpot imitation for ``accounts`` (one portal each), empty, in a harness."""
    return build_hubspot(accounts, seed=seed, webhook_url=webhook_url, clock=clock, now=now)[1]
