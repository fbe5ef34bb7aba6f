"""The HubSpot properties the platform owns, by HubSpot object type: exactly what the
push stages' property builders write, so webhook drift detection (``masterops.ingest``)
treats a change to any of them as drift and a change to anything else as none of its
business. A property added to a builder is added to its module's set beside it (a test
checks every builder's output against these sets)."""

from __future__ import annotations

from collections.abc import Mapping

from masterops.sync.customers_companies import COMPANY_PROPERTIES
from masterops.sync.customers_hubspot import CONTACT_PROPERTIES
from masterops.sync.inventory_hubspot import PRODUCT_PROPERTIES
from masterops.sync.orders_hubspot import DEAL_PROPERTIES, LINE_ITEM_PROPERTIES

__all__ = ["OWNED_PROPERTIES"]

#: HubSpot object type (as webhook subscriptions name it) -> the properties written to it.
OWNED_PROPERTIES: Mapping[str, frozenset[str]] = {
    "product": PRODUCT_PROPERTIES,
    "contact": CONTACT_PROPERTIES,
    "company": COMPANY_PROPERTIES,
    "deal": DEAL_PROPERTIES,
    "line_item": LINE_ITEM_PROPERTIES,
}
