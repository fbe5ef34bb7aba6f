"""What HubSpot should hold beside the orders, judged from Unleashed: products, contacts
and (for a wholesale business) companies.

``owned_report`` adds to ``link_report`` (the deals, line items and their links) every
other HubSpot object the platform owns, with the same three kinds of fault:

- products: every sellable Unleashed product once, with its price and its stock on hand
  summed over the warehouses; a product of no Unleashed product is stale;
- contacts: one per distinct usable email of an active customer; a contact the platform
  made (it carries the customer code) for an email no active customer has is stale;
- companies (``customers_as = "companies"``): one per active customer, linked to that
  customer's contact only; a company of an obsolete or unknown customer is stale. For a
  retail business the platform owns no company.

Deals are checked against the company HubSpot holds for their customer, found by its
``unleashed_customer_guid``, so a company recreated after a deletion must be the one the
deal is linked to.
"""

from __future__ import annotations

from collections import defaultdict

from inventory_helpers import BUSINESS, InventoryRig
from links_helpers import LinkReport, link_report, live_by
from sqlalchemy import Engine

from masterops.config import CustomersAs
from masterops.sync.customers_companies import COMPANY_GUID_PROPERTY
from masterops.sync.customers_hubspot import CODE_PROPERTY, normalize_email
from masterops.sync.inventory_hubspot import GUID_PROPERTY, STOCK_PROPERTY


def owned_report(rig: InventoryRig, engine: Engine, *, customers_as: CustomersAs) -> LinkReport:
    companies = live_by(rig, "companies", COMPANY_GUID_PROPERTY)
    wholesale = customers_as == "companies"
    report = link_report(rig, engine, companies=companies if wholesale else None)
    _check_products(rig, report)
    contacts = _check_contacts(rig, report)
    _check_companies(rig, report, companies, contacts if wholesale else None)
    return report


def _check_products(rig: InventoryRig, report: LinkReport) -> None:
    ul = rig.unleashed_sandbox
    live = live_by(rig, "products", GUID_PROPERTY)
    stock: dict[str, float] = defaultdict(float)
    for line in ul.stock(BUSINESS):
        stock[line.product.guid.lower()] += line.qty_on_hand
    known = {p.guid.lower() for p in ul.products(BUSINESS)}
    for product in ul.products(BUSINESS, include_obsolete=False):
        guid = product.guid.lower()
        found = live.get(guid, [])
        if not found:
            report.missing.append(f"product {product.code}")
            continue
        if len(found) > 1:
            report.duplicated.append(f"product {product.code}: {found}")
        record = rig.hubspot_sandbox.get(BUSINESS, "products", found[0])
        assert record is not None
        props = record["properties"]
        if float(props.get("price", "nan")) != product.sell_price:
            report.stale.append(f"price of {product.code}: {props.get('price')}")
        if float(props.get(STOCK_PROPERTY, "nan")) != stock[guid]:
            report.stale.append(
                f"stock of {product.code}: {props.get(STOCK_PROPERTY)} not {stock[guid]}"
            )
    report.stale.extend(f"product {g} of no Unleashed product" for g in live if g not in known)


def _check_contacts(rig: InventoryRig, report: LinkReport) -> dict[str, str]:
    """Checks the contacts; returns the live contact of each wanted email."""
    active = rig.unleashed_sandbox.customers(BUSINESS, include_obsolete=False)
    wanted = {e for c in active if (e := normalize_email(c.email)) is not None}
    live = live_by(rig, "contacts", "email")
    contact_of: dict[str, str] = {}
    for email in sorted(wanted):
        found = live.get(email, [])
        if not found:
            report.missing.append(f"contact {email}")
            continue
        if len(found) > 1:
            report.duplicated.append(f"contact {email}: {found}")
        contact_of[email] = found[0]
    for record in rig.hubspot_sandbox.records(BUSINESS, "contacts"):
        props = record["properties"]
        email = normalize_email(props.get("email"))
        if props.get(CODE_PROPERTY) and email not in wanted:
            report.stale.append(f"contact {email} of no active customer (not archived)")
    return contact_of


def _check_companies(
    rig: InventoryRig,
    report: LinkReport,
    companies: dict[str, list[str]],
    contact_of: dict[str, str] | None,
) -> None:
    """``contact_of`` is None for a retail business: then no company is the platform's."""
    hs = rig.hubspot_sandbox
    active = rig.unleashed_sandbox.customers(BUSINESS, include_obsolete=False)
    wanted = {c.guid.lower(): c for c in active} if contact_of is not None else {}
    for guid, customer in wanted.items():
        found = companies.get(guid, [])
        if not found:
            report.missing.append(f"company of {customer.code}")
            continue
        if len(found) > 1:
            report.duplicated.append(f"company of {customer.code}: {found}")
        email = normalize_email(customer.email)
        want = {contact_of[email]} if contact_of and email in contact_of else set()
        have = hs.associated_ids(BUSINESS, "companies", found[0], "contacts")
        report.links_checked += len(have)
        report.missing.extend(f"{customer.code} company -> contact {i}" for i in want - set(have))
        report.stale.extend(f"{customer.code} company -> contact {i}" for i in set(have) - want)
        if len(have) != len(set(have)):
            report.duplicated.append(f"{customer.code} company -> contacts {have}")
    report.stale.extend(
        f"company of customer {g} (obsolete or unknown)" for g in companies if g not in wanted
    )
