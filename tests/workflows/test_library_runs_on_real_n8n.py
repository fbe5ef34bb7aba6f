"""The issue's "Must show" for the library, on a REAL n8n (the one ``.ci/run`` provisions):
every library workflow deployed, triggered and monitored to a successful execution, with
its effect seen in the platform.

The platform is a real ``ops serve --run-jobs`` (uvicorn, the embedded SQLite database
and the sandbox) on a free loopback port, so n8n calls it over HTTP with the token deploy
put in the n8n credential. Each scheduled workflow also has a Webhook trigger (n8n's
public API has no "run now"), which is how the test starts it; the test then follows the
execution through n8n's public API. Effects checked in the platform's database: a
sync_runs row per sync workflow, health_checks rows, an export file, the report's text in
the execution, and, for a failing run, the error workflow's line in integration_logs.

Runs only when ``MASTEROPS_N8N_URL`` and ``MASTEROPS_N8N_API_KEY`` are set; everything it
creates on n8n (workflows, tags, the credential) is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from workflows_helpers import LIBRARY, unique_names

from masterops.db.api_tokens import create_token
from masterops.db.engine import create_db_engine
from masterops.db.tables import health_checks, integration_logs, sync_runs
from masterops.integrations.base import ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops.workflows import PlatformAccess, WorkflowDefinition, deploy, load_library
from masterops.workflows.deploy import credential_on_server
from masterops.workflows.remote import all_workflows

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


@dataclass
class Served:
    url: str
    engine: Engine
    home: Path


@pytest.fixture
def served_platform(tmp_path: Path) -> Iterator[Served]:
    """``ops serve --run-jobs`` on the embedded default (SQLite, the sandbox), reachable
    from n8n on loopback."""
    from loopback_ports import free_port_block

    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    home = tmp_path / "home"
    env["MASTEROPS_HOME"] = str(home)
    port = free_port_block()
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
        yield Served(url, engine, home)
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


async def _ended(n8n: httpx.AsyncClient, workflow_id: str, status: str) -> dict[str, Any]:
    """The workflow's first execution that ended with ``status``, with its data; a run
    that ended otherwise fails the test with n8n's error."""
    deadline = time.monotonic() + RUN_S
    while time.monotonic() < deadline:
        for execution in await _executions(n8n, workflow_id):
            if execution["status"] in ("running", "waiting", "new"):
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


async def test_every_library_workflow_runs_to_success_and_the_platform_shows_it(
    real: N8nConnector, served_platform: Served
) -> None:
    token = real.test_token  # type: ignore[attr-defined]
    definitions = unique_names(load_library([LIBRARY]), token)
    results = await deploy(
        real,
        definitions,
        activate=True,
        platform=PlatformAccess(served_platform.url, lambda: _mint(served_platform.engine)),
    )
    assert all(r.ok for r in results), [(r.name, r.error) for r in results]
    ids = {r.name.split(" [mo-test-")[0]: r.workflow_id for r in results}
    paths = {
        d.name.split(" [mo-test-")[0]: _webhook_path(d)
        for d in definitions
        if any(n["type"] == "n8n-nodes-base.webhook" for n in d.nodes)
    }
    assert len(paths) == 6  # every workflow but the error workflow

    headers = {"X-N8N-API-KEY": REAL_KEY}
    async with httpx.AsyncClient(base_url=REAL_URL, headers=headers, timeout=30) as n8n:
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

        report = await _ended(n8n, str(ids["Master-Ops daily report"]), "success")
        message = _output(report, "Report message")
        assert message["businesses"] == 4 and "Teelixir" in message["text"]

        exported = await _ended(n8n, str(ids["Master-Ops data export"]), "success")
        outcome = _output(exported, "Outcome")
        assert (served_platform.home / "exports" / outcome["file"]).is_file()

        # A run that fails (the platform refuses an unknown business) reaches the
        # platform through the error workflow.
        orders = str(ids["Master-Ops orders sync"])
        before = {e["id"] for e in await _executions(n8n, orders)}
        refused = await n8n.post(
            f"/webhook/{paths['Master-Ops orders sync']}", json={"business": "nope"}
        )
        assert refused.status_code == 200
        deadline = time.monotonic() + RUN_S
        failed: list[dict[str, Any]] = []
        while not failed and time.monotonic() < deadline:
            failed = [
                e
                for e in await _executions(n8n, orders)
                if e["id"] not in before and e["status"] == "error"
            ]
            await asyncio.sleep(0.5)
        assert failed, "the refused run did not fail"
        await _ended(n8n, str(ids["Master-Ops error notifier"]), "success")
    with served_platform.engine.connect() as conn:
        [line] = (
            conn.execute(select(integration_logs).where(integration_logs.c.workflow_id == orders))
            .mappings()
            .all()
        )
    assert line["level"] == "error" and line["service"] == "n8n"
    assert line["details_json"]["execution_id"] == failed[0]["id"]
    # n8n keeps the platform's answer in the error's "messages": the reason arrives.
    assert "unknown business 'nope'" in line["message"], line["message"]
