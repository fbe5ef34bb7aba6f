"""``Config.schedules`` as cron expressions: pure, no DBOS."""

from __future__ import annotations

from pathlib import Path

import pytest

from masterops.config import ConfigError, load_config
from masterops.jobs.queues import HEALTH_QUEUE, N8N_QUEUE, sync_queue
from masterops.jobs.schedules import cron_every, plan_schedules


@pytest.mark.parametrize(
    ("seconds", "cron", "period"),
    [
        (10, "*/10 * * * * *", 10),
        (45, "*/30 * * * * *", 30),  # not expressible: the next shorter period
        (60, "0 * * * * *", 60),
        (300, "0 */5 * * * *", 300),
        (420, "0 */6 * * * *", 360),
        (900, "0 */15 * * * *", 900),
        (3600, "0 0 * * * *", 3600),
        (5 * 3600, "0 0 */4 * * *", 4 * 3600),
        (86_400, "0 0 0 * * *", 86_400),
        (7 * 86_400, "0 0 0 * * *", 86_400),
    ],
)
def test_cron_every(seconds: int, cron: str, period: int) -> None:
    assert cron_every(seconds) == (cron, period)


def test_cron_every_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        cron_every(0)


def test_the_default_configuration(tmp_path: Path) -> None:
    schedules = plan_schedules(load_config({}, cwd=tmp_path))
    table = [(s.name, s.job, s.cron, s.context, s.queue) for s in schedules]

    def per_business(job: str, cron: str) -> list[tuple[str, str, str, dict[str, str], str]]:
        return [
            (f"sync-{job}-{b}", job, cron, {"business_id": b}, sync_queue(b))
            for b in ("teelixir", "elevate", "boo", "rhf")
        ]

    assert table == [
        ("health", "health", "0 */5 * * * *", {}, HEALTH_QUEUE),
        *per_business("inventory", "0 */15 * * * *"),
        *per_business("customers", "0 0 * * * *"),
        *per_business("orders", "0 */15 * * * *"),
        ("sync-executions", "executions", "0 */10 * * * *", {}, N8N_QUEUE),
        # [retention]: 03:30 every day, one run at a time on the health queue.
        ("housekeeping", "housekeeping", "0 30 3 * * *", {}, HEALTH_QUEUE),
    ]


def test_a_configured_file(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        "[schedules]\nhealth_seconds = 30\ninventory_seconds = 7200\n"
        '[businesses.boo]\nname = "Buy Organics Online"\nservices = ["unleashed"]\n'
        '[businesses.rhf]\nname = "Red Hill Fresh"\nservices = ["hubspot"]\n'
    )
    schedules = {s.name: s for s in plan_schedules(load_config({}, cwd=tmp_path))}
    # No business uses n8n: no execution import; rhf has no Unleashed: no inventory.
    assert sorted(schedules) == [
        "health",
        "housekeeping",
        "sync-customers-boo",
        "sync-inventory-boo",
        "sync-orders-boo",
    ]
    assert schedules["health"].cron == "*/30 * * * * *"
    assert (schedules["sync-inventory-boo"].cron, schedules["sync-inventory-boo"].period_s) == (
        "0 0 */2 * * *",
        7200,
    )


def test_webhook_processing_is_scheduled_only_when_deliveries_can_arrive(tmp_path: Path) -> None:
    assert "webhooks" not in {s.name for s in plan_schedules(load_config({}, cwd=tmp_path))}
    config = load_config(
        {
            "MASTEROPS_BOO_HUBSPOT_TOKEN": "pat-boo",
            "MASTEROPS_BOO_HUBSPOT_CLIENT_SECRET": "client-secret-boo",
        },
        cwd=tmp_path,
    )
    schedules = {s.name: s for s in plan_schedules(config)}
    assert (schedules["webhooks"].cron, schedules["webhooks"].queue) == ("0 * * * * *", "webhooks")


def test_a_cron_expression_replaces_an_interval_in_the_schedules_time_zone(
    tmp_path: Path,
) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[schedules]\ntimezone = "Australia/Melbourne"\n'
        "[schedules.cron]\n"
        'inventory = "*/15 6-22 * * 1-5"\n'  # crontab form: minutes first, at second 0
        'health = "*/20 * * * * *"\n'  # six fields: seconds first
        '[businesses.boo]\nname = "Buy Organics Online"\nservices = ["unleashed"]\n'
    )
    config = load_config({}, cwd=tmp_path)
    schedules = {s.name: s for s in plan_schedules(config)}
    inventory = schedules["sync-inventory-boo"]
    assert (inventory.cron, inventory.timezone) == ("0 */15 6-22 * * 1-5", "Australia/Melbourne")
    # Its longest gap: Friday 22:45 to Monday 06:00, local time.
    assert inventory.period_s == (2 * 24 + 7) * 3600 + 15 * 60
    assert config.schedules.period_s("inventory") == inventory.period_s
    assert (schedules["health"].cron, schedules["health"].period_s) == ("*/20 * * * * *", 20)
    # The jobs without an expression keep their interval, in the same zone.
    orders = schedules["sync-orders-boo"]
    assert (orders.cron, orders.period_s, orders.timezone) == (
        "0 */15 * * * *",
        900,
        "Australia/Melbourne",
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[schedules.cron]\ninventory = "*/15 * *"\n', "has 3 fields"),
        ('[schedules.cron]\ninventory = "61 * * * *"\n', "is not valid"),
        ('[schedules.cron]\ninventroy = "0 * * * *"\n', "inventroy"),
        ('[schedules]\ntimezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('[retention]\nschedule = "every night"\n', "has 2 fields"),
        ("[retention]\nlogs_days = 2\n", "logs_days"),
    ],
)
def test_bad_schedules_are_named(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "masterops.toml").write_text(toml)
    with pytest.raises(ConfigError) as raised:
        load_config({}, cwd=tmp_path)
    assert message in str(raised.value)
    assert "masterops.toml" in str(raised.value)


def test_housekeeping_follows_the_retention_settings(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[schedules]\ntimezone = "Australia/Perth"\n'
        '[retention]\nschedule = "0 2 * * 0"\nlogs_days = 90\n'
    )
    config = load_config({}, cwd=tmp_path)
    housekeeping = {s.name: s for s in plan_schedules(config)}["housekeeping"]
    assert (housekeeping.cron, housekeeping.timezone, housekeeping.period_s) == (
        "0 0 2 * * 0",
        "Australia/Perth",
        7 * 86_400,
    )
    (tmp_path / "masterops.toml").write_text("[retention]\nenabled = false\n")
    assert "housekeeping" not in {s.name for s in plan_schedules(load_config({}, cwd=tmp_path))}
