"""List filters of the Unleashed endpoints, as ordered ``{name: value}`` dicts.

Values are plain text here; httpx percent-encodes them once when the request is built, and
the signature is taken from those very bytes (``signing.py``). Dicts keep their insertion
order, so one call always produces the same query string.

``modifiedSince`` is day-granular on some endpoints (on all of them in the sandbox): the
service returns everything modified on or after the UTC *day* of the filter, whatever time
it carries. Incremental windows therefore overlap, and callers must de-duplicate by Guid
(an upsert keyed by Guid does it for free).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from masterops.integrations.unleashed.dates import format_filter_date
from masterops.integrations.unleashed.models import ORDER_STATUSES

Query = Mapping[str, str]

DEFAULT_PAGE_SIZE = 1000  # the largest the API allows: fewest calls against the monthly quota
MAX_PAGE_SIZE = 1000

_STATUS_BY_NAME = {status.casefold(): status for status in ORDER_STATUSES}


def canonical_guid(guid: str | uuid.UUID) -> str:
    """A Guid in the lowercase hyphenated form, or ``ValueError``. Checked before any call:
    a malformed Guid would cost a call and, if numeric, even be read as a page number."""
    try:
        return str(guid if isinstance(guid, uuid.UUID) else uuid.UUID(guid.strip()))
    except (ValueError, AttributeError):
        raise ValueError(f"not a Guid: {guid!r}") from None


def check_page_size(page_size: int) -> int:
    """``page_size`` if the API accepts it; checked here so a bad size costs no call."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_size


def _pairs(*candidates: tuple[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in candidates if value is not None and value != ""}


def _when(moment: datetime | date | None) -> str | None:
    return None if moment is None else format_filter_date(moment)


def _flag(value: bool) -> str | None:
    # Only "true" is sent: false is every endpoint's default, and one parameter fewer
    # keeps the query (and its signature) the same as without the option.
    return "true" if value else None


def products_query(
    *,
    modified_since: datetime | date | None = None,
    include_obsolete: bool = False,
    product_code: str | None = None,
) -> dict[str, str]:
    """``productCode`` matches codes that start with it."""
    return _pairs(
        ("productCode", product_code),
        ("modifiedSince", _when(modified_since)),
        ("includeObsolete", _flag(include_obsolete)),
    )


def stock_query(
    *,
    modified_since: datetime | date | None = None,
    warehouse_code: str | None = None,
    product_ids: Iterable[str] | None = None,
) -> dict[str, str]:
    """Products with no stock transactions are not listed at all."""
    ids = None if product_ids is None else ",".join(product_ids)
    return _pairs(
        ("warehouseCode", warehouse_code),
        ("productId", ids),
        ("modifiedSince", _when(modified_since)),
    )


def customers_query(
    *,
    modified_since: datetime | date | None = None,
    include_obsolete: bool = False,
    customer_code: str | None = None,
    customer_name: str | None = None,
    contact_email: str | None = None,
) -> dict[str, str]:
    return _pairs(
        ("customerCode", customer_code),
        ("customerName", customer_name),
        ("contactEmail", contact_email),
        ("modifiedSince", _when(modified_since)),
        ("includeObsolete", _flag(include_obsolete)),
    )


def sales_orders_query(
    *,
    order_status: Iterable[str] | str | None = None,
    customer_code: str | None = None,
    start_date: datetime | date | None = None,
    end_date: datetime | date | None = None,
    modified_since: datetime | date | None = None,
    order_number: str | None = None,
) -> dict[str, str]:
    """``order_status`` is one status or several (sent as a comma list); without it the
    API leaves out Deleted orders. An unknown status is refused here, before any call."""
    return _pairs(
        ("orderStatus", _statuses(order_status)),
        ("customerCode", customer_code),
        ("orderNumber", order_number),
        ("startDate", _when(start_date)),
        ("endDate", _when(end_date)),
        ("modifiedSince", _when(modified_since)),
    )


def _statuses(order_status: Iterable[str] | str | None) -> str | None:
    if order_status is None:
        return None
    names = [order_status] if isinstance(order_status, str) else list(order_status)
    chosen: list[str] = []
    for name in names:
        status = _STATUS_BY_NAME.get(name.strip().casefold())
        if status is None:
            raise ValueError(
                f"unknown order status {name!r}; use one of {', '.join(ORDER_STATUSES)}"
            )
        if status not in chosen:
            chosen.append(status)
    if not chosen:
        raise ValueError("order_status is empty; pass None for the default (all but Deleted)")
    return ",".join(chosen)
