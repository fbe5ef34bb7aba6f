"""A scheduled report's retry sends only the channels that failed: the delivery record
remembers, channel by channel, what got through, so an email is never sent twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from http_sink import http_sink
from smtp_sink import smtp_sink
from sqlalchemy import Engine, select

from masterops.config import Config, load_config
from masterops.db.tables import report_deliveries
from masterops.operations.reports import DueDelivery, deliver_scheduled, due_deliveries

# Sunday 5 April 2026, 07:00 in Melbourne (+10): Saturday's daily report is due.
NOW = datetime(2026, 4, 4, 21, 0, tzinfo=UTC)


def _config(tmp_path: Path, smtp_port: int, slack_url: str) -> Config:
    (tmp_path / "masterops.toml").write_text(
        '[businesses.teelixir]\nservices = ["unleashed"]\n'
        '[reports]\nemail_to = ["owner@example.com"]\n'
    )
    environ = {
        "MASTEROPS_HOME": str(tmp_path / "state"),
        "MASTEROPS_SMTP_HOST": "127.0.0.1",
        "MASTEROPS_SMTP_PORT": str(smtp_port),
        "MASTEROPS_SLACK_WEBHOOK_URL": slack_url,
    }
    return load_config(environ, cwd=tmp_path)


def _due(config: Config, engine: Engine) -> DueDelivery:
    [due] = [d for d in due_deliveries(config, engine, NOW) if d.kind == "daily"]
    return due


def _record(engine: Engine) -> tuple[str, int, str | None]:
    t = report_deliveries
    with engine.connect() as conn:
        row = conn.execute(select(t.c.status, t.c.attempts, t.c.channels)).one()
    return row.status, row.attempts, row.channels


def test_a_retry_after_slack_failed_sends_slack_only(seeded: Engine, tmp_path: Path) -> None:
    with smtp_sink() as (port, messages), http_sink(500) as slack:
        config = _config(tmp_path, port, slack.url)
        first = deliver_scheduled(config, seeded, _due(config, seeded), claimant="a", now=NOW)
        assert (first["status"], first["channels"]) == ("failed", ["email"])
        assert "Slack answered HTTP 500" in str(first["error"])
        assert len(messages) == 1
        assert _record(seeded) == ("failed", 1, "email")

        retry = _due(config, seeded)
        assert retry.attempt == 2
        second = deliver_scheduled(config, seeded, retry, claimant="b", now=NOW)
        assert second["status"] == "sent" and second["channels"] == ["slack"]
        assert len(messages) == 1  # the email went out once, on the first attempt
        assert len(slack.delivered) == 1 and len(slack.received) == 2
    assert _record(seeded) == ("sent", 2, "email,slack")


def test_a_retry_after_email_failed_sends_both(seeded: Engine, tmp_path: Path) -> None:
    with smtp_sink() as (port, messages), http_sink() as slack:
        closed = _config(tmp_path, 1, slack.url)  # nothing listens on port 1: mail is down
        first = deliver_scheduled(closed, seeded, _due(closed, seeded), claimant="a", now=NOW)
        assert (first["status"], first["channels"]) == ("failed", [])
        assert messages == [] and slack.received == []  # Slack waits for the email
        assert _record(seeded) == ("failed", 1, None)

        config = _config(tmp_path, port, slack.url)
        second = deliver_scheduled(config, seeded, _due(config, seeded), claimant="b", now=NOW)
        assert second["status"] == "sent" and second["channels"] == ["email", "slack"]
        assert len(messages) == 1 and len(slack.delivered) == 1
    assert _record(seeded) == ("sent", 2, "email,slack")
