"""Single-record operations on CRM objects: get, iterate (list every page), create,
update, archive. The same for contacts, companies, deals, products and line items."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from masterops.integrations.hubspot.core import HubSpotCore, next_after, results_of
from masterops.integrations.hubspot.models import CrmObject, NewAssociation, PropertyValue

OBJECTS = "/crm/v3/objects/{type}"
OBJECT = "/crm/v3/objects/{type}/{id}"
#: HubSpot's largest list page.
MAX_PAGE = 100


def property_names(properties: Sequence[str] | None) -> str | None:
    """The ``properties`` query parameter: one comma-separated value."""
    if properties is None:
        return None
    if isinstance(properties, str):  # a lone name would otherwise split into letters
        return properties
    return ",".join(properties)


class ObjectOperations(HubSpotCore):
    async def get(
        self,
        object_type: str,
        object_id: str,
        *,
        properties: Sequence[str] | None = None,
        id_property: str | None = None,
    ) -> CrmObject:
        """One record by id, or by the value of a unique property (``id_property="email"``).

        Raises ``IntegrationError`` (``NOT_FOUND``) when there is none.
        """
        params: dict[str, Any] = {}
        if (names := property_names(properties)) is not None:
            params["properties"] = names
        if id_property is not None:
            params["idProperty"] = id_property
        response, body = await self._call_object(
            "GET",
            OBJECT,
            path_params={"type": object_type, "id": object_id},
            params=params or None,
            operation="get_object",
        )
        return self._parse(CrmObject, body, response=response, operation="get_object", path=OBJECT)

    async def iterate(
        self,
        object_type: str,
        *,
        properties: Sequence[str] | None = None,
        page_size: int = MAX_PAGE,
        archived: bool = False,
    ) -> AsyncIterator[CrmObject]:
        """Every record of ``object_type``, page by page (``after`` cursors), until HubSpot
        answers a page without ``paging``. Pages are fetched as the caller consumes."""
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}, got {page_size}")
        names = property_names(properties)
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": page_size}
            if names is not None:
                params["properties"] = names
            if archived:
                params["archived"] = "true"
            if after is not None:
                params["after"] = after
            response, body = await self._call_object(
                "GET",
                OBJECTS,
                path_params={"type": object_type},
                params=params,
                operation="list_objects",
            )
            for raw in results_of(body):
                yield self._parse(
                    CrmObject, raw, response=response, operation="list_objects", path=OBJECTS
                )
            following = next_after(body)
            if following is None or following == after:  # a repeated cursor would loop
                return
            after = following

    async def create(
        self,
        object_type: str,
        properties: Mapping[str, PropertyValue],
        associations: Sequence[NewAssociation] | None = None,
    ) -> CrmObject:
        """Create one record (201). Not retried once the request may have reached HubSpot:
        a create that timed out may have created. Prefer ``batch_upsert`` by a unique
        property where one exists; it is safe to repeat."""
        # ``associations`` is always sent, empty when there are none: HubSpot's request
        # description marks it required (the live API takes its absence, validators do not).
        payload: dict[str, Any] = {
            "properties": dict(properties),
            "associations": [a.to_json() for a in associations or ()],
        }
        response, body = await self._call_object(
            "POST",
            OBJECTS,
            path_params={"type": object_type},
            json=payload,
            operation="create_object",
            idempotent=False,
        )
        return self._parse(
            CrmObject, body, response=response, operation="create_object", path=OBJECTS
        )

    async def update(
        self,
        object_type: str,
        object_id: str,
        properties: Mapping[str, PropertyValue],
        *,
        id_property: str | None = None,
    ) -> CrmObject:
        """Set properties of one record (``""`` clears a value). Unknown or read-only
        properties are a ``VALIDATION`` error."""
        params = {"idProperty": id_property} if id_property is not None else None
        response, body = await self._call_object(
            "PATCH",
            OBJECT,
            path_params={"type": object_type, "id": object_id},
            params=params,
            json={"properties": dict(properties)},
            operation="update_object",
            # Setting the same values again leaves the same record: safe to repeat.
            idempotent=True,
        )
        return self._parse(
            CrmObject, body, response=response, operation="update_object", path=OBJECT
        )

    async def archive(self, object_type: str, object_id: str) -> None:
        """Archive (soft-delete) one record. HubSpot answers 204 even when it is gone."""
        await self.request(
            "DELETE",
            OBJECT,
            path_params={"type": object_type, "id": object_id},
            operation="archive_object",
        )
