"""The one sync contract: every sync's counts are declared once (``SyncKind``) and read
from there by the tally, the result and the summary; the properties webhook drift
detection owns are the push stages' property builders' own."""

from __future__ import annotations

import pytest

from masterops.ingest.hubspot_events import MIRRORS
from masterops.sync.customers import KIND as CUSTOMERS
from masterops.sync.executions import KIND as EXECUTIONS
from masterops.sync.inventory import KIND as INVENTORY
from masterops.sync.orders import KIND as ORDERS
from masterops.sync.orders_hubspot import DEAL, PIPELINE, deal_properties
from masterops.sync.owned_properties import OWNED_PROPERTIES, PUSH_TARGETS
from masterops.sync.runs import SyncKind, Tally

KINDS = [INVENTORY, CUSTOMERS, ORDERS, EXECUTIONS]


@pytest.mark.parametrize("kind", KINDS, ids=[k.entity for k in KINDS])
def test_a_tally_keeps_exactly_the_counts_its_kind_declares(kind: SyncKind) -> None:
    tally = Tally(kind, "first")
    for n, count in enumerate(kind.counts, start=1):
        tally.add(count.name, n)
    assert tally.counts() == {c.name: n for n, c in enumerate(kind.counts, start=1)}
    for column in ("fetched", "written", "failed"):
        expected = sum(n for n, c in enumerate(kind.counts, start=1) if c.column == column)
        assert tally.column(column) == expected
    with pytest.raises(KeyError, match="keeps no count"):
        tally.add("no_such_count")


@pytest.mark.parametrize("kind", KINDS, ids=[k.entity for k in KINDS])
def test_every_kind_fills_each_sync_runs_column(kind: SyncKind) -> None:
    names = [c.name for c in kind.counts]
    assert len(names) == len(set(names))
    assert {c.column for c in kind.counts} >= {"fetched", "written", "failed"}


def test_owned_properties_are_what_the_builders_write() -> None:
    for target in PUSH_TARGETS:
        assert OWNED_PROPERTIES[target.webhook_type] == target.properties.names
    # Drift detection reads the same sets.
    for object_type, mirror in MIRRORS.items():
        assert mirror.owned == OWNED_PROPERTIES[object_type]
    # The deal's pipeline is written by the orders push, so a change to it is drift.
    deal = deal_properties(
        {
            "unleashed_guid": "o-1",
            "order_number": "SO-1",
            "customer_code": "C-1",
            "status": "Placed",
            "total": None,
            "order_date": None,
        },
        None,
    )
    assert deal["pipeline"] == PIPELINE
    assert set(deal) < DEAL.properties.names == OWNED_PROPERTIES["deal"]
    assert "pipeline" in OWNED_PROPERTIES["deal"]
