"""Associations v4 routes: single links under ``/crm/v4/objects`` and batches under
``/crm/v4/associations/{from}/{to}/batch``.

A default link answers 200 with both directions; a labelled one 201. Either end
missing is a 404 (single) or an error item in a 207 (batch; ``associate/default``
keeps its 200, the only answer HubSpot describes for it).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.associations import Spec, default_spec, parse_specs, spec_json
from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import (
    HubSpotError,
    empty_response,
    json_response,
    validation_error,
)
from masterops_sandbox.hubspot.objecttypes import ObjectType
from masterops_sandbox.hubspot.routes_objects import parse_after, parse_limit
from masterops_sandbox.hubspot.shape import envelope, error_items
from masterops_sandbox.hubspot.store import Record

MAX_BATCH_INPUTS = 1000  # unverified: v4 batches accept more than v3's 100


def _to_type(call: Call) -> ObjectType:
    assert call.to_type is not None  # every route here has {toObjectType}
    return call.to_type


def _spec_json(spec: Spec) -> dict[str, Any]:
    return {"associationCategory": spec[0], "associationTypeId": spec[1]}


def _default_results(call: Call, src: Record, dst: Record) -> list[dict[str, Any]]:
    to_type = _to_type(call)
    forward = default_spec(call.type.name, to_type.name)
    backward = default_spec(to_type.name, call.type.name)
    call.portal.associations.add((call.type.name, src.id), (to_type.name, dst.id), [forward])
    return [
        {
            "from": {"id": str(src.id)},
            "to": {"id": str(dst.id)},
            "associationSpec": _spec_json(forward),
        },
        {
            "from": {"id": str(dst.id)},
            "to": {"id": str(src.id)},
            "associationSpec": _spec_json(backward),
        },
    ]


def _labelled_result(call: Call, src: Record, dst: Record, specs: list[Spec]) -> dict[str, Any]:
    to_type = _to_type(call)
    call.portal.associations.add((call.type.name, src.id), (to_type.name, dst.id), specs)
    known = call.portal.associations.labels
    labels = [label for s in specs if (label := spec_json(s, known)["label"]) is not None]
    return {
        "fromObjectTypeId": call.type.type_id,
        "fromObjectId": src.id,
        "toObjectTypeId": to_type.type_id,
        "toObjectId": dst.id,
        "labels": labels,
    }


async def associate_default(call: Call) -> Response:
    started = call.now_iso()
    src = call.portal.require(call.type, call.params["objectId"])
    dst = call.portal.require(_to_type(call), call.params["toObjectId"])
    results = _default_results(call, src, dst)
    return json_response(envelope(results, [], started, call.now_iso()))


async def associate_labelled(call: Call) -> Response:
    specs = parse_specs(
        await call.json(), call.type.name, _to_type(call).name, call.portal.associations.labels
    )
    src = call.portal.require(call.type, call.params["objectId"])
    dst = call.portal.require(_to_type(call), call.params["toObjectId"])
    return json_response(_labelled_result(call, src, dst, specs), 201)


async def remove_association(call: Call) -> Response:
    src = call.portal.require(call.type, call.params["objectId"])
    to_id = call.params["toObjectId"]
    if to_id.isdigit():
        call.portal.associations.remove((call.type.name, src.id), (_to_type(call).name, int(to_id)))
    return empty_response(204)


def _links(call: Call, record: Record) -> list[dict[str, Any]]:
    return [
        {
            "toObjectId": to_id,
            "associationTypes": [spec_json(s, call.portal.associations.labels) for s in specs],
        }
        for to_id, specs in call.portal.associations.targets(
            (call.type.name, record.id), _to_type(call).name
        )
    ]


async def list_associations(call: Call) -> Response:
    query = call.request.query_params
    limit = parse_limit(query.get("limit"), default=500, maximum=500)
    after = parse_after(query.get("after"))
    record = call.portal.require(call.type, call.params["objectId"])
    links = [link for link in _links(call, record) if link["toObjectId"] >= after]
    body: dict[str, Any] = {"results": links[:limit]}
    if len(links) > limit:
        next_after = str(links[limit]["toObjectId"])
        body["paging"] = {"next": {"after": next_after, "link": f"?after={next_after}"}}
    return json_response(body)


def _input_id(raw: Any) -> str:
    return str(raw.get("id", "")) if isinstance(raw, dict) else ""


async def batch_associations(call: Call) -> Response:
    body = await call.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("Invalid input JSON: inputs must be a list of objects")
    if len(inputs) > MAX_BATCH_INPUTS:
        raise validation_error(
            f"The maximum number of inputs supported in a batch is {MAX_BATCH_INPUTS}."
        )
    action = call.batch_action
    started = call.now_iso()
    results: list[dict[str, Any]] = []
    errors: dict[tuple[int, str, str], list[str]] = {}

    def attempt(item: dict[str, Any], work: Any) -> None:
        try:
            work(item)
        except HubSpotError as error:
            ids = [i for i in (_input_id(item.get("from")), _input_id(item)) if i][:1]
            errors.setdefault((error.status, error.category, error.message), []).extend(ids)

    to_type = _to_type(call)
    if action == "create":
        for item in inputs:
            specs = parse_specs(
                item.get("types"), call.type.name, to_type.name, call.portal.associations.labels
            )

            def create(item: dict[str, Any], specs: list[Spec] = specs) -> None:
                src = call.portal.require(call.type, _input_id(item.get("from")))
                dst = call.portal.require(to_type, _input_id(item.get("to")))
                results.append(_labelled_result(call, src, dst, specs))

            attempt(item, create)
        ok = 201
    elif action == "associate/default":

        def link_default(item: dict[str, Any]) -> None:
            src = call.portal.require(call.type, _input_id(item.get("from")))
            dst = call.portal.require(to_type, _input_id(item.get("to")))
            results.extend(_default_results(call, src, dst))

        for item in inputs:
            attempt(item, link_default)
        ok = 200
    elif action == "read":

        def read(item: dict[str, Any]) -> None:
            record = call.portal.require(call.type, _input_id(item))
            results.append({"from": {"id": str(record.id)}, "to": _links(call, record)})

        for item in inputs:
            attempt(item, read)
        ok = 200
    elif action == "archive":
        # v4 archive names the records to unlink as a list: {from: {id}, to: [{id}]}.
        for item in inputs:
            targets = item.get("to")
            if not _input_id(item.get("from")) or not isinstance(targets, list):
                raise validation_error(
                    "Invalid input JSON: each input needs from.id and a list of to ids"
                )
        for item in inputs:
            src_id = _input_id(item.get("from"))
            for target in item["to"]:
                to_id = _input_id(target)
                if src_id.isdigit() and to_id.isdigit():
                    call.portal.associations.remove(
                        (call.type.name, int(src_id)), (to_type.name, int(to_id))
                    )
        return empty_response(204)
    else:
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Unknown batch action: {action}")
    items = error_items(errors)
    # HubSpot describes associate/default with a 200 only: its errors ride in that 200.
    partial = 207 if items and action != "associate/default" else ok
    return json_response(envelope(results, items, started, call.now_iso()), partial)
