"""The Unleashed (inventory) connector and its monthly call quota guard.

::

    guard = MonthlyQuotaGuard(engine, account="teelixir", ceiling=15_000, hub=runtime.hub)
    async with UnleashedConnector(business_id="teelixir", runtime=runtime, api_id=api_id,
                                  api_key=api_key, quota=guard) as unleashed:
        async for product in unleashed.iterate_products(modified_since=last_sync):
            ...  # modifiedSince is day-granular: de-duplicate by Guid

Modules: ``connector`` (the calls), ``responses`` (reading answers and
quota headers), ``signing`` (the request signature), ``dates``
(``/Date(ms)/`` and filter dates), ``models`` (records read), ``inputs`` (bodies written),
``queries`` (list filters), ``quota`` (the monthly guard).
"""

from masterops.integrations.unleashed.connector import UnleashedConnector
from masterops.integrations.unleashed.dates import (
    format_filter_date,
    parse_wire_date,
    to_wire_date,
)
from masterops.integrations.unleashed.inputs import (
    CustomerInput,
    ProductInput,
    SalesOrderInput,
    SalesOrderLineInput,
)
from masterops.integrations.unleashed.models import (
    CUSTOMERS,
    ORDER_STATUSES,
    PRODUCTS,
    SALES_ORDERS,
    STOCK_ON_HAND,
    WAREHOUSES,
    CurrencyRef,
    Customer,
    CustomerRef,
    Page,
    Pagination,
    Product,
    ProductGroup,
    ProductRef,
    Resource,
    SalesOrder,
    SalesOrderLine,
    StockOnHand,
    UnitOfMeasure,
    Warehouse,
    WarehouseRef,
)
from masterops.integrations.unleashed.queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    canonical_guid,
    customers_query,
    products_query,
    sales_orders_query,
    stock_query,
)
from masterops.integrations.unleashed.quota import MonthlyQuotaGuard, first_of_next_month
from masterops.integrations.unleashed.signing import UnleashedSigner, sign

__all__ = [
    "CUSTOMERS",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "ORDER_STATUSES",
    "PRODUCTS",
    "SALES_ORDERS",
    "STOCK_ON_HAND",
    "WAREHOUSES",
    "CurrencyRef",
    "Customer",
    "CustomerInput",
    "CustomerRef",
    "MonthlyQuotaGuard",
    "Page",
    "Pagination",
    "Product",
    "ProductGroup",
    "ProductInput",
    "ProductRef",
    "Resource",
    "SalesOrder",
    "SalesOrderInput",
    "SalesOrderLine",
    "SalesOrderLineInput",
    "StockOnHand",
    "UnitOfMeasure",
    "UnleashedConnector",
    "UnleashedSigner",
    "Warehouse",
    "WarehouseRef",
    "canonical_guid",
    "customers_query",
    "first_of_next_month",
    "format_filter_date",
    "parse_wire_date",
    "products_query",
    "sales_orders_query",
    "sign",
    "stock_query",
    "to_wire_date",
]
