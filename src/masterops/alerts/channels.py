"""Where alerts go: the log, a Slack webhook, a signed generic webhook, email.

Every channel's ``send`` returns a ``Delivery`` and never raises: a failing channel is
recorded (``delivered=False`` with the reason) and the other channels still deliver.
Every text a channel sends or reports goes through its ``Redactor``, so the webhook URL,
the SMTP password and the services' tokens never reach a message, a log or a row.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from masterops.alerts.rules import Alert
from masterops.observability.events import LogEvent, TelemetryHub
from masterops.observability.redaction import Redactor

#: Longest error text kept from a failed delivery (a webhook may answer with a whole page).
MAX_ERROR = 300


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of sending one alert through one channel."""

    channel: str
    delivered: bool
    error: str | None = None


class Channel(Protocol):
    """Anything that can deliver an alert."""

    @property
    def name(self) -> str: ...

    async def send(self, alert: Alert) -> Delivery:
        """Deliver ``alert``; report failure in the ``Delivery``, never by raising."""
        ...


def _failed(channel: str, redactor: Redactor, reason: str) -> Delivery:
    text = redactor.text(" ".join(reason.split()))
    if len(text) > MAX_ERROR:
        text = text[: MAX_ERROR - 3] + "..."
    return Delivery(channel, False, text)


class LogChannel:
    """A ``LogEvent`` (source "alerts") through the hub: the terminal and integration_logs."""

    name = "log"

    def __init__(self, hub: TelemetryHub, *, redactor: Redactor | None = None) -> None:
        self.hub = hub
        self.redactor = redactor or Redactor()

    async def send(self, alert: Alert) -> Delivery:
        self.hub.emit(
            LogEvent(
                source="alerts",
                service=alert.service,
                operation="alert",
                level=alert.level,
                message=self.redactor.text(f"{alert.title}: {alert.message}"),
                status=alert.kind,
                details={
                    k: v
                    for k, v in (
                        ("previous_status", alert.previous_status),
                        ("status", alert.status),
                    )
                    if v is not None
                },
                business_id=alert.business_id,
            )
        )
        return Delivery(self.name, True)


class SlackChannel:
    """POSTs ``{"text": ...}`` to a Slack incoming webhook.

    ``transport`` replaces the network (tests, an in-process app). The whole webhook URL is
    a credential: it and its path are masked in every error this channel reports.
    """

    name = "slack"

    def __init__(
        self,
        webhook_url: str,
        *,
        redactor: Redactor | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url = webhook_url
        path = urlsplit(webhook_url).path.strip("/")
        secrets = [webhook_url, *([path] if len(path) >= 4 else [])]
        self.redactor = (redactor or Redactor()).with_secrets(secrets)
        self._transport = transport
        self.timeout = timeout

    async def send(self, alert: Alert) -> Delivery:
        payload = {"text": self.redactor.text(alert.text())}
        return await _post(
            self.name, self._url, self.redactor, self._transport, self.timeout, json=payload
        )


class WebhookChannel:
    """POSTs the alert as JSON to any endpoint, signed so the receiver can trust it:
    ``X-MasterOps-Timestamp`` (Unix seconds) and ``X-MasterOps-Signature``
    ("sha256=" + hex HMAC-SHA256 with the configured secret of "<timestamp>.<body>"), so a
    replayed body with a new timestamp fails the check. The URL and secret are masked."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        redactor: Redactor | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret.encode()
        self.redactor = (redactor or Redactor()).with_secrets([url, secret])
        self._transport = transport
        self.timeout = timeout
        self._clock = clock

    def signed(self, alert: Alert) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the POST for ``alert``."""
        payload = {
            "business_id": alert.business_id,
            "subject": alert.service,
            "status": alert.status,
            "previous_status": alert.previous_status,
            "kind": alert.kind,
            "level": alert.level,
            "title": self.redactor.text(alert.title),
            "message": self.redactor.text(alert.message),
            "checked_at": alert.checked_at.isoformat(),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        stamp = str(int(self._clock()))
        digest = hmac.new(self._secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return body, {
            "Content-Type": "application/json",
            "X-MasterOps-Timestamp": stamp,
            "X-MasterOps-Signature": f"sha256={digest}",
        }

    async def send(self, alert: Alert) -> Delivery:
        body, headers = self.signed(alert)
        return await _post(
            self.name,
            self._url,
            self.redactor,
            self._transport,
            self.timeout,
            content=body,
            headers=headers,
        )


async def _post(
    channel: str,
    url: str,
    redactor: Redactor,
    transport: httpx.AsyncBaseTransport | None,
    limit_s: float,
    **request: Any,
) -> Delivery:
    """One POST of an alert; every failure is a recorded Delivery, never raised (see the
    module), with the URL and anything else secret masked."""
    try:
        async with httpx.AsyncClient(
            transport=transport, timeout=limit_s, follow_redirects=False
        ) as client:
            # httpx's in-process transports ignore its timeouts; this one always cuts.
            async with asyncio.timeout(limit_s):
                response = await client.post(url, **request)
    except TimeoutError:
        return _failed(channel, redactor, f"no answer within {limit_s:g} s")
    except Exception as exc:
        return _failed(channel, redactor, f"{type(exc).__name__}: {exc}")
    if not response.is_success:
        answer = redactor.text(response.text)[:200]  # masked before it is cut
        return _failed(
            channel, redactor, f"the webhook answered HTTP {response.status_code}: {answer}"
        )
    return Delivery(channel, True)


class EmailChannel:
    """Sends a plain-text email through SMTP, in a thread (smtplib blocks).

    Port 587 requires STARTTLS (``starttls`` overrides that choice), port 465 is TLS from
    the start; any other port is plain SMTP (a local relay). ``user``/``password`` log in
    when both are given.
    """

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        redactor: Redactor | None = None,
        timeout: float = 10.0,
        starttls: bool | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        self.user = user
        self._password = password
        self.redactor = (redactor or Redactor()).with_secrets([password] if password else [])
        self.timeout = timeout
        self.starttls = port == 587 if starttls is None else starttls

    def to(self, recipients: Sequence[str]) -> EmailChannel:
        """The same channel (server, sender, login) addressed to ``recipients``."""
        if tuple(recipients) == self.recipients:
            return self
        other = copy.copy(self)
        other.recipients = tuple(recipients)
        return other

    def build_message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.redactor.text(f"[Master-Ops] {alert.title}")
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(self.redactor.text(alert.text()) + "\n")
        return message

    async def send(self, alert: Alert) -> Delivery:
        if not self.recipients:
            return _failed(self.name, self.redactor, "no recipients: set alerts.email_to")
        message = self.build_message(alert)
        try:
            await asyncio.to_thread(self._deliver, message)
        except Exception as exc:  # any failure is recorded, never raised (see module)
            return _failed(
                self.name,
                self.redactor,
                f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}",
            )
        return Delivery(self.name, True)

    def _deliver(self, message: EmailMessage) -> None:
        smtp: smtplib.SMTP
        if self.port == 465:
            smtp = smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user and self._password:
                smtp.login(self.user, self._password)
            smtp.send_message(message)


class UnavailableChannel:
    """A channel the rules name but the configuration cannot serve: every alert through
    it is recorded as not delivered, with what to set, instead of vanishing."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    async def send(self, alert: Alert) -> Delivery:
        return Delivery(self.name, False, self.reason)
