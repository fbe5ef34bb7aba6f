"""The claim a scheduled report is sent under (``report_deliveries``).

A worker claims (business, kind, period) before building and sending; the primary key
lets one claim win however many workers try at once. A failed send releases nothing: the
row says ``failed`` and a later run claims it again as the next attempt, up to
``MAX_ATTEMPTS``. A rerun of the same attempt by the same workflow (recovered after a
crash) is allowed to go on: its claim is its own.

``channels`` remembers every channel that took the report, recorded the moment it did
and kept across failed attempts: a retry sends only the others, so an email that went
out before Slack refused is not sent again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from masterops.db.tables import report_deliveries

MAX_ATTEMPTS = 3


def next_attempt(conn: Connection, business_id: str, kind: str, period: str) -> int | None:
    """The attempt a run would make now (1 for a first send), or None when the report
    was sent, is being sent, or has failed ``MAX_ATTEMPTS`` times."""
    t = report_deliveries
    row = conn.execute(
        select(t.c.status, t.c.attempts).where(
            t.c.business_id == business_id, t.c.kind == kind, t.c.period == period
        )
    ).first()
    if row is None:
        return 1
    if row.status == "failed" and row.attempts < MAX_ATTEMPTS:
        return int(row.attempts) + 1
    return None


def claim(
    engine: Engine,
    business_id: str,
    kind: str,
    period: str,
    *,
    attempt: int,
    claimant: str,
    now: datetime,
) -> bool:
    """Take the claim for ``attempt``; False when another run holds it or sent it."""
    t = report_deliveries
    key = and_(t.c.business_id == business_id, t.c.kind == kind, t.c.period == period)
    if attempt == 1:
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(t).values(
                        business_id=business_id,
                        kind=kind,
                        period=period,
                        status="sending",
                        attempts=1,
                        claimed_by=claimant,
                        claimed_at=now,
                    )
                )
            return True
        except IntegrityError:
            pass  # claimed already: perhaps by this very run before a crash
    with engine.begin() as conn:
        taken = conn.execute(
            update(t)
            .where(
                key,
                or_(
                    and_(t.c.status == "failed", t.c.attempts == attempt - 1),
                    and_(t.c.status == "sending", t.c.claimed_by == claimant),
                ),
            )
            .values(status="sending", attempts=attempt, claimed_by=claimant, claimed_at=now)
        )
        return taken.rowcount == 1


def sent_channels(conn: Connection, business_id: str, kind: str, period: str) -> tuple[str, ...]:
    """The channels that took the report so far, by any attempt."""
    t = report_deliveries
    text = conn.execute(
        select(t.c.channels).where(
            t.c.business_id == business_id, t.c.kind == kind, t.c.period == period
        )
    ).scalar()
    return _split(text)


def record_channel(
    engine: Engine, business_id: str, kind: str, period: str, *, claimant: str, channel: str
) -> None:
    """``channel`` took the report: remember it now, before the next channel is tried
    (a crash in between must not send it again)."""
    _add_channels(engine, business_id, kind, period, claimant=claimant, values={}, add=(channel,))


def finish(
    engine: Engine,
    business_id: str,
    kind: str,
    period: str,
    *,
    claimant: str,
    now: datetime,
    channels: tuple[str, ...] = (),
    error: str | None = None,
) -> None:
    """Record how the claimed send ended: ``sent`` or ``failed``; ``channels`` (those
    that took it) are added to the ones recorded before, which a failure keeps."""
    values = {"status": "failed" if error else "sent", "sent_at": None if error else now}
    _add_channels(
        engine,
        business_id,
        kind,
        period,
        claimant=claimant,
        values={**values, "error": error},
        add=channels,
    )


def _add_channels(
    engine: Engine,
    business_id: str,
    kind: str,
    period: str,
    *,
    claimant: str,
    values: dict[str, object],
    add: tuple[str, ...],
) -> None:
    """Update the claimed row with ``values``, its channels grown by ``add``: read and
    written in one transaction under the claim, which no other run can hold meanwhile."""
    t = report_deliveries
    with engine.begin() as conn:
        known = sent_channels(conn, business_id, kind, period)
        merged = known + tuple(c for c in dict.fromkeys(add) if c not in known)
        conn.execute(
            update(t)
            .where(
                t.c.business_id == business_id,
                t.c.kind == kind,
                t.c.period == period,
                t.c.claimed_by == claimant,
            )
            .values(**values, channels=",".join(merged) or None)
        )


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(c for c in (text or "").split(",") if c)
