"""``/api/v1/tags``: list, create (201), read, rename, delete.

Any name the real server cannot save answers 409 "Tag already exists": a duplicate,
but also an empty name or one longer than 24 characters (its save fails and the
handler reports every failure as a conflict)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from masterops_sandbox.n8n.cursor import encode_offset_cursor
from masterops_sandbox.n8n.responses import NOT_FOUND, KeySource, guarded, message, ok
from masterops_sandbox.n8n.routes_workflows import offset_page, page_slice
from masterops_sandbox.n8n.shapes import tag_json
from masterops_sandbox.n8n.store import Conflict, N8nStore
from masterops_sandbox.n8n.validation import check_tag, parse_query, read_json

PREFIX = "/api/v1/tags"
TAG_EXISTS = "Tag already exists"


class TagRoutes:
    def __init__(self, store: N8nStore) -> None:
        self.store = store

    async def index(self, request: Request) -> Response:
        query = parse_query(request, (("limit", "limit"), ("cursor", "string")))
        offset, limit = offset_page(query)
        tags = self.store.sorted_tags()
        return ok(
            {
                "data": [tag_json(t) for t in page_slice(tags, offset, limit)],
                "nextCursor": encode_offset_cursor(offset=offset, limit=limit, total=len(tags)),
            }
        )

    async def create(self, request: Request) -> Response:
        name = check_tag(await read_json(request)).strip()
        try:
            tag = self.store.create_tag(name)
        except Conflict:
            return message(409, TAG_EXISTS)
        return ok(tag_json(tag, "create"), status=201)

    async def get(self, request: Request) -> Response:
        tag = self.store.tags.get(request.path_params["id"])
        if tag is None:
            return message(404, NOT_FOUND)
        return ok(tag_json(tag))

    async def update(self, request: Request) -> Response:
        name = check_tag(await read_json(request)).strip()
        tag = self.store.tags.get(request.path_params["id"])
        if tag is None:
            return message(404, NOT_FOUND)
        try:
            self.store.rename_tag(tag, name)
        except Conflict:
            return message(409, TAG_EXISTS)
        return ok(tag_json(tag, "update"))

    async def delete(self, request: Request) -> Response:
        tag = self.store.delete_tag(request.path_params["id"])
        if tag is None:
            return message(404, NOT_FOUND)
        return ok(tag_json(tag))


def tag_routes(store: N8nStore, api_key: KeySource) -> list[Route]:
    r = TagRoutes(store)

    def route(path: str, handler: Any, method: str) -> Route:
        return Route(PREFIX + path, guarded(api_key, handler), methods=[method])

    return [
        route("", r.index, "GET"),
        route("", r.create, "POST"),
        route("/{id}", r.get, "GET"),
        route("/{id}", r.update, "PUT"),
        route("/{id}", r.delete, "DELETE"),
    ]
