"""``customers_as`` in the registry: which businesses' customers become HubSpot companies."""

import json
from pathlib import Path

import pytest

from masterops.config import ConfigError, load_config


def test_wholesale_businesses_default_to_companies_retail_to_contacts(tmp_path: Path) -> None:
    config = load_config({}, cwd=tmp_path)
    assert {slug: b.customers_as for slug, b in config.businesses.items()} == {
        "teelixir": "companies",
        "elevate": "companies",
        "boo": "contacts",
        "rhf": "contacts",
    }


def test_customers_as_is_read_from_the_toml_and_defaults_by_business(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[businesses.teelixir]\nname = "Teelixir"\ncustomers_as = "contacts"\n'
        '[businesses.elevate]\nname = "Elevate Wholesale"\n'
        '[businesses.shop]\nname = "Shop"\ncustomers_as = "companies"\n'
        '[businesses.boo]\nname = "Buy Organics Online"\n'
    )
    config = load_config({}, cwd=tmp_path)
    assert config.business("teelixir").customers_as == "contacts"
    assert config.business("elevate").customers_as == "companies"
    assert config.business("shop").customers_as == "companies"
    assert config.business("boo").customers_as == "contacts"


def test_an_unknown_customers_as_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[businesses.teelixir]\nname = "Teelixir"\ncustomers_as = "deals"\n'
    )
    with pytest.raises(ConfigError, match=r"businesses\.teelixir\.customers_as"):
        load_config({}, cwd=tmp_path)


def test_config_show_says_what_each_business_s_customers_become(ops) -> None:  # type: ignore[no-untyped-def]
    shown = json.loads(ops("config", "show", "--json").stdout)
    assert {slug: b["customers_as"] for slug, b in shown["businesses"].items()} == {
        "teelixir": "companies",
        "elevate": "companies",
        "boo": "contacts",
        "rhf": "contacts",
    }
