"""``POST /crm/v3/objects/{objectType}/search``: the HTTP face of ``search.py``.

The answer is ``{total, results, paging?: {next: {after}}}``; ``after`` is an offset.
Search runs under its own 5-per-second limit and carries no rate-limit headers.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import json_response
from masterops_sandbox.hubspot.search import parse_query, run_search
from masterops_sandbox.hubspot.shape import property_set


async def search_objects(call: Call) -> Response:
    store = call.portal.store(call.type)
    query = parse_query(await call.json(), store.registry)
    result = run_search(store, query)
    definitions = property_set(store, query.properties)
    body: dict[str, Any] = {
        "total": result.total,
        "results": [store.render(r, definitions) for r in result.records],
    }
    if result.next_after is not None:
        after = str(result.next_after)
        body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return json_response(body)
