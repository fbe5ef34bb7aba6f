"""The database subscriber: telemetry events become ``integration_logs`` and
``api_metrics`` rows, redacted and written in batches off the caller's path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from sqlalchemy import Engine

from masterops.db.rollups import add_rows
from masterops.db.tables import api_metrics, integration_logs
from masterops.observability.batch_writer import BatchWriter, Row, WriterStats
from masterops.observability.events import ApiCall, Event, LogEvent
from masterops.observability.redaction import Redactor

MAX_TEXT = 4_000
_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class SinkStats:
    logs: WriterStats
    metrics: WriterStats


class DatabaseSink:
    """Subscribe an instance to a ``TelemetryHub``; call ``close()`` (or ``flush()``) when done."""

    def __init__(
        self,
        engine: Engine,
        *,
        secrets: Iterable[str] = (),
        max_batch: int = 1_000,
        flush_interval: float = 0.5,
        max_queue: int = 100_000,
        fallback: TextIO | None = None,
    ) -> None:
        self.redactor = Redactor(secrets)
        options: dict[str, Any] = {
            "max_batch": max_batch,
            "flush_interval": flush_interval,
            "max_queue": max_queue,
            "fallback": fallback,
        }
        # Each batch is added to its hourly and daily rollups in the insert's transaction.
        self.logs = BatchWriter(
            engine,
            integration_logs,
            transform=self._log_row,
            after_insert=partial(add_rows, table_name="integration_logs"),
            **options,
        )
        self.metrics = BatchWriter(
            engine,
            api_metrics,
            transform=self._metric_row,
            after_insert=partial(add_rows, table_name="api_metrics"),
            **options,
        )

    def __call__(self, event: Event) -> None:
        if isinstance(event, ApiCall):
            self.metrics.put(
                {
                    "service": event.service,
                    "endpoint": event.endpoint,
                    "method": event.method,
                    "status_code": event.status_code,
                    "success": event.success,
                    "duration_ms": event.duration_ms,
                    "response_size_bytes": event.response_size_bytes,
                    "rate_limit_remaining": event.rate_limit_remaining,
                    "rate_limit_reset_at": event.rate_limit_reset_at,
                    "error_category": event.error_category,
                    "error_message": event.error_message,
                    "operation": event.operation,
                    "business_id": event.business_id,
                    "created_at": event.created_at,
                }
            )
        elif isinstance(event, LogEvent):
            self.logs.put(
                {
                    "source": event.source,
                    "service": event.service,
                    "operation": event.operation,
                    "level": event.level,
                    "status": event.status,
                    "message": event.message,
                    "details_json": event.details or None,
                    "duration_ms": event.duration_ms,
                    "business_id": event.business_id,
                    "workflow_id": event.workflow_id,
                    "integration_id": event.integration_id,
                    "user_id": event.user_id,
                    "created_at": event.created_at,
                }
            )

    def _log_row(self, row: Row) -> Row:
        row["message"] = self.redactor.text(str(row["message"]))[:MAX_TEXT]
        if row["details_json"] is not None:
            row["details_json"] = _jsonable(self.redactor.mapping(row["details_json"]))
        return row

    def _metric_row(self, row: Row) -> Row:
        if row["error_message"] is not None:
            row["error_message"] = self.redactor.text(str(row["error_message"]))[:MAX_TEXT]
        return row

    def flush(self, timeout: float = 30.0) -> bool:
        return self.logs.flush(timeout) and self.metrics.flush(timeout)

    def close(self) -> None:
        self.logs.close()
        self.metrics.close()

    @property
    def stats(self) -> SinkStats:
        return SinkStats(self.logs.stats, self.metrics.stats)


def _jsonable(value: Any) -> Any:
    """Details may hold datetimes, enums or exceptions: store what JSON can hold."""
    if type(value) is dict and all(type(v) in _PLAIN for v in value.values()):
        return value  # the common case, and the hot one
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
