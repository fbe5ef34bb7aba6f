"""Sync jobs through the API: enqueued as the durable workflows, run by a worker (DBOS
launched in this process, as ``ops worker`` or ``ops serve --run-jobs`` would), against
the sandbox; their status, idempotency and business scoping."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from web_helpers import BASE_URL, bearer, make_token, settings_for

from masterops.config import Config, load_config
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import sync_runs, worker_heartbeats
from masterops.jobs import durable, queues
from masterops.jobs.resumed import workflow_name
from masterops.jobs.runtime import executor_id, launched
from masterops.operations import jobs as ops_jobs
from masterops.operations.jobs import JobQueue, system_database
from masterops.web import create_app
from masterops_sandbox.accounts import sandbox_accounts

PG_URL = os.environ.get("MASTEROPS_TEST_DATABASE_URL")


@pytest.fixture
def platform(database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:  # type: ignore[no-untyped-def]
    """The configuration the job steps rebuild from the environment: the test database
    and the sandbox."""
    for key in list(os.environ):
        if key.startswith("MASTEROPS_") and key != "MASTEROPS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", database.url)
    monkeypatch.chdir(tmp_path)
    engine = create_db_engine(database.url)
    migrate.upgrade(engine)
    engine.dispose()
    config = load_config()
    try:
        yield config
    finally:
        url, schema = system_database(config)
        if url.startswith("postgresql") and PG_URL is not None:
            admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def worker(platform: Config) -> Iterator[Config]:
    """A worker in this process: DBOS launched on the system database with the queues."""
    with launched(platform, worker_name="test", polling_interval_s=0.01):
        queues.register_queues(platform.businesses)
        yield platform


class Api:
    def __init__(self, client: httpx.AsyncClient, engine: Any, queue: JobQueue) -> None:
        self.client = client
        self.engine = engine
        self.queue = queue

    async def wait(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """The job's status once it has ended (succeeded or failed). Polls as a client
        should: a 429 from the token's rate limit (a slow job on a loaded machine polls
        often) is waited out for its Retry-After, then asked again."""
        for _ in range(1200):
            answer = await self.client.get(url, headers=headers)
            if answer.status_code == 429:
                await asyncio.sleep(float(answer.headers["Retry-After"]))
                continue
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            if body["status"] in ("succeeded", "failed"):
                return body
            await asyncio.sleep(0.05)
        raise AssertionError(f"{url} did not end: {body}")


async def _api(config: Config) -> AsyncIterator[Api]:
    engine = create_db_engine(config.database_url.get_secret_value())
    queue = JobQueue(config)
    app = create_app(engine, replace(settings_for(sandbox_accounts()), jobs=queue))
    headers = bearer(make_token(engine, "operate"))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, headers=headers
        ) as client:
            yield Api(client, engine, queue)
    finally:
        queue.close()
        engine.dispose()


@pytest.fixture
async def api(worker: Config) -> AsyncIterator[Api]:
    async for value in _api(worker):
        yield value


@pytest.fixture
async def api_without_worker(platform: Config) -> AsyncIterator[Api]:
    async for value in _api(platform):
        yield value


def _runs(engine: Any, business: str, entity: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(sync_runs)
                .where(sync_runs.c.business_id == business, sync_runs.c.entity == entity)
            ).scalar_one()
        )


async def test_a_sync_job_runs_to_success_and_its_run_is_recorded(api: Api) -> None:
    before = _runs(api.engine, "teelixir", "inventory")
    started = await api.client.post(
        "/api/v1/jobs/sync", json={"entity": "inventory", "business": "teelixir"}
    )
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "enqueued"
    assert body["businesses"] == ["teelixir"]
    assert body["url"] == f"/api/v1/jobs/{body['job_id']}"

    done = await api.wait(body["url"])
    assert done["status"] == "succeeded", done
    assert done["entity"] == "inventory"
    [row] = done["results"]
    assert row["business_id"] == "teelixir"
    assert row["job"] == "inventory"
    assert done["started_at"] is not None and done["ended_at"] is not None
    assert done["error"] is None
    assert _runs(api.engine, "teelixir", "inventory") == before + 1

    listed = (await api.client.get("/api/v1/jobs")).json()
    assert [j["job_id"] for j in listed["jobs"]] == [body["job_id"]]


async def test_the_same_idempotency_key_is_the_same_job_run_once(api: Api) -> None:
    request = {"entity": "customers", "business": "elevate"}
    key = {"Idempotency-Key": "n8n-run-42"}
    first = await api.client.post("/api/v1/jobs/sync", json=request, headers=key)
    again = await api.client.post("/api/v1/jobs/sync", json=request, headers=key)
    assert first.status_code == 202 and again.status_code == 200, again.text
    assert again.json()["job_id"] == first.json()["job_id"]
    done = await api.wait(first.json()["url"])
    assert done["status"] == "succeeded", done
    # After it ended too: the key still names the finished job, which does not run again.
    third = await api.client.post("/api/v1/jobs/sync", json=request, headers=key)
    assert third.json()["job_id"] == first.json()["job_id"]
    assert third.json()["status"] == "succeeded"
    assert _runs(api.engine, "elevate", "customers") == 1
    other = await api.client.post(
        "/api/v1/jobs/sync", json=request, headers={"Idempotency-Key": "n8n-run-43"}
    )
    assert other.json()["job_id"] != first.json()["job_id"]


async def test_a_job_without_a_business_covers_the_tokens_businesses(api: Api) -> None:
    limited = bearer(make_token(api.engine, "operate", "teelixir", "boo"))
    started = await api.client.post("/api/v1/jobs/sync", json={"entity": "orders"}, headers=limited)
    assert started.status_code == 202, started.text
    assert sorted(started.json()["businesses"]) == ["boo", "teelixir"]
    done = await api.wait(started.json()["url"], headers=limited)
    assert done["status"] == "succeeded", done
    assert sorted(r["business_id"] for r in done["results"]) == ["boo", "teelixir"]
    assert _runs(api.engine, "teelixir", "orders") == 1
    assert _runs(api.engine, "elevate", "orders") == 0


async def test_the_executions_import_runs_for_every_business(api: Api) -> None:
    started = await api.client.post("/api/v1/jobs/sync", json={"entity": "executions"})
    assert started.status_code == 202, started.text
    assert started.json()["businesses"] == []
    done = await api.wait(started.json()["url"])
    assert done["status"] == "succeeded", done
    assert done["results"] and all("instance" in r for r in done["results"])


async def test_business_scoped_tokens_start_and_see_only_their_jobs(
    api_without_worker: Api,
) -> None:
    api = api_without_worker
    # No worker listens: the job stays enqueued, which its status says.
    with launched(api.queue.config, worker_name="schema-only", queues=()):
        pass  # a worker has used this database once: its system tables exist
    started = await api.client.post("/api/v1/jobs/sync", json={"entity": "inventory"})
    assert started.status_code == 202, started.text
    assert sorted(started.json()["businesses"]) == sorted(
        s for s, b in api.queue.config.businesses.items() if "unleashed" in b.services
    )
    job_url = started.json()["url"]
    assert (await api.client.get(job_url)).json()["status"] == "enqueued"

    teelixir = bearer(make_token(api.engine, "operate", "teelixir"))
    refused = await api.client.post(
        "/api/v1/jobs/sync", json={"entity": "inventory", "business": "elevate"}, headers=teelixir
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "business_not_allowed"
    executions = await api.client.post(
        "/api/v1/jobs/sync", json={"entity": "executions"}, headers=teelixir
    )
    assert executions.status_code == 403
    # The job of every business is not teelixir's to see, in full or in the list.
    assert (await api.client.get(job_url, headers=teelixir)).status_code == 403
    own = await api.client.post("/api/v1/jobs/sync", json={"entity": "inventory"}, headers=teelixir)
    assert own.json()["businesses"] == ["teelixir"]
    listed = (await api.client.get("/api/v1/jobs", headers=teelixir)).json()
    assert [j["job_id"] for j in listed["jobs"]] == [own.json()["job_id"]]

    reader = bearer(make_token(api.engine, "read"))
    denied = await api.client.post(
        "/api/v1/jobs/sync", json={"entity": "inventory"}, headers=reader
    )
    assert denied.status_code == 403
    assert (await api.client.get(job_url, headers=reader)).status_code == 200


async def test_bad_requests_are_one_line_errors(api_without_worker: Api) -> None:
    client = api_without_worker.client
    unknown = await client.post("/api/v1/jobs/sync", json={"entity": "invoices"})
    assert unknown.status_code == 400
    assert "entity" in unknown.json()["message"]
    business = await client.post(
        "/api/v1/jobs/sync", json={"entity": "inventory", "business": "nope"}
    )
    assert business.status_code == 400
    assert business.json()["message"].startswith("unknown business 'nope'")
    executions = await client.post(
        "/api/v1/jobs/sync", json={"entity": "executions", "business": "teelixir"}
    )
    assert executions.status_code == 400
    assert "omit business" in executions.json()["message"]
    assert (await client.get("/api/v1/jobs/not-a-job")).status_code == 400
    extra = await client.post("/api/v1/jobs/sync", json={"entity": "orders", "fast": True})
    assert extra.status_code == 400


async def test_before_any_worker_ran_jobs_answer_503_saying_what_to_do(
    api_without_worker: Api,
) -> None:
    client = api_without_worker.client
    answer = await client.post(
        "/api/v1/jobs/sync", json={"entity": "inventory", "business": "teelixir"}
    )
    assert answer.status_code == 503, answer.text
    assert "ops worker" in answer.json()["message"]
    assert (await client.get("/api/v1/jobs/" + "0" * 32)).status_code == 503


def test_the_names_enqueued_are_the_registered_workflows_and_queues() -> None:
    registered = {
        "inventory": durable.inventory_sync_job,
        "customers": durable.customers_sync_job,
        "orders": durable.orders_sync_job,
        "executions": durable.executions_sync_job,
    }
    assert {e: workflow_name(w) for e, w in registered.items()} == ops_jobs.WORKFLOW_NAMES
    assert ops_jobs.N8N_QUEUE == queues.N8N_QUEUE
    assert ops_jobs.SYNC_QUEUE == queues.SYNC_QUEUE


def test_ops_serve_run_jobs_runs_an_api_job_in_its_own_process(tmp_path: Path) -> None:
    """The choice for installations without ``ops worker``: ``ops serve --run-jobs``
    runs the jobs it enqueues. A real process, on the embedded SQLite default."""
    import signal
    import subprocess
    import sys
    import time

    from loopback_ports import free_port_block

    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env["MASTEROPS_HOME"] = str(tmp_path / "home")
    port = free_port_block()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "masterops", "serve", "--port", str(port), "--run-jobs"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90  # start-up allowance on a loaded machine
        while True:
            assert proc.poll() is None, "ops serve exited early"
            assert time.monotonic() < deadline, "ops serve never answered"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        engine = create_db_engine(f"sqlite:///{tmp_path / 'home' / 'masterops.db'}")
        headers = bearer(make_token(engine, "operate"))
        started = httpx.post(
            f"{base}/api/v1/jobs/sync",
            json={"entity": "inventory", "business": "teelixir"},
            headers=headers,
        )
        assert started.status_code == 202, started.text
        url = base + started.json()["url"]
        status = started.json()
        while status["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline + 120, f"the job never ended: {status}"
            time.sleep(0.2)
            status = httpx.get(url, headers=headers).json()
        assert status["status"] == "succeeded", status
        assert _runs(engine, "teelixir", "inventory") == 1
        # A worker like any other: it beats (``ops jobs workers`` lists it, the "worker
        # not seen" alert and the takeover of a silent worker's jobs read the beat)...
        assert _beats(engine) == [(executor_id("serve"), proc.pid, "running")]
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        # ... and says it stopped on purpose when it exits cleanly.
        assert _beats(engine) == [(executor_id("serve"), proc.pid, "stopped")]
        engine.dispose()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "running queued jobs in this process" in stderr.decode()


def _beats(engine: Engine) -> list[tuple[str, int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                worker_heartbeats.c.worker_id, worker_heartbeats.c.pid, worker_heartbeats.c.state
            )
        ).all()
    return [(r.worker_id, r.pid, r.state) for r in rows]


def test_which_businesses_a_sync_job_covers(tmp_path: Path) -> None:
    from masterops.operations.jobs import JobRefused, sync_targets

    config = load_config({}, cwd=tmp_path)  # the sandbox's four businesses
    assert sync_targets(config, "orders", None) == list(config.businesses)
    assert sync_targets(config, "orders", "elevate") == ["elevate"]
    # Several (a token's businesses): the known ones that use Unleashed, in config order.
    assert sync_targets(config, "orders", ["teelixir", "gone", "boo"]) == ["teelixir", "boo"]
    assert sync_targets(config, "executions", None) == []
    for entity, business, message in [
        ("orders", "gone", "unknown business 'gone'"),
        ("orders", ["gone"], "no business among gone uses Unleashed"),
        ("invoices", None, "unknown sync 'invoices'"),
        ("executions", "teelixir", "omit business"),
    ]:
        with pytest.raises(JobRefused, match=message):
            sync_targets(config, entity, business)
