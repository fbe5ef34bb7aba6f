"""What every Unleashed-sourced sync shares: walking pages, reading a watermark, redacting
a failure message, setting up a HubSpot property only when something will be sent, and
telling a HubSpot refusal that must stop the run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Engine, Table, bindparam, literal, select, update

from masterops.integrations.base import CircuitOpenError, ErrorCategory
from masterops.integrations.hubspot import BatchOutcome, HubSpotConnector
from masterops.integrations.unleashed import Resource, UnleashedConnector
from masterops.integrations.unleashed.models import UnleashedModel
from masterops.integrations.unleashed.queries import Query
from masterops.observability.events import LogEvent
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
    page_size: int,
    on_progress: Progress | None,
    stage: str,
    store: Callable[[Sequence[R]], None],
) -> None:
    """Every page of ``resource``, each stored (in its own transaction) before the next is
    asked for: a kill loses at most the page in flight."""
    number = 1
    done = 0
    total: int | None = None
    if on_progress is not None:
        on_progress(stage, 0, None)
    while True:
        page = await unleashed.page(resource, number, page_size=page_size, params=params)
        if total is None:
            total = page.pagination.number_of_items
        store(page.items)
        done += len(page.items)
        if on_progress is not None:
            # Records may be added while we walk: never report more done than total.
            on_progress(stage, done, max(total, done))
        # max(): a server that mislabels its page number must not make us loop forever.
        last = max(number, page.pagination.page_number) >= page.pagination.number_of_pages
        if last or not page.items:
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


def redacted_message(
    text: str, unleashed: UnleashedConnector, hubspot: HubSpotConnector | None
) -> str:
    """``text`` with every secret of both connectors masked (it goes into sync_runs)."""
    redactor = unleashed.redactor
    if hubspot is not None:
        redactor = redactor.with_secrets(hubspot.redactor.secrets)
    return redactor.text(text)


async def ensure_property_if_pending(
    hubspot: HubSpotConnector,
    engine: Engine,
    pending: ColumnElement[bool],
    object_type: str,
    name: str,
    **definition: Any,
) -> None:
    """``hubspot.ensure_property(object_type, name, **definition)``, but only when a mirror
    row matches ``pending`` (the push stage's own "what is left to send").

    A run with nothing to send makes no HubSpot call at all (P5: a no-change run asks each
    endpoint at most once). The check is repeated by every run that sends something
    rather than remembered in the database: it costs one read next to at least one
    write, and nothing remembered can go stale when someone deletes the property in
    HubSpot or the token is moved to another portal.
    """
    with engine.connect() as conn:
        something = conn.execute(select(literal(1)).where(pending).limit(1)).first()
    if something is not None:
        await hubspot.ensure_property(object_type, name, **definition)


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


class UpsertCounts(Protocol):
    """The counts every HubSpot upsert stage keeps."""

    upserted: int
    created: int
    failed: int


def tally_upserts(
    counts: UpsertCounts, outcomes: Sequence[BatchOutcome[Any]]
) -> list[BatchOutcome[Any]]:
    """Add a batch upsert's outcomes to ``counts``; returns the refused ones."""
    failures = [o for o in outcomes if not o.ok]
    counts.failed += len(failures)
    counts.upserted += len(outcomes) - len(failures)
    counts.created += sum(1 for o in outcomes if o.ok and o.new)
    return failures


def refused_examples(
    rows: Sequence[Mapping[str, Any]],
    failures: Sequence[BatchOutcome[Any]],
    *,
    code_key: str,
) -> list[dict[str, Any]]:
    """The first few refused items, named by Guid and code (never by personal data)."""
    return [
        {
            "unleashed_guid": rows[o.index]["unleashed_guid"],
            code_key: rows[o.index][code_key],
            "error": str(o.error) if o.error is not None else "no result",
        }
        for o in failures[:FAILURE_EXAMPLES]
    ]


def log_refused(
    hubspot: HubSpotConnector,
    business_id: str,
    *,
    operation: str,
    message: str,
    failed: int,
    examples: Sequence[Mapping[str, Any]],
    refused: Sequence[Refusal] = (),
) -> None:
    """A warning that HubSpot refused some items of a sync (they are retried next run),
    and each ``refused`` item with its reason stored with the run (``sync_refusals``)."""
    details: dict[str, Any] = {"failed": failed, "examples": hubspot.redactor.value(list(examples))}
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
