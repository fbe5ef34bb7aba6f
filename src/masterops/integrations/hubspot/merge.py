"""Merging two records of one type (``POST /crm/v3/objects/{type}/merge``), as an operator
does with duplicate contacts: the primary survives with its own values, filled from the
other where it has none, and takes over the other's associations; the other is archived.
"""

from __future__ import annotations

from masterops.integrations.hubspot.core import HubSpotCore
from masterops.integrations.hubspot.models import CrmObject

MERGE = "/crm/v3/objects/{type}/merge"


class MergeOperations(HubSpotCore):
    async def merge(self, object_type: str, primary_id: str, merged_id: str) -> CrmObject:
        """Merge record ``merged_id`` into ``primary_id``; returns the primary as it is now.
        A record merged with itself is ``VALIDATION``, an unknown one ``NOT_FOUND``. Not
        retried once sent: the merged record is gone after the first success."""
        return await self._call_model(
            CrmObject,
            "POST",
            MERGE,
            path_params={"type": object_type},
            json={"primaryObjectId": str(primary_id), "objectIdToMerge": str(merged_id)},
            operation="merge_objects",
            idempotent=False,
        )
