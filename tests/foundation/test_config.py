from pathlib import Path

import pytest

from masterops.config import ConfigError, load_config, mask_url


def test_no_configuration_means_sqlite_and_sandbox(tmp_path: Path) -> None:
    config = load_config({}, cwd=tmp_path)
    assert config.sandbox
    assert config.database_is_default
    assert (
        config.database_url.get_secret_value()
        == f"sqlite:///{tmp_path / '.masterops' / 'masterops.db'}"
    )
    assert list(config.businesses) == ["teelixir", "elevate", "boo", "rhf"]
    assert config.businesses["boo"].name == "Buy Organics Online"
    assert (
        config.businesses["teelixir"].disabled["hubspot"] == "set MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"
    )


def test_per_business_credentials_and_shared_n8n(tmp_path: Path) -> None:
    env = {
        "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN": "pat-secret-1",
        "MASTEROPS_TEELIXIR_HUBSPOT_TIER": "professional",
        "MASTEROPS_BOO_UNLEASHED_API_ID": "id-1",
        "MASTEROPS_BOO_UNLEASHED_API_KEY": "key-secret",
        "MASTEROPS_N8N_URL": "https://n8n.example/",
        "MASTEROPS_N8N_API_KEY": "n8n-secret",
    }
    config = load_config(env, cwd=tmp_path)
    assert not config.sandbox
    teelixir = config.business("teelixir")
    assert teelixir.hubspot is not None and teelixir.hubspot.per_ten_seconds == 190
    assert "unleashed" in teelixir.disabled
    boo = config.business("boo")
    assert boo.unleashed is not None and boo.unleashed.api_key.get_secret_value() == "key-secret"
    assert all(
        b.n8n is not None and b.n8n.url == "https://n8n.example" for b in config.businesses.values()
    )
    assert {"pat-secret-1", "key-secret", "n8n-secret"} <= set(config.secrets())
    assert "pat-secret-1" not in repr(config)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "MASTEROPS_RHF_HUBSPOT_TOKEN=from-dotenv\nMASTEROPS_LOG_LEVEL=debug\n"
    )
    config = load_config({"MASTEROPS_LOG_LEVEL": "warn"}, cwd=tmp_path)
    rhf = config.business("rhf")
    assert rhf.hubspot is not None and rhf.hubspot.token.get_secret_value() == "from-dotenv"
    assert config.log_level == "warn"


def test_toml_registry_limits_and_unknown_business(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[businesses.teelixir]\nname = "Teelixir"\nservices = ["hubspot"]\n'
        'hubspot_tier = "limit_pack"\n'
        "[limits]\nunleashed_monthly_ceiling = 9000\n[limits.retry]\nmax_attempts = 2\n"
    )
    config = load_config({"MASTEROPS_TEELIXIR_HUBSPOT_TOKEN": "t0k3n"}, cwd=tmp_path)
    assert list(config.businesses) == ["teelixir"]
    assert config.business("teelixir").hubspot.per_ten_seconds == 250  # type: ignore[union-attr]
    assert config.limits.unleashed_monthly_ceiling == 9000
    assert config.limits.retry.max_attempts == 2
    with pytest.raises(ConfigError, match="unknown business 'nope'; known: teelixir"):
        config.business("nope")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[businesses.x]\nname='X'\nservices=['shopify']\n", "businesses.x.services"),
        ("[limits]\nbogus = 1\n", "limits.bogus"),
        ("not toml = = =", "cannot read"),
        ("[businesses.x]\nname='X'\nhubspot_tier='gold'\n", "unknown HubSpot tier 'gold'"),
    ],
)
def test_bad_toml_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "masterops.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config({}, cwd=tmp_path)


def test_problems_are_collected_not_raised(tmp_path: Path) -> None:
    config = load_config(
        {"MASTEROPS_ELEVATE_UNLEASHED_API_ID": "only-id", "MASTEROPS_ELEVATE_HUBSPOT_TIER": "gold"},
        cwd=tmp_path,
    )
    text = " | ".join(config.problems)
    assert "MASTEROPS_ELEVATE_UNLEASHED_API_KEY" in text
    assert "MASTEROPS_ELEVATE_HUBSPOT_TIER='gold'" in text


def test_mask_url_hides_password() -> None:
    assert mask_url("postgresql://u:hunter22@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert mask_url("sqlite:///a.db") == "sqlite:///a.db"


def test_webhook_secret_and_portal(tmp_path: Path) -> None:
    from masterops.cli.serve_cmd import web_settings

    config = load_config(
        {
            "MASTEROPS_BOO_HUBSPOT_TOKEN": "pat-boo",
            "MASTEROPS_BOO_HUBSPOT_CLIENT_SECRET": "client-secret-boo-123",
            "MASTEROPS_BOO_HUBSPOT_PORTAL_ID": "4002222",
            "MASTEROPS_RHF_HUBSPOT_TOKEN": "pat-rhf",
            "MASTEROPS_RHF_HUBSPOT_PORTAL_ID": "not-a-number",
        },
        cwd=tmp_path,
    )
    assert "client-secret-boo-123" in config.secrets()
    assert any("MASTEROPS_RHF_HUBSPOT_PORTAL_ID must be a number" in p for p in config.problems)
    settings = web_settings(config)
    assert settings.hubspot_secrets == {"boo": "client-secret-boo-123"}
    assert settings.hubspot_portals == {4002222: "boo"}
