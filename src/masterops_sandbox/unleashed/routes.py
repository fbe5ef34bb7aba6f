"""The Unleashed endpoints: list pages, single records, creates and updates.

``/{Resource}`` is page 1 of the list, ``/{Resource}/{page}`` another page and
``/{Resource}/{guid}`` one record (returned bare, not in a list envelope).
Integer pages are routed before Guids, and anything else under a resource
matches no route: 404.

``/StockOnHand`` answers one row per product and warehouse (the facts list
``Warehouse`` and ``WarehouseCode`` as row fields). ``/StockOnHand/{productGuid}``
answers the product's totals over all warehouses, or over ``warehouseCode``;
``/StockOnHand/{productGuid}/AllWarehouses`` answers its rows per warehouse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from masterops_sandbox.unleashed import bodies, orders, queries
from masterops_sandbox.unleashed.auth import ACCOUNT_SCOPE_KEY, Account
from masterops_sandbox.unleashed.errors import NotFound, ValidationFailed
from masterops_sandbox.unleashed.queries import Query
from masterops_sandbox.unleashed.serialize import (
    customer_json,
    order_json,
    product_json,
    stock_json,
    stock_total_json,
    warehouse_json,
)
from masterops_sandbox.unleashed.store import BusinessStore

R = TypeVar("R")
Lister = Callable[[BusinessStore, Query], Sequence[R]]


def _store(request: Request) -> BusinessStore:
    account: Account = request.scope[ACCOUNT_SCOPE_KEY]
    return account.store


def _guid(request: Request) -> str:
    return str(request.path_params["guid"])


def _page(
    request: Request, lister: Lister[R], render: Callable[[R], dict[str, Any]]
) -> JSONResponse:
    query = Query(request.scope["query_string"])
    page_size = query.page_size()  # validated before the scan, so a bad size costs nothing
    items = lister(_store(request), query)
    page = int(request.path_params.get("page", 1))
    return JSONResponse(queries.paginate(items, page, page_size, render))


def _not_found(what: str, guid: str) -> NotFound:
    return NotFound(f"No {what} with Guid '{guid}'")


async def _body(request: Request) -> bodies.Body:
    return bodies.parse_json(await request.body())


# ---- products ----


async def list_products(request: Request) -> JSONResponse:
    return _page(request, queries.products, product_json)


async def get_product(request: Request) -> JSONResponse:
    product = _store(request).products.get(_guid(request))
    if product is None:
        raise _not_found("product", _guid(request))
    return JSONResponse(product_json(product))


async def save_product(request: Request) -> JSONResponse:
    guid = _guid(request)
    body = await _body(request)
    bodies.check_guid(body, guid)
    product, created = _store(request).save_product(guid, bodies.product_changes(body))
    return JSONResponse(product_json(product), status_code=201 if created else 200)


# ---- stock on hand ----


async def list_stock(request: Request) -> JSONResponse:
    return _page(request, queries.stock, stock_json)


async def get_product_stock(request: Request) -> JSONResponse:
    store = _store(request)
    product = store.products.get(_guid(request))
    if product is None:
        raise _not_found("product", _guid(request))
    lines = store.stock_of(product)
    code = Query(request.scope["query_string"]).text("warehouseCode")
    warehouse = None
    if code is not None:
        warehouse = store.warehouse_by_code(code)
        if warehouse is None:
            raise ValidationFailed(f"Warehouse '{code}' does not exist")
        lines = [line for line in lines if line.warehouse is warehouse]
    return JSONResponse(stock_total_json(product, lines, warehouse))


async def get_product_stock_by_warehouse(request: Request) -> JSONResponse:
    store = _store(request)
    product = store.products.get(_guid(request))
    if product is None:
        raise _not_found("product", _guid(request))
    lines = sorted(store.stock_of(product), key=lambda line: line.warehouse.code)
    return JSONResponse(queries.paginate(lines, 1, max(1, len(lines)), stock_json))


# ---- customers ----


async def list_customers(request: Request) -> JSONResponse:
    return _page(request, queries.customers, customer_json)


async def get_customer(request: Request) -> JSONResponse:
    customer = _store(request).customers.get(_guid(request))
    if customer is None:
        raise _not_found("customer", _guid(request))
    return JSONResponse(customer_json(customer))


async def save_customer(request: Request) -> JSONResponse:
    guid = _guid(request)
    body = await _body(request)
    bodies.check_guid(body, guid)
    customer, created = _store(request).save_customer(guid, bodies.customer_changes(body))
    return JSONResponse(customer_json(customer), status_code=201 if created else 200)


# ---- sales orders ----


async def list_orders(request: Request) -> JSONResponse:
    return _page(request, queries.sales_orders, order_json)


async def get_order(request: Request) -> JSONResponse:
    order = _store(request).orders.get(_guid(request))
    if order is None:
        raise _not_found("sales order", _guid(request))
    return JSONResponse(order_json(order))


async def create_order(request: Request) -> JSONResponse:
    guid = _guid(request)
    store = _store(request)
    body = await _body(request)
    bodies.check_guid(body, guid)
    order = orders.create_order(store, guid, **bodies.order_arguments(store, body))
    return JSONResponse(order_json(order), status_code=201)


async def complete_order(request: Request) -> JSONResponse:
    store = _store(request)
    order = store.orders.get(_guid(request))
    if order is None:
        raise _not_found("sales order", _guid(request))
    return JSONResponse(order_json(orders.complete_order(store, order)))


# ---- warehouses ----


async def list_warehouses(request: Request) -> JSONResponse:
    return _page(request, queries.warehouses, warehouse_json)


async def get_warehouse(request: Request) -> JSONResponse:
    warehouse = _store(request).warehouses.get(_guid(request))
    if warehouse is None:
        raise _not_found("warehouse", _guid(request))
    return JSONResponse(warehouse_json(warehouse))


def _resource(
    name: str,
    lister: Callable[[Request], Any],
    getter: Callable[[Request], Any],
    saver: Callable[[Request], Any] | None = None,
) -> list[Route]:
    routes = [
        Route(f"/{name}", lister, methods=["GET"]),
        Route(f"/{name}/{{page:int}}", lister, methods=["GET"]),
        Route(f"/{name}/{{guid:uuid}}", getter, methods=["GET"]),
    ]
    if saver is not None:
        routes.append(Route(f"/{name}/{{guid:uuid}}", saver, methods=["POST"]))
    return routes


def unleashed_routes() -> list[Route]:
    return [
        *_resource("Products", list_products, get_product, save_product),
        Route("/StockOnHand", list_stock, methods=["GET"]),
        Route("/StockOnHand/{page:int}", list_stock, methods=["GET"]),
        Route("/StockOnHand/{guid:uuid}", get_product_stock, methods=["GET"]),
        Route(
            "/StockOnHand/{guid:uuid}/AllWarehouses",
            get_product_stock_by_warehouse,
            methods=["GET"],
        ),
        *_resource("Customers", list_customers, get_customer, save_customer),
        *_resource("SalesOrders", list_orders, get_order, create_order),
        Route("/SalesOrders/{guid:uuid}/Complete", complete_order, methods=["POST"]),
        *_resource("Warehouses", list_warehouses, get_warehouse),
    ]
