"""The platform routes the library's workflows call that this work added (the daily
report and its delivery, exports, workflow errors), and every route's answer against the shape
``ops workflows validate`` checks expressions with (``platform_api.ROUTES``): a field
renamed in the API fails here, not silently in a running workflow."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from masterops.config import Config, load_config
from masterops.db.api_tokens import create_token
from masterops.db.tables import integration_logs, report_deliveries
from masterops.observability.events import TelemetryHub
from masterops.operations.jobs import JobStatus
from masterops.operations.services import open_services
from masterops.web import WebSettings, create_app
from masterops.web.orders_webhook import order_signature
from masterops.workflows.platform_api import ROUTES

# The alert tests' real SMTP server (aiosmtpd), reused.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from smtp_sink import smtp_sink

BASE_URL = "https://ops.example.com"


@dataclasses.dataclass
class Platform:
    client: httpx.AsyncClient
    engine: Engine
    config: Config

    def token(self, scope: str, *businesses: str) -> dict[str, str]:
        with self.engine.begin() as conn:
            _, token = create_token(
                conn,
                name=f"{scope}-{len(businesses)}-{id(businesses)}",
                scope=scope,
                businesses=list(businesses) or None,
            )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def platform(engine: Engine, tmp_path: Path) -> AsyncIterator[Platform]:
    config = load_config({"MASTEROPS_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    hub = TelemetryHub()
    with open_services(config, hub, engine) as services:
        app = create_app(engine, WebSettings(services=services, hub=hub))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield Platform(client, engine, config)


def _fits(shape: Any, value: Any, where: str = "$json") -> list[str]:
    """Where ``value`` (an answer) and ``shape`` disagree: object keys must be the same;
    arrays are compared element by element when the answer has elements."""
    if isinstance(shape, dict) and shape:
        assert isinstance(value, dict), f"{where} is not an object: {value!r}"
        wrong = [f"{where}: {sorted(set(shape) ^ set(value))}"] if set(shape) != set(value) else []
        for key in set(shape) & set(value):
            wrong += _fits(shape[key], value[key], f"{where}.{key}")
        return wrong
    if isinstance(shape, list):
        assert isinstance(value, list), f"{where} is not an array: {value!r}"
        return [w for item in value for w in _fits(shape[0], item, f"{where}[]")]
    return []


async def test_the_daily_report_route_answers_the_shape_workflows_read(
    platform: Platform,
) -> None:
    reader = platform.token("read")
    answer = await platform.client.get("/api/v1/reports/daily", headers=reader)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["count"] == len(platform.config.businesses) == len(body["reports"])
    assert body["subject"].startswith("Master-Ops daily report: ")
    assert all(r["business_name"] in body["text"] for r in body["reports"])
    assert _fits(ROUTES[("GET", "/api/v1/reports/daily")], body) == []

    one = await platform.client.get(
        "/api/v1/reports/daily", params={"business": "teelixir"}, headers=reader
    )
    assert [r["business_id"] for r in one.json()["reports"]] == ["teelixir"]
    scoped = platform.token("read", "teelixir")
    other = await platform.client.get(
        "/api/v1/reports/daily", params={"business": "elevate"}, headers=scoped
    )
    assert other.status_code == 403
    unknown = await platform.client.get(
        "/api/v1/reports/daily", params={"business": "acme"}, headers=reader
    )
    assert (unknown.status_code, unknown.json()["message"]) == (400, "unknown business 'acme'")


def _written(path: Path) -> tuple[list[str], list[Path]]:
    """The file's lines, and any half-written file left beside it."""
    return path.read_text(encoding="utf-8").splitlines(), list(path.parent.glob("*.partial"))


