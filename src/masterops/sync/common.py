"""What every sync shares below the run skeleton: walking pages, reading a watermark,
telling a HubSpot refusal that must stop the run, writing HubSpot ids back, and the one
way an item refusal is reported (``log_refused``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, bindparam, update

from masterops.integrations.base import CircuitOpenError, ErrorCategory
from masterops.integrations.hubspot import BatchOutcome, HubSpotConnector
from masterops.integrations.unleashed import Resource, UnleashedConnector
from masterops.integrations.unleashed.models import UnleashedModel
from masterops.integrations.unleashed.queries import Query
from masterops.observability.events import LogEvent
from masterops.sync.pages import current as current_progress
from masterops.sync.refusals import Refusal, record_refusals

#: ``on_progress(stage, done, total)``; total is None until the first page says.
Progress = Callable[[str, int, int | None], None]

R = TypeVar("R", bound=UnleashedModel)

# HubSpot refusals that no later item could get past: the run fails instead of counting
# every remaining item as failed.
FATAL_CATEGORIES = frozenset({ErrorCategory.AUTHENTICATION, ErrorCategory.AUTHORIZATION})

#: How many refused HubSpot items a warning names (the count is always complete).
FAILURE_EXAMPLES = 10


def guid_key(value: str) -> str:
    """An Unleashed Guid as the mirror tables key it: Unleashed spells Guids in either
    case, and one spelling keeps one row per record. (Unlike ``canonical_guid`` it never
    raises: a record with an odd Guid is still worth keeping.)"""
    return value.strip().lower()


async def walk_pages(
    unleashed: UnleashedConnector,
    resource: Resource[R],
    params: Query,
    *,
    engine: Engine,
    page_size: int,
    on_progress: Progress | None,
    stage: str,
    store: Callable[[Connection, Sequence[R]], None],
) -> None:
    """Every page of ``resource``, each stored (``store``, in its own transaction) before
    the next is asked for: a kill loses at most the page in flight. Inside a recorded run
    (``pages.tracking``) the page number is committed with the page, and a run resuming
    an unfinished walk starts after the last page stored (or skips a finished stage)."""
    tracked = current_progress()
    progress = tracked[1] if tracked is not None else None
    resume = progress.resume_point(stage, page_size) if progress is not None else None
    if resume is not None and resume.done:
        return  # an earlier attempt stored every page of this stage
    number = 1 if resume is None else resume.page + 1
    done = 0
    total: int | None = None
    if on_progress is not None:
        on_progress(stage, 0, None)
    while True:
        page = await unleashed.page(resource, number, page_size=page_size, params=params)
        if total is None:
            total = page.pagination.number_of_items
        # max(): a server that mislabels its page number must not make us loop forever.
        last = max(number, page.pagination.page_number) >= page.pagination.number_of_pages
        last = last or not page.items
        with engine.begin() as conn:
            store(conn, page.items)
            if progress is not None:
                progress.commit(conn, stage, page_size, number, done=last)
        done += len(page.items)
        if on_progress is not None:
            # Records may be added while we walk: never report more done than total.
            on_progress(stage, done, max(total, done))
        if last:
            return
        number += 1


def parse_watermark(value: str | None) -> datetime | None:
    """The stored watermark as an aware datetime; an unreadable one means a full read
    (re-reading is always safe, skipping is not)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def raise_if_fatal(outcomes: Sequence[BatchOutcome[Any]]) -> None:
    """Raise the first refusal that will refuse everything else too (auth, open breaker)."""
    for outcome in outcomes:
        error = outcome.error
        if error is not None and (
            isinstance(error, CircuitOpenError) or error.category in FATAL_CATEGORIES
        ):
            raise error


def write_hubspot_ids(
    engine: Engine,
    table: Table,
    business_id: str,
    ids: Iterable[tuple[str, str | None]],
    *,
    id_column: str = "hubspot_id",
    synced_at: datetime | None = None,
    stamp: bool = True,
) -> None:
    """Record, per Unleashed Guid, the HubSpot id a mirror row became (None: none) in
    ``id_column`` and, with ``stamp``, when (``hubspot_synced_at``); one transaction for
    the whole batch. A stage that is not the row's last (a wholesale customer's company,
    before its contact) records the id without stamping the row as sent."""
    values: dict[str, Any] = {id_column: bindparam("b_id")}
    if stamp:
        values["hubspot_synced_at"] = bindparam("b_at")
    at = synced_at or datetime.now(UTC)
    params = [{"b_guid": guid, "b_id": hubspot_id, "b_at": at} for guid, hubspot_id in ids]
    if not params:
        return
    stmt = (
        update(table)
        .where(
            table.c.business_id == business_id,
            table.c.unleashed_guid == bindparam("b_guid"),
        )
        .values(values)
    )
    with engine.begin() as conn:
        conn.execute(stmt, params)


#: The refusals of the run in progress (``runs.recorded_run`` collects them).
_run_refusals: ContextVar[list[Refusal] | None] = ContextVar("run_refusals", default=None)


@contextlib.contextmanager
def collecting_refusals() -> Iterator[list[Refusal]]:
    """Every refusal ``log_refused`` sees inside the block, in order."""
    collected: list[Refusal] = []
    token = _run_refusals.set(collected)
    try:
        yield collected
    finally:
        _run_refusals.reset(token)


def log_refused(
    hubspot: HubSpotConnector,
    business_id: str,
    refused: Sequence[Refusal],
    *,
    operation: str,
    message: str,
) -> None:
    """The one way a refusal is reported: kept in the run's result and a warning event
    naming the first few (the items are retried by the next run)."""
    if not refused:
        return
    collected = _run_refusals.get()
    if collected is not None:
        collected.extend(refused)
    details: dict[str, Any] = {
        "failed": len(refused),
        "examples": hubspot.redactor.value([asdict(r) for r in refused[:FAILURE_EXAMPLES]]),
    }
    # Kept with the run too (``sync_refusals``), for ``ops sync status/show`` and the API.
    unstored = record_refusals(business_id, refused, redact=hubspot.redactor.text)
    if unstored is not None:
        details["unstored"] = unstored
    hubspot.runtime.hub.emit(
        LogEvent(
            source="sync",
            service="hubspot",
            operation=operation,
            level="warn",
            status="partial",
            message=message,
            details=details,
            business_id=business_id,
        )
    )
