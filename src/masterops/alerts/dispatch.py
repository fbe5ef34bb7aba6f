"""Sending alerts through every configured channel and recording each in alert_history."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine

from masterops.alerts.acks import Ack, clear_acks, open_acks
from masterops.alerts.channels import (
    Channel,
    Delivery,
    EmailChannel,
    LogChannel,
    SlackChannel,
    UnavailableChannel,
    WebhookChannel,
)
from masterops.alerts.history import AlertRecord, channel_states, save_records
from masterops.alerts.routing import all_channels, email_recipients, routed_channels
from masterops.alerts.rules import (
    Alert,
    ChannelKey,
    ChannelState,
    Key,
    Observation,
    decide_alerts,
)
from masterops.config import AlertRules, Config
from masterops.integrations.base import SEVERITY
from masterops.observability.events import TelemetryHub
from masterops.observability.redaction import Redactor


def build_channels(
    config: Config,
    hub: TelemetryHub,
    *,
    redactor: Redactor | None = None,
    slack_transport: httpx.AsyncBaseTransport | None = None,
) -> list[Channel]:
    """The channels ``[alerts] channels`` and the routes name, each built from its
    settings. A channel whose settings are missing still appears, recording every alert
    as undelivered with the variable to set, so a misconfiguration shows in alert_history
    and the output."""
    redact = redactor or Redactor(config.secrets())
    channels: list[Channel] = []
    for name in all_channels(config.alerts):  # once each, in the configured order
        if name == "log":
            channels.append(LogChannel(hub, redactor=redact))
        elif name == "slack":
            if config.slack_webhook_url is None:
                channels.append(
                    UnavailableChannel("slack", "MASTEROPS_SLACK_WEBHOOK_URL is not set")
                )
            else:
                channels.append(
                    SlackChannel(
                        config.slack_webhook_url.get_secret_value(),
                        redactor=redact,
                        transport=slack_transport,
                    )
                )
        elif name == "email":
            channels.append(_email_channel(config, redact))
        elif name == "webhook":
            if config.alert_webhook_url is None or config.alert_webhook_secret is None:
                reason = (
                    "MASTEROPS_ALERT_WEBHOOK_URL and MASTEROPS_ALERT_WEBHOOK_SECRET must be set"
                )
                channels.append(UnavailableChannel("webhook", reason))
            else:
                channels.append(
                    WebhookChannel(
                        config.alert_webhook_url.get_secret_value(),
                        config.alert_webhook_secret.get_secret_value(),
                        redactor=redact,
                    )
                )
    return channels


def _email_channel(config: Config, redactor: Redactor) -> Channel:
    if not config.smtp_host:
        return UnavailableChannel("email", "MASTEROPS_SMTP_HOST is not set")
    if not config.alerts.email_to:
        return UnavailableChannel("email", "alerts.email_to is empty in masterops.toml")
    return EmailChannel(
        host=config.smtp_host,
        port=config.smtp_port,
        sender=config.smtp_from or config.smtp_user or "masterops@localhost",
        recipients=config.alerts.email_to,
        user=config.smtp_user,
        password=config.smtp_password.get_secret_value() if config.smtp_password else None,
        redactor=redactor,
    )


async def dispatch_alerts(
    due: Sequence[tuple[Channel, Alert]],
    engine: Engine,
    *,
    redactor: Redactor | None = None,
    now: datetime | None = None,
) -> list[AlertRecord]:
    """Send every (channel, alert) and record each attempt in ``alert_history``
    (``created_at`` = ``now``). Never raises for a failed delivery: the row says it failed,
    and the next evaluation retries it (see ``rules``)."""
    if not due:
        return []
    created_at = now or datetime.now(UTC)
    # The channels at once, each channel's alerts one after another: in order, and never
    # a burst of simultaneous POSTs at one webhook (Slack allows about one a second).
    queues: dict[str, list[int]] = {}
    for index, (channel, _) in enumerate(due):
        queues.setdefault(channel.name, []).append(index)
    deliveries: dict[int, Delivery] = {}

    async def drain(indexes: list[int]) -> None:
        for index in indexes:
            channel, alert = due[index]
            deliveries[index] = await channel.send(alert)

    await asyncio.gather(*(drain(indexes) for indexes in queues.values()))
    records = [
        AlertRecord(alert, deliveries[index], created_at) for index, (_, alert) in enumerate(due)
    ]

    def store() -> None:
        with engine.begin() as conn:
            save_records(conn, records, redactor=redactor)

    await asyncio.to_thread(store)
    return records


async def alert_on_changes(
    results: Sequence[Observation],
    engine: Engine,
    config: Config,
    hub: TelemetryHub,
    *,
    slack_transport: httpx.AsyncBaseTransport | None = None,
    channels: Sequence[Channel] | None = None,
    now: datetime | None = None,
) -> list[AlertRecord]:
    """The whole alerting step of a round: decide, per channel, from what that channel
    was told and failed to be told (``alert_history``), through the channels the routes
    give each result (``routing``), keep acknowledged subjects quiet except for their
    recovery (``acks``), then send and record; a subject back below ``min_level`` ends
    its acknowledgement.

    ``channels`` replaces the configured ones; ``now`` is the time the cooldown and the
    retry backoff are measured at and the alerts are recorded with (default: now).
    """
    moment = now or datetime.now(UTC)
    redactor = Redactor(config.secrets())
    keys = {(r.business_id, r.service) for r in results}
    chosen = (
        list(channels)
        if channels is not None
        else build_channels(config, hub, redactor=redactor, slack_transport=slack_transport)
    )
    if not chosen:
        return []

    def read_states() -> tuple[dict[ChannelKey, ChannelState], dict[Key, Ack]]:
        with engine.connect() as conn:
            return channel_states(conn, keys), open_acks(conn, keys)

    states, acks = await asyncio.to_thread(read_states)
    rules = config.alerts
    by_name = {channel.name: channel for channel in chosen}
    due: list[tuple[Channel, Alert]] = []
    for result in results:
        names = _channels_for(result, states, list(by_name), rules)
        for name, alert in decide_alerts([result], states, names, rules, moment):
            if alert.key in acks and alert.kind != "recovery":
                continue  # acknowledged: quiet until it recovers
            due.append((_addressed(by_name[name], alert, rules), alert))
    records = await dispatch_alerts(due, engine, redactor=redactor, now=moment)
    threshold = SEVERITY[rules.min_level]
    over = {
        (r.business_id, r.service)
        for r in results
        if (r.business_id, r.service) in acks and SEVERITY.get(r.status, 0) < threshold
    }
    if over:

        def clear() -> None:
            with engine.begin() as conn:
                clear_acks(conn, over, moment)

        await asyncio.to_thread(clear)
    return records


def _channels_for(
    result: Observation,
    states: dict[ChannelKey, ChannelState],
    names: list[str],
    rules: AlertRules,
) -> list[str]:
    """The channels that judge ``result``: all of them without routes; with routes, the
    routed ones and every channel told (or trying to tell) something else (``routing``)."""
    if not rules.routes:
        return names
    routed = routed_channels(rules, result.business_id, result.status)
    chosen = []
    for name in names:
        state = states.get((result.business_id, result.service, name), ChannelState())
        told_other = state.told is not None and state.told.status != result.status
        if name in routed or told_other or state.last_failure is not None:
            chosen.append(name)
    return chosen


def _addressed(channel: Channel, alert: Alert, rules: AlertRules) -> Channel:
    """The email channel with the recipients the routes give this alert."""
    if not rules.routes or not isinstance(channel, EmailChannel):
        return channel
    status = alert.previous_status if alert.kind == "recovery" else alert.status
    recipients = email_recipients(rules, alert.business_id, status or alert.status)
    return channel.to(recipients)
