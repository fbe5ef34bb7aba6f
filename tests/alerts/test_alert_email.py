"""Email delivery to a tiny SMTP server on loopback, speaking just enough SMTP."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import pytest
from alert_helpers import SMTP_PASSWORD, T0, result
from sqlalchemy import Engine, select

from masterops.alerts import ChannelState, EmailChannel, LastAlert, dispatch_alerts, judge
from masterops.alerts.rules import Alert
from masterops.config import AlertRules
from masterops.db.tables import alert_history


@dataclass
class TinySMTP:
    """Accepts mail on 127.0.0.1; with ``auth`` it offers AUTH PLAIN and, when told to
    reject, quotes the credentials it got in its refusal (as a careless server might)."""

    auth: bool = False
    reject_auth: bool = False
    port: int = 0
    messages: list[bytes] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(*lines: str) -> None:
            writer.write("".join(f"{line}\r\n" for line in lines).encode())

        say("220 tiny ESMTP")
        while line := await reader.readline():
            verb, _, arg = line.decode().strip().partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                say("250-tiny", *(["250-AUTH PLAIN"] if self.auth else []), "250 OK")
            elif verb == "AUTH":
                decoded = base64.b64decode(arg.split(" ", 1)[1]).decode()
                self.logins.append(decoded)
                if self.reject_auth:
                    say(f"535 5.7.8 bad credentials {decoded.replace(chr(0), ' ')}")
                else:
                    say("235 2.7.0 accepted")
            elif verb == "RCPT":
                self.recipients.append(arg)
                say("250 OK")
            elif verb == "DATA":
                say("354 go ahead")
                body = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    body += chunk
                self.messages.append(body)
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                await writer.drain()
                break
            elif verb in ("MAIL", "RSET", "NOOP"):
                say("250 OK")
            else:
                say("502 not implemented")
            await writer.drain()
        writer.close()


@pytest.fixture
async def smtp_server(request: pytest.FixtureRequest) -> AsyncIterator[TinySMTP]:
    server_state = TinySMTP(**getattr(request, "param", {}))
    server = await asyncio.start_server(server_state.handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state


def _alert() -> Alert:
    alert = judge(
        result("down"),
        ChannelState(told=LastAlert("healthy", T0)),
        AlertRules(channels=("email",)),
        T0,
    )
    assert alert is not None
    return alert


def _channel(port: int, **kwargs: object) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1",
        port=port,
        sender="masterops@example.com",
        recipients=("ops@example.com", "lead@example.com"),
        timeout=5.0,
        **kwargs,  # type: ignore[arg-type]
    )


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(alert_history))]


def test_the_message() -> None:
    message = _channel(25, user="ops", password=SMTP_PASSWORD).build_message(_alert())
    assert message["Subject"] == "[Master-Ops] teelixir/hubspot is DOWN (was healthy)"
    assert message["From"] == "masterops@example.com"
    assert message["To"] == "ops@example.com, lead@example.com"
    body = message.get_content()
    assert "hubspot answered: down" in body and "checked at 2025-03-01 12:00:00 UTC" in body
    assert _channel(587).starttls and not _channel(25).starttls


async def test_delivered_and_recorded(smtp_server: TinySMTP, engine: Engine) -> None:
    [record] = await dispatch_alerts([(_channel(smtp_server.port), _alert())], engine)
    assert record.delivery.delivered, record.delivery.error
    assert smtp_server.recipients == ["TO:<ops@example.com>", "TO:<lead@example.com>"]
    [raw] = smtp_server.messages
    received = message_from_bytes(raw, policy=policy.default)
    assert received["Subject"] == "[Master-Ops] teelixir/hubspot is DOWN (was healthy)"
    [row] = _rows(engine)
    assert (row["channel"], row["delivered"], row["error"]) == ("email", True, None)


@pytest.mark.parametrize("smtp_server", [{"auth": True}], indirect=True)
async def test_logs_in_when_given_credentials(smtp_server: TinySMTP) -> None:
    channel = _channel(smtp_server.port, user="ops", password=SMTP_PASSWORD)
    assert (await channel.send(_alert())).delivered
    assert smtp_server.logins == [f"\0ops\0{SMTP_PASSWORD}"] and smtp_server.messages


@pytest.mark.parametrize("smtp_server", [{"auth": True, "reject_auth": True}], indirect=True)
async def test_refused_login_is_recorded_without_the_password(
    smtp_server: TinySMTP, engine: Engine
) -> None:
    channel = _channel(smtp_server.port, user="ops", password=SMTP_PASSWORD)
    [record] = await dispatch_alerts([(channel, _alert())], engine)
    assert not record.delivery.delivered
    assert "SMTPAuthenticationError" in (record.delivery.error or "")
    assert not smtp_server.messages
    [row] = _rows(engine)
    assert row["delivered"] is False and "535" in str(row["error"])
    assert SMTP_PASSWORD not in repr(row) and SMTP_PASSWORD not in repr(record)


async def test_starttls_is_required_when_asked(smtp_server: TinySMTP) -> None:
    # Port 587 means STARTTLS; this server offers none, so nothing is sent in clear.
    delivery = await _channel(smtp_server.port, starttls=True).send(_alert())
    assert not delivery.delivered and "STARTTLS" in (delivery.error or "")
    assert not smtp_server.messages


async def test_connection_refused_is_recorded(engine: Engine) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    [record] = await dispatch_alerts([(_channel(port), _alert())], engine)
    assert not record.delivery.delivered
    assert f"SMTP 127.0.0.1:{port}" in (record.delivery.error or "")
    assert "ConnectionRefusedError" in (record.delivery.error or "")


async def test_no_recipients_is_a_clear_failure() -> None:
    channel = EmailChannel(host="127.0.0.1", port=25, sender="a@example.com", recipients=())
    delivery = await channel.send(_alert())
    assert (delivery.delivered, delivery.error) == (False, "no recipients: set alerts.email_to")
