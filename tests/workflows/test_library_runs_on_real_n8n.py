"""The issue's "Must show" for the library, on a REAL n8n (the one ``.ci/run`` provisions):
every library workflow deployed, triggered and monitored to a successful execution, with
its effect seen in the platform.

The platform is a real ``ops serve --run-jobs`` (uvicorn, its SQLite database) on a free
loopback port, so n8n calls it over HTTP with the token deploy put in the n8n credential;
its HubSpot, Unleashed and n8n are a sandbox served on loopback by this test (so the test
sees what the platform wrote to HubSpot), its report emails go to a real SMTP server
(aiosmtpd) here. Each scheduled workflow also has a Webhook trigger (n8n's public API has
no "run now"), which is how the test starts it; the test then follows the execution
through n8n's public API. Effects checked in the platform: a sync_runs row per sync
workflow, health_checks rows, an export file, the daily report sent once (one email per
business, report_deliveries rows; a second run sends nothing), an order posted to the
order intake workflow arriving as a deal with its line items in the sandbox HubSpot and
a row in orders (a redelivery adds nothing; garbage gets a 4xx from n8n; an order the
platform refuses fails the run), and, for failing runs, the error workflow's line in
integration_logs.

Runs only when ``MASTEROPS_N8N_URL`` and ``MASTEROPS_N8N_API_KEY`` are set; everything it
creates on n8n (workflows, tags, the credential) is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from workflows_helpers import LIBRARY, unique_names

from masterops.cli.sandbox_env import sandbox_environment
from masterops.db.api_tokens import create_token
from masterops.db.engine import create_db_engine
from masterops.db.tables import (
    health_checks,
    integration_logs,
    order_lines,
    orders,
    report_deliveries,
    sync_runs,
    webhook_inbox,
)
from masterops.integrations.base import ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops.sync.orders_hubspot import LINE_GUID_PROPERTY, ORDER_GUID_PROPERTY
from masterops.workflows import PlatformAccess, WorkflowDefinition, deploy, load_library
from masterops.workflows.deploy import credential_on_server
from masterops.workflows.remote import all_workflows
from masterops_sandbox.server import Sandbox

# The alert tests' real SMTP server (aiosmtpd), reused.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from smtp_sink import smtp_sink

REAL_URL = os.environ.get("MASTEROPS_N8N_URL", "")
REAL_KEY = os.environ.get("MASTEROPS_N8N_API_KEY", "")
# A loaded 2-core machine: start-up and the first syncs take their time.
START_S = 120
RUN_S = 300

pytestmark = [
    pytest.mark.real_n8n,
    pytest.mark.skipif(
        not (REAL_URL and REAL_KEY),
        reason="set MASTEROPS_N8N_URL and MASTEROPS_N8N_API_KEY to run against a real n8n",
    ),
]


#: The business the order intake test posts for, and its order webhook secret (a "}}" in
#: it: the secret is put into an n8n expression at deploy, and must survive that).
INTAKE_BUSINESS = "teelixir"
UNKNOWN_TO_PLATFORM = "elevate"
ORDER_SECRET = "intake-secret-}}-" + uuid.uuid4().hex


@dataclass
class Served:
    url: str
    engine: Engine
    home: Path
    sandbox: Sandbox
    emails: list[EmailMessage]


@pytest.fixture
def served_platform(tmp_path: Path) -> Iterator[Served]:
    """``ops serve --run-jobs`` (SQLite) on the sandbox served on loopback, reachable
    from n8n; the reports email to a local SMTP server; teelixir has an order webhook."""
    from loopback_ports import free_port_block

    box = Sandbox(seed=0, volume=20, n8n_executions=40)
    box.start_in_thread(port=0)
    with smtp_sink() as (smtp_port, emails):
        try:
            yield from _serve(tmp_path, box, smtp_port, emails, free_port_block())
        finally:
            box.stop()


def _serve(
    tmp_path: Path, box: Sandbox, smtp_port: int, emails: list[EmailMessage], port: int
) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env.update(sandbox_environment(box.describe()))
    home = tmp_path / "home"
    env["MASTEROPS_HOME"] = str(home)
    env[f"MASTEROPS_{INTAKE_BUSINESS.upper()}_ORDER_WEBHOOK_SECRET"] = ORDER_SECRET
    env["MASTEROPS_SMTP_HOST"] = "127.0.0.1"
    env["MASTEROPS_SMTP_PORT"] = str(smtp_port)
    # Only n8n sends the daily report here: the platform's own schedule is off.
    (tmp_path / "masterops.toml").write_text(
        '[reports]\nemail_to = ["ops@example.com"]\nslack = false\nscheduled = false\n'
    )
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "masterops", "serve", "--port", str(port), "--run-jobs"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "ops serve never answered"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        engine = create_db_engine(f"sqlite:///{home / 'masterops.db'}")
        yield Served(url, engine, home, box, emails)
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
async def real() -> AsyncIterator[N8nConnector]:
    connector = N8nConnector(
        business_id="teelixir",
        runtime=ConnectorRuntime(),
        base_url=REAL_URL,
        api_key=REAL_KEY,
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, deadline=30.0),
    )
    async with connector:
        tags_before = {t.id async for t in connector.list_tags()}
        token = uuid.uuid4().hex[:8]
        connector.test_token = token  # type: ignore[attr-defined]
        yield connector
        ours = [wf for wf in await all_workflows(connector) if f"[mo-test-{token}]" in wf.name]
        credential = credential_on_server(ours)
        for wf in ours:
            await connector.delete_workflow(wf.id)
        if credential is not None:
            await connector.delete_credential(credential)
        async for tag in connector.list_tags():
            if tag.id not in tags_before:
                await connector.delete_tag(tag.id)


def _mint(engine: Engine) -> str:
    with engine.begin() as conn:
        _, token = create_token(conn, name="n8n (real-n8n library test)", scope="operate")
    return token


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _webhook_path(definition: WorkflowDefinition) -> str:
    [hook] = [n for n in definition.nodes if n["type"] == "n8n-nodes-base.webhook"]
    return str(hook["parameters"]["path"])


async def _executions(n8n: httpx.AsyncClient, workflow_id: str) -> list[dict[str, Any]]:
    answer = await n8n.get("/api/v1/executions", params={"workflowId": workflow_id})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


async def _ended(
    n8n: httpx.AsyncClient, workflow_id: str, status: str, *, after: set[str] | None = None
) -> dict[str, Any]:
    """The workflow's newest execution that ended (and is not one of ``after``), with its
    data; a run that ended otherwise than ``status`` fails the test with n8n's error."""
    deadline = time.monotonic() + RUN_S
    while time.monotonic() < deadline:
        for execution in await _executions(n8n, workflow_id):
            if execution["status"] in ("running", "waiting", "new"):
                continue
            if after is not None and execution["id"] in after:
                continue
            full = await n8n.get(
                f"/api/v1/executions/{execution['id']}", params={"includeData": "true"}
            )
            data = full.json()
            if execution["status"] != status:
                error = data.get("data", {}).get("resultData", {}).get("error")
                raise AssertionError(f"{workflow_id} ended {execution['status']}: {error}")
            return dict(data)
        await asyncio.sleep(1)
    raise AssertionError(f"no {status} execution of {workflow_id} within {RUN_S} s")


