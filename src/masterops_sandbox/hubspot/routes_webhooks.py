"""The app's webhook settings and subscriptions, under ``/webhooks/v3/{appId}``.

HubSpot authenticates these with a developer key; the sandbox takes the portal's
own bearer token instead, and the ``appId`` must be that portal's app. This is
how a client outside the process points the sandbox's events at itself.
"""

from __future__ import annotations

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import (
    HubSpotError,
    empty_response,
    json_response,
    validation_error,
)


def _check_app(call: Call) -> None:
    if call.params["appId"] != str(call.portal.app_id):
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"App {call.params['appId']} not found.")


async def get_settings(call: Call) -> Response:
    _check_app(call)
    url = call.sandbox.webhook_target(call.portal)
    if url is None:
        raise HubSpotError(404, "OBJECT_NOT_FOUND", "No webhook settings for this app.")
    return json_response(
        {"targetUrl": url, "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"}}
    )


async def put_settings(call: Call) -> Response:
    _check_app(call)
    body = await call.json_object()
    url = body.get("targetUrl")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise validation_error("targetUrl must be an http(s) URL")
    call.portal.webhook_url = url
    return json_response(
        {"targetUrl": url, "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"}}
    )


async def list_subscriptions(call: Call) -> Response:
    _check_app(call)
    return json_response({"results": [s.to_json() for s in call.portal.subscriptions.all()]})


async def create_subscription(call: Call) -> Response:
    _check_app(call)
    body = await call.json_object()
    event_type = body.get("eventType")
    name = body.get("propertyName")
    if not isinstance(event_type, str) or (name is not None and not isinstance(name, str)):
        raise validation_error("eventType is required; propertyName must be a string")
    try:
        subscription = call.portal.subscriptions.add(event_type, name)
    except ValueError as exc:
        raise validation_error(str(exc)) from exc
    return json_response(subscription.to_json(), 201)


async def delete_subscription(call: Call) -> Response:
    _check_app(call)
    raw = call.params["subscriptionId"]
    if not raw.isdigit() or not call.portal.subscriptions.remove(int(raw)):
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Subscription {raw} not found.")
    return empty_response(204)
