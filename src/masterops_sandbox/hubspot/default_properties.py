"""The HubSpot-defined properties each object type starts with.

A realistic subset of a fresh portal's properties: enough for the product's
mappings and for validation to bite on names, types and enumeration options the
way HubSpot does. ``hs_object_id``, ``createdate`` and the modification dates are
computed from the record itself and are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

# Property types and the field types HubSpot pairs with them.
FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset(
        {"text", "textarea", "phonenumber", "file", "html", "calculation_equation"}
    ),
    "number": frozenset({"number", "calculation_equation"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "bool": frozenset({"booleancheckbox"}),
    "phone_number": frozenset({"phonenumber"}),
}

# Computed properties: the record's id and timestamps, never stored in the value slots.
COMPUTED_ID = "id"
COMPUTED_CREATED = "created"
COMPUTED_MODIFIED = "modified"


@dataclass(frozen=True)
class PropertySpec:
    """The definition of one default property (what ``POST /crm/v3/properties`` would take)."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    options: tuple[str, ...] = ()
    has_unique_value: bool = False
    computed: str | None = None


#: The enumeration whose options are the portal's owners (set per portal, not here).
OWNER_PROPERTY = "hubspot_owner_id"
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)

_COMMON: tuple[PropertySpec, ...] = (
    PropertySpec("hs_object_id", "Record ID", "number", "number", computed=COMPUTED_ID),
    PropertySpec("createdate", "Create Date", "datetime", "date", computed=COMPUTED_CREATED),
    PropertySpec(
        "lastmodifieddate", "Last Modified Date", "datetime", "date", computed=COMPUTED_MODIFIED
    ),
)
# Every type but contacts also names its modification date hs_lastmodifieddate.
_HS_MODIFIED = PropertySpec(
    "hs_lastmodifieddate", "Last Modified Date", "datetime", "date", computed=COMPUTED_MODIFIED
)

_ADDRESS: tuple[PropertySpec, ...] = (
    PropertySpec("address", "Street Address"),
    PropertySpec("city", "City"),
    PropertySpec("state", "State/Region"),
    PropertySpec("zip", "Postal Code"),
    PropertySpec("country", "Country/Region"),
)

DEFAULT_PROPERTIES: dict[str, tuple[PropertySpec, ...]] = {
    "contacts": (
        *_COMMON,
        PropertySpec("email", "Email", has_unique_value=True),
        PropertySpec("firstname", "First Name"),
        PropertySpec("lastname", "Last Name"),
        PropertySpec("phone", "Phone Number", field_type="phonenumber"),
        PropertySpec("mobilephone", "Mobile Phone Number", field_type="phonenumber"),
        PropertySpec("company", "Company Name"),
        PropertySpec("website", "Website URL"),
        PropertySpec("jobtitle", "Job Title"),
        *_ADDRESS,
        PropertySpec("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE_STAGES),
        PropertySpec(
            "hs_lead_status",
            "Lead Status",
            "enumeration",
            "radio",
            ("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT"),
        ),
        PropertySpec("notes_last_updated", "Last Activity Date", "datetime", "date"),
        PropertySpec("hubspot_owner_id", "Contact owner", "enumeration", "select"),
    ),
    "companies": (
        *_COMMON,
        _HS_MODIFIED,
        PropertySpec("name", "Company name"),
        PropertySpec("domain", "Company Domain Name"),
        PropertySpec("website", "Website URL"),
        PropertySpec("phone", "Phone Number", field_type="phonenumber"),
        *_ADDRESS,
        PropertySpec("industry", "Industry"),
        PropertySpec("description", "Description", field_type="textarea"),
        PropertySpec("numberofemployees", "Number of Employees", "number", "number"),
        PropertySpec("annualrevenue", "Annual Revenue", "number", "number"),
        PropertySpec("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE_STAGES),
        PropertySpec(
            "type",
            "Type",
            "enumeration",
            "select",
            ("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"),
        ),
        PropertySpec("hubspot_owner_id", "Company owner", "enumeration", "select"),
    ),
    "deals": (
        *_COMMON,
        _HS_MODIFIED,
        PropertySpec("dealname", "Deal Name"),
        PropertySpec("amount", "Amount", "number", "number"),
        PropertySpec("dealstage", "Deal Stage", "enumeration", "radio", DEAL_STAGES),
        PropertySpec("pipeline", "Pipeline", "enumeration", "select", ("default",)),
        PropertySpec("closedate", "Close Date", "datetime", "date"),
        PropertySpec(
            "dealtype", "Deal Type", "enumeration", "radio", ("newbusiness", "existingbusiness")
        ),
        PropertySpec("description", "Deal Description", field_type="textarea"),
        PropertySpec("hs_priority", "Priority", "enumeration", "radio", ("low", "medium", "high")),
        PropertySpec("deal_currency_code", "Currency"),
        PropertySpec("hubspot_owner_id", "Deal owner", "enumeration", "select"),
    ),
    "products": (
        *_COMMON,
        _HS_MODIFIED,
        PropertySpec("name", "Name"),
        PropertySpec("price", "Unit price", "number", "number"),
        PropertySpec("hs_sku", "SKU"),
        PropertySpec("description", "Description", field_type="textarea"),
        PropertySpec("hs_cost_of_goods_sold", "Unit cost", "number", "number"),
        PropertySpec(
            "hs_product_type",
            "Product type",
            "enumeration",
            "select",
            ("inventory", "non_inventory", "service"),
        ),
        PropertySpec("hs_url", "URL"),
        PropertySpec("hs_recurring_billing_period", "Term"),
    ),
    "line_items": (
        *_COMMON,
        _HS_MODIFIED,
        PropertySpec("name", "Name"),
        PropertySpec("quantity", "Quantity", "number", "number"),
        PropertySpec("price", "Unit price", "number", "number"),
        PropertySpec("hs_product_id", "Product ID", "number", "number"),
        PropertySpec("hs_sku", "SKU"),
        PropertySpec("description", "Description", field_type="textarea"),
        PropertySpec("discount", "Unit discount", "number", "number"),
        PropertySpec("hs_line_item_currency_code", "Currency"),
    ),
}

GROUP_NAMES: dict[str, str] = {
    "contacts": "contactinformation",
    "companies": "companyinformation",
    "deals": "dealinformation",
    "products": "productinformation",
    "line_items": "lineiteminformation",
}
