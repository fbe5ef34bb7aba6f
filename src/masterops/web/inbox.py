"""The webhook inbox: storing accepted events idempotently, and reading them back.

A receiver calls ``store_events`` with every event of one delivery; they are written in
one transaction keyed by ``(source, event_id)``, so a redelivery (HubSpot retries a
batch it thinks failed) adds nothing and never resets a row already processed. The
count of new events is the rows the insert itself created (``RETURNING``), so it stays
exact while identical deliveries arrive at once. ``store_deliveries`` writes several
deliveries in one transaction and counts each one's new events (``group_commit.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from masterops.db.tables import webhook_inbox
from masterops.db.types import time_param
from masterops.web.wal_flush import WalFlush

STATUSES = ("pending", "processed", "failed")


@dataclass(frozen=True)
class InboxEvent:
    """One event as the inbox stores it; ``payload`` is the event exactly as received."""

    source: str
    event_id: str
    business_id: str | None
    subscription_type: str | None
    object_id: str | None
    occurred_at: datetime | None
    payload: dict[str, Any]
    error: str | None = None  # set: stored already "failed", never processed


@dataclass(frozen=True)
class StoreResult:
    received: int  # events in the delivery
    new: int  # events not seen before


def store_events(engine: Engine, events: Sequence[InboxEvent]) -> StoreResult:
    """Insert every event not already in the inbox, all in one transaction."""
    return store_deliveries(engine, [events])[0]


def store_deliveries(
    engine: Engine, deliveries: Sequence[Sequence[InboxEvent]], wal: WalFlush | None = None
) -> list[StoreResult]:
    """Store several deliveries in one transaction; one result per delivery, in order.

    An event is new for the first delivery of the list that holds it, and only if the
    insert itself created its row: the ``new`` counts add up to the rows created, however
    many of the deliveries (or other writers) carry the same event at once.

    On SQLite, with ``wal`` (the database's ``WalFlush``) the commit's flush happens
    after SQLite's write lock is released (``wal_flush.py``); without, inside the commit.
    Either way the events are on disk when this returns.
    """
    owner: dict[tuple[str, str], int] = {}  # event key -> the first delivery holding it
    unique: dict[tuple[str, str], InboxEvent] = {}
    for index, events in enumerate(deliveries):
        for event in events:
            key = (event.source, event.event_id)
            if key not in unique:  # a batch may repeat one
                unique[key] = event
                owner[key] = index
    new = [0] * len(deliveries)
    if unique:
        # In key order: concurrent transactions (group_commit.py keeps several in flight
        # on PostgreSQL) holding some of the same new events then wait for each other in
        # one order, never in a deadlock.
        rows = [unique[key] for key in sorted(unique)]
        if engine.dialect.name == "postgresql":
            created = _store_postgresql(engine, rows)
        elif wal is not None:
            created = _store_sqlite_then_flush(engine, rows, wal)
        else:
            created = _store_sqlite(engine, rows)
        for key in created:
            new[owner[key]] += 1
    return [
        StoreResult(received=len(events), new=count)
        for events, count in zip(deliveries, new, strict=True)
    ]


def _store_sqlite(engine: Engine, events: Sequence[InboxEvent]) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        # WAL with synchronous=NORMAL (the engine's setting) survives a crash of the
        # process but may lose the last commits to a power cut; an accepted event must
        # survive both, so the inbox commits with FULL: the WAL is flushed to disk before
        # the commit returns, once per (group) commit.
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
        conn.commit()  # ends SQLAlchemy's autobegun (empty) transaction
        try:
            with conn.begin():
                return _insert_new(conn, events)
        finally:  # the pooled connection goes back as the engine made it
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            conn.commit()


def _store_sqlite_then_flush(
    engine: Engine, events: Sequence[InboxEvent], wal: WalFlush
) -> list[tuple[str, str]]:
    with wal.write_lock, engine.begin() as conn:  # synchronous=NORMAL: no flush inside
        created = _insert_new(conn, events)
    wal.flush()
    return created


def _store_postgresql(engine: Engine, events: Sequence[InboxEvent]) -> list[tuple[str, str]]:
    # The whole batch is one statement (``_UNNEST_INSERT``), so in autocommit it is its
    # own transaction: all of it or none, and the server answers only once its commit is
    # flushed (synchronous_commit). One round trip instead of three (BEGIN, INSERT,
    # COMMIT): on a loaded machine each is a wake-up of this thread and of the server's.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return _insert_new(conn, events)


#: The inbox columns an insert writes, in the order of its VALUES.
_COLUMNS = (
    "source",
    "event_id",
    "business_id",
    "subscription_type",
    "object_id",
    "occurred_at",
    "payload_json",
    "received_at",
    "status",
    "attempts",
    "error",
)
#: Rows per SQLite INSERT statement: 11 values each, well below SQLite's 32,766 bound
#: variables.
_ROWS_PER_STATEMENT = 500


def _insert_new(conn: Connection, events: Sequence[InboxEvent]) -> list[tuple[str, str]]:
    """Insert ``events`` (distinct keys); the keys of the rows the insert created.

    On the driver directly, with the values converted here once: through SQLAlchemy's
    executemany every value of every row went through its type's bind processing, which
    cost more CPU than the database's own work (profiled: ~80 of ~100 us per event on
    SQLite). The values are the ones the column types store: JSON text (cast to jsonb
    on PostgreSQL) and UTC times in ``time_param``'s form. ``ON CONFLICT DO NOTHING``:
    a known event keeps its status and history.
    """
    dialect = conn.dialect.name
    times: dict[datetime, Any] = {}  # a delivery's events often share one occurredAt

    def occurred(e: InboxEvent) -> Any:
        if e.occurred_at is None:
            return None
        found = times.get(e.occurred_at)
        if found is None:
            found = times[e.occurred_at] = time_param(e.occurred_at, dialect)
        return found

    now = time_param(datetime.now(UTC), dialect)
    if dialect == "postgresql":
        return _insert_unnest(conn, events, [occurred(e) for e in events], now)
    created: list[tuple[str, str]] = []
    row_marks = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    for start in range(0, len(events), _ROWS_PER_STATEMENT):
        chunk = events[start : start + _ROWS_PER_STATEMENT]
        params: list[Any] = []
        for e in chunk:
            params += (
                e.source,
                e.event_id,
                e.business_id,
                e.subscription_type,
                e.object_id,
                occurred(e),
                json.dumps(e.payload),
                now,
                "pending" if e.error is None else "failed",
                0,
                e.error,
            )
        sql = (
            f"INSERT INTO {webhook_inbox.name} ({', '.join(_COLUMNS)}) VALUES "
            + ", ".join([row_marks] * len(chunk))
            + " ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
        )
        created += [(str(s), str(i)) for s, i in conn.exec_driver_sql(sql, tuple(params))]
    return created


#: PostgreSQL: one statement whatever the batch size, every column an array parameter
#: (psycopg parses and the server plans one short statement, prepared once per
#: connection, instead of a statement with thousands of placeholders).
_UNNEST_INSERT = (
    f"INSERT INTO {webhook_inbox.name} ({', '.join(_COLUMNS)}) "
    "SELECT source, event_id, business_id, subscription_type, object_id, occurred_at, "
    "payload::jsonb, %b, CASE WHEN error IS NULL THEN 'pending' ELSE 'failed' END, 0, error "
    "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], "
    "%b::timestamptz[], %b::text[], %b::text[]) "
    "AS e(source, event_id, business_id, subscription_type, object_id, occurred_at, "
    "payload, error) "
    "ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
)


def _insert_unnest(
    conn: Connection, events: Sequence[InboxEvent], occurred: list[Any], now: Any
) -> list[tuple[str, str]]:
    params = (
        now,
        [e.source for e in events],
        [e.event_id for e in events],
        [e.business_id for e in events],
        [e.subscription_type for e in events],
        [e.object_id for e in events],
        occurred,
        [json.dumps(e.payload) for e in events],
        [e.error for e in events],
    )
    return [(str(s), str(i)) for s, i in conn.exec_driver_sql(_UNNEST_INSERT, params)]


def inbox_rows(
    conn: Connection,
    *,
    status: str | None = None,
    business_id: str | None = None,
    source: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Inbox rows, newest first, optionally of one status, business and/or source."""
    t = webhook_inbox
    stmt = select(t).order_by(t.c.received_at.desc(), t.c.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    if business_id is not None:
        stmt = stmt.where(t.c.business_id == business_id)
    if source is not None:
        stmt = stmt.where(t.c.source == source)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def status_counts(conn: Connection) -> dict[str, int]:
    """Rows per status; every known status is present, with 0 when there are none."""
    counts = dict.fromkeys(STATUSES, 0)
    stmt = select(webhook_inbox.c.status, func.count()).group_by(webhook_inbox.c.status)
    for status, count in conn.execute(stmt):
        counts[str(status)] = int(count)
    return counts
