"""Reconciling a deal's associations with its order: what the orders sync links and unlinks.

A deal the platform made is linked to exactly what Unleashed says of its order: the
contact of its customer (type 3), the customer's company when it has one (type 5) and one
line item per current line (type 19). Links are never only added: the deal's links are
read from HubSpot (a deal just created has none), the missing ones are created, and the
stale ones removed with the v4 batch archive: a contact or company the customer no longer
is (an email change made a new contact, say) is unlinked; a line item the order no longer
has (a line dropped in Unleashed, a line that got a new Guid) is archived outright, since
the platform owns it and nothing else would ever clean it up.

What HubSpot holds is read rather than remembered, so links left by a killed run, made by
hand, or doubled by an older version of this sync are corrected too. Every link or unlink
refused marks its order incomplete: the order is not stamped as synced and the next run
reconciles it again.

A round's line item links fill whole batches (its orders are chosen so: ``orders_rounds``),
but its contact and company links do not when some orders have no customer, or a
customer with no company. Given a ``LinkCarry``, those links are held over and sent 100 at
a time, whichever round they came from; the last part-full batch goes when the push ends
(``LinkCarry.send(everything=True)``). An order is stamped only once its held links were
answered (``LinkCarry.holding``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from masterops.integrations.hubspot import (
    BATCH_LIMIT,
    DEAL_TO_COMPANY,
    DEAL_TO_CONTACT,
    DEAL_TO_LINE_ITEM,
    AssociationList,
    AssociationType,
    BatchOutcome,
    HubSpotConnector,
)
from masterops.sync.common import raise_if_fatal

#: Called for each refused item: (order Guid, what, outcome).
OnFailure = Callable[[str, str, BatchOutcome[Any]], None]


@dataclass(frozen=True, slots=True)
class DealLinks:
    """What one deal must be linked to."""

    order_guid: str
    deal_id: str
    #: The deal existed before this run: its current links must be read.
    existed: bool
    contacts: frozenset[str]
    companies: frozenset[str]
    line_items: frozenset[str]
    #: Some line item of the order was refused: which ids it has is unknown, so none is
    #: archived this time.
    lines_complete: bool


@dataclass(slots=True)
class LinkCounts:
    created: int = 0
    removed: int = 0
    line_items_archived: int = 0


@dataclass(frozen=True, slots=True)
class _Kind:
    to_type: str
    type_id: int

    def wanted(self, deal: DealLinks) -> frozenset[str]:
        if self.to_type == "contacts":
            return deal.contacts
        if self.to_type == "companies":
            return deal.companies
        return deal.line_items


_KINDS = (
    _Kind("line_items", DEAL_TO_LINE_ITEM),
    _Kind("contacts", DEAL_TO_CONTACT),
    _Kind("companies", DEAL_TO_COMPANY),
)
#: The links a ``LinkCarry`` holds over: one per order at most, so their count in a round
#: is whatever share of its orders has a customer, rarely a multiple of 100.
_CARRIED = _KINDS[1:]


class LinkCarry:
    """Deal -> contact and deal -> company links waiting to fill a batch of 100.

    ``on_failure`` hears of every held link refused, whichever round is sending it;
    ``holding[order Guid]`` counts the order's links held or in flight, ``failed`` the
    orders one of whose held links was refused.
    """

    def __init__(self, on_failure: OnFailure, *, batch: int = BATCH_LIMIT) -> None:
        self.batch = batch
        self.holding: Counter[str] = Counter()
        self.failed: set[str] = set()
        self._on_failure = on_failure
        self._held: dict[_Kind, list[tuple[DealLinks, str]]] = {kind: [] for kind in _CARRIED}

    def hold(self, kind: _Kind, links: Iterable[tuple[DealLinks, str]]) -> None:
        held = self._held[kind]
        for deal, to_id in links:
            held.append((deal, to_id))
            self.holding[deal.order_guid] += 1

    async def send(self, hubspot: HubSpotConnector, *, everything: bool = False) -> int:
        """Send the held links in full batches (and, with ``everything``, the rest);
        returns how many were created."""
        created = 0
        for kind, held in self._held.items():
            count = len(held) if everything else len(held) - len(held) % self.batch
            if not count:
                continue
            # Taken before the call: a round running meanwhile cannot send them twice.
            links, held[:] = held[:count], held[count:]
            try:
                created += await _link(hubspot, kind, links, self._refused)
            finally:
                for deal, _ in links:
                    self.holding[deal.order_guid] -= 1
                    if self.holding[deal.order_guid] <= 0:
                        del self.holding[deal.order_guid]
        return created

    def _refused(self, order_guid: str, what: str, outcome: BatchOutcome[Any]) -> None:
        self.failed.add(order_guid)
        self._on_failure(order_guid, what, outcome)


async def reconcile_deal_links(
    hubspot: HubSpotConnector,
    deals: Sequence[DealLinks],
    on_failure: OnFailure,
    carry: LinkCarry | None = None,
) -> LinkCounts:
    """Make each deal's contacts, companies and line items equal what it must have.
    With ``carry``, the contact and company links to create are held there and only
    its full batches are sent (counted here, whichever round held them)."""
    counts = LinkCounts()
    if not deals:
        return counts
    existing = [d for d in deals if d.existed]
    readings = await asyncio.gather(
        *(_read_links(hubspot, kind, existing, on_failure) for kind in _KINDS)
    )
    for kind, linked in zip(_KINDS, readings, strict=True):
        to_add: list[tuple[DealLinks, str]] = []
        to_remove: list[tuple[DealLinks, str]] = []
        for deal in deals:
            if deal.existed and deal.deal_id not in linked:
                continue  # its links could not be read: reconciled by the next run
            have = linked.get(deal.deal_id, frozenset())
            wanted = kind.wanted(deal)
            to_add.extend((deal, to_id) for to_id in sorted(wanted - have))
            if kind.to_type != "line_items" or deal.lines_complete:
                to_remove.extend((deal, to_id) for to_id in sorted(have - wanted))
        if carry is not None and kind in _CARRIED:
            carry.hold(kind, to_add)
        else:
            counts.created += await _link(hubspot, kind, to_add, on_failure)
        if kind.to_type == "line_items":
            counts.line_items_archived += await _archive_line_items(hubspot, to_remove, on_failure)
        else:
            counts.removed += await _unlink(hubspot, kind, to_remove, on_failure)
    if carry is not None:
        counts.created += await carry.send(hubspot)
    return counts


async def _read_links(
    hubspot: HubSpotConnector, kind: _Kind, deals: Sequence[DealLinks], on_failure: OnFailure
) -> dict[str, frozenset[str]]:
    """Deal id -> ids of ``kind`` linked to it, for each deal whose links could be read."""
    if not deals:
        return {}
    outcomes = await hubspot.batch_read_associations(
        "deals", kind.to_type, [d.deal_id for d in deals]
    )
    raise_if_fatal(outcomes)
    linked: dict[str, frozenset[str]] = {}
    for outcome in outcomes:
        deal = deals[outcome.index]
        if outcome.ok and outcome.record is not None:
            linked[deal.deal_id] = _ids_of(outcome.record, kind.type_id)
        else:
            on_failure(deal.order_guid, f"reading the deal's {kind.to_type} links", outcome)
    return linked


def _ids_of(found: AssociationList, type_id: int) -> frozenset[str]:
    # Only links of the type the platform makes: a labelled link someone added by hand
    # ("Billing contact", say) is theirs, not a stale link of ours.
    return frozenset(
        a.to_id for a in found.associations if any(t.type_id == type_id for t in a.types)
    )


async def _link(
    hubspot: HubSpotConnector,
    kind: _Kind,
    links: Sequence[tuple[DealLinks, str]],
    on_failure: OnFailure,
) -> int:
    if not links:
        return 0
    types = [AssociationType.hubspot(kind.type_id)]
    outcomes = await hubspot.batch_associate(
        "deals", kind.to_type, [(d.deal_id, to_id, types) for d, to_id in links]
    )
    return _tally(outcomes, links, f"deal -> {kind.to_type} link", on_failure)


async def _unlink(
    hubspot: HubSpotConnector,
    kind: _Kind,
    links: Sequence[tuple[DealLinks, str]],
    on_failure: OnFailure,
) -> int:
    if not links:
        return 0
    outcomes = await hubspot.batch_remove_associations(
        "deals", kind.to_type, [(d.deal_id, to_id) for d, to_id in links]
    )
    return _tally(outcomes, links, f"stale deal -> {kind.to_type} link", on_failure)


async def _archive_line_items(
    hubspot: HubSpotConnector, stale: Sequence[tuple[DealLinks, str]], on_failure: OnFailure
) -> int:
    if not stale:
        return 0
    outcomes = await hubspot.batch_archive("line_items", [item_id for _, item_id in stale])
    return _tally(outcomes, stale, "stale line item", on_failure)


def _tally(
    outcomes: Iterable[BatchOutcome[Any]],
    items: Sequence[tuple[DealLinks, str]],
    what: str,
    on_failure: OnFailure,
) -> int:
    outcomes = list(outcomes)
    raise_if_fatal(outcomes)
    done = 0
    for outcome in outcomes:
        deal, to_id = items[outcome.index]
        if outcome.ok:
            done += 1
        else:
            on_failure(deal.order_guid, f"{what} {deal.deal_id} -> {to_id}", outcome)
    return done
