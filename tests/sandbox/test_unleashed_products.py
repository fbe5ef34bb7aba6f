"""Contract: Unleashed paging, dates and /Products (api-facts.md, "Unleashed")."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable

from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import FIXED_NOW, Clock, UnleashedClient, wire_ms

from masterops_sandbox.unleashed import UnleashedSandbox


async def test_list_has_the_pagination_envelope(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    live = len(sandbox.products("teelixir", include_obsolete=False))
    response = await teelixir.get("/Products", {"pageSize": 25})
    data = response.json()
    assert set(data) == {"Pagination", "Items"}
    assert data["Pagination"] == {
        "NumberOfItems": live,
        "PageSize": 25,
        "PageNumber": 1,
        "NumberOfPages": math.ceil(live / 25),
    }
    assert len(data["Items"]) == 25


async def test_bare_path_is_page_one(teelixir: UnleashedClient) -> None:
    bare = await teelixir.get("/Products", {"pageSize": 10})
    first = await teelixir.get("/Products/1", {"pageSize": 10})
    assert bare.json() == first.json()


async def test_pages_cover_every_item_once_and_end(teelixir: UnleashedClient) -> None:
    first = (await teelixir.get("/Products", {"pageSize": 7})).json()["Pagination"]
    pages = first["NumberOfPages"]
    guids: list[str] = []
    for page in range(1, pages + 1):
        items = (await teelixir.get(f"/Products/{page}", {"pageSize": 7})).json()["Items"]
        assert len(items) == (7 if page < pages else first["NumberOfItems"] - 7 * (pages - 1))
        guids.extend(item["Guid"] for item in items)
    assert len(guids) == len(set(guids)) == first["NumberOfItems"]

    past = (await teelixir.get(f"/Products/{pages + 1}", {"pageSize": 7})).json()
    assert past["Items"] == []
    assert past["Pagination"]["PageNumber"] == pages + 1
    assert past["Pagination"]["NumberOfItems"] == first["NumberOfItems"]


async def test_page_size_defaults_to_200_and_caps_at_1000(
    client_for: Callable[[str], UnleashedClient], sandbox: UnleashedSandbox
) -> None:
    client = client_for("boo")
    default = (await client.get("/StockOnHand")).json()
    assert default["Pagination"]["PageSize"] == 200
    assert len(default["Items"]) == min(200, len(sandbox.stock("boo")))
    largest = await client.get("/StockOnHand", {"pageSize": 1000})
    assert largest.status_code == 200
    for bad in ("1001", "0", "-5", "ten"):
        response = await client.get("/StockOnHand", {"pageSize": bad})
        assert response.status_code == 400, bad
        assert "pageSize" in response.json()["description"]


async def test_page_zero_is_400(teelixir: UnleashedClient) -> None:
    response = await teelixir.get("/Products/0")
    assert response.status_code == 400


async def test_dates_are_epoch_milliseconds_in_date_wrappers(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    item = (await teelixir.get("/Products", {"pageSize": 1})).json()["Items"][0]
    product = sandbox.product("teelixir", item["Guid"])
    assert item["LastModifiedOn"] == f"/Date({product.modified_ms})/"
    assert wire_ms(item["CreatedOn"]) == product.created_ms
    # Seeded data lies before the day the sandbox was built.
    assert wire_ms(item["LastModifiedOn"]) < FIXED_NOW.timestamp() * 1000


async def test_product_fields(teelixir: UnleashedClient) -> None:
    item = (await teelixir.get("/Products", {"pageSize": 1})).json()["Items"][0]
    for field in (
        "Guid",
        "ProductCode",
        "ProductDescription",
        "Barcode",
        "DefaultSellPrice",
        "ProductGroup",
        "IsObsolete",
        "LastModifiedOn",
        "UnitOfMeasure",
    ):
        assert field in item
    assert set(item["ProductGroup"]) >= {"GroupName"}
    uuid.UUID(item["Guid"])


async def test_get_one_product_by_guid(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    product = sandbox.products("teelixir")[3]
    response = await teelixir.get(f"/Products/{product.guid}")
    assert response.status_code == 200
    assert response.json() == sandbox.to_json(product)
    upper = await teelixir.get(f"/Products/{product.guid.upper()}")
    assert upper.json()["Guid"] == product.guid


async def test_unknown_guid_is_404(teelixir: UnleashedClient) -> None:
    response = await teelixir.get(f"/Products/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "description" in response.json()


async def test_obsolete_products_are_excluded_unless_asked(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    obsolete = {p.guid for p in sandbox.products("teelixir") if p.is_obsolete}
    assert obsolete, "the seed marks some products obsolete"
    default = {i["Guid"] for i in await teelixir.all_items("/Products", {"pageSize": 50})}
    everything = {
        i["Guid"]
        for i in await teelixir.all_items("/Products", {"pageSize": 50, "includeObsolete": "true"})
    }
    assert not default & obsolete
    assert obsolete <= everything
    assert len(everything) == len(sandbox.products("teelixir"))


async def test_product_code_filter_matches_the_start(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    items = await teelixir.all_items("/Products", {"productCode": "tlx-rsh"})
    expected = [
        p
        for p in sandbox.products("teelixir", include_obsolete=False)
        if p.code.startswith("TLX-RSH")
    ]
    assert items and len(items) == len(expected)
    assert all(item["ProductCode"].startswith("TLX-RSH") for item in items)
    none = await teelixir.get("/Products", {"productCode": "RSH"})
    assert none.json()["Items"] == []


async def test_order_by(teelixir: UnleashedClient) -> None:
    by_code = await teelixir.all_items("/Products", {"pageSize": 1000})
    assert [i["ProductCode"] for i in by_code] == sorted(
        (i["ProductCode"] for i in by_code), key=str.casefold
    )
    by_date = await teelixir.all_items("/Products", {"orderBy": "LastModifiedOn"})
    stamps = [wire_ms(i["LastModifiedOn"]) for i in by_date]
    assert stamps == sorted(stamps)
    newest_first = await teelixir.all_items("/Products", {"orderBy": "LastModifiedOn desc"})
    assert [wire_ms(i["LastModifiedOn"]) for i in newest_first] == sorted(stamps, reverse=True)
    bad = await teelixir.get("/Products", {"orderBy": "Colour"})
    assert bad.status_code == 400


async def test_modified_since_is_day_granular(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    product = sandbox.products("teelixir", include_obsolete=False)[0]
    sandbox.update_product("teelixir", product.code, description="Reishi, renamed")
    assert product.modified_ms == int(FIXED_NOW.timestamp() * 1000)  # 10:30 UTC

    # 23:59 the same day still finds a change made at 10:30: only the date counts.
    late = await teelixir.get("/Products", {"modifiedSince": "2026-03-15T23:59:59"})
    assert [i["Guid"] for i in late.json()["Items"]] == [product.guid]
    day = await teelixir.get("/Products", {"modifiedSince": "2026-03-15"})
    assert [i["Guid"] for i in day.json()["Items"]] == [product.guid]
    tomorrow = await teelixir.get("/Products", {"modifiedSince": "2026-03-16"})
    assert tomorrow.json()["Items"] == []
    assert clock() == FIXED_NOW


async def test_modified_since_rejects_other_formats(teelixir: UnleashedClient) -> None:
    response = await teelixir.get("/Products", {"modifiedSince": "15/03/2026"})
    assert response.status_code == 400
    assert "modifiedSince" in response.json()["description"]


async def test_create_then_update_product(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    guid = str(uuid.uuid4())
    body = {
        "Guid": guid,
        "ProductCode": "TLX-NEW-001",
        "ProductDescription": "Snow Fungus Extract 50g",
        "DefaultSellPrice": 34.95,
        "ProductGroup": {"GroupName": "Medicinal Mushrooms"},
    }
    created = await teelixir.post(f"/Products/{guid}", body)
    assert created.status_code == 201
    assert created.json()["ProductCode"] == "TLX-NEW-001"
    assert created.json()["ProductGroup"]["GroupName"] == "Medicinal Mushrooms"
    first_stamp = wire_ms(created.json()["LastModifiedOn"])

    clock.advance(hours=2)
    updated = await teelixir.post(f"/Products/{guid}", {"ProductDescription": "Snow Fungus 50g"})
    assert updated.status_code == 200
    assert updated.json()["ProductDescription"] == "Snow Fungus 50g"
    assert updated.json()["ProductCode"] == "TLX-NEW-001"
    assert wire_ms(updated.json()["LastModifiedOn"]) == first_stamp + 2 * 3600 * 1000
    fetched = await teelixir.get(f"/Products/{guid}")
    assert fetched.json()["ProductDescription"] == "Snow Fungus 50g"
    assert sandbox.product("teelixir", "TLX-NEW-001").guid == guid


async def test_product_post_validation(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    taken = sandbox.products("teelixir")[0].code
    guid = str(uuid.uuid4())
    cases = [
        {"ProductCode": taken, "ProductDescription": "Duplicate code"},
        {"ProductDescription": "No code"},
        {"Guid": str(uuid.uuid4()), "ProductCode": "X1", "ProductDescription": "Other guid"},
        {"ProductCode": "X2", "ProductDescription": "Bad price", "DefaultSellPrice": "cheap"},
    ]
    for body in cases:
        response = await teelixir.post(f"/Products/{guid}", body)
        assert response.status_code == 400, body
        assert response.json()["description"]
    broken = await teelixir.http.post(
        f"/Products/{guid}", content=b"{not json", headers=teelixir.headers("")
    )
    assert broken.status_code == 400
    assert sandbox.products("teelixir") and all(
        p.guid != guid for p in sandbox.products("teelixir")
    )


async def test_warehouses(teelixir: UnleashedClient, sandbox: UnleashedSandbox) -> None:
    data = (await teelixir.get("/Warehouses")).json()
    items = data["Items"]
    assert 2 <= len(items) <= 4
    assert data["Pagination"]["NumberOfItems"] == len(items)
    for item in items:
        assert {"WarehouseCode", "WarehouseName", "IsDefault", "Obsolete", "Guid"} <= set(item)
    assert sum(item["IsDefault"] for item in items) == 1
    one = await teelixir.get(f"/Warehouses/{items[0]['Guid']}")
    assert one.json()["WarehouseCode"] == items[0]["WarehouseCode"]
    assert len(sandbox.warehouses("teelixir")) == len(items)
