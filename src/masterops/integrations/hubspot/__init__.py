"""The HubSpot CRM connector: objects, batches, search, associations (v4, v3, labels),
properties and their groups, pipelines and stages, owners, merges.

Everything public is re-exported here; import from ``masterops.integrations.hubspot``::

    hubspot = HubSpotConnector(business_id="teelixir", runtime=runtime, token=token,
                               tier="professional")
    outcomes = await hubspot.batch_upsert("contacts", rows, id_property="email")
    async for deal in hubspot.search_all("deals", Filter.gte("amount", 100),
                                         window_on="lastmodifieddate"):
        ...
"""

from masterops.integrations.hubspot.associations_v3 import V3Associated, V3Link
from masterops.integrations.hubspot.connector import HubSpotConnector
from masterops.integrations.hubspot.core import BATCH_LIMIT, OBJECT_TYPES
from masterops.integrations.hubspot.filters import AllOf, AnyOf, Filter, Sort, Where
from masterops.integrations.hubspot.groups import PropertyGroup
from masterops.integrations.hubspot.models import (
    CONTACT_TO_COMPANY,
    DEAL_TO_COMPANY,
    DEAL_TO_CONTACT,
    DEAL_TO_LINE_ITEM,
    Association,
    AssociationList,
    AssociationType,
    BatchOutcome,
    CrmObject,
    NewAssociation,
    NewObject,
    Property,
    PropertyValue,
    SearchPage,
)
from masterops.integrations.hubspot.owners import Owner, OwnerTeam
from masterops.integrations.hubspot.pipelines import NewStage, Pipeline, PipelineStage
from masterops.integrations.hubspot.ratelimits import TIER_BURST
from masterops.integrations.hubspot.search import SEARCH_RESULT_CAP, WindowOn

__all__ = [
    "BATCH_LIMIT",
    "CONTACT_TO_COMPANY",
    "DEAL_TO_COMPANY",
    "DEAL_TO_CONTACT",
    "DEAL_TO_LINE_ITEM",
    "OBJECT_TYPES",
    "SEARCH_RESULT_CAP",
    "TIER_BURST",
    "AllOf",
    "AnyOf",
    "Association",
    "AssociationList",
    "AssociationType",
    "BatchOutcome",
    "CrmObject",
    "Filter",
    "HubSpotConnector",
    "NewAssociation",
    "NewObject",
    "NewStage",
    "Owner",
    "OwnerTeam",
    "Pipeline",
    "PipelineStage",
    "Property",
    "PropertyGroup",
    "PropertyValue",
    "SearchPage",
    "Sort",
    "V3Associated",
    "V3Link",
    "Where",
    "WindowOn",
]
