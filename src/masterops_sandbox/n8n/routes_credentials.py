"""``/api/v1/credentials``: create and delete, as the real public API (1.123.x) has them.

There is no list and no read (``GET /api/v1/credentials`` is a 405 on the real server):
a credential's data goes in and never comes back out. Create answers 200 with the id,
name and type; delete answers 200 with the credential minus its id; an unknown id is a
404; a type n8n does not know is a 400. The sandbox keeps the data in ``credentials``
(its Python handle) so a test can see what a client stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from masterops_sandbox.n8n.responses import NOT_FOUND, KeySource, guarded, message, ok
from masterops_sandbox.n8n.store import N8nStore
from masterops_sandbox.n8n.validation import read_json

PREFIX = "/api/v1/credentials"
#: The credential types the sandbox knows (the real server knows hundreds).
KNOWN_TYPES = frozenset({"httpHeaderAuth", "httpBasicAuth", "httpQueryAuth", "hubspotApi"})


class CredentialRoutes:
    def __init__(self, store: N8nStore, credentials: dict[str, dict[str, Any]]) -> None:
        self.store = store
        self.credentials = credentials

    async def create(self, request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return message(400, "request/body must be object")
        for field in ("name", "type", "data"):
            if field not in body:
                return message(400, f"request/body must have required property '{field}'")
        if body["type"] not in KNOWN_TYPES:
            return message(400, "req.body.type is not a known type")
        if not isinstance(body["data"], dict):
            return message(400, "request/body/data must be object")
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        credential = {
            "name": str(body["name"]),
            "type": body["type"],
            "id": self.store.new_id(),
            "updatedAt": now,
            "createdAt": now,
            "isManaged": False,
            "isGlobal": False,
        }
        self.credentials[credential["id"]] = {**credential, "data": dict(body["data"])}
        return ok(credential)

    async def delete(self, request: Request) -> Response:
        stored = self.credentials.pop(request.path_params["id"], None)
        if stored is None:
            return message(404, NOT_FOUND)
        return ok({k: v for k, v in stored.items() if k not in ("id", "data")})

    async def index(self, request: Request) -> Response:
        return message(405, "GET method not allowed")


def credential_routes(
    store: N8nStore, api_key: KeySource, credentials: dict[str, dict[str, Any]]
) -> list[Route]:
    r = CredentialRoutes(store, credentials)
    return [
        Route(PREFIX, guarded(api_key, r.create), methods=["POST"]),
        Route(PREFIX, guarded(api_key, r.index), methods=["GET"]),
        Route(PREFIX + "/{id}", guarded(api_key, r.delete), methods=["DELETE"]),
    ]
