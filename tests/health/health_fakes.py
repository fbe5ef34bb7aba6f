"""A connector source the health tests control: one Starlette app answers every probe,
each (business, service) the way its plan says. (Not named conftest: test folders share
one module namespace.)"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from masterops.config import Business, Config, HubSpotCredentials, load_config
from masterops.integrations.base import BaseConnector, ConnectorRuntime, RetryPolicy
from masterops.integrations.factory import ServiceDisabled

#: A credential of the fake configuration: it must never reach a result or a row.
SECRET = "pat-na1-health-secret-0123456789"

# What the app answers for a plan entry; "disabled" and "crash" never reach it.
ANSWERS = {
    "ok": (200, {"ok": True}),
    "limited": (429, {"status": "error", "category": "RATE_LIMITS", "message": "slow down"}),
    "broken": (503, {"message": f"upstream unavailable (token {SECRET})"}),
}


class ProbeConnector(BaseConnector):
    """Probes ``/{business}/{service}`` on the plan's app."""

    service = "probe"

    async def probe(self) -> Mapping[str, Any] | None:
        await self.request(
            "GET",
            "/{business}/{service}",
            path_params={"business": self.business_id, "service": self.service},
            operation="health_probe",
        )
        return {"probed": True}


CONNECTORS = {
    name: type(f"{name.title()}Probe", (ProbeConnector,), {"service": name})
    for name in ("hubspot", "unleashed", "n8n", "supabase")
}


def probe_app(plan: Mapping[tuple[str, str], str], barrier: int | None = None) -> Starlette:
    """With ``barrier``, no probe answers before ``barrier`` probes are in flight at once:
    a round that checked one at a time would never get past the first."""
    arrived = 0
    all_in = asyncio.Event()

    async def answer(request: Request) -> Response:
        nonlocal arrived
        if barrier is not None:
            arrived += 1
            if arrived >= barrier:
                all_in.set()
            try:
                await asyncio.wait_for(all_in.wait(), 10)  # a safety net, not a timing
            except TimeoutError:
                return JSONResponse({"message": "probes were not concurrent"}, status_code=500)
        key = (request.path_params["business"], request.path_params["service"])
        status, body = ANSWERS[plan.get(key, "ok")]
        return JSONResponse(body, status_code=status)

    return Starlette(routes=[Route("/{business}/{service}", answer)])


@dataclass
class FakeServices:
    """Satisfies ``masterops.health.ConnectorSource`` like ``cli.services.Services``."""

    config: Config
    runtime: ConnectorRuntime
    plan: dict[tuple[str, str], str]
    transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    barrier: int | None = None

    def __post_init__(self) -> None:
        # One app for every connector, so the barrier counts the probes of the whole round.
        self.app = probe_app(self.plan, self.barrier)

    def connector(self, service: str, business: str) -> BaseConnector:
        behaviour = self.plan.get((business, service), "ok")
        if behaviour == "disabled":
            raise ServiceDisabled(f"{business}/{service}: set MASTEROPS_X_{service.upper()}_KEY")
        if behaviour == "crash":
            raise RuntimeError(f"cannot build the connector (token {SECRET})")
        connector: BaseConnector = CONNECTORS[service](
            business_id=business,
            runtime=self.runtime,
            base_url="http://probe.test",
            transport=httpx.ASGITransport(app=self.app),
            retry=RetryPolicy(max_attempts=1),
            secrets=[SECRET],
        )
        return connector


def make_config(tmp_path: Path, slugs: tuple[str, ...] = ("teelixir", "elevate")) -> Config:
    base = load_config(environ={}, cwd=tmp_path)
    businesses = {
        slug: Business(
            slug=slug,
            name=slug.title(),
            services=("hubspot", "unleashed", "n8n"),
            hubspot=HubSpotCredentials(SecretStr(SECRET), "starter"),
        )
        for slug in slugs
    }
    return dataclasses.replace(base, businesses=businesses)


#: The ``make_services`` fixture: a plan (and FakeServices options) -> FakeServices.
MakeServices = Callable[..., FakeServices]
