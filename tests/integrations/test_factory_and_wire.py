"""From configuration to a working connector, and what goes over the wire.

The sandbox is served on loopback and the configuration points at it exactly as
it would point at the real services; every request is captured at the transport
to prove each credential travels only in its own auth header.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from masterops.config import load_config
from masterops.integrations.base import ConnectorRuntime
from masterops.integrations.factory import ServiceDisabled, build_connector
from masterops_sandbox.server import Sandbox


@pytest.fixture(scope="module")
def served() -> Iterator[Sandbox]:
    box = Sandbox(seed=0, volume=40)
    box.start_in_thread(port=0)
    yield box
    box.stop()


def _env(box: Sandbox, business: str = "teelixir") -> dict[str, str]:
    account = box.accounts[business]
    prefix = f"MASTEROPS_{business.upper()}_"
    return {
        prefix + "HUBSPOT_TOKEN": account.hubspot_token,
        prefix + "HUBSPOT_TIER": account.hubspot_tier,
        prefix + "HUBSPOT_URL": box.urls["hubspot"],
        prefix + "UNLEASHED_API_ID": account.unleashed_api_id,
        prefix + "UNLEASHED_API_KEY": account.unleashed_api_key,
        prefix + "UNLEASHED_URL": box.urls["unleashed"],
        "MASTEROPS_N8N_URL": box.urls["n8n"],
        "MASTEROPS_N8N_API_KEY": box.n8n_api_key,
    }


class Recording(httpx.AsyncBaseTransport):
    """Real HTTP on loopback, keeping a copy of every request sent."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _where(request: httpx.Request, secret: str) -> set[str]:
    places = set()
    if secret in str(request.url):
        places.add("url")
    if secret in request.content.decode(errors="replace"):
        places.add("body")
    for name, value in request.headers.items():
        if secret in value:
            places.add(f"header:{name.lower()}")
    return places


async def test_configured_connectors_reach_the_services_over_http(
    served: Sandbox, tmp_path: Path, runtime: ConnectorRuntime
) -> None:
    config = load_config(_env(served), cwd=tmp_path)
    business = config.business("teelixir")
    account = served.accounts["teelixir"]
    wire = Recording()
    for service in ("hubspot", "unleashed", "n8n"):
        connector = build_connector(service, business, runtime, config.limits, transport=wire)
        async with connector:
            result = await connector.health()
        assert result.status == "healthy", (service, result.message)

    by_service: dict[str, list[httpx.Request]] = {"hubspot": [], "unleashed": [], "n8n": []}
    for request in wire.requests:
        port = request.url.port
        service = next(s for s, url in served.urls.items() if url.endswith(f":{port}"))
        by_service[service].append(request)
    assert all(by_service.values())
    for request in by_service["hubspot"]:
        assert _where(request, account.hubspot_token) == {"header:authorization"}
    for request in by_service["unleashed"]:
        # The key never travels at all: only the signature made with it.
        assert _where(request, account.unleashed_api_key) == set()
        assert request.headers["api-auth-id"] == account.unleashed_api_id
    for request in by_service["n8n"]:
        assert _where(request, served.n8n_api_key) == {"header:x-n8n-api-key"}
    # And no credential of one service goes to another.
    for request in by_service["n8n"] + by_service["unleashed"]:
        assert _where(request, account.hubspot_token) == set()
    await wire.aclose()


def test_missing_credentials_name_the_variable(tmp_path: Path) -> None:
    config = load_config({}, cwd=tmp_path)
    runtime = ConnectorRuntime()
    business = config.business("boo")
    with pytest.raises(ServiceDisabled, match="set MASTEROPS_BOO_HUBSPOT_TOKEN"):
        build_connector("hubspot", business, runtime, config.limits)
    with pytest.raises(ServiceDisabled, match="MASTEROPS_BOO_UNLEASHED_API_ID"):
        build_connector("unleashed", business, runtime, config.limits)
    with pytest.raises(ServiceDisabled, match="unknown service 'shopify'"):
        build_connector("shopify", business, runtime, config.limits)


def test_a_business_that_does_not_use_a_service(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[businesses.rhf]\nname = "Red Hill Fresh"\nservices = ["unleashed"]\n'
    )
    config = load_config({"MASTEROPS_RHF_HUBSPOT_TOKEN": "pat-x"}, cwd=tmp_path)
    with pytest.raises(ServiceDisabled, match="rhf does not use hubspot"):
        build_connector("hubspot", config.business("rhf"), ConnectorRuntime(), config.limits)


def test_limits_reach_the_connector(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        "[limits]\ndegraded_latency_ms = 750\ntimeout_s = 7\n[limits.retry]\nmax_attempts = 2\n"
    )
    config = load_config({"MASTEROPS_BOO_HUBSPOT_TOKEN": "pat-x"}, cwd=tmp_path)
    connector = build_connector(
        "hubspot", config.business("boo"), ConnectorRuntime(), config.limits
    )
    assert connector.health_settings.degraded_after_ms == 750
    assert connector.timeouts.total == 7
    assert connector.retry_policy.max_attempts == 2
