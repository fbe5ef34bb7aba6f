"""``ops tokens create|list|revoke`` in-process against the test database: a token is
shown once, stored only as its SHA-256, and stops working when revoked or expired."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select

from masterops.db.api_tokens import verify_token
from masterops.db.tables import api_tokens


def _verify(url: str, token: str, now: datetime | None = None):  # type: ignore[no-untyped-def]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return verify_token(conn, token, now=now)
    finally:
        engine.dispose()


def _stored(url: str) -> list[dict[str, object]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(api_tokens))]
    finally:
        engine.dispose()


def test_create_list_revoke(ops, database) -> None:  # type: ignore[no-untyped-def]
    made = ops("tokens", "create", "--name", "grafana", "--scope", "read", "-b", "teelixir")
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("mo_") and len(token) > 40
    assert "shown only this once" in made.stderr
    grant = _verify(database.url, token)
    assert grant is not None and grant.scope == "read" and grant.businesses == ("teelixir",)

    # Only the SHA-256 is stored; the list shows neither the token nor its hash.
    rows = _stored(database.url)
    assert token not in json.dumps(rows, default=str)
    listed = ops("tokens", "list", "--json")
    assert listed.exit_code == 0
    assert token not in listed.stdout and str(rows[0]["token_sha256"]) not in listed.stdout
    assert [t["name"] for t in json.loads(listed.stdout)] == ["grafana"]

    again = ops("tokens", "create", "--name", "grafana")
    assert again.exit_code != 0 and "exists" in again.stderr
    assert "Traceback" not in again.stderr

    assert ops("tokens", "revoke", "grafana").exit_code == 0
    assert _verify(database.url, token) is None
    gone = ops("tokens", "revoke", "grafana")
    assert gone.exit_code != 0 and "no live token" in gone.stderr


def test_expiry_and_bad_input(ops, database) -> None:  # type: ignore[no-untyped-def]
    made = ops("tokens", "create", "--name", "ci", "--scope", "admin", "--expires", "1d", "--json")
    assert made.exit_code == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    assert _verify(database.url, token) is not None
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert _verify(database.url, token, now=later) is None
    for args, says in [
        (("--scope", "root"), "--scope"),
        (("--expires", "soon"), "--expires"),
        (("--business", "nope"), "unknown business"),
    ]:
        bad = ops("tokens", "create", "--name", "x", *args)
        assert bad.exit_code != 0 and says in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
