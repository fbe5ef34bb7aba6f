"""``UnleashedConnector``: the Unleashed inventory API for one business.

Every call goes through ``BaseConnector.request()`` with the endpoint *template* as path
(``/Products/{page}``, ``/SalesOrders/{guid}``), so breaker, rate limit, retries and
telemetry apply and only templates reach the logs. Requests are signed from their final
query bytes (``signing.py``).

Rate limit: Unleashed documents no per-second limit, only a monthly call quota. The default
bucket is a modest 10 calls per second per account, which keeps bursts polite without
slowing a sync (a full page of 1000 records is one call); pass ``limits`` to change it.
The monthly quota is guarded by an optional ``MonthlyQuotaGuard`` (one count per attempt
sent) and, on the service's side, by reading ``X-Quota-Warning`` and turning the quota
block (answer with ``X-Quota-Reset``) into a non-retryable RATE_LIMIT error: no retry can
succeed before the reset, and retrying would only burn time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel

from masterops.integrations.base import (
    BaseConnector,
    BreakerSettings,
    ConnectorRuntime,
    ErrorCategory,
    HealthSettings,
    IntegrationError,
    LimitSpec,
    RateLimitInfo,
    RetryPolicy,
    Timeouts,
)
from masterops.integrations.unleashed.inputs import CustomerInput, ProductInput, SalesOrderInput
from masterops.integrations.unleashed.models import (
    CUSTOMERS,
    PRODUCTS,
    SALES_ORDERS,
    STOCK_ON_HAND,
    WAREHOUSES,
    Customer,
    Page,
    Product,
    Resource,
    SalesOrder,
    StockOnHand,
    UnleashedModel,
    Warehouse,
)
from masterops.integrations.unleashed.queries import (
    DEFAULT_PAGE_SIZE,
    Query,
    canonical_guid,
    check_page_size,
    customers_query,
    products_query,
    sales_orders_query,
    stock_query,
)
from masterops.integrations.unleashed.quota import MonthlyQuotaGuard
from masterops.integrations.unleashed.responses import (
    AnswerReader,
    ServiceQuotaWarnings,
    quota_block_error,
)
from masterops.integrations.unleashed.signing import UnleashedSigner

R = TypeVar("R", bound=UnleashedModel)
M = TypeVar("M", bound=BaseModel)


class UnleashedConnector(BaseConnector):
    """An authenticated client of one Unleashed account.

    Lists are walked page by page in the path (``/Products/{page}?pageSize=N``) with
    ``iterate_*`` (records one by one) or fetched one page at a time with ``page()``.
    Records may move between pages while a walk runs; callers de-duplicate by Guid.
    """

    service = "unleashed"
    default_limits: ClassVar[Mapping[str, LimitSpec]] = {"default": LimitSpec(10, 1.0)}

    def __init__(
        self,
        *,
        business_id: str,
        runtime: ConnectorRuntime,
        api_id: str,
        api_key: str,
        base_url: str = "https://api.unleashedsoftware.com",
        quota: MonthlyQuotaGuard | None = None,
        client_type: str = "masterops/ops",
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerSettings | None = None,
        limits: Mapping[str, LimitSpec] | None = None,
        health: HealthSettings | None = None,
        account: str | None = None,
    ) -> None:
        super().__init__(
            business_id=business_id,
            runtime=runtime,
            base_url=base_url,
            auth=UnleashedSigner(api_id, api_key),
            timeouts=timeouts,
            retry=retry,
            limits=limits,
            breaker=breaker,
            health=health,
            transport=transport,
            secrets=[api_key],
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "client-type": client_type.lower(),
            },
            account=account,
        )
        self.quota = quota
        self._service_warnings = ServiceQuotaWarnings(runtime.hub, business_id)
        self._read = AnswerReader(self.redactor)

    # -- BaseConnector hooks ----------------------------------------------------------------

    async def before_attempt(self, method: str, endpoint: str, operation: str) -> None:
        # Every attempt the service sees counts against its quota, retries included.
        if self.quota is not None:
            await self.quota.spend(operation=operation, endpoint=endpoint)

    def response_error(self, response: httpx.Response, error: IntegrationError) -> IntegrationError:
        return quota_block_error(response, error, self.runtime.clock.now())

    def rate_limit_info(self, response: httpx.Response) -> RateLimitInfo:
        self._service_warnings.observe(response, self.runtime.clock.now())
        return super().rate_limit_info(response)

    async def probe(self) -> Mapping[str, Any] | None:
        """``GET /Warehouses``: authenticated (signed empty query), cheap, always present.
        Healthy only when the answer really is a warehouse list."""
        response = await self.request(
            "GET", "/Warehouses", operation="health_probe", expect_json=True
        )
        page = self._read.page(WAREHOUSES, response, "health_probe", "/Warehouses")
        return {"warehouses": page.pagination.number_of_items}

    # -- lists --------------------------------------------------------------------------------

    async def page(
        self,
        resource: Resource[R],
        number: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        params: Query | None = None,
    ) -> Page[R]:
        """Page ``number`` (from 1) of a list endpoint (``PRODUCTS``, ``STOCK_ON_HAND``,
        ``CUSTOMERS``, ``SALES_ORDERS``, ``WAREHOUSES``), with filters built by
        ``products_query()`` and friends."""
        if number < 1:
            raise ValueError(f"page numbers start at 1, got {number}")
        query = {"pageSize": str(check_page_size(page_size)), **(params or {})}
        operation = f"list_{resource.noun}"
        response = await self.request(
            "GET",
            resource.page_template,
            path_params={"page": number},
            params=query,
            operation=operation,
            expect_json=True,
        )
        return self._read.page(resource, response, operation, resource.page_template)

    async def iterate(
        self,
        resource: Resource[R],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        params: Query | None = None,
    ) -> AsyncIterator[R]:
        """Every record of a list, walking pages until PageNumber reaches NumberOfPages or a
        page comes back empty."""
        check_page_size(page_size)
        number = 1
        while True:
            page = await self.page(resource, number, page_size=page_size, params=params)
            for item in page.items:
                yield item
            # max(): a server that mislabels its page number must not make us loop forever.
            last = max(number, page.pagination.page_number) >= page.pagination.number_of_pages
            if last or not page.items:
                return
            number += 1

    def iterate_products(
        self,
        *,
        modified_since: datetime | date | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        include_obsolete: bool = False,
        product_code: str | None = None,
    ) -> AsyncIterator[Product]:
        """Products, optionally changed since ``modified_since`` (aware; day-granular on
        the service, so expect records from earlier that day) or whose code starts with
        ``product_code``."""
        params = products_query(
            modified_since=modified_since,
            include_obsolete=include_obsolete,
            product_code=product_code,
        )
        return self.iterate(PRODUCTS, page_size=page_size, params=params)

    def iterate_stock(
        self,
        *,
        modified_since: datetime | date | None = None,
        warehouse_code: str | None = None,
        product_ids: Iterable[str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[StockOnHand]:
        """Stock on hand, one row per product and warehouse; products without stock
        transactions are absent."""
        ids = None if product_ids is None else [canonical_guid(g) for g in product_ids]
        params = stock_query(
            modified_since=modified_since, warehouse_code=warehouse_code, product_ids=ids
        )
        return self.iterate(STOCK_ON_HAND, page_size=page_size, params=params)

    def iterate_customers(
        self,
        *,
        modified_since: datetime | date | None = None,
        include_obsolete: bool = False,
        customer_code: str | None = None,
        customer_name: str | None = None,
        contact_email: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Customer]:
        params = customers_query(
            modified_since=modified_since,
            include_obsolete=include_obsolete,
            customer_code=customer_code,
            customer_name=customer_name,
            contact_email=contact_email,
        )
        return self.iterate(CUSTOMERS, page_size=page_size, params=params)

    def iterate_sales_orders(
        self,
        *,
        order_status: Iterable[str] | str | None = None,
        customer_code: str | None = None,
        start_date: datetime | date | None = None,
        end_date: datetime | date | None = None,
        modified_since: datetime | date | None = None,
        order_number: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[SalesOrder]:
        """Sales orders; without ``order_status`` the service leaves out Deleted ones."""
        params = sales_orders_query(
            order_status=order_status,
            customer_code=customer_code,
            start_date=start_date,
            end_date=end_date,
            modified_since=modified_since,
            order_number=order_number,
        )
        return self.iterate(SALES_ORDERS, page_size=page_size, params=params)

    def iterate_warehouses(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[Warehouse]:
        return self.iterate(WAREHOUSES, page_size=page_size)

    # -- single records -----------------------------------------------------------------------

    async def get_product(self, guid: str | uuid.UUID) -> Product:
        return await self._get(PRODUCTS, guid, Product)

    async def get_customer(self, guid: str | uuid.UUID) -> Customer:
        return await self._get(CUSTOMERS, guid, Customer)

    async def get_sales_order(self, guid: str | uuid.UUID) -> SalesOrder:
        return await self._get(SALES_ORDERS, guid, SalesOrder)

    async def get_warehouse(self, guid: str | uuid.UUID) -> Warehouse:
        return await self._get(WAREHOUSES, guid, Warehouse)

    async def get_stock(
        self, product_guid: str | uuid.UUID, *, warehouse_code: str | None = None
    ) -> StockOnHand:
        """A product's stock summed over all warehouses, or in ``warehouse_code``."""
        params = {"warehouseCode": warehouse_code} if warehouse_code else None
        template = "/StockOnHand/{productGuid}"
        response = await self.request(
            "GET",
            template,
            path_params={"productGuid": canonical_guid(product_guid)},
            params=params,
            operation="get_stock_on_hand",
            expect_json=True,
        )
        return self._read.record(StockOnHand, response, "get_stock_on_hand", template)

    async def get_stock_by_warehouse(self, product_guid: str | uuid.UUID) -> list[StockOnHand]:
        """A product's stock, one row per warehouse."""
        template = "/StockOnHand/{productGuid}/AllWarehouses"
        operation = "get_stock_by_warehouse"
        response = await self.request(
            "GET",
            template,
            path_params={"productGuid": canonical_guid(product_guid)},
            operation=operation,
            expect_json=True,
        )
        return list(self._read.page(STOCK_ON_HAND, response, operation, template).items)

    # -- writes -------------------------------------------------------------------------------

    async def save_product(
        self, product: ProductInput, *, guid: str | uuid.UUID | None = None
    ) -> Product:
        """Create (no ``guid``: one is made here) or update a product. The POST is an upsert
        keyed by the Guid, so repeating it is safe and it is retried like a GET."""
        key = canonical_guid(guid) if guid is not None else str(uuid.uuid4())
        body = product.to_body(key)
        return await self._post(PRODUCTS.guid_template, key, body, Product, "save_product")

    async def save_customer(
        self, customer: CustomerInput, *, guid: str | uuid.UUID | None = None
    ) -> Customer:
        """Create or update a customer; an upsert keyed by the Guid, like ``save_product``."""
        key = canonical_guid(guid) if guid is not None else str(uuid.uuid4())
        body = customer.to_body(key)
        return await self._post(CUSTOMERS.guid_template, key, body, Customer, "save_customer")

    async def create_sales_order(
        self, order: SalesOrderInput, *, guid: str | uuid.UUID | None = None
    ) -> SalesOrder:
        """Create a sales order under a Guid chosen here (or by the caller, e.g. derived from
        a workflow id so a re-run step reuses it).

        The Guid makes the create idempotent: it is retried after failures that may have
        reached the service, and if the service refuses it (400/409) because an order with
        this Guid exists, that order is fetched and returned instead of an error. Any other
        refusal is raised as it came (after that one check)."""
        key = canonical_guid(guid) if guid is not None else str(uuid.uuid4())
        try:
            return await self._post(
                SALES_ORDERS.guid_template,
                key,
                order.to_body(key),
                SalesOrder,
                "create_sales_order",
            )
        except IntegrationError as refused:
            existing = await self._recheck(refused, key)
            if existing is None:
                raise
            return existing

    async def complete_sales_order(self, guid: str | uuid.UUID) -> SalesOrder:
        """Complete an order (its stock leaves the warehouse). Retried as idempotent: if the
        service refuses because the order is already Completed (an earlier attempt landed),
        the completed order is returned."""
        key = canonical_guid(guid)
        template = "/SalesOrders/{guid}/Complete"
        try:
            response = await self.request(
                "POST",
                template,
                path_params={"guid": key},
                operation="complete_sales_order",
                idempotent=True,
                expect_json=True,
            )
        except IntegrationError as refused:
            existing = await self._recheck(refused, key)
            if existing is None or existing.order_status != "Completed":
                raise
            return existing
        return self._read.record(SalesOrder, response, "complete_sales_order", template)

    # -- helpers ------------------------------------------------------------------------------

    async def _get(self, resource: Resource[R], guid: str | uuid.UUID, model: type[M]) -> M:
        operation = f"get_{resource.noun}"
        response = await self.request(
            "GET",
            resource.guid_template,
            path_params={"guid": canonical_guid(guid)},
            operation=operation,
            expect_json=True,
        )
        return self._read.record(model, response, operation, resource.guid_template)

    async def _post(
        self, template: str, guid: str, body: dict[str, Any], model: type[M], operation: str
    ) -> M:
        response = await self.request(
            "POST",
            template,
            path_params={"guid": guid},
            json=body,
            operation=operation,
            idempotent=True,  # keyed by a Guid fixed before the first attempt
            expect_json=True,
        )
        return self._read.record(model, response, operation, template)

    async def _recheck(self, refused: IntegrationError, guid: str) -> SalesOrder | None:
        """After a refused create/complete: the order under ``guid``, if it exists."""
        if refused.category not in (ErrorCategory.VALIDATION, ErrorCategory.CONFLICT):
            return None
        try:
            return await self.get_sales_order(guid)
        except IntegrationError:
            return None
