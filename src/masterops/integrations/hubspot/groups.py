"""Property groups (``/crm/v3/properties/{type}/groups``): the folders property definitions
are filed in. Every type has HubSpot's own information group (``contactinformation``...);
a property can only be created in a group that exists, and a group that still holds
properties cannot be archived (``VALIDATION``). A taken name is ``CONFLICT``."""

from __future__ import annotations

from pydantic import Field

from masterops.integrations.hubspot.core import HubSpotCore, patch_body
from masterops.integrations.hubspot.models import Model

GROUPS = "/crm/v3/properties/{type}/groups"
GROUP = GROUPS + "/{name}"


class PropertyGroup(Model):
    name: str
    label: str = ""
    display_order: int = Field(default=-1, alias="displayOrder")
    archived: bool = False


class PropertyGroupOperations(HubSpotCore):
    async def list_property_groups(self, object_type: str) -> list[PropertyGroup]:
        """The live property groups of ``object_type``."""
        return await self._call_list(
            PropertyGroup,
            "GET",
            GROUPS,
            path_params={"type": object_type},
            operation="list_property_groups",
        )

    async def get_property_group(self, object_type: str, name: str) -> PropertyGroup:
        """One group; ``NOT_FOUND`` when there is none (or it is archived)."""
        return await self._call_model(
            PropertyGroup,
            "GET",
            GROUP,
            path_params={"type": object_type, "name": name},
            operation="get_property_group",
        )

    async def create_property_group(
        self, object_type: str, name: str, label: str, *, display_order: int = -1
    ) -> PropertyGroup:
        """A new group. ``name`` is lower-case letters, digits and underscores; a taken
        name is ``CONFLICT``, so a create is not repeated once sent."""
        return await self._call_model(
            PropertyGroup,
            "POST",
            GROUPS,
            path_params={"type": object_type},
            json={"name": name, "label": label, "displayOrder": display_order},
            operation="create_property_group",
            idempotent=False,
        )

    async def update_property_group(
        self,
        object_type: str,
        name: str,
        *,
        label: str | None = None,
        display_order: int | None = None,
    ) -> PropertyGroup:
        """Change a group's label or order (its name cannot change)."""
        return await self._call_model(
            PropertyGroup,
            "PATCH",
            GROUP,
            path_params={"type": object_type, "name": name},
            json=patch_body(label=label, displayOrder=display_order),
            operation="update_property_group",
            idempotent=True,  # setting the same values again changes nothing
        )

    async def archive_property_group(self, object_type: str, name: str) -> None:
        """Archive an empty group (204)."""
        await self.request(
            "DELETE",
            GROUP,
            path_params={"type": object_type, "name": name},
            operation="archive_property_group",
        )
