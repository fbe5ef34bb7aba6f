"""Property definitions: list, get, and ``ensure_property`` (create when missing), which
syncs use to set up the custom unique properties they upsert by."""

from __future__ import annotations

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot.core import HubSpotCore, results_of
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


class PropertyOperations(HubSpotCore):
    async def list_properties(self, object_type: str) -> list[Property]:
        """Every property definition of ``object_type``."""
        response, body = await self._call_object(
            "GET", PROPERTIES, path_params={"type": object_type}, operation="list_properties"
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
            return self._checked(await self.get_property(object_type, name), object_type, unique)
        return self._parse(
            Property, body, response=response, operation="create_property", path=PROPERTIES
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
