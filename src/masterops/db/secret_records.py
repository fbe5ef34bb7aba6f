"""``secret_records``: when each configured secret was first seen and last changed.

A secret's value never reaches the database: ``fingerprint`` is a short keyed hash that
only tells whether the value changed since it was last recorded.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from masterops.db.tables import secret_records


def fingerprint(variable: str, value: str) -> str:
    """16 hex digits of HMAC-SHA256(key=variable, value): stable for one value of one
    variable, different when it changes, and no help in guessing a long random value."""
    return hmac.new(variable.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class SecretRecord:
    variable: str
    kind: str
    business_id: str | None
    first_seen_at: datetime
    changed_at: datetime
    rotated_at: datetime | None
    changed: bool  # the value differs from the one recorded before this observation


def observe(
    conn: Connection,
    *,
    variable: str,
    kind: str,
    business_id: str | None,
    value: str,
    now: datetime,
) -> SecretRecord:
    """Record that ``variable`` holds ``value`` now, under the kind and business the
    configuration gives it: a first sighting starts its age; a different fingerprint than
    last time means it was changed (rotated) now. The answer is the row as stored."""
    mark = fingerprint(variable, value)
    row = conn.execute(
        select(secret_records).where(secret_records.c.variable == variable)
    ).one_or_none()
    values: dict[str, Any] = {
        "kind": kind,
        "business_id": business_id,
        "fingerprint": mark,
        "checked_at": now,
    }
    changed = row is not None and row.fingerprint != mark
    if row is None:
        values.update(variable=variable, first_seen_at=now, changed_at=now, rotated_at=None)
        conn.execute(secret_records.insert().values(values))
        return _record(values, changed=False)
    if changed:
        values["changed_at"] = now
    conn.execute(update(secret_records).where(secret_records.c.variable == variable).values(values))
    return _record({**row._mapping, **values}, changed=changed)


def _record(row: Mapping[Any, Any], *, changed: bool) -> SecretRecord:
    return SecretRecord(
        row["variable"],
        row["kind"],
        row["business_id"],
        row["first_seen_at"],
        row["changed_at"],
        row["rotated_at"],
        changed,
    )


def record_rotation(
    conn: Connection,
    *,
    variable: str,
    kind: str,
    business_id: str | None,
    value: str,
    now: datetime,
    actor: str,
) -> None:
    """A rotation done by ``ops secrets rotate``: the new value's fingerprint, changed
    and rotated now, by ``actor``."""
    observe(conn, variable=variable, kind=kind, business_id=business_id, value=value, now=now)
    conn.execute(
        update(secret_records)
        .where(secret_records.c.variable == variable)
        .values(changed_at=now, rotated_at=now, rotated_by=actor[:100])
    )


def recorded(conn: Connection) -> list[SecretRecord]:
    """Every record, by variable."""
    rows = conn.execute(select(secret_records).order_by(secret_records.c.variable))
    return [_record(r._mapping, changed=False) for r in rows]
