"""Health of the platform's own database: round trip, latency and migration revision."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from masterops.db import migrate
from masterops.db.engine import describe_url
from masterops.integrations.base import HealthResult


def _check(engine: Engine) -> tuple[float, str | None, str | None, str]:
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()
        latency_ms = (time.perf_counter() - start) * 1000
        version = (
            conn.execute(text("SELECT sqlite_version()")).scalar_one()
            if engine.dialect.name == "sqlite"
            else conn.execute(text("SHOW server_version")).scalar_one()
        )
    return latency_ms, migrate.current_revision(engine), migrate.head_revision(), str(version)


async def database_health(
    engine: Engine, *, business_id: str = "platform", degraded_after_ms: float = 500.0
) -> HealthResult:
    """ "healthy" when a query round-trips in time and the schema is at the code's head
    revision; "degraded" when slow or behind; "down" with the driver's reason otherwise.
    The reason never carries the password (the URL is rendered masked)."""
    checked_at = datetime.now(UTC)
    try:
        latency_ms, revision, head, version = await asyncio.to_thread(_check, engine)
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None) or exc
        reason = (
            str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
        )
        return HealthResult(
            service="database",
            business_id=business_id,
            status="down",
            latency_ms=None,
            message=f"{describe_url(engine)}: {reason}",
            checked_at=checked_at,
            breaker="closed",
            details={"dialect": engine.dialect.name},
        )
    details: dict[str, Any] = {
        "dialect": engine.dialect.name,
        "server_version": version,
        "revision": revision,
        "head": head,
    }
    if revision != head:
        status, message = (
            "degraded",
            f"schema at {revision or 'empty'}, code expects {head}: run `ops db upgrade`",
        )
    elif latency_ms > degraded_after_ms:
        status, message = "degraded", f"slow round trip ({latency_ms:.0f} ms)"
    else:
        status, message = "healthy", f"round trip {latency_ms:.1f} ms, schema at {revision}"
    return HealthResult(
        service="database",
        business_id=business_id,
        status=status,  # type: ignore[arg-type]
        latency_ms=round(latency_ms, 3),
        message=message,
        checked_at=checked_at,
        breaker="closed",
        details=details,
    )
