"""A HubSpot that echoes the token in its error answers: wherever the token falls in the
body, however long the body, whatever its shape, not even 12 characters of it reach any
table, the Slack alert or what ``ops health`` and ``ops test`` print.

The echoing service is a small app on a real loopback port (``ops`` talks to it over HTTP
as to a configured HubSpot); the round's probe sees the echo, so the failure goes through
the connector's telemetry (``api_metrics``, ``integration_logs``), the health result
(``health_checks``), the alert (``alert_history``, Slack) and the console.
"""

from __future__ import annotations

import asyncio
import json
import socket
import string
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import metadata

#: Shortest run of a secret that counts as a leak.
LEAK = 12
TOKEN_CHARS = string.ascii_letters + string.digits + "-_."
#: What surrounds the echo: any text but "*" (masking must not be able to spell a secret).
FILLER = st.text(st.characters(exclude_characters="*", exclude_categories=["Cs"]), max_size=700)
BODY_KINDS = ("json", "json_context", "json_cut", "html_title", "html_page", "text")
#: Tables the rounds of one example write; emptied before each example, so that its round
#: is the first (and therefore alerts).
ROUND_TABLES = ("health_checks", "alert_history", "integration_logs", "api_metrics")


@dataclass
class Echo:
    """What the fake HubSpot answers next, and what the fake Slack received."""

    status: int = 401
    body: bytes = b"{}"
    content_type: str = "application/json"
    slack: list[str] = field(default_factory=list)


def echo_app(echo: Echo) -> Starlette:
    async def hubspot(request: Request) -> Response:
        return Response(echo.body, status_code=echo.status, media_type=echo.content_type)

    async def slack(request: Request) -> Response:
        echo.slack.append((await request.body()).decode("utf-8", errors="replace"))
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack", slack, methods=["POST"]),
            Route("/{path:path}", hubspot, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ]
    )


@pytest.fixture
def echo_url() -> Iterator[tuple[Echo, str]]:
    """The echoing HubSpot (and Slack) on a loopback port, served from its own thread."""
    echo = Echo()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(echo_app(echo), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the echo server did not start"
            threading.Event().wait(0.01)
        yield echo, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def body_with(kind: str, before: str, echoed: str, after: str) -> tuple[bytes, str]:
    """An error body of shape ``kind`` with ``echoed`` between ``before`` and ``after``."""
    text = before + echoed + after
    if kind == "json":
        payload = {"status": "error", "message": text, "category": "INVALID_AUTHENTICATION"}
        return json.dumps(payload).encode(), "application/json"
    if kind == "json_context":
        payload = {"status": "error", "message": before, "context": {"echo": [echoed, after]}}
        return json.dumps(payload).encode(), "application/json"
    if kind == "json_cut":  # cut short after the echo: not valid JSON any more
        whole = json.dumps({"message": text, "correlationId": "c-1"})
        return whole[: len(json.dumps({"message": before + echoed}))].encode(), "application/json"
    if kind == "html_title":
        return f"<html><head><title>{text}</title></head></html>".encode(), "text/html"
    if kind == "html_page":
        return f"<html><body><p>{before}</p><div>{echoed}{after}</div></body></html>".encode(), (
            "text/html"
        )
    return text.encode(), "text/plain"


def leaks(secret: str, text: str) -> list[str]:
    """The runs of ``LEAK`` characters of ``secret`` found in ``text``."""
    return sorted({secret[i : i + LEAK] for i in range(len(secret) - LEAK + 1)} & _runs(text))


def _runs(text: str) -> set[str]:
    return {text[i : i + LEAK] for i in range(len(text) - LEAK + 1)}


def everything_stored(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = {
            table.name: [dict(r._mapping) for r in conn.execute(select(table))]
            for table in metadata.sorted_tables
        }
    return json.dumps(rows, default=str, ensure_ascii=False)


def forget_rounds(engine: Engine) -> None:
    with engine.begin() as conn:
        for name in ROUND_TABLES:
            conn.execute(delete(metadata.tables[name]))


@settings(
    max_examples=8,  # the property itself is searched 300 times in test_base_secret_leaks
    deadline=None,
    # Each example runs three commands: shrinking a failure would take minutes, and the
    # failing example as drawn already names the body, the offset and the token.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=st.text(st.sampled_from(TOKEN_CHARS), min_size=LEAK, max_size=64),
    kind=st.sampled_from(BODY_KINDS),
    before=FILLER,
    after=FILLER,
    echoed_share=st.floats(0.0, 1.0),
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 500, 503]),
)
def test_a_token_echoed_anywhere_in_an_error_never_leaks(  # type: ignore[no-untyped-def]
    ops,
    database,
    echo_url: tuple[Echo, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    token: str,
    kind: str,
    before: str,
    after: str,
    echoed_share: float,
    status: int,
) -> None:
    echo, url = echo_url
    (tmp_path / "masterops.toml").write_text(
        '[limits.retry]\nmax_attempts = 1\n\n[alerts]\nchannels = ["log", "slack"]\n'
    )
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", token)
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_URL", url)
    monkeypatch.setenv("MASTEROPS_SLACK_WEBHOOK_URL", f"{url}/slack")
    # The whole token, or the service's own echo of only its first characters (>= LEAK).
    echoed = token[: LEAK + round(echoed_share * (len(token) - LEAK))]
    echo.status = status
    echo.body, echo.content_type = body_with(kind, before, echoed, after)
    echo.slack.clear()
    engine = create_db_engine(database.url)
    migrate.upgrade(engine)  # what the first ``ops`` would do; a no-op after it
    forget_rounds(engine)

    health = ops("health", "--business", "teelixir", "--service", "hubspot")
    tested = ops("test", "hubspot", "--business", "teelixir")
    as_json = ops("health", "--json", "--no-alerts", "--business", "teelixir")

    try:
        stored = everything_stored(engine)
        assert '"alert_history": []' not in stored, "the round should have alerted"
        assert echo.slack, "the Slack channel should have been called"
        printed = [r.stdout + r.stderr for r in (health, tested, as_json)]
        found = {
            "stored": leaks(token, stored),
            "printed": leaks(token, "\n".join(printed)),
            "slack": leaks(token, "\n".join(echo.slack)),
        }
        assert found == {"stored": [], "printed": [], "slack": []}
        assert health.exit_code == 2, health.stderr
    finally:
        engine.dispose()