def _output(execution: dict[str, Any], node: str) -> dict[str, Any]:
    runs = execution["data"]["resultData"]["runData"][node]
    return dict(runs[-1]["data"]["main"][0][0]["json"])


async def _ids(n8n: httpx.AsyncClient, workflow_id: str) -> set[str]:
    return {e["id"] for e in await _executions(n8n, workflow_id)}


def _new_order(box: Sandbox) -> dict[str, Any]:
    """An order a shop posts: a seed order of the business (its customer and products
    are real) under a Guid, number and line Guids the platform has never seen."""
    [template] = [
        o for o in box.unleashed_api.orders(INTAKE_BUSINESS) if o.status not in ("Deleted",)
    ][:1]
    order = copy.deepcopy(box.unleashed_api.to_json(template))
    order["Guid"] = str(uuid.uuid4())
    order["OrderNumber"] = "SO-N8N-" + uuid.uuid4().hex[:6].upper()
    for line in order["SalesOrderLines"]:
        line["Guid"] = str(uuid.uuid4())
    now = f"/Date({int(time.time() * 1000)})/"
    order["LastModifiedOn"] = order["CreatedOn"] = now
    return dict(order)


async def _wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + RUN_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} within {RUN_S} s")


async def test_every_library_workflow_runs_to_success_and_the_platform_shows_it(
    real: N8nConnector, served_platform: Served
) -> None:
    token = real.test_token  # type: ignore[attr-defined]
    definitions = unique_names(load_library([LIBRARY]), token)
    results = await deploy(
        real,
        definitions,
        activate=True,
        platform=PlatformAccess(
            served_platform.url,
            lambda: _mint(served_platform.engine),
            # elevate's secret n8n has and the platform has not: its orders are refused.
            {INTAKE_BUSINESS: ORDER_SECRET, UNKNOWN_TO_PLATFORM: "n8n-only-secret"},
        ),
    )
    assert all(r.ok for r in results), [(r.name, r.error) for r in results]
    ids = {r.name.split(" [mo-test-")[0]: r.workflow_id for r in results}
    paths = {
        d.name.split(" [mo-test-")[0]: _webhook_path(d)
        for d in definitions
        if any(n["type"] == "n8n-nodes-base.webhook" for n in d.nodes)
    }
    assert len(paths) == 7  # every workflow but the error workflow
    intake_path = paths.pop("Master-Ops order intake")
    # The secret is in n8n only inside the deployed workflow, never in a library file.
    assert all(ORDER_SECRET not in d.path.read_text() for d in load_library([LIBRARY]))

    headers = {"X-N8N-API-KEY": REAL_KEY}
    async with httpx.AsyncClient(base_url=REAL_URL, headers=headers, timeout=60) as n8n:
        for name, path in paths.items():
            started = await n8n.post(f"/webhook/{path}", json={})
            assert started.status_code == 200, (name, started.text)

        for entity in ("inventory", "customers", "orders"):
            execution = await _ended(n8n, str(ids[f"Master-Ops {entity} sync"]), "success")
            outcome = _output(execution, "Outcome")
            assert outcome["status"] == "succeeded"
            assert {r["job"] for r in outcome["results"]} == {entity}
            assert _count(served_platform.engine, sync_runs, sync_runs.c.entity == entity) == 4

        await _ended(n8n, str(ids["Master-Ops health monitor"]), "success")
        assert _count(served_platform.engine, health_checks) > 0

        # The daily report is SENT, once: one email per business, a report_deliveries
        # row each; running the workflow again sends nothing more.
        report_id = str(ids["Master-Ops daily report"])
        report = await _ended(n8n, report_id, "success")
        outcome = _output(report, "Outcome")
        assert (outcome["sent"], outcome["businesses"]) == (4, 4), outcome
        assert len(served_platform.emails) == 4
        assert any("Teelixir" in str(m["Subject"]) for m in served_platform.emails)
        assert (
            _count(served_platform.engine, report_deliveries, report_deliveries.c.status == "sent")
            == 4
        )
        before = await _ids(n8n, report_id)
        again = await n8n.post(f"/webhook/{paths['Master-Ops daily report']}", json={})
        assert again.status_code == 200
        second = _output(await _ended(n8n, report_id, "success", after=before), "Outcome")
        assert second["sent"] == 0 and second["deliveries"].count("already_sent") == 4, second
        assert len(served_platform.emails) == 4
        assert _count(served_platform.engine, report_deliveries) == 4

        exported = await _ended(n8n, str(ids["Master-Ops data export"]), "success")
        outcome = _output(exported, "Outcome")
        assert (served_platform.home / "exports" / outcome["file"]).is_file()

        await _order_intake(n8n, served_platform, intake_path, str(ids["Master-Ops order intake"]))

        # A run that fails (the platform refuses an unknown business) reaches the
        # platform through the error workflow.
        orders_id = str(ids["Master-Ops orders sync"])
        before = await _ids(n8n, orders_id)
        refused = await n8n.post(
            f"/webhook/{paths['Master-Ops orders sync']}", json={"business": "nope"}
        )
        assert refused.status_code == 200
        deadline = time.monotonic() + RUN_S
        failed: list[dict[str, Any]] = []
        while not failed and time.monotonic() < deadline:
            failed = [
                e
                for e in await _executions(n8n, orders_id)
                if e["id"] not in before and e["status"] == "error"
            ]
            await asyncio.sleep(0.5)
        assert failed, "the refused run did not fail"
        await _ended(n8n, str(ids["Master-Ops error notifier"]), "success")
    with served_platform.engine.connect() as conn:
        [line] = (
            conn.execute(
                select(integration_logs).where(integration_logs.c.workflow_id == orders_id)
            )
            .mappings()
            .all()
        )
    assert line["level"] == "error" and line["service"] == "n8n"
    assert line["details_json"]["execution_id"] == failed[0]["id"]
    # n8n keeps the platform's answer in the error's "messages": the reason arrives.
    assert "unknown business 'nope'" in line["message"], line["message"]


