"""The credentials part of n8n's public API that ``ops workflows deploy`` uses, on the
sandbox and (when configured) on a real n8n: create answers 200 with an id and no data,
there is no list (405), an unknown type is a 400, delete answers the credential without
its id, an unknown id is a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fixture's type; conftest modules are not imported by name
    from tests.contract.conftest import N8nTarget


async def test_credentials_create_and_delete(n8n: N8nTarget) -> None:
    name = n8n.unique("platform")
    body = {
        "name": name,
        "type": "httpHeaderAuth",
        "data": {"name": "Authorization", "value": "Bearer contract-secret"},
    }
    created = await n8n.api.post("/api/v1/credentials", json=body)
    assert created.status_code == 200, created.text
    answer = created.json()
    assert answer["name"] == name and answer["type"] == "httpHeaderAuth"
    assert isinstance(answer["id"], str) and answer["id"]
    assert "data" not in answer and "contract-secret" not in created.text

    listed = await n8n.api.get("/api/v1/credentials")
    assert (listed.status_code, listed.json()) == (405, {"message": "GET method not allowed"})

    deleted = await n8n.api.delete(f"/api/v1/credentials/{answer['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["name"] == name and "id" not in deleted.json()
    again = await n8n.api.delete(f"/api/v1/credentials/{answer['id']}")
    assert (again.status_code, again.json()) == (404, {"message": "Not Found"})


async def test_an_unknown_credential_type_is_a_400(n8n: N8nTarget) -> None:
    body = {"name": n8n.unique("x"), "type": "noSuchAuth", "data": {}}
    refused = await n8n.api.post("/api/v1/credentials", json=body)
    assert (refused.status_code, refused.json()) == (
        400,
        {"message": "req.body.type is not a known type"},
    )


async def test_credentials_need_the_api_key(n8n: N8nTarget) -> None:
    refused = await n8n.plain.post("/api/v1/credentials", json={})
    assert refused.status_code == 401
