"""Owners: ``GET /crm/v3/owners`` (``email``, ``limit`` up to 500, ``after``, ``archived``)
and ``GET /crm/v3/owners/{ownerId}`` (``idProperty=id|userId``, ``archived``).

Read-only, as in HubSpot. An unknown owner is a 404.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import json_response, not_found, validation_error
from masterops_sandbox.hubspot.routes_objects import parse_after, parse_limit

MAX_LIMIT = 500


def _archived(call: Call) -> bool:
    return call.request.query_params.get("archived", "false").lower() == "true"


async def list_owners(call: Call) -> Response:
    query = call.request.query_params
    limit = parse_limit(query.get("limit"), default=100, maximum=MAX_LIMIT)
    after = parse_after(query.get("after"))
    owners = call.portal.owners.listed(archived=_archived(call))
    email = query.get("email")
    if email:
        owners = [o for o in owners if o.email.lower() == email.lower()]
    owners = [o for o in owners if o.id >= after]
    body: dict[str, Any] = {"results": [o.to_json() for o in owners[:limit]]}
    if len(owners) > limit:
        following = str(owners[limit].id)
        link = call.request.url.include_query_params(after=following)
        body["paging"] = {"next": {"after": following, "link": str(link)}}
    return json_response(body)


async def get_owner(call: Call) -> Response:
    id_property = call.request.query_params.get("idProperty", "id")
    if id_property not in ("id", "userId"):
        raise validation_error(f"idProperty must be id or userId, got {id_property!r}")
    owner_id = call.params["ownerId"]
    owner = call.portal.owners.find(
        owner_id, by_user_id=id_property == "userId", archived=_archived(call)
    )
    if owner is None:
        raise not_found(f"Owner {owner_id} not found.", context={"id": [owner_id]})
    return json_response(owner.to_json())
