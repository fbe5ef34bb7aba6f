"""Masking personal data (emails, names, phone numbers) in what non-admin tokens read.

HubSpot events carry personal data as ``propertyName``/``propertyValue`` pairs or as
object properties; any key naming a personal field has its value masked, and any
email address anywhere in a string is masked too. (Phone numbers are found by their
key only: a pattern for them would also mask ids and dates.)
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
PERSONAL_KEYS = frozenset(
    {
        "email",
        "firstname",
        "lastname",
        "name",
        "full_name",
        "fullname",
        "phone",
        "mobilephone",
        "phone_number",
        "address",
        "contact_name",
        "customer_name",
        # Unleashed sales orders (the order webhook's events), keys lower-cased.
        "customername",
        "contactname",
        "deliveryname",
        "deliverystreetaddress",
        "deliverystreetaddress2",
        "deliverycontact",
    }
)
_EMAIL = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+\.[A-Za-z]{2,}")


def _personal(key: Any) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in PERSONAL_KEYS


def _mask_text(text: str) -> str:
    return _EMAIL.sub(MASK, text)


def mask_personal_data(value: Any) -> Any:
    """A copy of ``value`` with personal data masked (iterative: any depth is safe)."""
    if not isinstance(value, dict | list):
        return _mask_text(value) if isinstance(value, str) else value
    root: Any = {} if isinstance(value, dict) else [None] * len(value)
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        masked_value = isinstance(source, dict) and _personal(source.get("propertyName"))
        for key, item in items:
            if isinstance(item, dict | list):
                child: Any = {} if isinstance(item, dict) else [None] * len(item)
                stack.append((item, child))
                target[key] = child
            elif item is not None and (
                _personal(key) or (masked_value and key in ("propertyValue", "value"))
            ):
                target[key] = MASK
            elif isinstance(item, str):
                target[key] = _mask_text(item)
            else:
                target[key] = item
    return root