async def _order_intake(
    n8n: httpx.AsyncClient, served: Served, path: str, workflow_id: str
) -> None:
    """A shop posts an order to n8n; n8n signs it and hands it to the platform, which
    stores it and pushes the deal and its line items to HubSpot. Garbage is refused by
    n8n with a 4xx and the reason; a redelivery has no second effect."""
    url = f"/webhook/{path}"
    query = {"business": INTAKE_BUSINESS}
    garbage = await n8n.post(url, params=query, json="garbage")
    assert garbage.status_code == 422, garbage.text
    assert garbage.json()["error"] == "invalid_order"
    not_json = await n8n.post(
        url, params=query, content=b"garbage", headers={"Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415, not_json.text
    nobody = await n8n.post(url, params={"business": "nope"}, json={"Guid": "x"})
    assert nobody.status_code == 404 and nobody.json()["error"] == "unknown_business"
    shaped = {"Guid": "x", "OrderStatus": "Parked", "Customer": {"Guid": "c"}}
    bad_key = await n8n.post(url, params=query, json=shaped, headers={"Idempotency-Key": "x" * 65})
    assert bad_key.status_code == 400 and bad_key.json()["error"] == "invalid_event_id"
    no_customer = await n8n.post(url, params=query, json={"Guid": "x", "OrderStatus": "Parked"})
    assert no_customer.status_code == 422 and "Customer" in no_customer.json()["message"]
    # What n8n checks loosely the platform checks fully; its 422 reaches the shop.
    bad_total = await n8n.post(
        url,
        params=query,
        json={"Guid": "x", "OrderStatus": "Parked", "Customer": {"Guid": "c"}, "Total": "lots"},
    )
    assert bad_total.status_code == 422, bad_total.text
    assert "Total" in bad_total.json()["message"]
    assert _count(served.engine, webhook_inbox) == 0

    order = _new_order(served.sandbox)
    guid = order["Guid"].lower()
    sent = await n8n.post(url, params=query, json=order)
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert (answer["accepted"], answer["new"], answer["status"]) == (True, 1, "accepted")
    assert answer["order_number"] == order["OrderNumber"]

    hubspot = served.sandbox.hubspot_api

    def arrived() -> Any:
        deal = hubspot.find(INTAKE_BUSINESS, "deals", ORDER_GUID_PROPERTY, guid)
        with served.engine.connect() as conn:
            row = conn.execute(
                select(orders.c.hubspot_deal_id).where(
                    orders.c.business_id == INTAKE_BUSINESS, orders.c.unleashed_guid == guid
                )
            ).first()
        return deal if deal is not None and row is not None and row.hubspot_deal_id else None

    deal = await _wait_for(arrived, "the order did not reach the sandbox HubSpot")
    assert deal["properties"]["dealname"].startswith(order["OrderNumber"])
    line_items = {
        str(item["id"])
        for line in order["SalesOrderLines"]
        if (
            item := hubspot.find(
                INTAKE_BUSINESS, "line_items", LINE_GUID_PROPERTY, line["Guid"].lower()
            )
        )
    }
    assert len(line_items) == len(order["SalesOrderLines"]) > 0
    linked = hubspot.associated_ids(INTAKE_BUSINESS, "deals", deal["id"], "line_items")
    assert set(map(str, linked)) == line_items
    assert _count(served.engine, order_lines, order_lines.c.order_guid == guid) == len(line_items)

    # The shop sends it again (it never saw the answer, say): one event, one deal.
    again = await n8n.post(url, params=query, json=json.loads(json.dumps(order)))
    assert again.status_code == 202, again.text
    assert again.json()["new"] == 0 and again.json()["event_id"] == answer["event_id"]
    await asyncio.sleep(2)  # time for a (wrong) second push to show
    deals = [
        d
        for d in hubspot.records(INTAKE_BUSINESS, "deals")
        if d["properties"].get(ORDER_GUID_PROPERTY) == guid
    ]
    assert len(deals) == 1
    assert _count(served.engine, orders, orders.c.unleashed_guid == guid) == 1
    assert _count(served.engine, webhook_inbox) == 1
    # Every run of the intake workflow succeeded: refusals are answers, not failures.
    executions = await _executions(n8n, workflow_id)
    assert len(executions) == 8 and {e["status"] for e in executions} == {"success"}

    # n8n signs for a business the platform has no order webhook for: the shop hears
    # "send it again later", and the failed run reaches the platform as an error line.
    refused = await n8n.post(url, params={"business": UNKNOWN_TO_PLATFORM}, json=order)
    assert refused.status_code == 502, refused.text
    assert refused.json()["error"] == "platform_refused"

    def logged() -> Any:
        with served.engine.connect() as conn:
            return (
                conn.execute(
                    select(integration_logs).where(integration_logs.c.workflow_id == workflow_id)
                )
                .mappings()
                .all()
            )

    [line] = await _wait_for(logged, "the refused order did not reach the error workflow")
    assert line["level"] == "error" and "the platform answered HTTP 404" in line["message"]
    assert "n8n-only-secret" not in line["message"]
