"""The one skeleton of the HubSpot push stages (products, contacts, companies, deals).

Every push stage does the same steps over a mirror table: set up the properties the
platform owns (only when a row is pending: a no-change run makes no HubSpot call), count
the pending rows, read them in keyset rounds, send each round as batch upserts, store the
HubSpot ids, tally the outcomes and report the refusals (``common.log_refused``). Those
steps are written here once; a stage is a description (``PushStage``: its table, pending
predicate, keyset column, the HubSpot objects it writes) plus what is truly its own, given
to ``push`` as its round sender and hooks (order links, dropped lines, companies).

Which rows go is read from the database, not from what the run fetched: every row that
changed after it last reached HubSpot (``updated_at > hubspot_synced_at``) or never did,
or every one with ``full``. So a row refused once, or left behind by a killed run, is sent
again by the next run without the watermark having to wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, func, literal, select

from masterops.integrations.hubspot import BatchOutcome, HubSpotConnector
from masterops.sync.common import Progress, log_refused, raise_if_fatal, write_hubspot_ids
from masterops.sync.pipeline import RoundPipeline
from masterops.sync.refusals import refusal
from masterops.sync.runs import Tally

#: How one property's value is read from a mirror row (None: not sent).
PropertyValue = Callable[[Mapping[str, Any]], "str | None"]


class Properties:
    """A property builder written as a table: HubSpot property -> how a mirror row gives
    its value. Its ``names`` are every property it may write, which is exactly what
    webhook drift detection owns (``owned_properties``): derived, never listed twice."""

    def __init__(self, values: Mapping[str, PropertyValue]) -> None:
        self._values = dict(values)
        self.names = frozenset(self._values)

    def __call__(self, row: Mapping[str, Any]) -> dict[str, str]:
        built = {name: value(row) for name, value in self._values.items()}
        return {name: text for name, text in built.items() if text is not None}


@dataclass(frozen=True, slots=True)
class OwnedProperty:
    """A custom property the platform creates on its object type before writing it."""

    name: str
    definition: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class PushTarget:
    """A HubSpot object type the platform writes from a mirror table."""

    object_type: str  # as the CRM API names it: "products"
    webhook_type: str  # as webhook subscriptions name it: "product"
    what: str  # how a refusal names one item: "product"
    properties: Properties
    #: The unique property an upsert matches on (``idProperty``).
    id_property: str
    #: The custom properties the platform creates (set up only when a row is pending).
    setup: tuple[OwnedProperty, ...] = ()
    #: The row column an operator knows an item by, naming it in a refusal (the code or
    #: order number they search for), when the round reads it; else its Guid.
    label: str = "unleashed_guid"


@dataclass(frozen=True, slots=True, kw_only=True)
class PushStage:
    """One push stage described: which rows of which table go, read how, to what."""

    name: str  # the progress stage: "hubspot", "companies"
    operation: str  # the LogEvent operation its refusals are reported under
    table: Table
    #: The keyset column (unique among the round's rows, ordered).
    key: str
    #: ``pending(business_id, full)``: the rows left to send.
    pending: Callable[[str, bool], ColumnElement[bool]]
    #: ``rounds(business_id)``: a round's columns and FROM (the skeleton adds the rest).
    rounds: Callable[[str], Select[Any]]
    #: The objects whose owned properties are set up before anything is sent.
    targets: tuple[PushTarget, ...]
    round_size: int = 500
    #: Rounds sent at once (``pipeline``): more than one keeps the rate limiter's queue
    #: full across round edges; one where a round depends on the rounds before it.
    in_flight: int = 1


@dataclass(slots=True)
class PushRun:
    """One push in progress: where to, for whom, and the run's tally."""

    hubspot: HubSpotConnector
    engine: Engine
    business_id: str
    full: bool
    tally: Tally
    on_progress: Progress | None = None
    condition: Any = None  # the stage's pending predicate, once ``push`` has built it

    def progress(self, stage: str, done: int, total: int | None) -> None:
        if self.on_progress is not None:
            # Never more done than total: a row may have changed since the count.
            self.on_progress(stage, done, None if total is None else max(total, done))


#: Sends one round of rows; returns how many pending rows it dealt with.
SendRound = Callable[[PushRun, list[dict[str, Any]]], Awaitable[int]]
#: A hook before the count (``prepare``), or after it returning rows already dealt with.
Hook = Callable[[PushRun], Awaitable[int]]


