"""Sending a report: one multipart email per business (plain text, and the HTML
alternative with its chart as an inline PNG part) and one Slack summary for all.

It reuses the alert channels' settings (``MASTEROPS_SMTP_*`` and
``MASTEROPS_SLACK_WEBHOOK_URL``) and their SMTP conventions (587 STARTTLS, 465 TLS, other
ports plain) but not their code: a report is not an alert, and a report that cannot be
delivered is an error the caller must see (``DeliveryFailed``), not a row to retry.
Every message built is checked before anything is sent, so a configuration problem sends
nothing at all; errors are one line with every configured secret masked.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from masterops.config import Config
from masterops.observability.redaction import Redactor
from masterops.reports import render
from masterops.reports.model import Report


class DeliveryFailed(Exception):
    """A report could not be delivered; the message says where and why (secrets masked)."""


@dataclass(frozen=True)
class Sent:
    channels: tuple[str, ...]
    emails: int
    recipients: tuple[str, ...]


def build_email(report: Report, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """text/plain, then multipart/related (text/html + the chart PNG by Content-ID)."""
    message = EmailMessage()
    message["Subject"] = f"[Master-Ops] {report.title}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(render.text(report))
    cid = make_msgid(idstring=render.CHART_CID, domain="masterops.local")
    message.add_alternative(render.html(report, chart_cid=cid[1:-1]), subtype="html")
    html_part = message.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        render.chart_png(report),
        maintype="image",
        subtype="png",
        cid=cid,
        filename="orders-per-day.png",
        disposition="inline",
    )
    return message


def slack_summary(reports: Sequence[Report]) -> dict[str, str]:
    """One Slack message: the headline lines of every report."""
    blocks = [render.text(r, short=True).strip() for r in reports]
    return {"text": "\n\n".join(blocks)}


def _redactor(config: Config) -> Redactor:
    return Redactor().with_secrets(config.secrets())


def plan_channels(config: Config) -> list[str]:
    """The channels a report goes to: email when recipients are configured, Slack when
    the webhook is set and ``[reports] slack`` is on. ``DeliveryFailed`` when neither, or
    when email is asked for without an SMTP host."""
    channels = []
    if config.reports.email_to:
        if not config.smtp_host:
            raise DeliveryFailed(
                "reports.email_to is set but MASTEROPS_SMTP_HOST is not: nothing was sent"
            )
        channels.append("email")
    if config.reports.slack and config.slack_webhook_url:
        channels.append("slack")
    if not channels:
        raise DeliveryFailed(
            "nowhere to send the report: set [reports] email_to (and MASTEROPS_SMTP_HOST) "
            "or MASTEROPS_SLACK_WEBHOOK_URL"
        )
    return channels


def send_reports(
    config: Config,
    reports: Sequence[Report],
    *,
    timeout_s: float = 15.0,
    skip: Collection[str] = (),
    on_sent: Callable[[str], None] | None = None,
) -> Sent:
    """Email each report and post one Slack summary; ``DeliveryFailed`` on the first
    channel that refuses (an email already accepted is not recalled: the error names what
    got through). A retry names in ``skip`` the channels an earlier attempt delivered;
    ``on_sent`` hears of each channel the moment it took the reports."""
    channels = [c for c in plan_channels(config) if c not in skip]
    redact = _redactor(config)
    sender = config.smtp_from or config.smtp_user or "masterops@localhost"
    recipients = config.reports.email_to
    messages = [build_email(r, sender=sender, recipients=recipients) for r in reports]
    done: list[str] = []
    if "email" in channels:
        try:
            _smtp_send(config, messages, timeout_s)
        except Exception as exc:
            raise DeliveryFailed(
                redact.text(
                    f"email via SMTP {config.smtp_host}:{config.smtp_port} failed: "
                    f"{type(exc).__name__}: {exc}"
                ).splitlines()[0]
            ) from None
        _delivered("email", done, on_sent)
    if "slack" in channels:
        assert config.slack_webhook_url is not None
        try:
            response = httpx.post(
                config.slack_webhook_url.get_secret_value(),
                json=slack_summary(reports),
                timeout=timeout_s,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(
                redact.text(f"Slack failed: {type(exc).__name__}: {exc}").splitlines()[0]
                + _already(done)
            ) from None
        if not response.is_success:
            answer = redact.text(response.text)[:120].replace("\n", " ")
            raise DeliveryFailed(
                f"Slack answered HTTP {response.status_code}: {answer}" + _already(done)
            )
        _delivered("slack", done, on_sent)
    return Sent(tuple(done), len(messages) if "email" in done else 0, tuple(recipients))


def _delivered(channel: str, done: list[str], on_sent: Callable[[str], None] | None) -> None:
    done.append(channel)
    if on_sent is not None:
        on_sent(channel)


def _already(done: list[str]) -> str:
    return f" (already sent: {', '.join(done)})" if done else ""


def _smtp_send(config: Config, messages: Sequence[EmailMessage], timeout_s: float) -> None:
    assert config.smtp_host is not None
    smtp: smtplib.SMTP
    if config.smtp_port == 465:
        smtp = smtplib.SMTP_SSL(
            config.smtp_host,
            config.smtp_port,
            timeout=timeout_s,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout_s)
    with smtp:
        if config.smtp_port == 587:
            smtp.starttls(context=ssl.create_default_context())
        if config.smtp_user and config.smtp_password:
            smtp.login(config.smtp_user, config.smtp_password.get_secret_value())
        for message in messages:
            smtp.send_message(message)
