"""Contract: the monthly API call quota (api-facts.md, "Unleashed": Limits)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import BASE_URL, Clock, UnleashedClient

from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.unleashed import (
    RESET_HEADER,
    WARNING_HEADER,
    UnleashedSandbox,
    build_unleashed,
)


async def test_every_authenticated_call_counts(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    await teelixir.get("/Products", {"pageSize": 1})
    await teelixir.get("/Invoices")  # a 404 is still a call
    await teelixir.get("/Products", {"pageSize": 5000})  # and so is a 400
    assert sandbox.quota_used("teelixir") == 3
    assert sandbox.quota_used("elevate") == 0


async def test_no_warning_below_ninety_percent(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    sandbox.set_quota_used("teelixir", 13_498)  # this call is the 13,499th of 15,000
    response = await teelixir.get("/Warehouses")
    assert response.status_code == 200
    assert WARNING_HEADER not in response.headers


@pytest.mark.parametrize(
    ("used_before", "warning"),
    [(13_499, "90"), (14_249, "95"), (14_998, "95"), (14_999, "100")],
)
async def test_warnings_at_ninety_ninety_five_and_hundred(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, used_before: int, warning: str
) -> None:
    sandbox.set_quota_used("teelixir", used_before)
    response = await teelixir.get("/Warehouses")
    assert response.status_code == 200
    assert response.headers[WARNING_HEADER] == warning


async def test_blocked_at_hundred_percent_until_next_month(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    sandbox.set_quota_used("teelixir", 15_000)
    blocked = await teelixir.get("/Products")
    assert blocked.status_code == 429
    assert "monthly" in blocked.json()["description"]
    assert blocked.headers[RESET_HEADER] == "2026-04-01T00:00:00Z"
    assert sandbox.quota_used("teelixir") == 15_000  # blocked calls are not counted

    # Other accounts have their own quota.
    other = await UnleashedClient(teelixir.http, sandbox_accounts(0)["boo"]).get("/Products")
    assert other.status_code == 200

    clock.now = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert (await teelixir.get("/Products")).status_code == 429
    clock.now = datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC)
    response = await teelixir.get("/Products")
    assert response.status_code == 200
    assert WARNING_HEADER not in response.headers
    assert sandbox.quota_used("teelixir") == 1


async def test_blocked_status_is_a_switch(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    sandbox.blocked_status = 403
    sandbox.set_quota_used("teelixir", 15_000)
    response = await teelixir.get("/Products")
    assert response.status_code == 403
    assert "quota" in response.json()["description"]


async def test_quota_size_is_configurable(clock: Clock) -> None:
    accounts = sandbox_accounts(0)
    sandbox, harness = build_unleashed(accounts, volume=10, monthly_quota=10, now=clock)
    transport = SandboxTransport(app=harness)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        client = UnleashedClient(http, accounts["rhf"])
        statuses = [(await client.get("/Warehouses")).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    assert sandbox.counts("rhf")["rhf"]["quota_used"] == 10


async def test_quota_in_sandbox_state(
    client_for: Callable[[str], UnleashedClient], http: httpx.AsyncClient
) -> None:
    await client_for("elevate").get("/Warehouses")
    state = (await http.get("/_sandbox/state")).json()
    assert state["service"] == "unleashed"
    elevate = state["state"]["accounts"]["elevate"]
    assert elevate["quota_used"] == 1
    assert elevate["quota_limit"] == 15_000
    assert elevate["products"] > 0
