"""Processing the webhook inbox as an operation (``ops webhooks process`` and the job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from masterops.ingest.processor import ProcessReport, process_inbox
from masterops.observability.redaction import Redactor

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.config import Config
    from masterops.observability.events import TelemetryHub


def process_webhooks(
    engine: Engine,
    hub: TelemetryHub,
    config: Config,
    *,
    batch_size: int = 200,
    max_attempts: int = 5,
) -> ProcessReport:
    """Handle every pending HubSpot event once; each event is its own transaction, so a
    repeated run re-does nothing. Errors stored with an event are redacted."""
    return process_inbox(
        engine,
        hub,
        batch_size=batch_size,
        max_attempts=max_attempts,
        redactor=Redactor(config.secrets()),
    )
