"""One HubSpot portal (one business's account): its records, schema, limits and app.

Record writes go through ``create``/``update``/``archive`` so that unique values,
associations and webhook events stay consistent whichever route (single, batch,
upsert, Python API) made the change.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.hubspot.associations import (
    ASSOCIATION_TYPES,
    AssociationStore,
    Spec,
    parse_specs,
)
from masterops_sandbox.hubspot.default_properties import OWNER_PROPERTY
from masterops_sandbox.hubspot.errors import HubSpotError, validation_error
from masterops_sandbox.hubspot.objecttypes import OBJECT_TYPES, ObjectType
from masterops_sandbox.hubspot.objecttypes import object_type as type_named
from masterops_sandbox.hubspot.owners import Owners, seed_owners
from masterops_sandbox.hubspot.pipelines import Pipelines
from masterops_sandbox.hubspot.properties import PropertyDef, PropertyRegistry
from masterops_sandbox.hubspot.ratelimit import PortalLimits
from masterops_sandbox.hubspot.store import Change, ObjectStore, Record
from masterops_sandbox.hubspot.webhooks import Subscriptions

# (portal, object type, record id, "creation" | "propertyChange" | "deletion", changes)
EmitFn = Callable[["Portal", ObjectType, int, str, list[Change]], None]


def all_scopes() -> frozenset[str]:
    scopes: set[str] = {OWNERS_SCOPE}
    for t in OBJECT_TYPES:
        scopes.update((t.read_scope, t.write_scope, t.schema_read_scope, t.schema_write_scope))
    return frozenset(scopes)


#: The scope ``/crm/v3/owners`` needs.
OWNERS_SCOPE = "crm.objects.owners.read"


class Portal:
    """The state of one business's HubSpot account."""

    def __init__(self, account: SandboxAccount, seed: int, created_ms: int, emit: EmitFn) -> None:
        self.account = account
        self.id = account.hubspot_portal_id
        self.business = account.business
        rng = random.Random(f"hubspot-portal:{seed}:{account.business}")
        self.app_id = rng.randrange(1_000_000, 9_999_999)
        self.scopes: set[str] = set(all_scopes())
        self.limits = PortalLimits(account.hubspot_tier)
        self.associations = AssociationStore()
        self.subscriptions = Subscriptions(rng.randrange(100_000, 999_999) * 10)
        self.webhook_url: str | None = None  # overrides the sandbox-wide target URL
        self._emit = emit
        self.stores: dict[str, ObjectStore] = {}
        for object_type in OBJECT_TYPES:
            registry = PropertyRegistry(object_type, created_ms)
            # Contacts get small ids like HubSpot's; other objects the long ones.
            first = (
                rng.randrange(100, 1_000)
                if object_type.name == "contacts"
                else rng.randrange(10_000, 99_999) * 100_000
            )
            self.stores[object_type.name] = ObjectStore(object_type, registry, first)
            for kind in ("creation", "deletion", "propertyChange"):
                self.subscriptions.add(f"{object_type.singular}.{kind}")
        self.owners = Owners(
            seed_owners(seed, account.business, f"{account.business}.example.com", created_ms)
        )
        self.pipelines = Pipelines(created_ms)
        owner_options = [(o.label, str(o.id)) for o in self.owners.active()]
        for store in self.stores.values():
            store.registry.set_options(OWNER_PROPERTY, owner_options)
        self.refresh_pipeline_options()

    def refresh_pipeline_options(self) -> None:
        """Make the deal ``pipeline`` and ``dealstage`` options the live pipelines' ids."""
        registry = self.store(type_named("deals")).registry
        registry.set_options("pipeline", [(p.label, p.id) for p in self.pipelines.live()])
        registry.set_options("dealstage", self.pipelines.stage_ids())

    def store(self, object_type: ObjectType) -> ObjectStore:
        return self.stores[object_type.name]

    def add_property(self, object_type: ObjectType, body: dict[str, Any], ms: int) -> PropertyDef:
        store = self.store(object_type)
        definition = store.registry.create(body, ms)
        if definition.has_unique_value:
            store.add_unique_index(definition)
        return definition

    # --- record writes -----------------------------------------------------------------------

    def prepare_associations(
        self, raw: Any, from_type: ObjectType
    ) -> list[tuple[Any, int, list[Spec]]]:
        """Check a create's ``associations`` list: [(to type, to id, types)]."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise validation_error("Invalid input JSON: associations must be a list")
        prepared: list[tuple[Any, int, list[Spec]]] = []
        for item in raw:
            to = item.get("to") if isinstance(item, dict) else None
            to_id = str(to.get("id", "")) if isinstance(to, dict) else ""
            types = item.get("types") if isinstance(item, dict) else None
            if not to_id.isdigit() or not isinstance(types, list) or not types:
                raise validation_error("Each association needs to.id and types")
            first = types[0] if isinstance(types[0], dict) else {}
            known = ASSOCIATION_TYPES.get(first.get("associationTypeId", -1))
            if known is None or known.from_type != from_type.name:
                raise validation_error(
                    f"Association type {first.get('associationTypeId')!r} is not valid "
                    f"from {from_type.name}"
                )
            to_type = next(t for t in OBJECT_TYPES if t.name == known.to_type)
            specs = parse_specs(types, from_type.name, to_type.name, self.associations.labels)
            if self.store(to_type).get(int(to_id)) is None:
                raise validation_error(
                    f"One or more associations are invalid: {to_type.label} {to_id} does not exist"
                )
            prepared.append((to_type, int(to_id), specs))
        return prepared

    def create(
        self,
        object_type: ObjectType,
        properties: Any,
        ms: int,
        *,
        associations: Any = None,
        changes: list[Change] | None = None,
    ) -> Record:
        """Validate and store a new record, link it and announce it."""
        store = self.store(object_type)
        if changes is None:
            changes = store.registry.normalize(properties)
        links = self.prepare_associations(associations, object_type)
        store.check_unique(changes, None)
        record = store.insert(changes, ms)
        for to_type, to_id, specs in links:
            self.associations.add((object_type.name, record.id), (to_type.name, to_id), specs)
        set_values: list[Change] = [(d, v) for d, v in changes if v is not None]
        self._emit(self, object_type, record.id, "creation", set_values)
        return record

    def update(
        self,
        object_type: ObjectType,
        record: Record,
        properties: Any,
        ms: int,
        *,
        changes: list[Change] | None = None,
    ) -> Record:
        store = self.store(object_type)
        if changes is None:
            changes = store.registry.normalize(properties)
        store.check_unique(changes, record.id)
        changed = store.update(record, changes, ms)
        if changed:
            self._emit(self, object_type, record.id, "propertyChange", changed)
        return record

    def archive(self, object_type: ObjectType, record: Record, ms: int) -> None:
        self.store(object_type).archive(record, ms)
        self.associations.drop((object_type.name, record.id))
        self._emit(self, object_type, record.id, "deletion", [])

    def require(self, object_type: ObjectType, record_id: str) -> Record:
        """The active record, or HubSpot's 404."""
        record = self.store(object_type).get(int(record_id)) if record_id.isdigit() else None
        if record is None:
            raise HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                f"{object_type.label.replace('_', ' ').title()} {record_id} does not exist.",
                context={"id": [record_id]},
            )
        return record

    def counts(self) -> dict[str, Any]:
        return {
            "portal_id": self.id,
            "objects": {name: len(store) for name, store in self.stores.items()},
            "archived": {name: len(store.archived) for name, store in self.stores.items()},
            "associations": self.associations.count(),
            "limits": self.limits.snapshot(),
        }

    # --- snapshot (the state folder) ---------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """The portal's records, schema, links, subscriptions, scopes and usage as JSON data."""
        return {
            "scopes": sorted(self.scopes),
            "limits": self.limits.to_state(),
            "subscriptions": self.subscriptions.to_state(),
            "associations": self.associations.to_state(),
            "association_labels": self.associations.labels.to_state(),
            "pipelines": self.pipelines.to_state(),
            "objects": {
                name: {"properties": store.registry.to_state(), "records": store.to_state()}
                for name, store in self.stores.items()
            },
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.scopes = set(state["scopes"])
        self.limits.load_state(state["limits"])
        self.subscriptions.load_state(state["subscriptions"])
        self.associations.load_state(state["associations"])
        self.associations.labels.load_state(state["association_labels"])
        self.pipelines.load_state(state["pipelines"])
        for name, saved in state["objects"].items():
            store = self.stores[name]
            store.registry.load_state(saved["properties"])
            store.load_state(saved["records"])
        self.refresh_pipeline_options()
