"""Telemetry events and the hub that fans them out to subscribers.

Connectors emit events; the database writers, the terminal log and any other
backend subscribe. A subscriber must return quickly (the database writers only
enqueue) and must never raise into the caller: the hub swallows and counts
subscriber errors so telemetry can never break an operation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Level = Literal["debug", "info", "warn", "error"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One attempt of one HTTP call to a service: becomes one ``api_metrics`` row.

    ``endpoint`` is a template such as ``/crm/v3/objects/{type}/batch/upsert``,
    never a raw id or a query string.
    """

    service: str
    endpoint: str
    method: str
    status_code: int | None
    success: bool
    duration_ms: float
    operation: str | None = None
    business_id: str | None = None
    response_size_bytes: int | None = None
    rate_limit_remaining: int | None = None
    rate_limit_reset_at: datetime | None = None
    error_category: str | None = None
    error_message: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """Something worth an ``integration_logs`` row: a retry, a failure, a breaker
    transition, a sync summary."""

    source: str  # "integration", "sync", "health", "workflow", "cli", ...
    service: str | None
    operation: str | None
    level: Level
    message: str
    status: str | None = None  # "success", "retry", "failure", "breaker_open", ...
    details: dict[str, Any] = field(default_factory=dict)
    duration_ms: float | None = None
    business_id: str | None = None
    workflow_id: str | None = None
    integration_id: str | None = None
    user_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)


Event = ApiCall | LogEvent
Subscriber = Callable[[Event], None]


class TelemetryHub:
    """Fans events out to subscribers. Thread-safe; subscriber errors are counted, not raised."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.subscriber_errors = 0

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        with self._lock:
            self._subscribers = [*self._subscribers, subscriber]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not subscriber]

        return unsubscribe

    def emit(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                self.subscriber_errors += 1


class EventRecorder:
    """A subscriber that keeps every event in memory (tests, ``ops test`` output)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    @property
    def api_calls(self) -> list[ApiCall]:
        return [e for e in self.events if isinstance(e, ApiCall)]

    @property
    def logs(self) -> list[LogEvent]:
        return [e for e in self.events if isinstance(e, LogEvent)]
