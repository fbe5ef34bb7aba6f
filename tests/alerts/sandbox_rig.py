"""The alert tests' rig over the sandbox: the in-process sandbox services, telemetry stored
in the test database (api_metrics), and three real channels: the log, a local HTTP server
standing in for Slack, and a real SMTP server. Counts are per subject ("quota:hubspot"),
since one fault can trouble several rules at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from http_sink import HttpSink, http_sink
from pydantic import SecretStr
from smtp_sink import smtp_sink
from sqlalchemy import Engine

from masterops.alerts import AlertRecord
from masterops.config import Config, load_config
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import EventRecorder, TelemetryHub
from masterops.operations.alerts import evaluate_alerts
from masterops.operations.services import Services, open_services

#: One attempt per call, so every fault shows at once; the breaker's threshold is the
#: test's, its cooldown short. No alert cooldown: each step converges at once.
SETTINGS = """
[limits.retry]
max_attempts = 1
base_delay_s = 0.01
max_delay_s = 0.01

[limits.breaker]
failure_threshold = {threshold}
cooldown_s = 0.05

[alerts]
channels = ["log", "slack", "email"]
email_to = ["ops@example.com"]
cooldown_s = 0
"""


@dataclasses.dataclass
class Rig:
    config: Config
    services: Services
    engine: Engine
    hub: TelemetryHub
    log: EventRecorder
    slack: HttpSink
    mail: list[EmailMessage]
    sink: DatabaseSink

    @property
    def sandbox(self) -> Any:
        return self.services.sandbox

    async def evaluate(self, now: datetime) -> list[AlertRecord]:
        self.sink.flush()  # the calls made so far are rows before the rules read them
        return await evaluate_alerts(self.services.config, self.engine, self.hub, now=now)

    def counts(self, subject: str) -> tuple[int, int, int]:
        """Alerts about ``subject`` that reached the log, Slack and the mailbox."""
        logs = [e for e in self.log.logs if e.source == "alerts" and e.service == subject]
        return (len(logs), len(self.texts(subject)), len(self.subjects(subject)))

    def texts(self, subject: str) -> list[str]:
        """The first line of each Slack message about ``subject``."""
        lines = [r.json()["text"].splitlines()[0] for r in self.slack.delivered]
        return [line for line in lines if f"/{subject} " in line]

    def subjects(self, subject: str) -> list[str]:
        return [str(m["Subject"]) for m in self.mail if f"/{subject} " in str(m["Subject"])]


@contextmanager
def sandbox_rig(
    engine: Engine, tmp_path: Path, alerts: str = "", *, breaker_threshold: int = 1000
) -> Iterator[Rig]:
    """The rig, with ``alerts`` (TOML lines) added to ``[alerts]``."""
    settings = SETTINGS.format(threshold=breaker_threshold)
    (tmp_path / "masterops.toml").write_text(settings + alerts)
    with http_sink() as slack, smtp_sink() as (port, mail):
        config = dataclasses.replace(
            load_config({}, cwd=tmp_path),  # no credentials: the sandbox, in-process
            slack_webhook_url=SecretStr(slack.url),
            smtp_host="127.0.0.1",
            smtp_port=port,
        )
        hub, recorder = TelemetryHub(), EventRecorder()
        hub.subscribe(recorder)
        sink = DatabaseSink(engine, flush_interval=0.05)
        hub.subscribe(sink)
        try:
            with open_services(config, hub, engine) as services:
                yield Rig(config, services, engine, hub, recorder, slack, mail, sink)
        finally:
            sink.close()
