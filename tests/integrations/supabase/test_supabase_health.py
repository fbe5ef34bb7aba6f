"""Health of the platform database and of a Supabase REST endpoint."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.integrations.base import ConnectorRuntime, ErrorCategory, IntegrationError
from masterops.integrations.supabase import SupabaseRestConnector, database_health

SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.service-role-key-for-tests.sig"


async def test_migrated_database_is_healthy(engine: Engine) -> None:
    result = await database_health(engine)
    assert result.status == "healthy", result.message
    assert result.details["revision"] == result.details["head"] == migrate.head_revision()
    assert result.latency_ms is not None and result.latency_ms >= 0


async def test_schema_behind_is_degraded_and_says_what_to_run(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine, "0001")
    result = await database_health(bare_engine)
    assert result.status == "degraded"
    assert "run `ops db upgrade`" in result.message


async def test_unreachable_database_is_down_without_the_password() -> None:
    engine = create_db_engine("postgresql://ops:s3cret-pw@127.0.0.1:1/masterops")
    result = await database_health(engine)
    assert result.status == "down"
    assert "s3cret-pw" not in result.message and "127.0.0.1" in result.message
    engine.dispose()


def _postgrest() -> Starlette:
    """A PostgREST stand-in: the root answers only to a valid key, in both headers."""

    async def root(request: Request) -> JSONResponse:
        if (
            request.headers.get("apikey") != SERVICE_KEY
            or request.headers.get("authorization") != f"Bearer {SERVICE_KEY}"
        ):
            return JSONResponse(
                {"code": "PGRST301", "details": None, "hint": None, "message": "Invalid API key"},
                status_code=401,
            )
        return JSONResponse({"swagger": "2.0", "paths": {}})

    async def table(request: Request) -> JSONResponse:
        if request.path_params["table"] != "tasks":
            return JSONResponse(
                {
                    "code": "42P01",
                    "details": None,
                    "hint": None,
                    "message": 'relation "public.nope" does not exist',
                },
                status_code=404,
            )
        return JSONResponse([{"id": 1, "status": request.query_params.get("status")}])

    return Starlette(routes=[Route("/rest/v1/", root), Route("/rest/v1/{table}", table)])


def _connector(runtime: ConnectorRuntime, key: str) -> SupabaseRestConnector:
    return SupabaseRestConnector(
        business_id="platform",
        runtime=runtime,
        base_url="https://project.supabase.co",
        api_key=key,
        transport=httpx.ASGITransport(app=_postgrest()),
    )


async def test_rest_endpoint_health(runtime: ConnectorRuntime) -> None:
    async with _connector(runtime, SERVICE_KEY) as rest:
        assert (await rest.health()).status == "healthy"
        rows = await rest.select("tasks", filters={"status": "eq.failed"})
        assert rows == [{"id": 1, "status": "eq.failed"}]
        try:
            await rest.select("nope")
        except IntegrationError as exc:
            assert exc.category is ErrorCategory.NOT_FOUND
            assert "does not exist" in str(exc)
        else:
            raise AssertionError("a missing table must raise")


async def test_rest_bad_key_is_down_with_authentication(runtime: ConnectorRuntime) -> None:
    async with _connector(runtime, "wrong-key-value") as rest:
        result = await rest.health()
    assert result.status == "down"
    assert result.details["error"]["category"] == "AUTHENTICATION"
    assert "wrong-key-value" not in str(result.to_dict())
