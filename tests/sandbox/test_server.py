"""The composed sandbox: three services from one seed, in process or on loopback ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from masterops_sandbox.accounts import n8n_api_key
from masterops_sandbox.server import SERVICES, Sandbox, parse_faults
from masterops_sandbox.unleashed import sign


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(seed=5, volume=20)


def requests_for(sandbox: Sandbox) -> dict[str, tuple[str, dict[str, str]]]:
    """One cheap authenticated request per service: (path, headers)."""
    teelixir = sandbox.accounts["teelixir"]
    return {
        "hubspot": (
            "/crm/v3/objects/contacts?limit=1",
            {"Authorization": f"Bearer {teelixir.hubspot_token}"},
        ),
        "unleashed": (
            "/Warehouses",
            {
                "api-auth-id": teelixir.unleashed_api_id,
                "api-auth-signature": sign(teelixir.unleashed_api_key, ""),
                "Accept": "application/json",
            },
        ),
        "n8n": ("/api/v1/workflows?limit=1", {"X-N8N-API-KEY": sandbox.n8n_api_key}),
    }


def test_builds_the_three_services_for_the_four_businesses(sandbox: Sandbox) -> None:
    assert set(sandbox.accounts) == {"teelixir", "elevate", "boo", "rhf"}
    assert {sandbox.hubspot.name, sandbox.unleashed.name, sandbox.n8n.name} == set(SERVICES)
    assert sandbox.n8n_api_key == n8n_api_key(5)
    assert sandbox.n8n_api.workflows()  # seeded
    assert sandbox.unleashed_api is not None and sandbox.hubspot_api is not None


@pytest.mark.parametrize("service", SERVICES)
async def test_in_process_transports_answer(sandbox: Sandbox, service: str) -> None:
    path, headers = requests_for(sandbox)[service]
    async with httpx.AsyncClient(
        transport=sandbox.transport(service), base_url="http://sandbox.local"
    ) as client:
        response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text


def test_unknown_service_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown sandbox service"):
        sandbox.transport("salesforce")


def test_faults_are_applied_at_build() -> None:
    faulty = Sandbox(seed=1, volume=5, faults={"n8n": {"rate_5xx": 1.0, "status_5xx": 504}})
    assert faulty.n8n.faults.config.rate_5xx == 1.0
    assert faulty.hubspot.faults.config.rate_5xx == 0.0
    assert faulty.describe()["faults"]["n8n"]["status_5xx"] == 504
    with pytest.raises(ValueError, match="bad fault switches for n8n"):
        Sandbox(seed=1, volume=5, faults={"n8n": {"rate_teapot": 1.0}})
    with pytest.raises(ValueError, match="unknown sandbox service"):
        Sandbox(seed=1, volume=5, faults={"jira": {"rate_5xx": 1.0}})


async def test_faults_from_the_constructor_reach_requests() -> None:
    faulty = Sandbox(seed=1, volume=5, faults={"n8n": {"rate_5xx": 1.0}})
    async with httpx.AsyncClient(transport=faulty.transport("n8n"), base_url="http://x") as c:
        response = await c.get("/healthz")
    assert response.status_code == 503


def test_describe_lists_credentials_per_business(sandbox: Sandbox) -> None:
    described = sandbox.describe()
    assert described["seed"] == 5
    assert described["urls"] == {}  # not serving
    assert described["faults"] == {}
    boo = described["businesses"]["boo"]
    account = sandbox.accounts["boo"]
    assert boo["hubspot"]["token"] == account.hubspot_token
    assert boo["unleashed"] == {
        "api_id": account.unleashed_api_id,
        "api_key": account.unleashed_api_key,
    }
    assert boo["n8n"]["api_key"] == described["n8n_api_key"]
    rows = described["credentials"]
    assert {"business": "boo", "service": "unleashed", "credential": "api_key",
            "value": account.unleashed_api_key} in rows  # fmt: skip
    assert len(rows) == 4 * 7


def test_planned_urls_are_known_before_serving() -> None:
    sandbox = Sandbox(seed=9, volume=5)
    sandbox.urls = {"hubspot": "http://127.0.0.1:8900"}
    assert sandbox.describe()["urls"] == {"hubspot": "http://127.0.0.1:8900"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, dict[str, str]]]:
    sandbox = Sandbox(seed=6, volume=10)
    urls = sandbox.start_in_thread()
    try:
        yield sandbox, urls
    finally:
        sandbox.stop()


def test_serves_each_service_on_its_own_loopback_port(
    served: tuple[Sandbox, dict[str, str]],
) -> None:
    sandbox, urls = served
    assert set(urls) == set(SERVICES)
    assert len({url.rsplit(":", 1)[1] for url in urls.values()}) == 3
    assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
    assert sandbox.describe()["urls"] == urls
    for service, (path, headers) in requests_for(sandbox).items():
        response = httpx.get(urls[service] + path, headers=headers, timeout=10)
        assert response.status_code == 200, (service, response.text)


def test_served_n8n_runs_webhooks_over_http(served: tuple[Sandbox, dict[str, str]]) -> None:
    _, urls = served
    response = httpx.post(f"{urls['n8n']}/webhook/teelixir/order-created", json={"orderId": 1})
    assert response.status_code == 200
    assert response.json()["business"] == "teelixir"


def test_starting_twice_is_refused(served: tuple[Sandbox, dict[str, str]]) -> None:
    sandbox, _ = served
    with pytest.raises(RuntimeError, match="already serving"):
        sandbox.start_in_thread()


def test_stop_closes_the_ports() -> None:
    sandbox = Sandbox(seed=7, volume=5)
    urls = sandbox.start_in_thread()
    port = int(urls["n8n"].rsplit(":", 1)[1])
    sandbox.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        pass


def test_a_taken_port_fails_loudly() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        sandbox = Sandbox(seed=8, volume=5)
        with pytest.raises(RuntimeError, match="did not start"):
            sandbox.start_in_thread(port=port)
        sandbox.stop()


def test_parse_faults_reads_the_cli_syntax() -> None:
    assert parse_faults("hubspot:rate_429=0.1,retry_after=2;unleashed:rate_5xx=0.05") == {
        "hubspot": {"rate_429": 0.1, "retry_after": 2.0},
        "unleashed": {"rate_5xx": 0.05},
    }
    assert parse_faults(" n8n : status_5xx=502 , path_pattern=^/api ; ") == {
        "n8n": {"status_5xx": 502, "path_pattern": "^/api"}
    }
    assert parse_faults("hubspot:retry_after=none") == {"hubspot": {"retry_after": None}}
    assert parse_faults("") == {}


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("rate_429=0.1", "'rate_429=0.1'"),
        ("jira:rate_429=0.1", "'jira'"),
        ("hubspot:rate_429", "'rate_429'"),
        ("hubspot:rate_teapot=1", "'rate_teapot'"),
        ("hubspot:rate_429=lots", "rate_429='lots'"),
        ("hubspot:rate_429=1.5", "'hubspot:rate_429=1.5'"),
        ("n8n:status_5xx=5.5", "status_5xx='5.5'"),
    ],
)
def test_parse_faults_names_the_bad_part(spec: str, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_faults(spec)
    assert named in str(caught.value)
