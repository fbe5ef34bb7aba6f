"""A health round over connectors whose answers the test decides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest
from health_fakes import SECRET, FakeServices, MakeServices, make_config
from pydantic import SecretStr
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from masterops.config import ConfigError
from masterops.health import PLATFORM, run_health_round
from masterops.integrations.base import ConnectorRuntime

MIXED = {
    ("teelixir", "hubspot"): "ok",
    ("teelixir", "unleashed"): "limited",
    ("teelixir", "n8n"): "broken",
    ("elevate", "hubspot"): "disabled",
    ("elevate", "unleashed"): "crash",
    ("elevate", "n8n"): "ok",
}


async def test_mixed_round_reports_each_service_and_the_worst(
    make_services: MakeServices, engine: Engine
) -> None:
    services = make_services(MIXED)
    report = await run_health_round(services, engine)
    by_key = {(r.business_id, r.service): r for r in report.results}
    assert list(by_key) == [(PLATFORM, "database"), *MIXED]  # platform first, stable order
    statuses = {key: r.status for key, r in by_key.items()}
    assert statuses == {
        (PLATFORM, "database"): "healthy",
        ("teelixir", "hubspot"): "healthy",
        ("teelixir", "unleashed"): "degraded",  # rate limited
        ("teelixir", "n8n"): "down",
        ("elevate", "hubspot"): "disabled",
        ("elevate", "unleashed"): "down",  # could not even be built: down, with the reason
        ("elevate", "n8n"): "healthy",
    }
    assert "MASTEROPS_X_HUBSPOT_KEY" in by_key[("elevate", "hubspot")].message
    assert "RuntimeError" in by_key[("elevate", "unleashed")].message
    assert report.status == "down"
    assert report.exit_code() == 2 and report.exit_code("docker") == 1
    assert report.counts() == {"healthy": 3, "degraded": 1, "down": 2, "disabled": 1}
    assert SECRET not in str(report.to_dict())
    assert {b.service for b in report.breakers} >= {"hubspot", "unleashed", "n8n"}


@pytest.mark.parametrize(
    ("n8n", "overall", "default_code", "docker_code"),
    [("ok", "healthy", 0, 0), ("limited", "degraded", 1, 1), ("broken", "down", 2, 1)],
)
async def test_overall_status_and_exit_codes(
    make_services: MakeServices, n8n: str, overall: str, default_code: int, docker_code: int
) -> None:
    plan = {key: "ok" for key in MIXED} | {
        ("elevate", "hubspot"): "disabled",
        ("teelixir", "n8n"): n8n,
    }
    report = await run_health_round(make_services(plan), None)
    assert report.status == overall
    assert (report.exit_code(), report.exit_code("docker")) == (default_code, docker_code)


async def test_every_check_is_in_flight_at_once(make_services: MakeServices) -> None:
    plan = {key: "ok" for key in MIXED}
    services = make_services(plan, barrier=len(plan))  # no probe answers until all arrived
    report = await run_health_round(services, None, concurrency=len(plan))
    assert [r.status for r in report.results] == ["healthy"] * len(plan)


async def test_filters_by_business_and_service(make_services: MakeServices, engine: Engine) -> None:
    services: FakeServices = make_services({})
    report = await run_health_round(services, engine, businesses=["elevate"])
    assert [(r.business_id, r.service) for r in report.results] == [
        (PLATFORM, "database"),
        ("elevate", "hubspot"),
        ("elevate", "unleashed"),
        ("elevate", "n8n"),
    ]
    report = await run_health_round(services, engine, service_filter="n8n")
    assert [(r.business_id, r.service) for r in report.results] == [
        ("teelixir", "n8n"),
        ("elevate", "n8n"),
    ]
    report = await run_health_round(services, engine, service_filter="database")
    assert [r.service for r in report.results] == ["database"]
    with pytest.raises(ValueError, match="unknown service 'ftp'"):
        await run_health_round(services, engine, service_filter="ftp")
    with pytest.raises(ConfigError, match="unknown business 'acme'"):
        await run_health_round(services, engine, businesses=["acme"])


async def test_a_business_only_gets_the_services_it_uses(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    teelixir = dataclasses.replace(config.businesses["teelixir"], services=("n8n",))
    config = dataclasses.replace(config, businesses={"teelixir": teelixir})
    report = await run_health_round(FakeServices(config, ConnectorRuntime(), {}), None)
    assert [(r.business_id, r.service) for r in report.results] == [("teelixir", "n8n")]


SUPABASE_KEY = "sb-service-role-key-for-health-tests"


def _postgrest() -> Starlette:
    async def root(request: Request) -> JSONResponse:
        if request.headers.get("apikey") != SUPABASE_KEY:
            return JSONResponse({"code": "PGRST301", "message": "Invalid API key"}, 401)
        return JSONResponse({"swagger": "2.0", "paths": {}})

    return Starlette(routes=[Route("/rest/v1/", root)])


@pytest.mark.parametrize(("key", "status"), [(SUPABASE_KEY, "healthy"), ("not-the-key", "down")])
async def test_supabase_rest_is_checked_when_configured(
    make_services: MakeServices, key: str, status: str
) -> None:
    services: FakeServices = make_services({})
    report = await run_health_round(services, None)
    assert "supabase" not in {r.service for r in report.results}

    services.config = dataclasses.replace(
        services.config, supabase_url="https://project.supabase.co", supabase_key=SecretStr(key)
    )
    services.transports["supabase"] = httpx.ASGITransport(app=_postgrest())
    report = await run_health_round(services, None, service_filter="supabase")
    [result] = report.results
    assert (result.business_id, result.service, result.status) == (PLATFORM, "supabase", status)
    assert key not in str(result.to_dict())


async def test_unreachable_database_is_down_not_raised(make_services: MakeServices) -> None:
    from masterops.db.engine import create_db_engine

    engine = create_db_engine("postgresql://ops:db-pass-123@127.0.0.1:1/masterops")
    try:
        report = await run_health_round(make_services({}), engine)
    finally:
        engine.dispose()
    database = report.results[0]
    assert (database.service, database.status) == ("database", "down")
    assert "db-pass-123" not in database.message
    assert report.status == "down"
