"""Fixtures for the HTTP service: the app on the test database, a client, and the HubSpot
sandbox delivering signed webhooks to the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from web_helpers import BASE_URL, HOOK_URL, Web, make_token, settings_for

from masterops.web import create_app
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.hubspot import build_hubspot


@pytest.fixture
async def web(engine: Engine) -> AsyncIterator[Web]:
    accounts = sandbox_accounts()
    app = create_app(engine, settings_for(accounts))
    transport = httpx.ASGITransport(app=app)
    token = make_token(engine, "admin")  # the client acts as an admin unless told otherwise
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as client:

        async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
            return (await client.post(url, content=body, headers=headers)).status_code

        hubspot, _ = build_hubspot(
            accounts, webhook_url=HOOK_URL, send_webhook=send, auto_deliver_webhooks=False
        )
        yield Web(engine, app, client, hubspot, accounts)
        await hubspot.aclose()
