"""Contract: Unleashed request signing (api-facts.md, "Unleashed")."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import UnleashedClient, signature

from masterops_sandbox.unleashed import UnleashedSandbox


async def test_signed_request_is_accepted(teelixir: UnleashedClient) -> None:
    response = await teelixir.get("/Products", {"pageSize": 5})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.json()["Items"]) == 5


async def test_request_without_query_signs_the_empty_string(teelixir: UnleashedClient) -> None:
    response = await teelixir.http.get(
        "/Warehouses",
        headers={
            "api-auth-id": teelixir.account.unleashed_api_id,
            "api-auth-signature": signature(teelixir.account.unleashed_api_key, ""),
        },
    )
    assert response.status_code == 200


async def test_signature_of_a_differently_encoded_query_is_refused(
    teelixir: UnleashedClient,
) -> None:
    # Signed with raw colons, sent percent-encoded: the bytes differ, so 403.
    signed = "modifiedSince=2026-03-01T00:00:00"
    sent = "modifiedSince=2026-03-01T00%3A00%3A00"
    response = await teelixir.http.get(f"/Products?{sent}", headers=teelixir.headers(signed))
    assert response.status_code == 403
    assert "signature" in response.json()["description"]
    same = await teelixir.http.get(f"/Products?{sent}", headers=teelixir.headers(sent))
    assert same.status_code == 200


async def test_signature_with_another_key_is_refused(teelixir: UnleashedClient) -> None:
    headers = teelixir.headers("pageSize=5")
    headers["api-auth-signature"] = signature("not-the-key", "pageSize=5")
    response = await teelixir.http.get("/Products?pageSize=5", headers=headers)
    assert response.status_code == 403


async def test_missing_headers_are_refused(teelixir: UnleashedClient) -> None:
    for missing in ("api-auth-id", "api-auth-signature"):
        headers = teelixir.headers("")
        del headers[missing]
        response = await teelixir.http.get("/Products", headers=headers)
        assert response.status_code == 403
        assert set(response.json()) == {"description"}


async def test_unknown_api_id_is_refused(teelixir: UnleashedClient) -> None:
    headers = teelixir.headers("")
    headers["api-auth-id"] = "00000000-0000-0000-0000-000000000000"
    response = await teelixir.http.get("/Products", headers=headers)
    assert response.status_code == 403
    assert "api-auth-id" in response.json()["description"]


async def test_client_type_is_optional(teelixir: UnleashedClient) -> None:
    headers = teelixir.headers("")
    del headers["client-type"]
    response = await teelixir.http.get("/Products", headers=headers)
    assert response.status_code == 200


async def test_refused_requests_do_not_use_quota(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    headers = teelixir.headers("wrong")
    await teelixir.http.get("/Products", headers=headers)
    assert sandbox.quota_used("teelixir") == 0


async def test_each_account_sees_its_own_data(
    client_for: Callable[[str], UnleashedClient], sandbox: UnleashedSandbox
) -> None:
    codes: dict[str, set[str]] = {}
    for business in ("teelixir", "rhf"):
        response = await client_for(business).get("/Products", {"pageSize": 1000})
        codes[business] = {item["ProductCode"] for item in response.json()["Items"]}
    assert all(code.startswith("TLX-") for code in codes["teelixir"])
    assert all(code.startswith("RHF-") for code in codes["rhf"])
    teelixir_guid = sandbox.products("teelixir")[0].guid
    response = await client_for("rhf").get(f"/Products/{teelixir_guid}")
    assert response.status_code == 404


async def test_unknown_path_is_404_with_description(teelixir: UnleashedClient) -> None:
    response = await teelixir.get("/Invoices")
    assert response.status_code == 404
    assert response.json()["description"]
    response = await teelixir.get("/Products/not-a-guid")
    assert response.status_code == 404


async def test_wrong_method_is_405_with_description(teelixir: UnleashedClient) -> None:
    response = await teelixir.post("/Warehouses", {})
    assert response.status_code == 405
    assert "POST" in response.json()["description"]


def test_http_client_is_httpx(http: httpx.AsyncClient) -> None:
    assert str(http.base_url).startswith("https://api.unleashedsoftware.com")
