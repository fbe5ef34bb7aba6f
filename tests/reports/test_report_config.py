"""``[reports]`` and a business's ``timezone`` in masterops.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from masterops.config import ConfigError, load_config


def _load(tmp_path: Path, toml: str):  # type: ignore[no-untyped-def]
    (tmp_path / "masterops.toml").write_text(toml)
    return load_config({}, cwd=tmp_path)


def test_defaults(tmp_path: Path) -> None:
    config = load_config({}, cwd=tmp_path)
    assert {b.timezone for b in config.businesses.values()} == {"Australia/Melbourne"}
    reports = config.reports
    assert (reports.daily_at, reports.weekly_on, reports.low_stock_threshold) == (
        "07:00",
        "monday",
        10.0,
    )


def test_a_business_in_another_zone(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[businesses.boo]\ntimezone = "Australia/Perth"\n[reports]\ndaily_at = "6:30"\n',
    )
    assert config.business("boo").timezone == "Australia/Perth"
    assert config.reports.daily_at == "06:30"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[businesses.boo]\ntimezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('[reports]\ndaily_at = "7am"\n', "'7am' is not a time of day; use HH:MM"),
        ('[reports]\ndaily_at = "24:00"\n', "is not a time of day"),
        ('[reports]\nweekly_on = "mon"\n', "reports.weekly_on"),
        ("[reports]\nlow_stock = 5\n", "did you mean 'low_stock_threshold'?"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as raised:
        _load(tmp_path, toml)
    assert message in str(raised.value)
