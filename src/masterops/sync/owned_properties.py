"""The HubSpot properties the platform owns, by HubSpot object type: exactly what the
push stages' property builders may write, so webhook drift detection (``masterops.ingest``)
treats a change to any of them as drift and a change to anything else as none of its
business. Derived from the builders (``hubspot_push.Properties``): a property added to a
builder is owned without being listed anywhere else."""

from __future__ import annotations

from collections.abc import Mapping

from masterops.sync.customers_companies import COMPANY
from masterops.sync.customers_hubspot import CONTACT
from masterops.sync.hubspot_push import PushTarget
from masterops.sync.inventory_hubspot import PRODUCTS
from masterops.sync.orders_hubspot import DEAL, LINE_ITEM

__all__ = ["OWNED_PROPERTIES", "PUSH_TARGETS"]

#: Every HubSpot object type a push stage writes.
PUSH_TARGETS: tuple[PushTarget, ...] = (PRODUCTS, CONTACT, COMPANY, DEAL, LINE_ITEM)

#: HubSpot object type (as webhook subscriptions name it) -> the properties written to it.
OWNED_PROPERTIES: Mapping[str, frozenset[str]] = {
    target.webhook_type: target.properties.names for target in PUSH_TARGETS
}
