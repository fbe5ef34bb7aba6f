"""``ops sync executions`` end to end, and how it plans one sync per n8n instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from masterops.config import load_config
from masterops.integrations.base import ConnectorRuntime
from masterops.operations.services import Services
from masterops.operations.sync import plan_executions


@pytest.fixture
def fast_limits(tmp_path: Path) -> None:
    # The ops fixture runs in tmp_path: a higher n8n rate keeps the client from pacing.
    (tmp_path / "masterops.toml").write_text("[limits]\nn8n_per_second = 1000\n")


def test_sync_executions_json_then_stats(ops, fast_limits: None) -> None:  # type: ignore[no-untyped-def]
    first = ops("sync", "executions", "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["ok"] is True
    [row] = report["results"]  # one n8n serves the four businesses: read once
    assert row["status"] == "succeeded"
    assert row["business"] == "teelixir"
    assert "teelixir, elevate, boo, rhf" in row["target"]
    assert row["fetched"] == row["written"] > 0
    assert row["watermark"]

    stats = ops("stats", "--json", "--hours", "200")
    assert stats.exit_code == 0, stats.stderr
    workflows = json.loads(stats.stdout)["workflows"]
    assert sum(w["total_executions"] for w in workflows) > 0
    names = {w["workflow_name"] for w in workflows}
    assert "RHF \u2013 legacy price import" in names


def test_sync_executions_for_one_business_and_table(ops, fast_limits: None) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "executions", "--business", "boo", "--full")
    assert result.exit_code == 0, result.stderr
    assert "sync executions" in result.stdout
    assert "succeeded" in result.stdout
    again = ops("sync", "executions", "--business", "boo", "--json")
    [row] = json.loads(again.stdout)["results"]
    assert row["business"] == "boo"
    assert row["result"]["watermark_before"] is not None


def test_unknown_business_is_a_usage_error(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "executions", "--business", "nope")
    assert result.exit_code == 2
    assert "unknown business 'nope'" in result.stderr


def test_n8n_not_configured_names_the_variable(  # type: ignore[no-untyped-def]
    ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One real credential elsewhere: no sandbox, and n8n has none.
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", "pat-na1-not-a-real-token")
    result = ops("sync", "executions", "--json")
    assert result.exit_code == 1
    assert "nothing could be synced" in result.stderr
    assert "MASTEROPS_TEELIXIR_N8N_URL" in result.stderr
    assert "\n" not in result.stderr.strip()  # one line
    rows = json.loads(result.stdout)["results"]
    assert {r["status"] for r in rows} == {"disabled"}


async def test_one_job_per_distinct_n8n_instance(tmp_path: Path, engine: Engine) -> None:
    env = {
        "MASTEROPS_N8N_URL": "https://n8n-shared.example",
        "MASTEROPS_N8N_API_KEY": "shared-key-123",
        "MASTEROPS_RHF_N8N_URL": "https://n8n-rhf.example",
        "MASTEROPS_RHF_N8N_API_KEY": "rhf-key-456",
    }
    config = load_config(env, cwd=tmp_path)
    services = Services(config, ConnectorRuntime(), engine)
    jobs, skipped = plan_executions(services, engine, list(config.businesses.values()), full=False)
    try:
        assert skipped == []
        assert [j.business for j in jobs] == ["teelixir", "rhf"]
        assert "teelixir, elevate, boo" in jobs[0].target
        assert "n8n-rhf.example" in jobs[1].target
    finally:
        for job in jobs:
            assert job.close is not None
            await job.close()

    only_boo, _ = plan_executions(services, engine, [config.business("boo")], full=False)
    assert [j.business for j in only_boo] == ["boo"]
    assert only_boo[0].close is not None
    await only_boo[0].close()