async def push(
    stage: PushStage,
    run: PushRun,
    *,
    send: SendRound,
    prepare: Hook | None = None,
    opening: Hook | None = None,
    closing: Hook | None = None,
) -> None:
    """Run ``stage``: ``prepare`` (a stage's own work that changes what is pending), set
    up the owned properties if anything is pending, count it, ``opening`` (rows settled
    without a round), then ``send`` every keyset round (``stage.in_flight`` at once; a
    round's rows are read before the rounds in flight end), then ``closing`` (what ``send``
    held back to fill the batches of a later round). An authentication, authorization
    or open-breaker failure raises its ``IntegrationError``; item refusals are counted
    and reported by ``send``."""
    run.condition = stage.pending(run.business_id, run.full)
    if prepare is not None:
        await prepare(run)
    if _anything(run.engine, run.condition):
        for target in stage.targets:
            for prop in target.setup:
                await run.hubspot.ensure_property(target.object_type, prop.name, **prop.definition)
    with run.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).where(run.condition)).scalar_one())
    run.progress(stage.name, 0, total)
    done = 0
    if opening is not None:
        done = await opening(run)
        run.progress(stage.name, done, total)

    def sent(count: int) -> None:
        nonlocal done
        done += count
        run.progress(stage.name, done, total)

    reader = keyset_rounds(run.engine, stage, run.business_id, run.condition)
    async with RoundPipeline(stage.in_flight, sent) as rounds:
        # Each round read in a thread, as the write-back is: the event loop meanwhile
        # hands the rounds in flight the tokens that come back.
        while (rows := await asyncio.to_thread(next, reader, None)) is not None:
            await rounds.submit(send(run, rows))
    if closing is not None:
        done += await closing(run)
        run.progress(stage.name, done, total)


def _anything(engine: Engine, condition: ColumnElement[bool]) -> bool:
    # The check is repeated by every run that sends something rather than remembered:
    # it costs one read next to at least one write, and nothing remembered can go stale
    # when someone deletes the property in HubSpot or the token moves to another portal.
    with engine.connect() as conn:
        return conn.execute(select(literal(1)).where(condition).limit(1)).first() is not None


def keyset_rounds(
    engine: Engine, stage: PushStage, business_id: str, condition: Any
) -> Iterator[list[dict[str, Any]]]:
    """The pending rows, a round at a time, by keyset on ``stage.key``: rows stamped as
    sent drop out of ``condition`` meanwhile, which an OFFSET would trip over."""
    key = stage.table.c[stage.key]
    after: Any = None
    while True:
        stmt = stage.rounds(business_id).where(condition).order_by(key).limit(stage.round_size)
        if after is not None:
            stmt = stmt.where(key > after)
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        if not rows:
            return
        after = rows[-1][stage.key]
        yield rows


@dataclass(frozen=True, slots=True, kw_only=True)
class Upsert:
    """A round sent as one object type's batch upsert, and where its outcome goes."""

    stage: PushStage
    target: PushTarget
    #: The tally's counts of items upserted and created.
    upserted: str
    created: str
    failed: str = "hubspot_failed"
    #: The mirror column the HubSpot id goes in; with ``stamp`` the row is marked sent.
    id_column: str = "hubspot_id"
    stamp: bool = True


async def upsert_round(
    spec: Upsert, run: PushRun, rows: Sequence[Mapping[str, Any]]
) -> list[BatchOutcome[Any]]:
    """Upsert ``rows`` as ``spec.target``, store the ids, tally and report; returns the
    refused outcomes (their ``index`` is the row's)."""
    target = spec.target
    items = [target.properties(r) for r in rows]
    outcomes = await run.hubspot.batch_upsert(
        target.object_type, items, id_property=target.id_property
    )
    raise_if_fatal(outcomes)
    # In a thread: the event loop goes on handing the rounds in flight their tokens.
    await asyncio.to_thread(
        write_hubspot_ids,
        run.engine,
        spec.stage.table,
        run.business_id,
        [
            (rows[o.index]["unleashed_guid"], o.record.id)
            for o in outcomes
            if o.ok and o.record is not None
        ],
        id_column=spec.id_column,
        stamp=spec.stamp,
    )
    return tally_upserts(spec, run, rows, outcomes)


def tally_upserts(
    spec: Upsert,
    run: PushRun,
    rows: Sequence[Mapping[str, Any]],
    outcomes: Sequence[BatchOutcome[Any]],
) -> list[BatchOutcome[Any]]:
    """Add a batch upsert's outcomes to the run's tally and report the refused ones
    (named by the row's Guid); returns them."""
    failures = [o for o in outcomes if not o.ok]
    run.tally.add(spec.failed, len(failures))
    run.tally.add(spec.upserted, len(outcomes) - len(failures))
    run.tally.add(spec.created, sum(1 for o in outcomes if o.ok and o.new))
    what = spec.target.what
    log_refused(
        run.hubspot,
        run.business_id,
        [refusal(_label(spec.target, rows[o.index]), what, o.error) for o in failures],
        operation=spec.stage.operation,
        message=f"{len(failures)} {what}(s) of {run.business_id} were not upserted to HubSpot",
    )
    return failures


def _label(target: PushTarget, row: Mapping[str, Any]) -> object:
    return row.get(target.label) or row["unleashed_guid"]


def upsert_rows(spec: Upsert) -> SendRound:
    """The plain round: every row upserted, the round's rows all dealt with."""

    async def send(run: PushRun, rows: list[dict[str, Any]]) -> int:
        await upsert_round(spec, run, rows)
        return len(rows)

    return send


def number_text(value: float) -> str:
    """A number as HubSpot text: shortest ("12.5", not "12.500000"), whole ones without
    ".0"."""
    return str(int(value)) if value.is_integer() else repr(value)
