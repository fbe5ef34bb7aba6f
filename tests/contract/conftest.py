"""One n8n contract suite, two targets: the sandbox (in process) and, when
``MASTEROPS_N8N_URL`` and ``MASTEROPS_N8N_API_KEY`` are set, a real n8n
(``ci/provision-n8n.sh`` starts one). Every test gets an ``N8nTarget``; whatever a
test creates through it is deleted afterwards, so the real server keeps no litter.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.n8n import build_n8n

T = TypeVar("T")
SANDBOX_KEY = "n8n_api_contract_key"
REAL_URL = os.environ.get("MASTEROPS_N8N_URL")
REAL_KEY = os.environ.get("MASTEROPS_N8N_API_KEY")


@dataclass
class N8nTarget:
    """A base URL + API key pair under test, with helpers that clean up after themselves."""

    kind: str  # "sandbox" or "real"
    api: httpx.AsyncClient  # sends X-N8N-API-KEY
    plain: httpx.AsyncClient  # sends no key (webhooks, health, auth checks)
    workflows: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def unique(self, label: str) -> str:
        return f"contract-{uuid.uuid4().hex[:10]}-{label}"

    async def create_workflow(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post("/api/v1/workflows", json=body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        self.workflows.append(created["id"])
        return created

    async def create_tag(self, name: str) -> dict[str, Any]:
        response = await self.api.post("/api/v1/tags", json={"name": name})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        self.tags.append(created["id"])
        return created

    async def activate(self, workflow_id: str) -> dict[str, Any]:
        response = await self.api.post(f"/api/v1/workflows/{workflow_id}/activate")
        assert response.status_code == 200, response.text
        activated: dict[str, Any] = response.json()
        return activated

    async def executions_of(self, workflow_id: str, count: int, **params: Any) -> list[Any]:
        """The workflow's executions once there are ``count`` of them, all finished (a real
        server may finish saving a run a moment after it answered the webhook)."""

        async def fetch() -> list[Any] | None:
            query = {"workflowId": workflow_id, **params}
            response = await self.api.get("/api/v1/executions", params=query)
            assert response.status_code == 200, response.text
            data: list[Any] = response.json()["data"]
            # A run is listed while it is still being saved ("running"): wait until it settles.
            settled = all(e["status"] not in ("new", "running") for e in data)
            return data if len(data) >= count and settled else None

        return await eventually(fetch)

    async def cleanup(self) -> None:
        for workflow_id in self.workflows:
            await self.api.delete(f"/api/v1/workflows/{workflow_id}")
        for tag_id in self.tags:
            await self.api.delete(f"/api/v1/tags/{tag_id}")


async def eventually(fetch: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    """Poll ``fetch`` every 0.1 s until it returns something other than None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await fetch()
        if result is not None:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.1)


TARGETS = [
    pytest.param("sandbox", id="sandbox"),
    pytest.param(
        "real",
        id="real",
        marks=[
            pytest.mark.real_n8n,
            pytest.mark.skipif(
                not (REAL_URL and REAL_KEY),
                reason="set MASTEROPS_N8N_URL and MASTEROPS_N8N_API_KEY (ci/provision-n8n.sh)",
            ),
        ],
    ),
]


@pytest.fixture(params=TARGETS)
async def n8n(request: pytest.FixtureRequest) -> AsyncIterator[N8nTarget]:
    if request.param == "sandbox":
        _, harness = build_n8n(SANDBOX_KEY, seed=7)
        base, key = "http://n8n.sandbox", SANDBOX_KEY
        make: Callable[..., httpx.AsyncClient] = lambda **kw: httpx.AsyncClient(  # noqa: E731
            transport=SandboxTransport(app=harness), base_url=base, **kw
        )
    else:
        assert REAL_URL and REAL_KEY
        base, key = REAL_URL.rstrip("/"), REAL_KEY
        make = lambda **kw: httpx.AsyncClient(base_url=base, timeout=30.0, **kw)  # noqa: E731
    async with make(headers={"X-N8N-API-KEY": key}) as api, make() as plain:
        target = N8nTarget(request.param, api, plain)
        try:
            yield target
        finally:
            await target.cleanup()
