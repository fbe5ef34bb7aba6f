"""No configured secret leaks anywhere, after a run that uses every one of them.

The run: the sandbox served on loopback with faults (HubSpot 429s and 5xx, Unleashed 5xx
and cut-short bodies, n8n 5xx), every business pointed at it with its credentials; a
health round; every sync; HubSpot webhook deliveries and order webhooks, signed and
forged; the inbox processed; alerts through Slack and the signed webhook (a capture
server on loopback); the daily report sent; ``ops secrets check``, ``ops config show``,
``ops logs``; ``/metrics`` scraped with an API token.

Then a scan of every column of every table, every line the commands printed (JSON logs
on), the metrics text and every alert and report body the channels received, for every
configured secret (and the API token) in plain, URL-encoded and Base64 forms, and for any
12-character run of one. A Slack or alert-webhook URL's secret is its path (the host is
this machine's loopback address, printed on purpose). Expected hits: 0.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from sqlalchemy import MetaData, select

from jobs.loopback import loopback_sandbox
from masterops.cli.sandbox_env import sandbox_environment
from masterops.cli.serve_cmd import web_settings
from masterops.config import load_config
from masterops.db.api_tokens import create_token
from masterops.db.engine import create_db_engine
from masterops.observability.prometheus import PrometheusTelemetry
from masterops.web import create_app
from masterops.web.orders_webhook import order_signature
from masterops_sandbox.hubspot import sign_v3

FAULTS = (
    "hubspot:rate_429=0.08,rate_5xx=0.04;"
    "unleashed:rate_5xx=0.04,rate_malformed=0.02;"
    "n8n:rate_5xx=0.1"
)
WINDOW = 12


class Capture(BaseHTTPRequestHandler):
    """A channel on loopback: keeps each request's path, headers and body."""

    received: list[str] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        type(self).received.append(f"{self.path}\n{self.headers}\n{body}")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def channel() -> Iterator[tuple[str, list[str]]]:
    received: list[str] = []
    handler = type("Handler", (Capture,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def forms(secret: str) -> set[str]:
    """The forms a leak would take: plain, URL-encoded, Base64 (standard, URL-safe,
    unpadded), and every run of ``WINDOW`` characters."""
    raw = secret.encode()
    found = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
    }
    found |= {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    return {f for f in found if len(f) >= WINDOW}


def scan(texts: dict[str, str], secret_values: dict[str, str]) -> list[str]:
    hits = []
    for name, value in secret_values.items():
        needles = forms(value)
        for where, text in texts.items():
            for needle in needles:
                if needle in text:
                    hits.append(f"{name} found in {where} (as {needle!r})")
                    break
    return hits


def table_texts(url: str) -> dict[str, str]:
    engine = create_db_engine(url)
    meta = MetaData()
    meta.reflect(bind=engine)
    texts = {}
    try:
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                rows = conn.execute(select(table)).all()
                texts[f"table {table.name}"] = "\n".join(
                    json.dumps([str(v) for v in row]) + repr(tuple(row)) for row in rows
                )
    finally:
        engine.dispose()
    assert "integration_logs" in meta.tables and texts["table integration_logs"]
    return texts


async def _webhooks(config: Any, url: str, info: dict[str, Any]) -> dict[str, str]:
    """HubSpot and order deliveries (signed and forged) and a scrape of /metrics."""
    engine = create_db_engine(url)
    with engine.begin() as conn:
        _, token = create_token(conn, name="scan", scope="admin")
    settings = web_settings(config, telemetry=PrometheusTelemetry())
    app = create_app(engine, settings)
    texts: dict[str, str] = {}
    account = info["businesses"]["teelixir"]["hubspot"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ops"
    ) as client:
        events = [
            {
                "eventId": 9000 + i,
                "subscriptionId": 7,
                "portalId": account["portal_id"],
                "appId": 1,
                "occurredAt": int(time.time() * 1000),
                "subscriptionType": "contact.propertyChange",
                "propertyName": "email",
                "propertyValue": f"scan{i}@example.com",
                "attemptNumber": 0,
                "objectId": 700 + i,
            }
            for i in range(3)
        ]
        body = json.dumps(events).encode()
        stamp = int(time.time() * 1000)
        for secret in (account["client_secret"], "forged-client-secret-xxxxxxxxxxxx"):
            answer = await client.post(
                "/webhooks/hubspot",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-HubSpot-Signature-v3": sign_v3(
                        secret, "POST", "http://ops/webhooks/hubspot", body, stamp
                    ),
                    "X-HubSpot-Request-Timestamp": str(stamp),
                },
            )
            texts[f"hubspot webhook answer ({answer.status_code})"] = answer.text
        order_key = config.business("teelixir").order_webhook_secret.get_secret_value()
        order = json.dumps(
            {"Guid": "5d0b3c52-7e1a-4c1e-9a55-9c3f0e8d2a11", "OrderNumber": "SO-SCAN-1"}
        ).encode()
        now = str(int(time.time()))
        for key in (order_key, order_key[::-1]):
            answer = await client.post(
                "/webhooks/orders/teelixir",
                content=order,
                headers={
                    "Content-Type": "application/json",
                    "X-MasterOps-Timestamp": now,
                    "X-MasterOps-Signature": order_signature(key, now, order),
                },
            )
            texts[f"order webhook answer ({answer.status_code})"] = answer.text
        refused = await client.get("/api/v1/stats", headers={"Authorization": "Bearer nope"})
        texts["api refusal"] = refused.text
        metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert metrics.status_code == 200
        texts["metrics"] = metrics.text
    engine.dispose()
    return {**texts, "api token": token}


