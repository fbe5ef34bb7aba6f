"""``ops secrets check|rotate|retire`` end to end (the real entry point, each backend):
shapes, ages, .env mode, refused http:// URLs; token and order-key rotation with their
overlap; a third-party key verified against the sandbox before it is accepted."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from masterops.alerts.secret_age import secret_conditions
from masterops.config import load_config
from masterops.db.api_tokens import verify_token
from masterops.db.engine import create_db_engine
from masterops.db.tables import secret_records
from masterops.operations.secrets import format_problem

GOOD = {
    "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN": "pat-na1-0123abcd-0000-4000-8000-0123456789ab",
    "MASTEROPS_TEELIXIR_ORDER_WEBHOOK_SECRET": "k" * 43,
    "MASTEROPS_BOO_UNLEASHED_API_ID": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "MASTEROPS_BOO_UNLEASHED_API_KEY": "QmFzZTY0IGlzIHdoYXQgVW5sZWFzaGVkIGtleXMgYXJl" * 2,
}


@pytest.mark.parametrize(
    ("kind", "value", "fragment"),
    [
        ("hubspot_token", "pat-boo", "pat-<region>-<uuid>"),
        ("hubspot_token", " pat-na1-0123abcd-0000-4000-8000-0123456789ab", "spaces"),
        ("unleashed_api_id", "12345", "GUID"),
        ("unleashed_api_key", "short", "base64"),
        ("n8n_api_key", "abc", "JWT"),
        ("order_webhook_secret", "x" * 31, "at least 32"),
        ("slack_webhook_url", "https://example.com/hook", "hooks.slack.com"),
        ("database_password", "pw", "at least 12"),
    ],
)
def test_a_malformed_secret_is_named_never_quoted(kind: str, value: str, fragment: str) -> None:
    problem = format_problem(kind, value)  # type: ignore[arg-type]
    assert problem is not None and fragment in problem
    assert value.strip() not in problem


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("hubspot_token", GOOD["MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"]),
        ("n8n_api_key", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln"),
        ("n8n_api_key", "n8n_api_" + "a1" * 20),
        ("unleashed_api_id", GOOD["MASTEROPS_BOO_UNLEASHED_API_ID"]),
        ("slack_webhook_url", "https://hooks.slack.com/services/T0/B0/x"),
    ],
)
def test_well_formed_secrets_pass(kind: str, value: str) -> None:
    assert format_problem(kind, value) is None  # type: ignore[arg-type]


def test_check_names_problems_and_records_ages(ops, database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {**GOOD, "MASTEROPS_RHF_ORDER_WEBHOOK_SECRET": "too-short"}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    (tmp_path / ".env").chmod(0o644)
    (tmp_path / "masterops.toml").write_text("[alerts]\nsecret_max_age_days = 30\n")
    result = ops("secrets", "check", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    by_name = {s["variable"]: s for s in report["secrets"]}
    assert set(by_name) == set(env)
    assert by_name["MASTEROPS_RHF_ORDER_WEBHOOK_SECRET"]["status"] == "problem"
    assert by_name["MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"]["status"] == "ok"
    assert any("chmod 600" in p for p in report["problems"])
    for value in env.values():  # never a value, in any output
        assert value not in result.stdout + result.stderr

    # Ages come from the records: pretend the HubSpot token was set 40 days ago.
    engine = create_db_engine(database.url)
    long_ago = datetime.now(UTC) - timedelta(days=40)
    with engine.begin() as conn:
        conn.execute(
            update(secret_records)
            .where(secret_records.c.variable == "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN")
            .values(changed_at=long_ago)
        )
        stored = conn.execute(secret_records.select()).all()
    assert all(value not in str(row) for row in stored for value in env.values())
    (tmp_path / ".env").chmod(0o600)
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in GOOD.items()))
    again = json.loads(ops("secrets", "check", "--json").stdout)
    token = {s["variable"]: s for s in again["secrets"]}["MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"]
    assert (token["status"], token["age_days"]) == ("warning", 40)
    assert again["status"] == "warning" and again["problems"] == []

    # The alert rule sees the same age.
    config = load_config(cwd=tmp_path)
    with engine.connect() as conn:
        conditions = {c.service: c for c in secret_conditions(conn, config, datetime.now(UTC))}
    engine.dispose()
    stale = conditions["secret:MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"]
    assert (stale.business_id, stale.status) == ("teelixir", "degraded")
    assert conditions["secret:MASTEROPS_BOO_UNLEASHED_API_KEY"].status == "healthy"


def test_plain_http_off_this_machine_is_refused(tmp_path: Path) -> None:
    config = load_config(
        {
            **GOOD,
            "MASTEROPS_TEELIXIR_HUBSPOT_URL": "http://api.example.com",
            "MASTEROPS_SLACK_WEBHOOK_URL": "http://hooks.example.com/x",
            "MASTEROPS_BOO_UNLEASHED_URL": "http://127.0.0.1:9",  # loopback: allowed
        },
        cwd=tmp_path,
    )
    teelixir = config.business("teelixir")
    assert teelixir.hubspot is None
    assert "refused" in teelixir.disabled["hubspot"]
    assert config.slack_webhook_url is None
    assert config.business("boo").unleashed is not None
    assert sum("refused" in p for p in config.problems) == 2


def test_rotating_an_api_token_keeps_the_old_one_for_the_overlap(ops, database) -> None:  # type: ignore[no-untyped-def]
    created = ops("tokens", "create", "--name", "n8n", "--scope", "operate", "--json")
    old = json.loads(created.stdout)["token"]
    rotated = ops("secrets", "rotate", "api-token", "--name", "n8n", "--overlap", "2h", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    done = json.loads(rotated.stdout)
    new = done["token"]
    engine = create_db_engine(database.url)
    now = datetime.now(UTC)
    with engine.connect() as conn:
        assert verify_token(conn, new) is not None
        grant = verify_token(conn, old)
        assert grant is not None and grant.scope == "operate"
        assert verify_token(conn, old, now=now + timedelta(hours=2, minutes=1)) is None
        assert verify_token(conn, new, now=now + timedelta(days=365)) is not None
    engine.dispose()
    listed = json.loads(ops("tokens", "list", "--json").stdout)
    assert {t["name"] for t in listed} == {"n8n", done["old_name"]}
    unknown = ops("secrets", "rotate", "api-token", "--name", "nobody")
    assert unknown.exit_code == 1 and "no live API token named 'nobody'" in unknown.stderr


def test_rotating_an_order_key_writes_the_overlap_and_retire_ends_it(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in GOOD.items()))
    env_file.chmod(0o640)
    result = ops(
        "secrets", "rotate", "order-webhook", "--business", "teelixir",
        "--overlap", "1d", "--env-file", str(env_file), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    config = load_config(cwd=tmp_path)
    teelixir = config.business("teelixir")
    assert teelixir.order_webhook_secret is not None
    assert teelixir.order_webhook_secret.get_secret_value() == done["value"]
    retiring = teelixir.order_webhook_retiring
    assert retiring is not None
    assert retiring.value.get_secret_value() == GOOD["MASTEROPS_TEELIXIR_ORDER_WEBHOOK_SECRET"]
    assert timedelta(hours=23) < retiring.until - datetime.now(UTC) <= timedelta(days=1)
    # The rotation is recorded, by whom; the value is not.
    checked = json.loads(ops("secrets", "check", "--json").stdout)
    key = {s["variable"]: s for s in checked["secrets"]}["MASTEROPS_TEELIXIR_ORDER_WEBHOOK_SECRET"]
    assert key["rotated_at"] is not None and key["age_days"] == 0

    retired = ops("secrets", "retire", "order-webhook", "--business", "teelixir",
                  "--env-file", str(env_file))  # fmt: skip
    assert retired.exit_code == 0, retired.stderr
    assert load_config(cwd=tmp_path).business("teelixir").order_webhook_retiring is None
    assert "ORDER_WEBHOOK_SECRET_PREVIOUS" not in env_file.read_text()

    missing = ops("secrets", "rotate", "order-webhook", "--business", "rhf")
    assert missing.exit_code == 1 and "is not set" in missing.stderr
    bad = ops("secrets", "rotate", "passwords")
    assert bad.exit_code == 2 and "is not one of" in bad.stderr
