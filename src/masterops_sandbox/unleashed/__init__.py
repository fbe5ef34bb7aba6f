"""The Unleashed (inventory) imitation: seeded, stateful, signed, paged, metered.

Built from ``reference/api-facts.md`` ("Unleashed"). Where the facts leave a
choice, the sandbox makes it here and says so:

- Errors: every error answer is ``{"description": "..."}`` (the real body is
  unverified): 400 for bad parameters or bodies, 403 for missing headers,
  an unknown ``api-auth-id`` or a signature that does not sign the exact query
  bytes sent, 404 for an unknown Guid or path, 405 for a wrong method.
- ``pageSize`` above 1000 is a 400, not clamped (``queries.py``).
- ``modifiedSince`` is day-granular on every endpoint (``queries.py``).
- ``/StockOnHand`` lists one row per product and warehouse (``routes.py``).
- The monthly quota warns with ``X-Quota-Warning`` and blocks with 429 plus
  ``X-Quota-Reset`` (``quota.py``); ``UnleashedSandbox.blocked_status`` switches
  the status.
- Creating an order touches no stock; completing it takes the lines' quantities
  out of the order's warehouse.

Use ``build_unleashed`` for the Python API and the harness together, or
``create_unleashed`` for the harness alone.
"""

from masterops_sandbox.unleashed.app import build_unleashed, create_unleashed, unleashed_app
from masterops_sandbox.unleashed.errors import NotFound, UnleashedError, ValidationFailed
from masterops_sandbox.unleashed.quota import RESET_HEADER, WARNING_HEADER
from masterops_sandbox.unleashed.records import (
    ORDER_STATUSES,
    Customer,
    OrderLine,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)
from masterops_sandbox.unleashed.sandbox import UnleashedSandbox
from masterops_sandbox.unleashed.signature import sign

__all__ = [
    "ORDER_STATUSES",
    "RESET_HEADER",
    "WARNING_HEADER",
    "Customer",
    "NotFound",
    "OrderLine",
    "Product",
    "SalesOrder",
    "StockLine",
    "UnleashedError",
    "UnleashedSandbox",
    "ValidationFailed",
    "Warehouse",
    "build_unleashed",
    "create_unleashed",
    "sign",
    "unleashed_app",
]
