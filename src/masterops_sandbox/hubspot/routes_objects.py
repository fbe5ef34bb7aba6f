"""Single-record routes: ``/crm/v3/objects/{objectType}`` and ``.../{objectId}``.

List pages by id (``after`` is the next id; no ``paging`` on the last page),
``limit`` defaults to 10 and may not exceed 100. Get and update accept
``?idProperty=`` naming a unique property. Archive answers 204 even for a record
that is already gone, as HubSpot does.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.associations import ASSOCIATION_TYPES
from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import (
    empty_response,
    json_response,
    not_found,
    validation_error,
)
from masterops_sandbox.hubspot.objecttypes import object_type
from masterops_sandbox.hubspot.shape import property_set, split_names, with_written
from masterops_sandbox.hubspot.store import Record

MAX_LIST_LIMIT = 100


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise validation_error(f"Invalid limit: {raw!r}")
    limit = int(raw)
    if limit > maximum:
        raise validation_error(f"limit must be {maximum} or less, got {limit}.")
    return limit


def parse_after(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit():
        raise validation_error(f"Invalid after: {raw!r}")
    return int(raw)


def _flag(raw: str | None) -> bool:
    return (raw or "").lower() == "true"


def _v3_associations(call: Call, record: Record, names: list[str]) -> dict[str, Any] | None:
    """The legacy ``associations`` block of a v3 read: {"companies": {"results": [...]}}."""
    if not names:
        return None
    block: dict[str, Any] = {}
    for name in names:
        kind = object_type(name)
        links = call.portal.associations.targets((call.type.name, record.id), kind.name)
        results = []
        for to_id, specs in links:
            for _, type_id in specs:
                known = ASSOCIATION_TYPES.get(type_id)
                label = known.name if known else f"{call.type.singular}_to_{kind.singular}"
                results.append({"id": str(to_id), "type": label})
        if results:
            block[kind.name] = {"results": results}
    return block


def _find(call: Call, *, archived: bool = False) -> Record:
    object_id = call.params["objectId"]
    id_property = call.request.query_params.get("idProperty")
    store = call.portal.store(call.type)
    if archived and id_property is None and object_id.isdigit():
        record = store.get(int(object_id), archived=True)
    else:
        record = store.lookup(object_id, id_property, call.portal.id)
    if record is None:
        raise not_found(context={"id": [object_id]})
    return record


async def list_objects(call: Call) -> Response:
    query = call.request.query_params
    limit = parse_limit(query.get("limit"), default=10, maximum=MAX_LIST_LIMIT)
    after = parse_after(query.get("after"))
    store = call.portal.store(call.type)
    if _flag(query.get("archived")):
        records, next_id = store.archived_page(after, limit)
    else:
        records, next_id = store.page(after, limit)
    definitions = property_set(store, split_names(query.getlist("properties")))
    associations = split_names(query.getlist("associations"))
    body: dict[str, Any] = {
        "results": [
            store.render(r, definitions, associations=_v3_associations(call, r, associations))
            for r in records
        ]
    }
    if next_id is not None:
        link = call.request.url.include_query_params(after=str(next_id))
        body["paging"] = {"next": {"after": str(next_id), "link": str(link)}}
    return json_response(body)


async def get_object(call: Call) -> Response:
    query = call.request.query_params
    record = _find(call, archived=_flag(query.get("archived")))
    store = call.portal.store(call.type)
    definitions = property_set(store, split_names(query.getlist("properties")))
    associations = split_names(query.getlist("associations"))
    return json_response(
        store.render(record, definitions, associations=_v3_associations(call, record, associations))
    )


async def create_object(call: Call) -> Response:
    body = await call.json_object()
    properties = body.get("properties") or {}
    record = call.portal.create(
        call.type, properties, call.now_ms(), associations=body.get("associations")
    )
    store = call.portal.store(call.type)
    written = properties if isinstance(properties, dict) else {}
    return json_response(store.render(record, with_written(store, written)), 201)


async def update_object(call: Call) -> Response:
    body = await call.json_object()
    record = _find(call)
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise validation_error("Invalid input JSON: properties is required")
    call.portal.update(call.type, record, properties, call.now_ms())
    store = call.portal.store(call.type)
    return json_response(store.render(record, with_written(store, properties)))


async def archive_object(call: Call) -> Response:
    object_id = call.params["objectId"]
    record = call.portal.store(call.type).get(int(object_id)) if object_id.isdigit() else None
    if record is not None:
        call.portal.archive(call.type, record, call.now_ms())
    return empty_response(204)
