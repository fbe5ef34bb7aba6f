"""The terminal subscriber: log events readable on a terminal, or one JSON object a line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

from masterops.observability.events import Event, LogEvent
from masterops.observability.redaction import Redactor

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}


class ConsoleLog:
    """Writes ``LogEvent``s at or above ``min_level`` to ``stream`` (stderr by default)."""

    def __init__(
        self,
        *,
        json_lines: bool = False,
        min_level: str = "info",
        secrets: Iterable[str] = (),
        stream: TextIO | None = None,
    ) -> None:
        if min_level not in LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {min_level!r}")
        self.json_lines = json_lines
        self.min_level = LEVELS[min_level]
        self.redactor = Redactor(secrets)
        self.stream = stream

    def __call__(self, event: Event) -> None:
        if not isinstance(event, LogEvent) or LEVELS.get(event.level, 20) < self.min_level:
            return
        stream = self.stream or sys.stderr
        message = self.redactor.text(event.message)
        details = self.redactor.mapping(event.details) if event.details else {}
        if self.json_lines:
            record = {
                "time": event.created_at.isoformat(),
                "level": event.level,
                "source": event.source,
                "service": event.service,
                "operation": event.operation,
                "status": event.status,
                "business": event.business_id,
                "message": message,
                "details": details,
            }
            stream.write(
                json.dumps({k: v for k, v in record.items() if v not in (None, {})}, default=str)
                + "\n"
            )
            return
        where = "/".join(p for p in (event.business_id, event.service, event.operation) if p)
        # A person reads the message; the details of routine events (counts, ids) would
        # bury it. Warnings and errors keep theirs, and JSON lines always carry them.
        shown = details if LEVELS.get(event.level, 20) >= LEVELS["warn"] else {}
        extra = " ".join(f"{k}={v}" for k, v in shown.items())
        stream.write(
            f"{event.created_at:%H:%M:%S} {event.level.upper():5} {where or event.source}: "
            f"{message}{' ' + extra if extra else ''}\n"
        )