def test_no_secret_reaches_a_table_a_log_a_metric_or_an_alert(
    ops, database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channel: Any
) -> None:  # type: ignore[no-untyped-def]
    base, received = channel
    slack_path = "/services/T0SCAN/B0SCAN/" + secrets.token_urlsafe(18)
    hook_path = "/alerts/" + secrets.token_urlsafe(18)
    with loopback_sandbox(tmp_path, faults=FAULTS) as info:
        env = {
            **sandbox_environment(info),
            "MASTEROPS_TEELIXIR_ORDER_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "MASTEROPS_BOO_ORDER_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "MASTEROPS_SLACK_WEBHOOK_URL": base + slack_path,
            "MASTEROPS_ALERT_WEBHOOK_URL": base + hook_path,
            "MASTEROPS_ALERT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "MASTEROPS_LOG_JSON": "1",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        (tmp_path / "masterops.toml").write_text(
            '[alerts]\nchannels = ["log", "slack", "webhook"]\ncooldown_s = 0\n'
            "[reports]\nslack = true\n"
        )
        outputs: dict[str, str] = {}
        commands = [
            ("health",),
            ("sync", "inventory"),
            ("sync", "customers"),
            ("sync", "orders"),
            ("sync", "executions"),
            ("alerts", "test", "slack"),
            ("alerts", "test", "webhook"),
            ("report", "daily", "--send"),
            ("secrets", "check"),
            ("config", "show"),
            ("config", "check"),
        ]
        for command in commands:
            result = ops(*command)
            outputs[f"ops {' '.join(command)}"] = result.stdout + result.stderr
        config = load_config(cwd=tmp_path)
        web = asyncio.run(_webhooks(config, database.url, info))
        token = web.pop("api token")
        for command in (("events", "process"), ("health",), ("logs", "--limit", "100000")):
            result = ops(*command)
            outputs[f"ops {' '.join(command)}"] = result.stdout + result.stderr

    ran = "\n".join(outputs.values())
    assert "sync" in ran and received, "the run must have done its work"
    assert any(slack_path in r for r in received), outputs["ops alerts test slack"]
    assert any(hook_path in r for r in received), outputs["ops alerts test webhook"]

    # The Unleashed API id is the account's name, not a secret (it travels in clear in a
    # header beside the signature its key makes): the monthly quota is kept per id. The
    # key, which is the secret, is scanned like every other.
    secret_values = {
        s.variable: s.value.get_secret_value()
        for s in config.secret_sources
        if s.kind != "unleashed_api_id"
    }
    secret_values["MASTEROPS_SLACK_WEBHOOK_URL"] = slack_path.rsplit("/", 1)[1]
    secret_values["MASTEROPS_ALERT_WEBHOOK_URL"] = hook_path.rsplit("/", 1)[1]
    secret_values["API token"] = token
    # Per business a HubSpot token, client secret and Unleashed key (12); the n8n key,
    # two order keys, the Slack and alert-webhook URLs, the alert key, the API token.
    assert len(secret_values) == 19
    texts = {
        **table_texts(database.url),
        **outputs,
        **web,
        # What the channels received, minus the URL path they were sent to (that is the
        # secret's own place: the request line, not a leak).
        **{f"channel message {i}": message.split("\n", 1)[1] for i, message in enumerate(received)},
    }
    hits = scan(texts, secret_values)
    assert hits == [], "\n".join(hits)


def test_the_scan_finds_each_form() -> None:
    """The scanner can fail: each form of a secret, and a fragment of one, is found."""
    secret = "s3cr3t-VALUE/with+odd=chars"
    for leaked in (
        secret,
        quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        "…" + secret[5 : 5 + WINDOW] + "…",
    ):
        assert scan({"somewhere": f"x {leaked} y"}, {"S": secret}) != []
    assert scan({"somewhere": secret[: WINDOW - 1]}, {"S": secret}) == []
