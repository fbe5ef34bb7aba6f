"""``POST /crm/v3/objects/{objectType}/merge``: ``{primaryObjectId, objectIdToMerge}``.

The primary record survives and answers 200: it keeps its own values and takes the
merged record's where it has none; the merged record's associations move to it and
the merged record is archived. HubSpot's finer rules (which of two set values wins
for each property, the merged ids kept on the primary) are not imitated.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import json_response, validation_error
from masterops_sandbox.hubspot.shape import with_written
from masterops_sandbox.hubspot.store import Change


def _id(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).isdigit():
        raise validation_error(f"Invalid input JSON: {key} is required and must be a record id")
    return str(value)


async def merge_objects(call: Call) -> Response:
    body = await call.json_object()
    primary_id, merged_id = _id(body, "primaryObjectId"), _id(body, "objectIdToMerge")
    if primary_id == merged_id:
        raise validation_error("A record cannot be merged with itself.")
    portal = call.portal
    primary = portal.require(call.type, primary_id)
    merged = portal.require(call.type, merged_id)
    store = portal.store(call.type)
    stored = [d for d in store.registry.all() if not d.read_only]
    fill: list[Change] = [
        (d, value)
        for d in stored
        if primary.get(d) is None and (value := merged.get(d)) is not None
    ]
    links = portal.associations.links_of((call.type.name, merged.id))
    ms = call.now_ms()
    portal.archive(call.type, merged, ms)  # frees its unique values for the primary
    for (to_type, to_id), specs in links:
        portal.associations.add((call.type.name, primary.id), (to_type, to_id), specs)
    portal.update(call.type, primary, None, ms, changes=fill)
    written = [d.name for d, _ in fill]
    return json_response(store.render(primary, with_written(store, written)))
