"""The CRM object types the sandbox serves, and the names HubSpot accepts for each.

A path may name a type by its plural (``contacts``), its singular (``contact``) or
its object type id (``0-1``); every spelling resolves to one ``ObjectType``.
"""

from __future__ import annotations

from dataclasses import dataclass

from masterops_sandbox.hubspot.errors import HubSpotError


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type: its names, scopes and the properties returned by default."""

    name: str  # plural, as in /crm/v3/objects/{name}
    singular: str  # as in webhook subscription types: "contact.creation"
    type_id: str  # "0-1"
    label: str  # upper case, as in batch error messages: "Could not get some CONTACT objects"
    default_properties: tuple[str, ...]  # returned when a request names no properties
    query_properties: tuple[str, ...]  # searched by the free-text ``query`` of a search

    @property
    def read_scope(self) -> str:
        return f"crm.objects.{self.name}.read"

    @property
    def write_scope(self) -> str:
        return f"crm.objects.{self.name}.write"

    @property
    def schema_read_scope(self) -> str:
        return f"crm.schemas.{self.name}.read"

    @property
    def schema_write_scope(self) -> str:
        return f"crm.schemas.{self.name}.write"


# Default property sets follow HubSpot's documented search defaults; the facts file
# adds ``lastmodifieddate`` to every type, so every type carries it.
OBJECT_TYPES: tuple[ObjectType, ...] = (
    ObjectType(
        "contacts",
        "contact",
        "0-1",
        "CONTACT",
        ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
        ("firstname", "lastname", "email", "phone", "company"),
    ),
    ObjectType(
        "companies",
        "company",
        "0-2",
        "COMPANY",
        ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "lastmodifieddate", "name"),
        ("name", "domain", "website", "phone"),
    ),
    ObjectType(
        "deals",
        "deal",
        "0-3",
        "DEAL",
        (
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "lastmodifieddate",
            "pipeline",
        ),
        ("dealname",),
    ),
    ObjectType(
        "products",
        "product",
        "0-7",
        "PRODUCT",
        (
            "createdate",
            "description",
            "hs_lastmodifieddate",
            "hs_object_id",
            "lastmodifieddate",
            "name",
            "price",
        ),
        ("name", "description", "hs_sku"),
    ),
    ObjectType(
        "line_items",
        "line_item",
        "0-8",
        "LINE_ITEM",
        (
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_product_id",
            "lastmodifieddate",
            "name",
            "price",
            "quantity",
        ),
        ("name",),
    ),
)

_BY_NAME: dict[str, ObjectType] = {}
for _type in OBJECT_TYPES:
    for _alias in (_type.name, _type.singular, _type.type_id):
        _BY_NAME[_alias] = _type


def object_type(name: str) -> ObjectType:
    """The type a path segment names; an unknown name is HubSpot's 400."""
    found = _BY_NAME.get(name.lower())
    if found is None:
        raise HubSpotError(
            400,
            "VALIDATION_ERROR",
            f"Unable to infer object type from: {name}",
        )
    return found
