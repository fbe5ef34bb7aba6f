"""``HubSpotSandbox``: the state behind the HubSpot app, and its Python control API.

Tests, benchmarks and the demo use it to change what the HTTP API cannot: a
portal's tier, limits and scopes, one-off failures, webhook targets and
subscriptions, and to load or inspect records without going through HTTP.
Businesses are named by slug (``"teelixir"``) or portal id.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.hubspot.associations import default_spec
from masterops_sandbox.hubspot.default_properties import GROUP_NAMES, OWNER_PROPERTY
from masterops_sandbox.hubspot.errors import CorrelationIds
from masterops_sandbox.hubspot.failures import FailNext
from masterops_sandbox.hubspot.objecttypes import ObjectType, object_type
from masterops_sandbox.hubspot.portal import Portal
from masterops_sandbox.hubspot.store import Change, Record
from masterops_sandbox.hubspot.values import to_ms
from masterops_sandbox.hubspot.webhooks import SendFn, Subscription, WebhookDispatcher


class HubSpotSandbox:
    """All portals of the HubSpot imitation, plus the switches tests turn."""

    def __init__(
        self,
        accounts: Mapping[str, SandboxAccount],
        *,
        seed: int = 0,
        webhook_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        send_webhook: SendFn | None = None,
        auto_deliver_webhooks: bool = True,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.now = now
        self.webhook_url = webhook_url
        self.send_retry_after = False  # unverified for HubSpot: off unless a test wants it
        self.rate_limit_category = False  # some captured 429s carry category RATE_LIMITS
        self.correlation = CorrelationIds(seed)
        self.webhooks = WebhookDispatcher(
            now, send=send_webhook, auto_deliver=auto_deliver_webhooks
        )
        self._event_ids = random.Random(f"hubspot-events:{seed}").randrange(1, 10**9) * 10
        self.failures = FailNext()
        created = self.now_ms()
        self.portals: dict[str, Portal] = {}
        self._by_token: dict[str, Portal] = {}
        self._by_id: dict[int, Portal] = {}
        for business, account in accounts.items():
            portal = Portal(account, seed, created, self._emit)
            self.portals[business] = portal
            self._by_token[account.hubspot_token] = portal
            self._by_id[portal.id] = portal

    # --- lookups -----------------------------------------------------------------------------

    def now_ms(self) -> int:
        return to_ms(self.now())

    def portal(self, business: str | int) -> Portal:
        """A portal by business slug or portal id."""
        found = self._by_id.get(business) if isinstance(business, int) else None
        if found is None and isinstance(business, str):
            found = self.portals.get(business) or (
                self._by_id.get(int(business)) if business.isdigit() else None
            )
        if found is None:
            raise KeyError(f"no HubSpot portal for {business!r}")
        return found

    def portal_for_token(self, token: str) -> Portal | None:
        return self._by_token.get(token)

    # --- rate limits and scopes --------------------------------------------------------------

    def set_tier(self, business: str | int, tier: str) -> None:
        """``starter`` (100 per 10 s, 250k a day), ``professional`` (190, 650k) or
        ``limit_pack`` (250, 1M); usage so far is kept."""
        self.portal(business).limits.set_tier(tier)

    def set_ten_second_limit(self, business: str | int, limit: int) -> None:
        self.portal(business).limits.ten_secondly_max = limit

    def set_daily_limit(self, business: str | int, limit: int) -> None:
        self.portal(business).limits.daily_max = limit

    def set_search_limit(self, business: str | int, per_second: int) -> None:
        self.portal(business).limits.search_per_second = per_second

    def reset_rate_limits(self, business: str | int | None = None) -> None:
        """Forget the calls counted so far (every portal when ``business`` is None)."""
        portals = self.portals.values() if business is None else [self.portal(business)]
        for portal in portals:
            portal.limits.reset()

    def usage(self, business: str | int) -> dict[str, Any]:
        return self.portal(business).limits.snapshot()

    def scopes(self, business: str | int) -> frozenset[str]:
        return frozenset(self.portal(business).scopes)

    def remove_scopes(self, business: str | int, *scopes: str) -> None:
        """Take scopes away from a portal's token, e.g. ``crm.objects.contacts.write``."""
        self.portal(business).scopes.difference_update(scopes)

    def grant_scopes(self, business: str | int, *scopes: str) -> None:
        self.portal(business).scopes.update(scopes)

    # --- one-off failures --------------------------------------------------------------------

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        category: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching API calls with ``status`` and a HubSpot error
        body (e.g. 423 locked, 477 migration in progress), before auth and rate limits."""
        self.failures.add(
            status,
            times=times,
            method=method,
            path_contains=path_contains,
            category=category,
            message=message,
        )

    def clear_failures(self) -> None:
        self.failures.clear()

    # --- webhooks ----------------------------------------------------------------------------

    def set_webhook_url(self, url: str | None, business: str | int | None = None) -> None:
        """Where events go: for every portal, or only for ``business``."""
        if business is None:
            self.webhook_url = url
        else:
            self.portal(business).webhook_url = url

    def webhook_target(self, portal: Portal) -> str | None:
        return portal.webhook_url or self.webhook_url

    def subscribe(
        self, business: str | int, event_type: str, property_name: str | None = None
    ) -> int:
        """Add a subscription (``"contact.propertyChange"``, ...); returns its id. Every portal
        starts subscribed to creation, deletion and every property change of every type."""
        return self.portal(business).subscriptions.add(event_type, property_name).id

    def unsubscribe(self, business: str | int, subscription_id: int) -> bool:
        return self.portal(business).subscriptions.remove(subscription_id)

    def clear_subscriptions(self, business: str | int) -> None:
        self.portal(business).subscriptions.clear()

    def subscriptions(self, business: str | int) -> list[Subscription]:
        return self.portal(business).subscriptions.all()

    async def flush_webhooks(self) -> int:
        """Deliver every queued event once; returns how many were delivered."""
        return await self.webhooks.flush()

    async def aclose(self) -> None:
        await self.webhooks.aclose()

    def _emit(
        self,
        portal: Portal,
        object_type: ObjectType,
        record_id: int,
        kind: str,
        changes: list[Change],
    ) -> None:
        url = self.webhook_target(portal)
        if url is None:
            return
        occurred = self.now_ms()
        singular = object_type.singular
        events: list[dict[str, Any]] = []

        def event(subscription: Subscription, event_type: str) -> dict[str, Any]:
            self._event_ids += 1
            return {
                "eventId": self._event_ids,
                "subscriptionId": subscription.id,
                "portalId": portal.id,
                "appId": portal.app_id,
                "occurredAt": occurred,
                "subscriptionType": event_type,
                "attemptNumber": 0,
                "objectId": record_id,
                "changeSource": "API",
            }

        if kind != "propertyChange":
            event_type = f"{singular}.{kind}"
            for subscription in portal.subscriptions.match(event_type):
                item = event(subscription, event_type)
                item["changeFlag"] = "CREATED" if kind == "creation" else "DELETED"
                events.append(item)
        event_type = f"{singular}.propertyChange"
        for definition, value in changes:
            for subscription in portal.subscriptions.match(event_type, definition.name):
                item = event(subscription, event_type)
                item["propertyName"] = definition.name
                item["propertyValue"] = "" if value is None else value
                events.append(item)
        if events:
            self.webhooks.enqueue(portal.id, url, portal.account.hubspot_client_secret, events)

    # --- records -----------------------------------------------------------------------------

    def bulk_load(
        self,
        business: str | int,
        type_name: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        created_at: datetime | None = None,
        spacing: timedelta = timedelta(0),
    ) -> list[str]:
        """Store many records at once: validated, no webhooks, no rate limits.

        Records get consecutive ids; their create/modify times start at ``created_at``
        (default now) and advance by ``spacing`` per record. Contacts, companies and deals
        that name no ``hubspot_owner_id`` are spread over the portal's owners, as a real
        portal's records are. Returns the new ids."""
        portal = self.portal(business)
        kind = object_type(type_name)
        store = portal.store(kind)
        ms = to_ms(created_at) if created_at is not None else self.now_ms()
        step = int(spacing.total_seconds() * 1000)
        ids: list[str] = []
        normalize = store.registry.normalize
        owned = store.registry.get(OWNER_PROPERTY) is not None
        owners = itertools.cycle([str(o.id) for o in portal.owners.active()])
        for row in rows:
            values = dict(row)
            if owned and OWNER_PROPERTY not in values:
                values[OWNER_PROPERTY] = next(owners)
            changes = normalize(values)
            store.check_unique(changes, None)
            ids.append(str(store.insert(changes, ms).id))
            ms += step
        return ids

    def create(self, business: str | int, type_name: str, properties: Mapping[str, Any]) -> str:
        """Create one record as the API would (webhooks included); returns its id."""
        portal = self.portal(business)
        record = portal.create(object_type(type_name), dict(properties), self.now_ms())
        return str(record.id)

    def update(
        self, business: str | int, type_name: str, record_id: str, properties: Mapping[str, Any]
    ) -> None:
        """Change a record as a user in HubSpot would (webhooks included)."""
        portal = self.portal(business)
        kind = object_type(type_name)
        portal.update(kind, portal.require(kind, record_id), dict(properties), self.now_ms())

    def archive(self, business: str | int, type_name: str, record_id: str) -> None:
        portal = self.portal(business)
        kind = object_type(type_name)
        portal.archive(kind, portal.require(kind, record_id), self.now_ms())

    def _plain(self, portal: Portal, kind: ObjectType, record: Record) -> dict[str, Any]:
        registry = portal.store(kind).registry
        properties = {d.name: value for d in registry.all() if (value := record.get(d)) is not None}
        return {
            "id": str(record.id),
            "properties": properties,
            "archived": record.archived_ms is not None,
        }

    def get(self, business: str | int, type_name: str, record_id: str) -> dict[str, Any] | None:
        """``{id, properties (every set one), archived}`` or None; archived ones included."""
        portal = self.portal(business)
        kind = object_type(type_name)
        store = portal.store(kind)
        key = int(record_id)
        record = store.get(key) or store.get(key, archived=True)
        return None if record is None else self._plain(portal, kind, record)

    def find(
        self, business: str | int, type_name: str, property_name: str, value: str
    ) -> dict[str, Any] | None:
        """The active record whose unique property has ``value``."""
        portal = self.portal(business)
        kind = object_type(type_name)
        record = portal.store(kind).by_unique(property_name, value)
        return None if record is None else self._plain(portal, kind, record)

    def records(self, business: str | int, type_name: str) -> list[dict[str, Any]]:
        """Every active record of a type, by id."""
        portal = self.portal(business)
        kind = object_type(type_name)
        return [self._plain(portal, kind, r) for r in portal.store(kind)]

    def count(self, business: str | int, type_name: str) -> int:
        return len(self.portal(business).store(object_type(type_name)))

    def associate(
        self,
        business: str | int,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        type_id: int | None = None,
    ) -> None:
        """Link two existing records, with the pair's default type unless ``type_id`` is given."""
        portal = self.portal(business)
        src, dst = object_type(from_type), object_type(to_type)
        portal.require(src, from_id)
        portal.require(dst, to_id)
        spec = default_spec(src.name, dst.name) if type_id is None else ("HUBSPOT_DEFINED", type_id)
        portal.associations.add((src.name, int(from_id)), (dst.name, int(to_id)), [spec])

    def associated_ids(
        self, business: str | int, from_type: str, from_id: str, to_type: str
    ) -> list[str]:
        portal = self.portal(business)
        found = portal.associations.targets(
            (object_type(from_type).name, int(from_id)), object_type(to_type).name
        )
        return [str(to_id) for to_id, _ in found]

    def add_property(
        self,
        business: str | int,
        type_name: str,
        name: str,
        *,
        label: str | None = None,
        type: str = "string",
        field_type: str = "text",
        unique: bool = False,
        options: Iterable[str] = (),
    ) -> None:
        """Create a custom property, as ``POST /crm/v3/properties/{type}`` would, in the
        type's own information group (``contactinformation``, ...)."""
        kind = object_type(type_name)
        body = {
            "name": name,
            "label": label or name,
            "type": type,
            "fieldType": field_type,
            "groupName": GROUP_NAMES[kind.name],
            "hasUniqueValue": unique,
            "options": [{"label": o, "value": o} for o in options],
        }
        self.portal(business).add_property(kind, body, self.now_ms())

    def state(self) -> dict[str, Any]:
        """Counts per portal and object type, and the webhook queue."""
        return {
            "portals": {business: portal.counts() for business, portal in self.portals.items()},
            "webhooks": {
                "pending": len(self.webhooks.pending),
                "delivered": self.webhooks.delivered_count,
                "dead": len(self.webhooks.dead),
            },
        }

    # --- snapshot (the state folder) ---------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Every portal's state as JSON data. Where webhooks go and the deliveries still
        queued belong to the process that serves them, so they are not kept."""
        return {
            "event_ids": self._event_ids,
            "portals": {business: portal.to_state() for business, portal in self.portals.items()},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace every portal's state with a ``to_state`` snapshot of the same accounts."""
        missing = set(self.portals) ^ set(state["portals"])
        if missing:
            raise ValueError(f"the HubSpot snapshot is for other businesses: {sorted(missing)}")
        self._event_ids = int(state["event_ids"])
        for business, saved in state["portals"].items():
            self.portals[business].load_state(saved)
