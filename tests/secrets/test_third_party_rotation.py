"""A third-party key rotation: the new value is tried with a real call (the sandbox served
on loopback, as HubSpot would be) before it is written; a wrong one changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from jobs.loopback import business_env, loopback_sandbox


def test_a_new_hubspot_token_is_verified_before_it_is_written(
    ops, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with loopback_sandbox(tmp_path) as info:
        env = business_env(info, "teelixir")
        env_file = tmp_path / ".env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        env_file.chmod(0o600)
        before = env_file.read_text()

        monkeypatch.setenv("NEW_TOKEN", "pat-na1-00000000-0000-4000-8000-000000000000")
        wrong = ops(
            "secrets", "rotate", "hubspot-token", "--business", "teelixir",
            "--from-env", "NEW_TOKEN", "--env-file", str(env_file),
        )  # fmt: skip
        assert wrong.exit_code == 1
        assert "does not work" in wrong.stderr and "nothing was changed" in wrong.stderr
        assert env_file.read_text() == before
        assert "pat-na1-00000000" not in wrong.stdout + wrong.stderr

        # The sandbox's token for the business is a working "new" one.
        monkeypatch.setenv("NEW_TOKEN", info["businesses"]["teelixir"]["hubspot"]["token"])
        right = ops(
            "secrets", "rotate", "hubspot-token", "--business", "teelixir",
            "--from-env", "NEW_TOKEN", "--env-file", str(env_file), "--json",
        )  # fmt: skip
        assert right.exit_code == 0, right.stderr
        done = json.loads(right.stdout)
        assert done["verified"] is True
        assert done["variable"] == "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"
        assert any("Revoke the old" in step for step in done["steps"])
        assert info["businesses"]["teelixir"]["hubspot"]["token"] not in right.stdout
