"""Fault injection and the call log of the Unleashed sandbox (harness switches)."""

from __future__ import annotations

import httpx
import pytest
from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import UnleashedClient

from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.unleashed import UnleashedSandbox


async def test_injected_5xx_then_reset(teelixir: UnleashedClient, http: httpx.AsyncClient) -> None:
    switched = await http.put("/_sandbox/faults", json={"rate_5xx": 1.0, "status_5xx": 502})
    assert switched.status_code == 200
    assert (await teelixir.get("/Products")).status_code == 502
    await http.delete("/_sandbox/faults")
    assert (await teelixir.get("/Products")).status_code == 200


async def test_injected_faults_do_not_use_quota(
    teelixir: UnleashedClient, http: httpx.AsyncClient, sandbox: UnleashedSandbox
) -> None:
    await http.put("/_sandbox/faults", json={"rate_429": 1.0, "retry_after": 2})
    response = await teelixir.get("/Products")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert sandbox.quota_used("teelixir") == 0


async def test_fault_path_pattern_and_dropped_connection(
    teelixir: UnleashedClient, http: httpx.AsyncClient
) -> None:
    await http.put("/_sandbox/faults", json={"rate_drop": 1.0, "path_pattern": "^/StockOnHand"})
    assert (await teelixir.get("/Products")).status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        await teelixir.get("/StockOnHand")


async def test_malformed_body_is_cut_short(
    teelixir: UnleashedClient, http: httpx.AsyncClient
) -> None:
    await http.put("/_sandbox/faults", json={"rate_malformed": 1.0})
    response = await teelixir.get("/Products", {"pageSize": 3})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


async def test_call_log_counts_route_templates(
    teelixir: UnleashedClient, http: httpx.AsyncClient, harness: ServiceHarness
) -> None:
    await teelixir.get("/Products/1", {"pageSize": 2})
    await teelixir.get("/Products/2", {"pageSize": 2})
    await teelixir.get("/Products", {"pageSize": 2})
    assert harness.call_count("/Products/{page:int}", "GET") == 2
    assert harness.call_count("/Products", "GET") == 1
    calls = (await http.get("/_sandbox/calls")).json()
    assert calls["total"] == 3


async def test_injected_429_is_the_services_own_limit_answer(
    teelixir: UnleashedClient, http: httpx.AsyncClient, sandbox: UnleashedSandbox
) -> None:
    sandbox.set_monthly_quota("teelixir", 1)
    assert (await teelixir.get("/Products")).status_code == 200
    blocked = await teelixir.get("/Products")  # the service's own limit: the month's quota
    assert blocked.status_code == 429
    await http.put("/_sandbox/faults", json={"rate_429": 1.0, "retry_after": 2.5})
    injected = await teelixir.get("/Products")
    assert injected.status_code == blocked.status_code
    assert set(injected.json()) == set(blocked.json()) == {"description"}
    assert isinstance(injected.json()["description"], str)
    assert injected.headers["retry-after"] == "3"  # whole seconds, rounded up
    # The same headers, except what tells the two apart: the month's block names its reset
    # (a client must not wait for it), a passing limit asks to retry after a while.
    assert set(injected.headers) - {"retry-after"} == set(blocked.headers) - {"x-quota-reset"}
    assert injected.headers["content-type"] == blocked.headers["content-type"]
    assert "retry-after" not in blocked.headers and "x-quota-reset" not in injected.headers
