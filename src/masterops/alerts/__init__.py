"""Alerts on health changes and on what the rules find (``conditions``, ``usage``,
``liveness``): decide (``rules``), route (``routing``), quiet what was acknowledged
(``acks``), deliver (``channels``), record (``history``).

``alert_on_changes`` is the whole step a health round ends with; the pieces are public
for the worker, the web app and the tests.
"""

from masterops.alerts.channels import (
    Channel,
    Delivery,
    EmailChannel,
    LogChannel,
    SlackChannel,
    UnavailableChannel,
    WebhookChannel,
)
from masterops.alerts.dispatch import alert_on_changes, build_channels, dispatch_alerts
from masterops.alerts.history import AlertRecord, channel_states, recent_alerts, save_records
from masterops.alerts.rules import (
    Alert,
    AlertKind,
    ChannelState,
    LastAlert,
    backoff,
    decide_alerts,
    judge,
)

__all__ = [
    "Alert",
    "AlertKind",
    "AlertRecord",
    "Channel",
    "ChannelState",
    "Delivery",
    "EmailChannel",
    "LastAlert",
    "LogChannel",
    "SlackChannel",
    "UnavailableChannel",
    "WebhookChannel",
    "alert_on_changes",
    "backoff",
    "build_channels",
    "channel_states",
    "decide_alerts",
    "dispatch_alerts",
    "judge",
    "recent_alerts",
    "save_records",
]
