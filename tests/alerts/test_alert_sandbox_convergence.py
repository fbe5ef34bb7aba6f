"""A convergence test per rule that reads what the services did: the condition is made to
happen in the sandbox (faults, quota headers, a breaker opened by faults) or by the
worker's heartbeat, and exactly one alert arrives per channel (the log, Slack, email),
then exactly one recovery, and a further evaluation says nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sandbox_rig import sandbox_rig
from sqlalchemy import Engine

from masterops.integrations.base import IntegrationError
from masterops.operations.alerts import worker_heartbeat
from masterops.operations.health import health_round
from masterops.operations.main_job import main_job
from masterops.operations.sync import run_sync


async def test_a_high_error_rate_alerts_once_then_recovers_once(
    engine: Engine, tmp_path: Path
) -> None:
    rules = "error_rate_percent = 50\nerror_rate_min_calls = 5\n"
    with sandbox_rig(engine, tmp_path, rules) as rig:
        now = datetime.now(UTC)
        async with rig.services.hubspot("teelixir") as hubspot:
            for _ in range(3):
                await hubspot.list_properties("contacts")
            await rig.evaluate(now)
            rig.sandbox.harness("hubspot").faults.configure(rate_5xx=1.0)
            for _ in range(6):
                with pytest.raises(IntegrationError):
                    await hubspot.list_properties("contacts")
            await rig.evaluate(now + timedelta(seconds=5))
            await rig.evaluate(now + timedelta(seconds=10))  # a repeat says nothing
            assert rig.counts("errors:hubspot") == (1, 1, 1)
            rig.sandbox.harness("hubspot").faults.reset()
            for _ in range(12):  # 6 of 21 failed: under 50 %
                await hubspot.list_properties("contacts")
        await rig.evaluate(now + timedelta(seconds=15))
        await rig.evaluate(now + timedelta(seconds=20))
        assert rig.counts("errors:hubspot") == (2, 2, 2)
        assert rig.texts("errors:hubspot") == [
            "teelixir/errors:hubspot is DEGRADED",
            "teelixir/errors:hubspot recovered: healthy (was degraded)",
        ]
        body = rig.mail[0].get_content()
        assert "6 of 9 hubspot calls failed in the last 15 min (67 %, above 50 %)" in body


async def test_the_hubspot_daily_quota_warns_escalates_then_recovers(
    engine: Engine, tmp_path: Path
) -> None:
    with sandbox_rig(engine, tmp_path) as rig:
        now = datetime.now(UTC)
        hubspot_api = rig.sandbox.hubspot_api
        hubspot_api.set_daily_limit("teelixir", 100)

        async def round_at(minutes: int) -> None:
            await health_round(
                rig.services, engine, rig.hub, business="teelixir", send_alerts=False
            )
            await rig.evaluate(now + timedelta(minutes=minutes))

        async def spend(calls: int) -> None:
            async with rig.services.hubspot("teelixir") as hubspot:
                for _ in range(calls):
                    await hubspot.list_properties("contacts")

        await round_at(0)  # one call of 100: all well
        assert rig.counts("quota:hubspot") == (0, 0, 0)
        await spend(83)
        await round_at(1)  # the round's probe is the 85th call: 85 %
        await round_at(2)  # 86 %: still degraded, nothing new
        assert rig.counts("quota:hubspot") == (1, 1, 1)
        await spend(10)
        await round_at(3)  # 97 %: an escalation
        assert rig.counts("quota:hubspot") == (2, 2, 2)
        hubspot_api.reset_rate_limits("teelixir")  # midnight
        await round_at(20)
        await round_at(21)
        assert rig.texts("quota:hubspot") == [
            "teelixir/quota:hubspot is DEGRADED",
            "teelixir/quota:hubspot is DOWN (was degraded)",
            "teelixir/quota:hubspot recovered: healthy (was down)",
        ]
        assert rig.counts("quota:hubspot") == (3, 3, 3)
        assert "97 of 100 HubSpot daily API calls used (97 %)" in rig.mail[1].get_content()


async def test_the_unleashed_monthly_quota_alerts_once_then_recovers_next_month(
    engine: Engine, tmp_path: Path
) -> None:
    with sandbox_rig(engine, tmp_path, "quota_warn_percent = 90\n") as rig:
        ceiling = rig.services.config.limits.unleashed_monthly_ceiling
        assert ceiling == 15_000
        # Only the count matters: the ledger the guard writes, through real calls.
        async with rig.services.unleashed("teelixir") as unleashed:
            for _ in range(3):
                await unleashed.probe()
        now = datetime.now(UTC)
        await rig.evaluate(now)
        assert rig.counts("quota:unleashed") == (0, 0, 0)
        from masterops.db.quota import record_calls

        account = rig.services.config.businesses["teelixir"].unleashed
        assert account is not None
        with engine.begin() as conn:  # the rest of a busy month, as the guard counts it
            record_calls(conn, "unleashed", account.api_id, calls=13_600, at=now)
        await rig.evaluate(now + timedelta(minutes=1))
        await rig.evaluate(now + timedelta(minutes=2))
        assert rig.counts("quota:unleashed") == (1, 1, 1)
        next_month = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
        await rig.evaluate(next_month)
        await rig.evaluate(next_month + timedelta(minutes=1))
        assert rig.texts("quota:unleashed") == [
            "teelixir/quota:unleashed is DEGRADED",
            "teelixir/quota:unleashed recovered: healthy (was degraded)",
        ]
        assert "13603 of 15000 Unleashed calls this month used (91 %)" in (
            rig.mail[0].get_content()
        )


async def test_a_breaker_open_too_long_alerts_once_then_recovers_once(
    engine: Engine, tmp_path: Path
) -> None:
    rules = "breaker_open_minutes = 10\n"
    with sandbox_rig(engine, tmp_path, rules, breaker_threshold=2) as rig:
        now = datetime.now(UTC)

        async def round_now() -> None:
            await health_round(
                rig.services, engine, rig.hub, business="teelixir", send_alerts=False
            )

        await round_now()
        await rig.evaluate(now)
        assert rig.counts("breaker:hubspot") == (0, 0, 0)
        rig.sandbox.harness("hubspot").faults.configure(rate_5xx=1.0)
        for _ in range(3):  # two failed probes open it; the third finds it open
            await round_now()
        await rig.evaluate(now + timedelta(minutes=5))  # open, but not for long yet
        assert rig.counts("breaker:hubspot") == (0, 0, 0)
        await rig.evaluate(now + timedelta(minutes=11))
        await rig.evaluate(now + timedelta(minutes=12))
        assert rig.counts("breaker:hubspot") == (1, 1, 1)
        rig.sandbox.harness("hubspot").faults.reset()
        await asyncio.sleep(0.1)  # the breaker's 0.05 s cooldown: the next probe goes through
        await round_now()
        await rig.evaluate(now + timedelta(minutes=30))
        await rig.evaluate(now + timedelta(minutes=31))
        assert rig.texts("breaker:hubspot") == [
            "teelixir/breaker:hubspot is DOWN",
            "teelixir/breaker:hubspot recovered: healthy (was down)",
        ]
        assert "the hubspot circuit breaker has been open for 10 min" in rig.mail[0].get_content()


async def test_a_worker_not_seen_alerts_once_then_recovers_once(
    engine: Engine, tmp_path: Path
) -> None:
    with sandbox_rig(engine, tmp_path, "worker_missing_minutes = 5\n") as rig:
        now = datetime.now(UTC)
        await rig.evaluate(now)  # no worker ever seen, none expected: nothing to say
        assert rig.counts("worker") == (0, 0, 0)
        worker_heartbeat(engine, "host:worker", started_at=now, now=now)
        await rig.evaluate(now + timedelta(minutes=4))
        assert rig.counts("worker") == (0, 0, 0)
        await rig.evaluate(now + timedelta(minutes=6))
        await rig.evaluate(now + timedelta(minutes=7))
        assert rig.counts("worker") == (1, 1, 1)
        back = now + timedelta(minutes=8)
        worker_heartbeat(engine, "host:worker", started_at=back, now=back)
        await rig.evaluate(back)
        await rig.evaluate(back + timedelta(minutes=1))
        assert rig.texts("worker") == [
            "platform/worker is DOWN",
            "platform/worker recovered: healthy (was down)",
        ]
        assert "no worker has been seen for 6 min (the last: host:worker" in (
            rig.mail[0].get_content()
        )


async def test_an_expected_worker_never_seen_alerts(engine: Engine, tmp_path: Path) -> None:
    with sandbox_rig(engine, tmp_path, "expect_worker = true\n") as rig:
        await rig.evaluate(datetime.now(UTC))
        assert rig.counts("worker") == (1, 1, 1)
        assert "no worker has ever been seen" in rig.mail[0].get_content()


async def test_the_main_job_alerts_on_what_its_syncs_left(engine: Engine, tmp_path: Path) -> None:
    with sandbox_rig(engine, tmp_path) as rig:
        rig.sandbox.harness("unleashed").faults.configure(rate_5xx=1.0)
        outcome = await main_job(rig.services, engine, rig.hub)
        announced = {(r.alert.business_id, r.alert.service, r.alert.status) for r in outcome.alerts}
        for business in ("teelixir", "elevate", "boo", "rhf"):
            assert (business, "sync:inventory", "down") in announced
        assert rig.counts("sync:inventory") == (4, 4, 4)
        bodies = [m.get_content() for m in rig.mail if "/sync:inventory " in str(m["Subject"])]
        assert all("the inventory sync failed" in body for body in bodies)


async def test_failing_executions_in_the_n8n_sandbox_alert_once_then_recover_once(
    engine: Engine, tmp_path: Path
) -> None:
    with sandbox_rig(engine, tmp_path) as rig:
        n8n = rig.sandbox.n8n_api
        businesses = list(rig.services.config.businesses.values())

        def newest_status(workflow_id: str) -> str | None:
            finished = [
                e["status"]
                for e in n8n.executions(workflow_id=workflow_id)
                if e["status"] in ("success", "error", "crashed")
            ]
            return finished[0] if finished else None

        workflow = next(w for w in n8n.workflows() if newest_status(w["id"]) == "success")
        subject = f"n8n:{workflow['id']}"
        now = datetime.now(UTC)

        async def sync_and_evaluate(seconds: int) -> None:
            await run_sync("executions", rig.services, engine, businesses)
            await rig.evaluate(now + timedelta(seconds=seconds))

        await sync_and_evaluate(0)
        assert rig.counts(subject) == (0, 0, 0)
        node = workflow["nodes"][-1]["name"]
        for _ in range(3):  # a burst: 3 of 3 failed
            n8n.record_execution(
                workflow["id"], status="error", error_message="Bad gateway", error_node=node
            )
        await sync_and_evaluate(10)
        await sync_and_evaluate(20)
        assert rig.counts(subject) == (1, 1, 1)
        n8n.record_execution(workflow["id"], status="success")
        await sync_and_evaluate(30)
        await sync_and_evaluate(40)
        assert rig.counts(subject) == (2, 2, 2)
        [problem, recovery] = rig.texts(subject)
        assert problem.endswith(f"/{subject} is DOWN")
        assert recovery.endswith(f"/{subject} recovered: healthy (was down)")
        body = rig.mail[-2].get_content()
        assert f"failed at node {node!r}" in body and "Bad gateway" in body
