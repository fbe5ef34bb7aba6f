"""Requests per second each sandbox service answers in process, against a bare baseline.

Run: ``.venv/bin/python bench/sandbox_throughput.py [--requests 3000]``

Every figure is sequential requests through ``httpx.AsyncClient`` and the in-process
ASGI transport, so the transport's own cost is in the baseline too: a bare Starlette
app answering a constant JSON. The ratio says what the sandbox's behaviour (auth,
signatures, rate limiting, fault injection, the call log, real data) costs on top.
Target: at least 2,000 requests/s per service. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.server import Sandbox
from masterops_sandbox.unleashed import sign

TARGET = 2_000.0
Request_ = tuple[str, dict[str, str]]


def baseline_app() -> Starlette:
    async def constant(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "items": [1, 2, 3]})

    return Starlette(routes=[Route("/constant", constant)])


async def rate(
    transport: httpx.AsyncBaseTransport, make: Callable[[int], Request_], count: int
) -> float:
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
        for i in range(50):  # warm up: routing caches, first-call imports
            path, headers = make(i)
            (await client.get(path, headers=headers)).raise_for_status()
        start = time.perf_counter()
        for i in range(count):
            path, headers = make(i)
            response = await client.get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
        return count / (time.perf_counter() - start)


def requests_for(sandbox: Sandbox) -> dict[str, Callable[[int], Request_]]:
    teelixir = sandbox.accounts["teelixir"]
    bearer = {"Authorization": f"Bearer {teelixir.hubspot_token}"}
    contact_ids = sandbox.hubspot_api.bulk_load(
        "teelixir", "contacts", ({"email": f"bench{i}@example.com"} for i in range(100))
    )
    signed = {
        "api-auth-id": teelixir.unleashed_api_id,
        "api-auth-signature": sign(teelixir.unleashed_api_key, ""),
        "Accept": "application/json",
    }
    n8n_key = {"X-N8N-API-KEY": sandbox.n8n_api_key}
    execution_ids = [e["id"] for e in sandbox.n8n_api.executions()[:100]]
    return {
        "hubspot GET contact": lambda i: (
            f"/crm/v3/objects/contacts/{contact_ids[i % len(contact_ids)]}",
            bearer,
        ),
        "unleashed GET /Warehouses": lambda i: ("/Warehouses", signed),
        "n8n GET execution": lambda i: (
            f"/api/v1/executions/{execution_ids[i % len(execution_ids)]}",
            n8n_key,
        ),
        "n8n GET /api/v1/tags": lambda i: ("/api/v1/tags", n8n_key),
    }


async def main(count: int) -> None:
    sandbox = Sandbox(seed=0, volume=300)
    # A throughput run is not a rate-limit test: lift the limits that would answer 429.
    for business in sandbox.accounts:
        sandbox.hubspot_api.set_ten_second_limit(business, 10**9)
        sandbox.hubspot_api.set_daily_limit(business, 10**9)
        sandbox.unleashed_api.set_monthly_quota(business, 10**9)
    services = {"hubspot": "hubspot", "unleashed": "unleashed", "n8n": "n8n"}
    base = await rate(httpx.ASGITransport(app=baseline_app()), lambda i: ("/constant", {}), count)
    print(f"{'baseline (bare Starlette, constant JSON)':42} {base:9.0f} req/s   ratio 1.00")
    for label, make in requests_for(sandbox).items():
        service = services[label.split()[0]]
        per_second = await rate(SandboxTransport(app=sandbox.harness(service)), make, count)
        verdict = "meets" if per_second >= TARGET else "BELOW"
        print(
            f"{label:42} {per_second:9.0f} req/s   ratio {per_second / base:4.2f}"
            f"   {verdict} the {TARGET:,.0f} req/s target"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3_000, help="timed requests per case")
    asyncio.run(main(parser.parse_args().requests))
