"""What an API request changes is audited under its token's name."""

from __future__ import annotations

from web_helpers import Web, make_token

from masterops.db import audit


async def test_api_changes_name_the_token(web: Web) -> None:
    token = make_token(web.engine, "operate", name="ops-bot")
    made = await web.client.post(
        "/api/v1/tasks", json={"title": "restock"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201, made.text
    with web.engine.connect() as conn:
        entries = audit.read_entries(conn, table="tasks")
    assert [(e.operation, e.actor) for e in entries] == [("INSERT", "api:ops-bot")]
