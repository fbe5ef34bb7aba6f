"""Configuration that lets bad input through or words it poorly (issue #10, point 8),
through ``ops config check`` and other commands, in-process."""

from __future__ import annotations

import json
import sys

import pytest


def _problems(ops_cli) -> list[str]:  # type: ignore[no-untyped-def]
    result = ops_cli("config", "check", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (1 if report["problems"] else 0), result.stderr
    return list(report["problems"])


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "unexpected" not in stderr, stderr
    return lines[0]


def test_hubspot_settings_without_a_token_are_problems(ops_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TIER", "enterprise")
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_CLIENT_SECRET", "whsec-teelixir-1")
    assert _problems(ops_cli) == [
        "MASTEROPS_TEELIXIR_HUBSPOT_TIER, MASTEROPS_TEELIXIR_HUBSPOT_CLIENT_SECRET set but "
        "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN is not: HubSpot is disabled for teelixir, so they "
        "are ignored; set the token too"
    ]
    text = ops_cli("config", "check")
    assert "configuration OK" not in text.stdout
    assert "whsec-teelixir-1" not in text.stdout + text.stderr
    # With the token, enterprise is a real tier (190 calls per 10 s, as professional).
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", "pat-teelixir-1")
    assert _problems(ops_cli) == []
    shown = json.loads(ops_cli("config", "show", "--json").stdout)
    assert shown["businesses"]["teelixir"]["hubspot"]["tier"] == "enterprise"


def test_a_junk_env_line_names_the_file_and_line(ops_cli, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text(
        "MASTEROPS_LOG_JSON=1\nMASTEROPS_TEELIXIR_HUBSPOT_TOKEN pat-typed-without-equals\n",
        encoding="utf-8",
    )
    result = ops_cli("config", "check")
    assert result.exit_code == 1
    assert (
        f"problem: {tmp_path / '.env'} line 2: not NAME=value; fix or remove it "
        "(comments start with #)"
    ) in result.stdout
    assert "configuration OK" not in result.stdout
    everything = result.stdout + result.stderr + caplog.text
    assert "python-dotenv" not in everything  # the parser's own file-less message is gone
    assert "pat-typed-without-equals" not in everything  # the line may hold a secret
    assert json.loads(ops_cli("config", "show", "--json").stdout)["log_json"] is True


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        (
            {"MASTEROPS_N8N_URL": "http://n8n.example.com:5678", "MASTEROPS_N8N_API_KEY": "k1"},
            "MASTEROPS_N8N_URL is http://n8n.example.com: refused, credentials would travel "
            "unencrypted; use https:// (http:// is for 127.0.0.1/localhost only)",
        ),
        (
            {
                "MASTEROPS_BOO_HUBSPOT_TOKEN": "pat-boo-1",
                "MASTEROPS_BOO_HUBSPOT_URL": "http://10.0.0.5:8900",
            },
            "MASTEROPS_BOO_HUBSPOT_URL is http://10.0.0.5: refused, credentials would travel",
        ),
        (
            {
                "MASTEROPS_RHF_UNLEASHED_API_ID": "id",
                "MASTEROPS_RHF_UNLEASHED_API_KEY": "key-rhf-1",
                "MASTEROPS_RHF_UNLEASHED_URL": "http://unleashed.example",
            },
            "MASTEROPS_RHF_UNLEASHED_URL is http://unleashed.example",
        ),
        (
            {"MASTEROPS_SUPABASE_URL": "http://db.example.supabase.co"},
            "MASTEROPS_SUPABASE_URL is http://db.example.supabase.co",
        ),
    ],
)
def test_plain_http_beyond_loopback_is_refused(ops_cli, monkeypatch, variables, problem) -> None:  # type: ignore[no-untyped-def]
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    problems = _problems(ops_cli)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_plain_http_on_loopback_is_fine(ops_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTEROPS_N8N_URL", "http://127.0.0.1:5678")
    monkeypatch.setenv("MASTEROPS_N8N_API_KEY", "k1")
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", "pat-teelixir-1")
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_URL", "http://localhost:8900")
    assert _problems(ops_cli) == []


def test_a_business_with_only_a_tier_keeps_its_name(ops_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "masterops.toml").write_text(
        '[businesses.teelixir]\nhubspot_tier = "professional"\n\n[businesses.acme]\n',
        encoding="utf-8",
    )
    result = ops_cli("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    names = {slug: b["name"] for slug, b in json.loads(result.stdout)["businesses"].items()}
    assert names == {"teelixir": "Teelixir", "acme": "acme"}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[businesses.teelixir]\nhubspot_teir = "professional"\n',
            "businesses.teelixir.hubspot_teir: unknown key; did you mean 'hubspot_tier'? "
            "known here: name, services, hubspot_tier, enabled",
        ),
        (
            "[limits.retry]\nmax_attempt = 3\n",
            "limits.retry.max_attempt: unknown key; did you mean 'max_attempts'?",
        ),
        ("[limit]\ntimeout_s = 3\n", "limit: unknown key; did you mean 'limits'?"),
        ("[alerts]\ncolour = 1\n", "alerts.colour: unknown key; known here: channels"),
    ],
)
def test_a_misspelt_key_says_did_you_mean(ops_cli, tmp_path, toml, message) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "masterops.toml").write_text(toml, encoding="utf-8")
    result = ops_cli("config", "check")
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert line.startswith(f"error: {tmp_path / 'masterops.toml'}: {message}"), line


def test_home_that_is_a_file_names_the_setting(ops_cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "state").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("MASTEROPS_HOME", str(tmp_path / "state"))
    result = ops_cli("db", "status")
    assert result.exit_code == 1
    assert _one_line(result.stderr) == (
        f"error: MASTEROPS_HOME={tmp_path / 'state'}: a file is in the way of the folder; "
        "point MASTEROPS_HOME at a writable folder (or set MASTEROPS_DATABASE_URL)"
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/sys is Linux's")
def test_home_that_cannot_be_written_names_the_setting(ops_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # /sys refuses new folders even to root, so this holds whoever runs the tests.
    monkeypatch.setenv("MASTEROPS_HOME", "/sys/masterops-state")
    result = ops_cli("logs")
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert line.startswith("error: MASTEROPS_HOME=/sys/masterops-state cannot be created (")
    assert line.endswith(
        "point MASTEROPS_HOME at a writable folder (or set MASTEROPS_DATABASE_URL)"
    )


def test_home_in_a_read_only_folder_names_the_setting(ops_cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.access(locked, os.W_OK):
        locked.chmod(0o755)
        pytest.skip("running as a user who may write anywhere (root)")
    monkeypatch.setenv("MASTEROPS_HOME", str(locked / "state"))
    result = ops_cli("logs")
    locked.chmod(0o755)
    assert result.exit_code == 1
    assert "MASTEROPS_HOME=" in _one_line(result.stderr)


def test_a_bad_log_level_names_the_setting(ops_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTEROPS_LOG_LEVEL", "verbose")
    result = ops_cli("logs")
    assert result.exit_code == 1
    assert _one_line(result.stderr) == (
        "error: MASTEROPS_LOG_LEVEL='verbose' is not a level; use one of debug, info, warn, error"
    )
    monkeypatch.setenv("MASTEROPS_LOG_LEVEL", "WARNING")
    shown = json.loads(ops_cli("config", "show", "--json").stdout)
    assert shown["log_level"] == "warn"
