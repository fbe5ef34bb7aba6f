"""``ops alerts list|show|test`` end to end, in-process, on the test database."""

from __future__ import annotations

import json
import socket

import pytest
from http_sink import http_sink


def test_test_sends_through_the_webhook_and_fails_clearly(
    ops, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with http_sink(503) as hook:
        monkeypatch.setenv("MASTEROPS_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("MASTEROPS_ALERT_WEBHOOK_SECRET", "whsec-cli-0123456789")
        failed = ops("alerts", "test", "webhook")
        assert failed.exit_code == 1
        assert "did not get through webhook: the webhook answered HTTP 503" in failed.stderr
        assert "sinkSecret" not in failed.stderr and "whsec-cli" not in failed.stderr
        ok = ops("alerts", "test", "webhook", "--json")
        assert ok.exit_code == 0, ok.stderr
        assert json.loads(ok.stdout) == {"channel": "webhook", "delivered": True, "error": None}
    assert "test alert" in hook.delivered[0].json()["message"]
    assert ops("alerts", "list", "--json").stdout.strip() == "[]"  # a test is not recorded


def test_bad_channel_and_unknown_id_are_one_line(ops) -> None:  # type: ignore[no-untyped-def]
    bad = ops("alerts", "test", "pager")
    assert bad.exit_code == 2 and "CHANNEL must be one of log, slack, email, webhook" in bad.stderr
    missing = ops("alerts", "show", "42")
    assert missing.exit_code == 2 and "no alert 42" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_list_and_show_what_a_round_announced(
    ops, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "masterops.toml").write_text("[limits.retry]\nmax_attempts = 1\n")
    monkeypatch.setenv("MASTEROPS_N8N_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("MASTEROPS_N8N_API_KEY", "n8n-key-alerts-cli-0123")
    assert ops("health", "--business", "teelixir").exit_code == 2
    [row] = json.loads(ops("alerts", "list", "--json").stdout)
    assert (row["business_id"], row["service"], row["status"], row["delivered"]) == (
        "teelixir",
        "n8n",
        "down",
        True,
    )
    shown = ops("alerts", "show", str(row["id"]))
    assert shown.exit_code == 0 and "teelixir/n8n is DOWN" in shown.stdout
    assert "teelixir" in ops("alerts", "list").stdout


def test_a_failed_sync_alerts_at_its_end(ops, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "masterops.toml").write_text("[limits.retry]\nmax_attempts = 1\n")
    monkeypatch.setenv("MASTEROPS_N8N_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("MASTEROPS_N8N_API_KEY", "n8n-key-alerts-cli-0123")
    assert ops("sync", "executions").exit_code == 1
    rows = json.loads(ops("alerts", "list", "--json").stdout)
    # The failure, and (never a success yet) data that is not there.
    assert sorted((r["service"], r["status"], r["channel"], r["delivered"]) for r in rows) == [
        ("stale:executions", "degraded", "log", True),
        ("sync:executions", "down", "log", True),
    ]
    assert ops("sync", "executions").exit_code == 1  # the same failure: nothing new
    assert len(json.loads(ops("alerts", "list", "--json").stdout)) == 2
