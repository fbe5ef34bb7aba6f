"""Drift detection knows every property the HubSpot push stages write: a change to any
of them in HubSpot is drift, because the owned sets are derived from the builders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ingest_helpers import deliver, event, seed_mirror
from sqlalchemy import Engine

from masterops.ingest import process_inbox
from masterops.ingest.hubspot_events import MIRRORS
from masterops.observability.events import TelemetryHub
from masterops.sync.customers_companies import company_properties
from masterops.sync.customers_hubspot import contact_properties
from masterops.sync.inventory_hubspot import product_properties
from masterops.sync.orders_hubspot import deal_properties, line_item_properties
from masterops.sync.owned_properties import OWNED_PROPERTIES

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)

# Rows with every optional value present, so each builder writes all it can.
_PRODUCT = {
    "unleashed_guid": "p-guid",
    "product_code": "MUSH-1",
    "description": "Mushroom",
    "default_sell_price": 12.5,
    "stock_on_hand": 3.0,
}
_CUSTOMER = {
    "unleashed_guid": "c-guid",
    "customer_code": "CUST-1",
    "customer_name": "Acme",
    "email": "a@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
}
_ORDER = {
    "unleashed_guid": "o-guid",
    "order_number": "SO-1",
    "customer_code": "CUST-1",
    "status": "Completed",
    "total": 10.0,
    "order_date": NOW,
}
_LINE = {
    "line_guid": "l-guid",
    "order_guid": "o-guid",
    "line_number": 1,
    "product_code": "MUSH-1",
    "quantity": 2,
    "unit_price": 5.0,
}

WRITTEN: dict[str, set[str]] = {
    "product": set(product_properties(_PRODUCT)),
    "contact": set(contact_properties(_CUSTOMER)),
    "company": set(company_properties(_CUSTOMER)),
    "deal": set(deal_properties(_ORDER, "Acme")),
    "line_item": set(line_item_properties(_LINE, "Mushroom", "501")),
}
MANAGED_IDS = {"product": 501, "contact": 601, "deal": 701, "line_item": 801}


@pytest.mark.parametrize("object_type", sorted(WRITTEN))
def test_every_property_a_builder_writes_is_owned(object_type: str) -> None:
    assert WRITTEN[object_type] <= OWNED_PROPERTIES[object_type]


@pytest.mark.parametrize(
    ("object_type", "prop"),
    [(o, p) for o in sorted(MANAGED_IDS) for p in sorted(WRITTEN[o])],
)
def test_a_change_to_any_written_property_is_drift(
    engine: Engine, object_type: str, prop: str
) -> None:
    seed_mirror(engine)
    subscription = f"{object_type}.propertyChange"
    deliver(engine, event(subscription, MANAGED_IDS[object_type], propertyName=prop))

    report = process_inbox(engine, TelemetryHub(), now=NOW)

    assert report.outcomes == {(subscription, "drift"): 1}


def test_drift_detection_uses_the_derived_sets() -> None:
    for object_type, mirror in MIRRORS.items():
        assert mirror.owned == OWNED_PROPERTIES[object_type]
