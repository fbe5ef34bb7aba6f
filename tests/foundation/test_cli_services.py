"""``ops test`` on the in-process sandbox and against configured services."""

from __future__ import annotations

import json

import pytest

from masterops_sandbox.server import Sandbox


def test_ops_test_on_the_sandbox(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("test", "unleashed", "--business", "teelixir", "--json")
    assert result.exit_code == 0, result.stderr
    [report] = json.loads(result.stdout)
    assert report["ok"] and report["business_id"] == "teelixir"
    assert [s["name"] for s in report["steps"]] == [
        "health probe",
        "list warehouses",
        "first page of products",
    ]
    every = json.loads(ops("test", "n8n", "--json").stdout)
    assert {r["business_id"] for r in every} == {"teelixir", "elevate", "boo", "rhf"}
    assert ops("test", "database").exit_code == 0


def test_ops_test_bad_input(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("test", "shopify")
    assert result.exit_code == 2 and "unknown service 'shopify'" in result.stderr
    # An unknown --business is a usage error (2) here as in every command: one check.
    result = ops("test", "hubspot", "--business", "acme")
    assert result.exit_code == 2 and "unknown business 'acme'" in result.stderr


@pytest.fixture(scope="module")
def served():  # type: ignore[no-untyped-def]
    box = Sandbox(seed=0, volume=20)
    box.start_in_thread(port=0)
    yield box
    box.stop()


def test_ops_test_with_a_wrong_token_fails_clearly(ops, served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", "pat-na1-not-a-real-token-0000")
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_URL", served.urls["hubspot"])
    result = ops("test", "hubspot", "--json")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "error: hubspot failed for teelixir"
    reports = {r["business_id"]: r for r in json.loads(result.stdout)}
    assert reports["boo"]["disabled"] == "boo/hubspot: set MASTEROPS_BOO_HUBSPOT_TOKEN"
    probe = reports["teelixir"]["steps"][0]
    assert not probe["ok"] and probe["error"]["category"] == "AUTHENTICATION"
    assert "not-a-real-token" not in result.stdout + result.stderr


def test_ops_test_against_configured_services_over_http(ops, served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    account = served.accounts["elevate"]
    monkeypatch.setenv("MASTEROPS_ELEVATE_HUBSPOT_TOKEN", account.hubspot_token)
    monkeypatch.setenv("MASTEROPS_ELEVATE_HUBSPOT_URL", served.urls["hubspot"])
    result = ops("test", "hubspot", "-b", "elevate")
    assert result.exit_code == 0, result.stderr
    assert "list contact properties" in result.stdout
