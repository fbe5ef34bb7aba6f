"""The JSON API against its own OpenAPI document, with schemathesis generating requests
for every operation: no 5xx with an admin token, 401 without a token, 403 for operate
routes with a read token, and a business-scoped token never sees another business's rows.

The app is the real one on the test database, with the sandbox's connectors and the job
queues, so that the action routes do their work rather than answer "not configured".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy import Engine, create_engine, insert, text
from web_helpers import bearer, make_token, seed_rows

from masterops.config import load_config
from masterops.db.tables import workflow_execution_logs
from masterops.jobs.runtime import launched
from masterops.observability.events import TelemetryHub
from masterops.operations.jobs import JobQueue, system_database
from masterops.operations.services import open_services
from masterops.tasks import store
from masterops.web import WebSettings, create_app

MAX_EXAMPLES = 20
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
)
WRITES = ("POST", "PATCH", "PUT", "DELETE")
SCOPED = ("teelixir",)
PG_URL = os.environ.get("MASTEROPS_TEST_DATABASE_URL")

# The alert tests' local HTTP server, standing in for Slack.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from http_sink import http_sink  # noqa: E402


@pytest.fixture
def slack_url() -> Iterator[str]:
    """A local stand-in for Slack (the alert tests'): where the reports the API sends
    (``POST /reports/daily/deliveries``) go."""
    with http_sink() as sink:
        yield sink.url


@pytest.fixture
def api(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack_url: str
) -> Iterator[Any]:
    """The app with connectors (the sandbox) and job queues on the test database, rows of
    two businesses, and its OpenAPI document loaded by schemathesis."""
    for key in list(os.environ):
        if key.startswith("MASTEROPS_") and key != "MASTEROPS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    url = engine.url.render_as_string(hide_password=False)
    config = load_config(
        {"MASTEROPS_DATABASE_URL": url, "MASTEROPS_SLACK_WEBHOOK_URL": slack_url}, cwd=tmp_path
    )
    # A worker has used this database once (its system tables exist); none runs here, so
    # the jobs the requests start stay enqueued.
    with launched(config, worker_name="schemathesis", queues=()):
        pass
    _seed_two_businesses(engine)
    hub = TelemetryHub()
    queue = JobQueue(config)
    try:
        with open_services(config, hub, engine) as services:
            # No rate limit: hundreds of requests a minute per token are the point here.
            unlimited = {"rate_limit_per_minute": 10**9, "rate_limit_burst": 10**9}
            settings_ = WebSettings(services=services, hub=hub, jobs=queue, **unlimited)
            app = create_app(engine, settings_)
            admin = bearer(make_token(engine, "admin"))
            schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, headers=admin)
            yield schema, engine, admin
    finally:
        queue.close()
        _drop_system_schema(config)


def _drop_system_schema(config: Any) -> None:
    url, schema = system_database(config)
    if url.startswith("postgresql") and PG_URL is not None:
        admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _seed_two_businesses(engine: Engine) -> None:
    seed_rows(engine)  # teelixir and elevate (and boo) rows in every table the API reads
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(workflow_execution_logs),
            [
                {
                    "workflow_id": f"wf-{business}",
                    "workflow_name": f"{business} orders",
                    "business_id": business,
                    "execution_id": f"ex-{business}",
                    "status": "error",
                    "started_at": now,
                }
                for business in ("teelixir", "elevate")
            ],
        )
        for business in ("teelixir", "elevate"):
            task = store.add_task(conn, f"check {business}", business=business)
            store.add_log(conn, task, f"looked at {business}", level="info", source="test")


def _operations(schema: OpenApiSchema) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def test_the_document_covers_every_route(api: Any) -> None:
    schema, _, _ = api
    labels = {_label(op) for op in _operations(schema)}
    assert {
        "GET /health",
        "GET /logs",
        "GET /stats",
        "GET /sync/runs",
        "GET /api-metrics",
        "GET /tasks",
        "POST /jobs/sync",
        "GET /jobs/{job_id}",
        "GET /jobs",
        "POST /workflows/{workflow_id}/activate",
        "POST /health/rounds",
    } <= labels


def _run(operation: Any, check: Any, hypothesis_settings: settings = SETTINGS) -> None:
    """``check(case)`` on the requests schemathesis generates for ``operation``."""

    def examples(case: Any) -> None:
        check(case)

    given(case=operation.as_strategy())(hypothesis_settings(examples))()


def test_no_request_an_admin_makes_is_a_server_error(api: Any) -> None:
    schema, _, admin = api
    answered: dict[str, list[int]] = {}
    for operation in _operations(schema):
        label = _label(operation)
        statuses = answered.setdefault(label, [])

        def check(case: Any, label: str = label, statuses: list[int] = statuses) -> None:
            response = case.call(headers=admin)
            statuses.append(response.status_code)
            assert response.status_code < 500, (label, case.as_curl_command(), response.text)

        _run(operation, check)
    # The requests reached the routes: each route without a path parameter took some.
    for operation in _operations(schema):
        if not operation.path_parameters:
            label = _label(operation)
            assert any(200 <= s < 300 for s in answered[label]), (label, answered[label])


def test_every_route_needs_a_token_and_operate_routes_refuse_a_read_token(api: Any) -> None:
    schema, engine, _ = api
    reader = bearer(make_token(engine, "read"))
    for operation in _operations(schema):
        label, writes = _label(operation), operation.method.upper() in WRITES

        def check(case: Any, label: str = label, writes: bool = writes) -> None:
            anonymous = case.call(headers={"Authorization": ""})
            if _has_nul(case.query):
                # The one refusal before the token check: a query string no database can
                # compare with (the API's strict_query guard, for every route alike).
                assert (anonymous.status_code, anonymous.json()["error"]) == (400, "bad_request")
                return
            assert anonymous.status_code == 401, (label, anonymous.text)
            assert anonymous.json()["error"] in ("missing_token", "invalid_authorization")
            if writes:
                refused = case.call(headers=reader)
                assert refused.status_code == 403, (label, refused.text)
                assert refused.json()["error"] == "insufficient_scope"

        _run(operation, check, settings(SETTINGS, max_examples=5))


def _has_nul(query: dict[str, Any] | None) -> bool:
    return any("\x00" in str(value) for value in (query or {}).values())


def _businesses_in(value: Any) -> set[str]:
    """Every business a JSON answer names, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("business_id", "business") and isinstance(item, str):
                found.add(item)
            elif key == "businesses" and isinstance(item, list):
                found.update(b for b in item if isinstance(b, str))
            else:
                found |= _businesses_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _businesses_in(item)
    return found


def test_a_business_scoped_token_never_sees_another_business(api: Any) -> None:
    schema, engine, _ = api
    scoped = bearer(make_token(engine, "read", *SCOPED))
    seen: dict[str, set[str]] = {}
    for operation in _operations(schema):
        if operation.method.upper() != "GET":
            continue
        label = _label(operation)
        named_here = seen.setdefault(label, set())

        def check(case: Any, label: str = label, named_here: set[str] = named_here) -> None:
            response = case.call(headers=scoped)
            assert response.status_code < 500, (label, response.text)
            assert response.status_code != 429, (label, response.text)
            if response.status_code == 200:
                named = _businesses_in(response.json())
                assert named <= set(SCOPED), (label, case.as_curl_command(), named)
                named_here.update(named)

        _run(operation, check)
        if not operation.path_parameters:
            # Without parameters too (the generated requests may all carry filters).
            check(operation.Case())
    # The check had rows to look at: each list of a seeded table showed teelixir's.
    for label in ("GET /logs", "GET /sync/runs", "GET /tasks", "GET /workflows/failures"):
        assert seen.get(label) == {"teelixir"}, (label, seen.get(label))
