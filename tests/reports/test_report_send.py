"""``ops report --send``: a real SMTP server (aiosmtpd) and a local HTTP server standing in
for Slack capture what is sent; a channel that refuses is a one-line error and exit 1."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from http_sink import http_sink
from smtp_sink import smtp_sink
from sqlalchemy import Engine

ARGS = ("report", "daily", "--business", "teelixir", "--date", "2026-04-05", "--send")


def _configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int | None) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[reports]\nemail_to = ["owner@example.com", "ops@example.com"]\n'
    )
    if port is not None:
        monkeypatch.setenv("MASTEROPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MASTEROPS_SMTP_PORT", str(port))
        monkeypatch.setenv("MASTEROPS_SMTP_FROM", "reports@example.com")


def test_email_is_multipart_with_the_chart_inline_and_slack_gets_a_summary(
    seeded: Engine, ops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_sink() as (port, messages), http_sink() as slack:
        _configure(tmp_path, monkeypatch, port)
        monkeypatch.setenv("MASTEROPS_SLACK_WEBHOOK_URL", slack.url)
        result = ops(*ARGS, "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["sent"] == {"channels": ["email", "slack"], "emails": 1}
        [message] = messages
        [post] = slack.received
    assert message["Subject"] == "[Master-Ops] Teelixir daily report: Sun 05 Apr 2026"
    assert message["To"] == "owner@example.com, ops@example.com"
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()  # type: ignore[misc]
    assert plain.get_content_type() == "text/plain"
    assert "orders 2 worth 150.00 AUD" in plain.get_content()
    assert related.get_content_type() == "multipart/related"
    html_part, chart = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert chart.get_content_type() == "image/png"
    assert chart.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    cid = str(chart["Content-ID"]).strip().strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()
    assert "<table" in html_part.get_content()
    text = post.json()["text"]
    assert text.splitlines()[0] == "Teelixir daily report: Sun 05 Apr 2026"
    assert "orders 2 worth 150.00 AUD; new customers 1; low stock 2" in text


def test_an_smtp_server_that_is_down_is_an_error_and_nothing_else_is_sent(
    seeded: Engine, ops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    with http_sink() as slack:
        _configure(tmp_path, monkeypatch, closed)
        monkeypatch.setenv("MASTEROPS_SLACK_WEBHOOK_URL", slack.url)
        result = ops(*ARGS)
        assert slack.received == []
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: report not delivered: email via SMTP 127.0.0.1:{closed} failed: "
        "ConnectionRefusedError: [Errno 111] Connection refused"
    ]


def test_slack_refusing_is_an_error_without_its_secret_url(
    seeded: Engine, ops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_sink() as (port, messages), http_sink(500) as slack:
        _configure(tmp_path, monkeypatch, port)
        monkeypatch.setenv("MASTEROPS_SLACK_WEBHOOK_URL", slack.url)
        result = ops(*ARGS)
        assert len(messages) == 1
    assert result.exit_code == 1
    assert "report not delivered: Slack answered HTTP 500" in result.stderr
    assert "(already sent: email)" in result.stderr
    assert "sinkSecret" not in result.stderr + result.stdout


def test_nowhere_to_send_is_an_error(seeded: Engine, ops) -> None:
    result = ops(*ARGS)
    assert result.exit_code == 1
    assert "nowhere to send the report: set [reports] email_to" in result.stderr


def test_recipients_without_an_smtp_host_send_nothing(
    seeded: Engine, ops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_sink() as slack:
        _configure(tmp_path, monkeypatch, None)
        monkeypatch.setenv("MASTEROPS_SLACK_WEBHOOK_URL", slack.url)
        result = ops(*ARGS)
        assert slack.received == []
    assert result.exit_code == 1
    assert "reports.email_to is set but MASTEROPS_SMTP_HOST is not" in result.stderr
