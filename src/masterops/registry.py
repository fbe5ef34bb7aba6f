"""Keeping the ``businesses`` table in step with the configured registry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from masterops.config import Config
from masterops.db.tables import businesses
from masterops.db.upsert import upsert


def sync_businesses(conn: Connection, config: Config) -> list[dict[str, Any]]:
    """Upsert every configured business; businesses no longer configured are disabled."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": b.slug,
            "name": b.name,
            "services": list(b.services),
            "enabled": True,
            "created_at": now,
            "updated_at": now,
        }
        for b in config.businesses.values()
    ]
    upsert(
        conn, businesses, rows, keys=["id"], update=["name", "services", "enabled", "updated_at"]
    )
    conn.execute(
        update(businesses)
        .where(businesses.c.id.not_in(list(config.businesses) or [""]))
        .values(enabled=False, updated_at=now)
    )
    return [dict(r._mapping) for r in conn.execute(select(businesses).order_by(businesses.c.id))]
