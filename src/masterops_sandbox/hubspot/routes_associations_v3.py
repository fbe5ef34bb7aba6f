"""Associations v3: ``POST /crm/v3/associations/{from}/{to}/batch/{read|create|archive}``.

v3 names a type by its name (``contact_to_company``; a label by its type id as
text) rather than v4's category and id. Read answers ``{from, to: [{id, type}]}``
per input; a record with no associations of the other type is an error item
(``NO_ASSOCIATIONS_FOUND``) and turns the answer 207. Create answers 201 (207
with error items), archive 204. At most 1000 inputs, as HubSpot documents for
association batch reads.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.associations import (
    ASSOCIATION_TYPES,
    HUBSPOT_DEFINED,
    Spec,
    defined_types,
)
from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import (
    HubSpotError,
    empty_response,
    json_response,
    validation_error,
)
from masterops_sandbox.hubspot.labels import USER_DEFINED
from masterops_sandbox.hubspot.objecttypes import ObjectType
from masterops_sandbox.hubspot.routes_associations import MAX_BATCH_INPUTS
from masterops_sandbox.hubspot.shape import envelope, error_items

Errors = dict[tuple[int, str, str], list[str]]


def _to_type(call: Call) -> ObjectType:
    assert call.to_type is not None  # every route here has {toObjectType}
    return call.to_type


def _type_name(call: Call, spec: Spec) -> str:
    category, type_id = spec
    if category == HUBSPOT_DEFINED and type_id in ASSOCIATION_TYPES:
        return ASSOCIATION_TYPES[type_id].name
    return str(type_id)


def _spec_of(call: Call, name: Any) -> Spec:
    """The type a v3 ``type`` names for this pair of object types."""
    pair = (call.type.name, _to_type(call).name)
    for known in defined_types(*pair):
        if known.name == name:
            return (HUBSPOT_DEFINED, known.type_id)
    if isinstance(name, str) and name.isdigit():
        label = call.portal.associations.labels.get(int(name))
        if label is not None and (label.from_type, label.to_type) == pair:
            return (USER_DEFINED, label.type_id)
    raise validation_error(f"{name!r} is not a valid association type from {pair[0]} to {pair[1]}")


def _id(raw: Any) -> str:
    return str(raw.get("id", "")) if isinstance(raw, dict) else ""


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("Invalid input JSON: inputs must be a list of objects")
    if len(inputs) > MAX_BATCH_INPUTS:
        raise validation_error(
            f"The maximum number of inputs supported in a batch is {MAX_BATCH_INPUTS}."
        )
    return inputs


def _no_links(call: Call, record_id: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {_to_type(call).singular} is associated with {call.type.singular} "
        f"{record_id}.",
        "context": {"fromObjectId": [record_id]},
        "errors": [],
        "links": {},
    }


async def batch_read(call: Call) -> Response:
    inputs = _inputs(await call.json_object())
    started = call.now_iso()
    results: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    missing: Errors = {}
    for item in inputs:
        key = _id(item)
        try:
            record = call.portal.require(call.type, key)
        except HubSpotError as error:
            missing.setdefault((error.status, error.category, error.message), []).append(key)
            continue
        linked = [
            {"id": str(to_id), "type": _type_name(call, spec)}
            for to_id, specs in call.portal.associations.targets(
                (call.type.name, record.id), _to_type(call).name
            )
            for spec in specs
        ]
        if linked:
            results.append({"from": {"id": str(record.id)}, "to": linked})
        else:
            items.append(_no_links(call, str(record.id)))
    items += error_items(missing)
    return json_response(envelope(results, items, started, call.now_iso()), 207 if items else 200)


async def batch_create(call: Call) -> Response:
    inputs = _inputs(await call.json_object())
    started = call.now_iso()
    to_type = _to_type(call)
    planned = [(item, _spec_of(call, item.get("type"))) for item in inputs]
    results: list[dict[str, Any]] = []
    errors: Errors = {}
    for item, spec in planned:
        try:
            src = call.portal.require(call.type, _id(item.get("from")))
            dst = call.portal.require(to_type, _id(item.get("to")))
        except HubSpotError as error:
            key = (error.status, error.category, error.message)
            errors.setdefault(key, []).append(_id(item.get("from")))
            continue
        call.portal.associations.add((call.type.name, src.id), (to_type.name, dst.id), [spec])
        results.append(
            {"from": {"id": str(src.id)}, "to": {"id": str(dst.id)}, "type": item.get("type")}
        )
    items = error_items(errors)
    return json_response(envelope(results, items, started, call.now_iso()), 207 if items else 201)


async def batch_archive(call: Call) -> Response:
    inputs = _inputs(await call.json_object())
    to_type = _to_type(call)
    for item in inputs:
        spec = _spec_of(call, item.get("type"))
        src, dst = _id(item.get("from")), _id(item.get("to"))
        if src.isdigit() and dst.isdigit():
            call.portal.associations.remove(
                (call.type.name, int(src)), (to_type.name, int(dst)), [spec]
            )
    return empty_response(204)
