"""Acting on events the webhook receiver stored: what each means, and the inbox processor."""

from __future__ import annotations

from masterops.ingest.hubspot_events import EventOutcome, MalformedEvent, handle_event
from masterops.ingest.processor import ProcessReport, list_events, process_inbox

__all__ = [
    "EventOutcome",
    "MalformedEvent",
    "ProcessReport",
    "handle_event",
    "list_events",
    "process_inbox",
]
