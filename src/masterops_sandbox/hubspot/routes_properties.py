"""Property definitions: ``/crm/v3/properties/{objectType}`` and ``.../{propertyName}``.

Creating a property answers 201, or 409 when the name is taken. A property
created with ``hasUniqueValue: true`` can serve as ``idProperty`` at once.
"""

from __future__ import annotations

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import HubSpotError, json_response


async def list_properties(call: Call) -> Response:
    registry = call.portal.store(call.type).registry
    return json_response({"results": [d.to_json() for d in registry.all()]})


async def get_property(call: Call) -> Response:
    name = call.params["propertyName"]
    definition = call.portal.store(call.type).registry.get(name)
    if definition is None:
        raise HubSpotError(
            404,
            "OBJECT_NOT_FOUND",
            f"Unable to find property {name} for object type {call.type.type_id}",
        )
    return json_response(definition.to_json())


async def create_property(call: Call) -> Response:
    definition = call.portal.add_property(call.type, await call.json_object(), call.now_ms())
    return json_response(definition.to_json(), 201)
