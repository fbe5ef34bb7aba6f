"""Property definitions: list, get, ``ensure_property`` (create when missing), which
syncs use to set up the custom unique properties they upsert by, and changing or
archiving a custom property (HubSpot's own properties refuse both: ``VALIDATION``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot.core import HubSpotCore, patch_body, results_of
from masterops.integrations.hubspot.models import Property

PROPERTIES = "/crm/v3/properties/{type}"
PROPERTY = "/crm/v3/properties/{type}/{name}"

#: The group HubSpot files each standard object type's own properties under.
DEFAULT_GROUPS = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
    "products": "productinformation",
    "line_items": "lineiteminformation",
}


def _options_json(options: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """``(label, value)`` pairs as HubSpot's option inputs (``hidden`` is required)."""
    return [
        {"label": label, "value": value, "displayOrder": order, "hidden": False}
        for order, (label, value) in enumerate(options)
    ]


class PropertyOperations(HubSpotCore):
    async def list_properties(self, object_type: str, *, archived: bool = False) -> list[Property]:
        """Every property definition of ``object_type`` (the archived ones instead, with
        ``archived``)."""
        response, body = await self._call_object(
            "GET",
            PROPERTIES,
            path_params={"type": object_type},
            params={"archived": "true"} if archived else None,
            operation="list_properties",
        )
        return [
            self._parse(
                Property, raw, response=response, operation="list_properties", path=PROPERTIES
            )
            for raw in results_of(body)
        ]

    async def get_property(
        self, object_type: str, name: str, *, missing_expected: bool = False
    ) -> Property:
        """One property definition; ``NOT_FOUND`` when there is none (logged at debug level
        with ``missing_expected``, for a caller that is only checking)."""
        response, body = await self._call_object(
            "GET",
            PROPERTY,
            path_params={"type": object_type, "name": name},
            operation="get_property",
            expected_statuses=(404,) if missing_expected else (),
        )
        return self._parse(
            Property, body, response=response, operation="get_property", path=PROPERTY
        )

    async def ensure_property(
        self,
        object_type: str,
        name: str,
        *,
        label: str,
        type: str = "string",
        field_type: str = "text",
        unique: bool = False,
        group_name: str | None = None,
        description: str = "",
    ) -> Property:
        """The property ``name``, created first if it does not exist.

        Looks before creating, so a setup that runs on every start costs one read and no
        error (HubSpot asks that errors stay under 5 % of calls); a 409 from a concurrent
        creator counts as success. An existing property is returned as it is, except
        that one lacking the unique values asked for is a ``CONFLICT``: upserts by it
        would fail.
        """
        try:
            existing = await self.get_property(object_type, name, missing_expected=True)
        except IntegrationError as exc:
            if exc.category is not ErrorCategory.NOT_FOUND:
                raise
        else:
            return self._checked(existing, object_type, unique)
        payload = {
            "name": name,
            "label": label,
            "type": type,
            "fieldType": field_type,
            "groupName": group_name or DEFAULT_GROUPS.get(object_type, f"{object_type}info"),
            "description": description,
            "hasUniqueValue": unique,
        }
        try:
            response, body = await self._call_object(
                "POST",
                PROPERTIES,
                path_params={"type": object_type},
                json=payload,
                operation="create_property",
                # A repeat meets the 409 below, which is success: safe to retry.
                idempotent=True,
            )
        except IntegrationError as failed:
            if failed.category is not ErrorCategory.CONFLICT:
                raise
            return self._checked(await self._taken(object_type, name), object_type, unique)
        return self._parse(
            Property, body, response=response, operation="create_property", path=PROPERTIES
        )

    async def update_property(
        self,
        object_type: str,
        name: str,
        *,
        label: str | None = None,
        description: str | None = None,
        group_name: str | None = None,
        type: str | None = None,
        field_type: str | None = None,
        options: Sequence[tuple[str, str]] | None = None,
        display_order: int | None = None,
        hidden: bool | None = None,
    ) -> Property:
        """Change a custom property's definition; only what is given is sent. ``options``
        (``(label, value)`` pairs) replaces the whole list; values already stored stay.
        Unknown is ``NOT_FOUND``; a HubSpot-defined property is ``VALIDATION``."""
        payload = patch_body(
            label=label,
            description=description,
            groupName=group_name,
            type=type,
            fieldType=field_type,
            options=_options_json(options) if options is not None else None,
            displayOrder=display_order,
            hidden=hidden,
        )
        return await self._call_model(
            Property,
            "PATCH",
            PROPERTY,
            path_params={"type": object_type, "name": name},
            json=payload,
            operation="update_property",
            # Setting the same definition again changes nothing: safe to repeat.
            idempotent=True,
        )

    async def archive_property(self, object_type: str, name: str) -> None:
        """Archive a custom property (204). Its name stays taken: creating it again is a
        ``CONFLICT``."""
        await self.request(
            "DELETE",
            PROPERTY,
            path_params={"type": object_type, "name": name},
            operation="archive_property",
        )

    async def _taken(self, object_type: str, name: str) -> Property:
        """The property whose name a create found taken. An archived property keeps its
        name but cannot be read: that is a ``CONFLICT`` saying so, not a ``NOT_FOUND``."""
        try:
            return await self.get_property(object_type, name, missing_expected=True)
        except IntegrationError as exc:
            if exc.category is not ErrorCategory.NOT_FOUND:
                raise
        raise IntegrationError(
            f"property {name} of {object_type} is archived and keeps its name: restore it in "
            "HubSpot or choose another name",
            category=ErrorCategory.CONFLICT,
            service=self.service,
            operation="ensure_property",
            status=409,
            endpoint=PROPERTY,
        )

    def _checked(self, prop: Property, object_type: str, unique: bool) -> Property:
        if unique and not prop.has_unique_value:
            raise IntegrationError(
                f"property {prop.name} of {object_type} exists but does not hold unique values",
                category=ErrorCategory.CONFLICT,
                service=self.service,
                operation="ensure_property",
                endpoint=PROPERTY,
            )
        return prop
