"""Lines an order lost in Unleashed: their HubSpot line items are archived.

When Unleashed drops a line from an order, the orders sync deletes the ``order_lines`` row
and records the line's Guid in ``dropped_order_lines`` (``record_dropped_lines``). The
HubSpot stage then finds each such line item by its unique ``unleashed_line_guid`` (so
one whose id was never stored, e.g. made by a run killed before it wrote back, is found
too), archives it and forgets the record; a line item HubSpot does not have is simply
forgotten. Anything refused stays recorded and is retried by the next run.

The deal's own reconciliation (``orders_links``) archives line items still linked to it
that the order no longer has; this covers the ones never linked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, select

from masterops.db.tables import dropped_order_lines, order_lines
from masterops.db.upsert import upsert
from masterops.integrations.base import ErrorCategory
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import log_refused, raise_if_fatal
from masterops.sync.refusals import Refusal, refusal
from masterops.sync.runs import Tally

#: Dropped lines handled per round: one read and one archive batch of HubSpot's 100.
ROUND_SIZE = 100
_LINE_GUID_PROPERTY = "unleashed_line_guid"  # orders_hubspot.LINE_GUID_PROPERTY


def record_dropped_lines(
    conn: Connection, business_id: str, lines: Iterable[tuple[str, str, str | None]]
) -> None:
    """Remember ``(order Guid, line Guid, line item id)`` of lines an order lost."""
    now = datetime.now(UTC)
    rows = {
        line_guid: {
            "business_id": business_id,
            "line_guid": line_guid,
            "order_guid": order_guid,
            "hubspot_line_item_id": item_id,
            "dropped_at": now,
        }
        for order_guid, line_guid, item_id in lines
    }
    if rows:
        upsert(
            conn,
            dropped_order_lines,
            list(rows.values()),
            keys=["business_id", "line_guid"],
            update=["order_guid", "hubspot_line_item_id", "dropped_at"],
        )


async def archive_dropped_lines(
    hubspot: HubSpotConnector, engine: Engine, tally: Tally, *, business_id: str
) -> None:
    """Archive the line items of every recorded dropped line of ``business_id``."""
    _forget_current(engine, business_id)
    after: str | None = None
    while True:
        guids = _read_round(engine, business_id, after)
        if not guids:
            return
        after = guids[-1]
        outcomes = await hubspot.batch_read("line_items", guids, id_property=_LINE_GUID_PROPERTY)
        raise_if_fatal(outcomes)
        settled: list[str] = []
        to_archive: dict[str, str] = {}
        failures: list[Refusal] = []
        for outcome in outcomes:
            guid = guids[outcome.index]
            if outcome.ok and outcome.record is not None:
                to_archive[outcome.record.id] = guid
            elif outcome.error is not None and outcome.error.category is ErrorCategory.NOT_FOUND:
                settled.append(guid)  # HubSpot has no such line item: nothing to archive
            else:
                _refused(tally, failures, guid, outcome.error)
        if to_archive:
            archived = await hubspot.batch_archive("line_items", list(to_archive))
            raise_if_fatal(archived)
            for done in archived:
                item_id = list(to_archive)[done.index]
                if done.ok:
                    settled.append(to_archive[item_id])
                    tally.add("line_items_archived")
                else:
                    _refused(tally, failures, to_archive[item_id], done.error)
        _forget(engine, business_id, settled)
        log_refused(
            hubspot,
            business_id,
            failures,
            operation="sync_orders",
            message=(
                f"{len(failures)} line item(s) of lines dropped from {business_id}'s "
                "orders could not be archived"
            ),
        )


def _current() -> Any:
    d = dropped_order_lines
    return exists().where(
        and_(order_lines.c.business_id == d.c.business_id, order_lines.c.line_guid == d.c.line_guid)
    )


def _forget_current(engine: Engine, business_id: str) -> None:
    # A Guid that is a current line again (an order edited back) must not be archived.
    d = dropped_order_lines
    with engine.begin() as conn:
        conn.execute(delete(d).where(d.c.business_id == business_id, _current()))


def _read_round(engine: Engine, business_id: str, after: str | None) -> list[str]:
    d = dropped_order_lines
    stmt = (
        select(d.c.line_guid)
        .where(d.c.business_id == business_id)
        .order_by(d.c.line_guid)
        .limit(ROUND_SIZE)
    )
    if after is not None:
        stmt = stmt.where(d.c.line_guid > after)
    with engine.connect() as conn:
        return [str(g) for g in conn.execute(stmt).scalars()]


def _refused(tally: Tally, failures: list[Refusal], guid: str, error: Any) -> None:
    tally.add("hubspot_failed")
    failures.append(refusal(guid, "line item of a dropped line", error))


def _forget(engine: Engine, business_id: str, guids: list[str]) -> None:
    if not guids:
        return
    d = dropped_order_lines
    with engine.begin() as conn:
        conn.execute(
            delete(d).where(d.c.business_id == business_id, d.c.line_guid == bindparam("b_guid")),
            [{"b_guid": g} for g in guids],
        )
