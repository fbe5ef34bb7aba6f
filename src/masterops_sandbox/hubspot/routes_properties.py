"""Property definitions and groups: ``/crm/v3/properties/{objectType}[/{propertyName}]``
and ``/crm/v3/properties/{objectType}/groups[/{groupName}]``.

Creating a property answers 201, or 409 when the name is taken (archived names stay
taken). A property created with ``hasUniqueValue: true`` can serve as
``idProperty`` at once. ``PATCH`` changes a custom property's definition and
``DELETE`` archives it (204); HubSpot's own properties refuse both (400). Groups
answer the same way: 201 on create, 409 on a taken name, 204 on archive.
"""

from __future__ import annotations

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import empty_response, json_response


def _archived(call: Call) -> bool:
    return call.request.query_params.get("archived", "false").lower() == "true"


async def list_properties(call: Call) -> Response:
    registry = call.portal.store(call.type).registry
    found = registry.archived() if _archived(call) else registry.all()
    return json_response({"results": [d.to_json() for d in found]})


async def get_property(call: Call) -> Response:
    registry = call.portal.store(call.type).registry
    return json_response(registry.require(call.params["propertyName"]).to_json())


async def create_property(call: Call) -> Response:
    definition = call.portal.add_property(call.type, await call.json_object(), call.now_ms())
    return json_response(definition.to_json(), 201)


async def update_property(call: Call) -> Response:
    registry = call.portal.store(call.type).registry
    body = await call.json_object()
    definition = registry.update(call.params["propertyName"], body, call.now_ms())
    return json_response(definition.to_json())


async def archive_property(call: Call) -> Response:
    registry = call.portal.store(call.type).registry
    registry.archive(call.params["propertyName"], call.now_ms())
    return empty_response(204)


async def list_groups(call: Call) -> Response:
    groups = call.portal.store(call.type).registry.groups
    return json_response({"results": [g.to_json() for g in groups.all()]})


async def get_group(call: Call) -> Response:
    groups = call.portal.store(call.type).registry.groups
    return json_response(groups.get(call.params["groupName"]).to_json())


async def create_group(call: Call) -> Response:
    groups = call.portal.store(call.type).registry.groups
    return json_response(groups.create(await call.json_object()).to_json(), 201)


async def update_group(call: Call) -> Response:
    groups = call.portal.store(call.type).registry.groups
    body = await call.json_object()
    return json_response(groups.update(call.params["groupName"], body).to_json())


async def archive_group(call: Call) -> Response:
    registry = call.portal.store(call.type).registry
    name = call.params["groupName"]
    registry.groups.archive(name, registry.in_group(name))
    return empty_response(204)
