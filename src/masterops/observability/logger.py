"""The platform's structured logger: operations call it; subscribers decide where it goes."""

from __future__ import annotations

from typing import Any

from masterops.observability.events import Level, LogEvent, TelemetryHub


class OpsLogger:
    """Emits ``LogEvent``s for one source (``sync``, ``health``, ``cli`` ...) into a hub."""

    def __init__(self, hub: TelemetryHub, source: str, **context: str | None) -> None:
        self.hub = hub
        self.source = source
        self.context = context

    def bind(self, **context: str | None) -> OpsLogger:
        return OpsLogger(self.hub, self.source, **{**self.context, **context})

    def log(
        self,
        level: Level,
        message: str,
        *,
        status: str | None = None,
        duration_ms: float | None = None,
        **details: Any,
    ) -> None:
        ctx = self.context
        self.hub.emit(
            LogEvent(
                source=self.source,
                service=ctx.get("service"),
                operation=ctx.get("operation"),
                level=level,
                message=message,
                status=status,
                details=details,
                duration_ms=duration_ms,
                business_id=ctx.get("business_id"),
                workflow_id=ctx.get("workflow_id"),
                integration_id=ctx.get("integration_id"),
                user_id=ctx.get("user_id"),
            )
        )

    def debug(self, message: str, **kw: Any) -> None:
        self.log("debug", message, **kw)

    def info(self, message: str, **kw: Any) -> None:
        self.log("info", message, **kw)

    def warn(self, message: str, **kw: Any) -> None:
        self.log("warn", message, **kw)

    def error(self, message: str, **kw: Any) -> None:
        self.log("error", message, **kw)
