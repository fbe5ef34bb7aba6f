"""Association labels: ``/crm/v4/associations/{from}/{to}/labels[/{associationTypeId}]``.

``GET`` lists the pair's types: HubSpot's own (the unlabeled default has label
``null``) and the portal's labels. ``POST`` creates a label, both directions, and
answers 200 with them; ``PUT`` renames one (204); ``DELETE`` removes a label and its
inverse, and every association that used them (204).
"""

from __future__ import annotations

from starlette.responses import Response

from masterops_sandbox.hubspot.associations import HUBSPOT_DEFINED, defined_types
from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import empty_response, json_response, validation_error
from masterops_sandbox.hubspot.labels import USER_DEFINED
from masterops_sandbox.hubspot.objecttypes import ObjectType


def _to_type(call: Call) -> ObjectType:
    assert call.to_type is not None  # every route here has {toObjectType}
    return call.to_type


async def list_labels(call: Call) -> Response:
    pair = (call.type.name, _to_type(call).name)
    results = [
        {"category": HUBSPOT_DEFINED, "typeId": t.type_id, "label": t.label}
        for t in defined_types(*pair)
    ]
    results += [label.to_json() for label in call.portal.associations.labels.for_pair(*pair)]
    return json_response({"results": results})


async def create_label(call: Call) -> Response:
    labels = call.portal.associations.labels
    made = labels.create(call.type.name, _to_type(call).name, await call.json_object())
    return json_response({"results": [label.to_json() for label in made]})


async def update_label(call: Call) -> Response:
    labels = call.portal.associations.labels
    labels.update(call.type.name, _to_type(call).name, await call.json_object())
    return empty_response(204)


async def delete_label(call: Call) -> Response:
    raw = call.params["associationTypeId"]
    if not raw.isdigit():
        raise validation_error(f"Invalid associationTypeId: {raw!r}")
    associations = call.portal.associations
    removed = associations.labels.delete(call.type.name, _to_type(call).name, int(raw))
    associations.forget_type((USER_DEFINED, removed.type_id))
    associations.forget_type((USER_DEFINED, removed.inverse))
    return empty_response(204)
