"""Activating and deactivating n8n workflows through the API, against the n8n sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import Engine
from web_helpers import BASE_URL, bearer, make_token

from masterops.config import load_config
from masterops.observability.events import TelemetryHub
from masterops.operations.services import open_services
from masterops.web import WebSettings, create_app


async def test_an_operate_token_switches_a_workflow_on_n8n(engine: Engine, tmp_path: Path) -> None:
    config = load_config({}, cwd=tmp_path)  # no credentials: the sandbox, in-process
    hub = TelemetryHub()
    with open_services(config, hub, engine) as services:
        n8n = services.n8n("teelixir")
        async with n8n:
            workflows = [wf async for wf in n8n.list_workflows()]
        target = next(wf for wf in workflows if wf.active)
        app = create_app(engine, WebSettings(services=services, hub=hub))
        operator = bearer(make_token(engine, "operate"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            url = f"/api/v1/workflows/{target.id}"
            off = await client.post(f"{url}/deactivate", headers=operator)
            assert off.status_code == 200, off.text
            assert off.json() == {
                "id": target.id,
                "name": target.name,
                "active": False,
                "was_active": True,
            }
            async with services.n8n("teelixir") as again:
                assert (await again.get_workflow(target.id)).active is False
            # By exact name too; and repeating it is harmless.
            on = await client.post(f"/api/v1/workflows/{target.name}/activate", headers=operator)
            assert on.status_code == 200, on.text
            assert on.json()["active"] is True and on.json()["was_active"] is False
            on_again = await client.post(f"{url}/activate", headers=operator)
            assert on_again.json()["active"] is True

            missing = await client.post("/api/v1/workflows/no-such-flow/activate", headers=operator)
            assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
            reader = bearer(make_token(engine, "read"))
            refused = await client.post(f"{url}/deactivate", headers=reader)
            assert (refused.status_code, refused.json()["error"]) == (403, "insufficient_scope")
            scoped = bearer(make_token(engine, "operate", "teelixir"))
            limited = await client.post(f"{url}/deactivate", headers=scoped)
            assert (limited.status_code, limited.json()["error"]) == (403, "business_scoped")
            anonymous = await client.post(f"{url}/deactivate")
            assert anonymous.status_code == 401

    bare = create_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url=BASE_URL) as c:
        answer = await c.post(f"/api/v1/workflows/{target.id}/activate", headers=operator)
    assert (answer.status_code, answer.json()["error"]) == (503, "not_configured")