async def test_an_export_is_written_into_the_platforms_exports_folder(
    platform: Platform,
) -> None:
    operator = platform.token("operate")
    answer = await platform.client.post(
        "/api/v1/exports", json={"name": "integration_logs", "format": "csv"}, headers=operator
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert _fits(ROUTES[("POST", "/api/v1/exports")], body) == []
    written = Path(body["path"])
    assert written.parent == platform.config.home / "exports" and written.name == body["file"]
    lines, partial = _written(written)
    assert lines[0].startswith("id,") and len(lines) == body["rows"] + 1
    assert not partial

    bad = await platform.client.post(
        "/api/v1/exports", json={"name": "api_tokens"}, headers=operator
    )
    assert bad.status_code == 400 and "cannot export 'api_tokens'" in bad.json()["message"]
    reader = await platform.client.post(
        "/api/v1/exports", json={"name": "orders"}, headers=platform.token("read")
    )
    assert reader.status_code == 403
    scoped = platform.token("operate", "teelixir")
    everything = await platform.client.post(
        "/api/v1/exports", json={"name": "orders"}, headers=scoped
    )
    assert everything.status_code == 403
    own = await platform.client.post(
        "/api/v1/exports", json={"name": "orders", "business": "teelixir"}, headers=scoped
    )
    assert own.status_code == 201 and own.json()["file"].startswith("orders-teelixir-")


async def test_a_workflow_failure_becomes_an_error_line_without_secrets(
    platform: Platform,
) -> None:
    operator = platform.token("operate")
    report = {
        "workflow_id": "wf1",
        "workflow_name": "Master-Ops orders sync",
        "execution_id": "42",
        "node": "Start the sync job",
        "message": "Bad request: header Authorization: Bearer mo_leakedtoken123456 refused",
        "url": "http://n8n.test/workflow/wf1/executions/42",
        "mode": "webhook",
    }
    answer = await platform.client.post("/api/v1/workflow-errors", json=report, headers=operator)
    assert answer.status_code == 201, answer.text
    assert _fits(ROUTES[("POST", "/api/v1/workflow-errors")], answer.json()) == []
    with platform.engine.connect() as conn:
        [row] = conn.execute(select(integration_logs)).mappings().all()
    assert (row["service"], row["level"], row["workflow_id"]) == ("n8n", "error", "wf1")
    assert row["message"].startswith(
        "n8n workflow 'Master-Ops orders sync' failed at node 'Start the sync job': Bad request"
    )
    assert "mo_leakedtoken123456" not in row["message"]
    assert row["details_json"]["execution_id"] == "42"

    refused = await platform.client.post(
        "/api/v1/workflow-errors", json=report, headers=platform.token("read")
    )
    assert refused.status_code == 403
    missing = await platform.client.post(
        "/api/v1/workflow-errors", json={"message": "x"}, headers=operator
    )
    assert missing.status_code == 400 and "workflow_name" in missing.json()["message"]


async def test_a_health_round_answers_the_shape_workflows_read(platform: Platform) -> None:
    answer = await platform.client.post(
        "/api/v1/health/rounds",
        json={"business": "teelixir", "send_alerts": False},
        headers=platform.token("operate"),
    )
    assert answer.status_code == 200, answer.text
    assert _fits(ROUTES[("POST", "/api/v1/health/rounds")], answer.json()) == []


def test_the_job_shapes_are_the_job_status_fields() -> None:
    # The jobs routes answer JobStatus.to_dict() plus "url" (GET) and JobRef's fields plus
    # "url" (POST); tests/web/test_api_jobs.py runs them, the real-n8n test calls them.
    status_fields = {f.name for f in dataclasses.fields(JobStatus)} | {"url"}
    assert set(ROUTES[("GET", "/api/v1/jobs/{id}")]) == status_fields
    assert set(ROUTES[("POST", "/api/v1/jobs/sync")]) == {
        "job_id",
        "status",
        "entity",
        "businesses",
        "url",
    }


def _within(shape: Any, value: Any) -> list[str]:
    """Like ``_fits`` for answers whose fields vary (an error adds ``error`` and
    ``message``): every field the answer has is in the shape."""
    assert isinstance(value, dict)
    extra = sorted(set(value) - set(shape))
    return [f"$json: {extra}"] if extra else []


DELIVERIES = ("POST", "/api/v1/reports/daily/deliveries")


@pytest.fixture
async def mailing_platform(engine: Engine, tmp_path: Path) -> AsyncIterator[Any]:
    """The platform with its reports emailed to a real local SMTP server: (platform,
    the messages received)."""
    (tmp_path / "masterops.toml").write_text('[reports]\nemail_to = ["ops@example.com"]\n')
    with smtp_sink() as (port, messages):
        env = {
            "MASTEROPS_HOME": str(tmp_path / "home"),
            "MASTEROPS_SMTP_HOST": "127.0.0.1",
            "MASTEROPS_SMTP_PORT": str(port),
        }
        config = load_config(env, cwd=tmp_path)
        hub = TelemetryHub()
        with open_services(config, hub, engine) as services:
            app = create_app(engine, WebSettings(services=services, hub=hub))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield Platform(client, engine, config), messages


async def test_the_daily_report_is_sent_once_per_business_and_day(
    mailing_platform: Any,
) -> None:
    platform, messages = mailing_platform
    operator = platform.token("operate")
    # Three calls at once (n8n retried, and someone ran it by hand): one email each.
    answers = await asyncio.gather(
        *(
            platform.client.post("/api/v1/reports/daily/deliveries", headers=operator)
            for _ in range(3)
        )
    )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    businesses = len(platform.config.businesses)
    assert sum(a.json()["sent"] for a in answers) == businesses
    assert len(messages) == businesses
    for answer in answers:
        body = answer.json()
        assert body["count"] == businesses
        assert _fits(ROUTES[DELIVERIES], {**body, "error": None, "message": None}) == []
        assert {d["status"] for d in body["deliveries"]} <= {
            "sent",
            "already_sent",
            "in_progress",
            "skipped",
        }
    with platform.engine.connect() as conn:
        rows = conn.execute(select(report_deliveries)).mappings().all()
    assert len(rows) == businesses
    assert {(r["kind"], r["status"], r["channels"]) for r in rows} == {("daily", "sent", "email")}

    later = await platform.client.post("/api/v1/reports/daily/deliveries", headers=operator)
    assert later.json()["sent"] == 0 and len(messages) == businesses
    assert {d["status"] for d in later.json()["deliveries"]} == {"already_sent"}
    assert {tuple(d["channels"]) for d in later.json()["deliveries"]} == {("email",)}

    reader = await platform.client.post(
        "/api/v1/reports/daily/deliveries", headers=platform.token("read")
    )
    assert reader.status_code == 403
    unknown = await platform.client.post(
        "/api/v1/reports/daily/deliveries", params={"business": "acme"}, headers=operator
    )
    assert (unknown.status_code, unknown.json()["message"]) == (400, "unknown business 'acme'")
    scoped = await platform.client.post(
        "/api/v1/reports/daily/deliveries", headers=platform.token("operate", "teelixir")
    )
    assert [d["business_id"] for d in scoped.json()["deliveries"]] == ["teelixir"]


async def test_a_report_that_cannot_be_sent_is_an_error_the_caller_sees(
    platform: Platform,
) -> None:
    # No email recipients, no Slack: nowhere to send it.
    answer = await platform.client.post(
        "/api/v1/reports/daily/deliveries",
        params={"business": "teelixir"},
        headers=platform.token("operate"),
    )
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["error"] == "report_not_delivered" and "nowhere to send" in body["message"]
    assert _fits(ROUTES[DELIVERIES], body) == []
    [delivery] = body["deliveries"]
    assert (delivery["status"], delivery["business_id"]) == ("failed", "teelixir")


async def test_the_order_receiver_answers_within_the_shape_the_intake_reads(
    engine: Engine,
) -> None:
    app = create_app(engine, WebSettings(order_webhook_secrets={"teelixir": "s3cret"}))
    transport = httpx.ASGITransport(app=app)
    shape = ROUTES[("POST", "/webhooks/orders/{id}")]
    order = {"Guid": "g-1", "OrderStatus": "Parked", "Customer": {"Guid": "c-1"}}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        for body, secret in ((order, "s3cret"), ({"Guid": "g"}, "s3cret"), (order, "wrong")):
            raw = json.dumps(body).encode()
            stamp = str(int(time.time()))
            answer = await client.post(
                "/webhooks/orders/teelixir",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-MasterOps-Timestamp": stamp,
                    "X-MasterOps-Signature": order_signature(secret, stamp, raw),
                },
            )
            assert answer.status_code in (202, 401, 422), answer.text
            assert _within(shape, answer.json()) == []
