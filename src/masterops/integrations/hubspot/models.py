"""What the HubSpot connector returns: records, batch outcomes, search pages, property
definitions and associations, as pydantic models read from HubSpot's JSON.

HubSpot sends every property value as a string (numbers and dates too); the models keep
them as strings and leave conversion to the caller, who knows each property's type.
Unknown fields are ignored, so HubSpot adding one never breaks a sync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from masterops.integrations.base import IntegrationError

#: What a caller may write into a property; HubSpot stores it as a string.
PropertyValue = str | int | float | bool | None

T = TypeVar("T")

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
USER_DEFINED = "USER_DEFINED"

#: HubSpot-defined association type ids. 279 is documented; the others are unverified but
#: are what portals answer today (see reference/api-facts.md).
CONTACT_TO_COMPANY = 279
DEAL_TO_CONTACT = 3
DEAL_TO_COMPANY = 5
DEAL_TO_LINE_ITEM = 19


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


#: The base of every answer model, for the operation modules that define their own.
Model = _Model


def _id_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: An id HubSpot may send as a number or as text, kept as text.
IdText = Annotated[str, BeforeValidator(_id_as_text)]


class CrmObject(_Model):
    """One record (contact, company, deal, product, line item) as HubSpot returns it."""

    # Numbers become text in pydantic's own (compiled) validation: a batch answer holds
    # 100 records, and a Python pass over every value of each took 60 % of their parsing.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    id: str
    properties: dict[str, str | None] = Field(default_factory=dict)
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    archived: bool = False
    archived_at: datetime | None = Field(default=None, alias="archivedAt")

    @field_validator("properties", mode="wrap")
    @classmethod
    def _values_as_text(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # HubSpot documents string values (numbers become text above); a boolean here is
        # kept as text too, on the slow path only such a record takes.
        try:
            return handler(value)
        except ValidationError:
            if not isinstance(value, Mapping):
                raise
            return handler({k: _as_text(v) for k, v in value.items()})

    def get(self, name: str) -> str | None:
        """The value of property ``name``, or None when unset or not requested."""
        return self.properties.get(name)


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


class BatchOutcome(BaseModel, Generic[T]):
    """The result for the input at ``index`` of a batch call: ``ok`` with ``record``, or
    ``error`` (an ``IntegrationError`` naming HubSpot's reason for this one input).

    ``key`` is what the input named the record by (id, ``idProperty`` value), if anything;
    ``new`` is set by upserts: True when the record was created.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    index: int
    ok: bool
    key: str | None = None
    record: T | None = None
    error: IntegrationError | None = None
    new: bool | None = None


class SearchPage(_Model):
    """One page of a search: ``after`` is the cursor of the next page (None on the last)."""

    total: int = 0
    results: list[CrmObject] = Field(default_factory=list)
    after: str | None = None


class PropertyOption(_Model):
    label: str = ""
    value: str


class Property(_Model):
    """A property definition (``GET /crm/v3/properties/{type}/{name}``)."""

    name: str
    label: str = ""
    type: str = "string"
    field_type: str = Field(default="text", alias="fieldType")
    group_name: str | None = Field(default=None, alias="groupName")
    description: str = ""
    options: list[PropertyOption] = Field(default_factory=list)
    has_unique_value: bool = Field(default=False, alias="hasUniqueValue")
    hubspot_defined: bool = Field(default=False, alias="hubspotDefined")
    calculated: bool = False


class AssociationType(_Model):
    """One association type: the category, the id and, for labelled types, the label.

    Reads give ``category``/``typeId``; writes send ``associationCategory``/
    ``associationTypeId`` (``to_json``). Either spelling is accepted here.
    """

    category: str = Field(
        default=HUBSPOT_DEFINED, validation_alias=AliasChoices("category", "associationCategory")
    )
    type_id: int = Field(validation_alias=AliasChoices("typeId", "associationTypeId", "type_id"))
    label: str | None = None

    @classmethod
    def hubspot(cls, type_id: int) -> AssociationType:
        """A HubSpot-defined type, e.g. ``AssociationType.hubspot(CONTACT_TO_COMPANY)``."""
        return cls(category=HUBSPOT_DEFINED, type_id=type_id)

    def to_json(self) -> dict[str, Any]:
        return {"associationCategory": self.category, "associationTypeId": self.type_id}


class Association(_Model):
    """A link from one record to the record ``to_id``, with its types."""

    to_id: str = Field(validation_alias=AliasChoices("toObjectId", "to_id"))
    types: list[AssociationType] = Field(
        default_factory=list, validation_alias=AliasChoices("associationTypes", "types")
    )

    @field_validator("to_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class AssociationList(_Model):
    """Every association of the record ``from_id`` to one object type (a batch read)."""

    from_id: str
    associations: list[Association] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewAssociation:
    """An association to create together with a record (``create``, ``batch_create``)."""

    to_id: str
    type_id: int
    category: str = HUBSPOT_DEFINED

    def to_json(self) -> dict[str, Any]:
        return {
            "to": {"id": str(self.to_id)},
            "types": [{"associationCategory": self.category, "associationTypeId": self.type_id}],
        }


@dataclass(frozen=True, slots=True)
class NewObject:
    """A record to create in a batch, when it needs associations; otherwise pass its
    properties mapping directly."""

    properties: Mapping[str, PropertyValue]
    associations: Sequence[NewAssociation] = field(default_factory=tuple)
