"""Association labels (v4, ``/crm/v4/associations/{from}/{to}/labels``): the
``USER_DEFINED`` association types a portal adds for one pair of object types.

HubSpot makes a type for each direction, so creating a label answers two types (the
inverse carries ``inverse_label``, or the same label). Listing a pair gives HubSpot's own
types too (the unlabelled default has no label). Deleting a label removes its inverse and
every association that used either.
"""

from __future__ import annotations

from masterops.integrations.hubspot.core import HubSpotCore
from masterops.integrations.hubspot.models import AssociationType

LABELS = "/crm/v4/associations/{from_type}/{to_type}/labels"
LABEL = LABELS + "/{type_id}"


class AssociationLabelOperations(HubSpotCore):
    async def list_association_labels(self, from_type: str, to_type: str) -> list[AssociationType]:
        """Every association type from ``from_type`` to ``to_type``, labelled or not."""
        return await self._call_list(
            AssociationType,
            "GET",
            LABELS,
            path_params={"from_type": from_type, "to_type": to_type},
            operation="list_association_labels",
        )

    async def create_association_label(
        self,
        from_type: str,
        to_type: str,
        name: str,
        label: str,
        *,
        inverse_label: str | None = None,
    ) -> list[AssociationType]:
        """A new label; returns both directions' types (use the one whose label is
        ``label`` to link ``from_type`` records). A taken ``name`` is ``CONFLICT``."""
        payload: dict[str, str] = {"name": name, "label": label}
        if inverse_label is not None:
            payload["inverseLabel"] = inverse_label
        return await self._call_list(
            AssociationType,
            "POST",
            LABELS,
            path_params={"from_type": from_type, "to_type": to_type},
            json=payload,
            operation="create_association_label",
            idempotent=False,
        )

    async def update_association_label(
        self,
        from_type: str,
        to_type: str,
        type_id: int,
        label: str,
        *,
        inverse_label: str | None = None,
    ) -> None:
        """Rename a label (and, with ``inverse_label``, its inverse); ``NOT_FOUND`` when
        the pair has no label with ``type_id``."""
        payload: dict[str, object] = {"associationTypeId": type_id, "label": label}
        if inverse_label is not None:
            payload["inverseLabel"] = inverse_label
        await self.request(
            "PUT",
            LABELS,
            path_params={"from_type": from_type, "to_type": to_type},
            json=payload,
            operation="update_association_label",
        )

    async def delete_association_label(self, from_type: str, to_type: str, type_id: int) -> None:
        """Delete a label, its inverse and every association that used them (204)."""
        await self.request(
            "DELETE",
            LABEL,
            path_params={"from_type": from_type, "to_type": to_type, "type_id": type_id},
            operation="delete_association_label",
        )
