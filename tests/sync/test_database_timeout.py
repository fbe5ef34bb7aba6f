"""A database that stops answering ends a run as "failed", with the reason, in bounded
time: PostgreSQL through a loopback proxy that stops answering mid-run. (SQLite cannot
stop answering; it waits at most its 30 s busy timeout for a lock.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from freezing_proxy import FreezingProxy
from inventory_helpers import BUSINESS, inventory_rig, runs
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from masterops.config import ConfigError, DatabaseLimits, load_config
from masterops.db.engine import create_db_engine
from masterops.sync.inventory import sync_inventory

LIMITS = DatabaseLimits(statement_timeout_s=1, response_timeout_s=2)


def _through(proxy: FreezingProxy, url: str) -> str:
    return (
        make_url(url)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
        .replace("postgresql+psycopg://", "postgresql://", 1)
    )


async def test_a_database_that_stops_answering_fails_the_run_with_the_reason(
    database, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    if database.backend != "postgresql":
        pytest.skip("SQLite has no server to stop answering")
    target = make_url(database.url)
    # The session stops answering when the run writes its first page of products.
    proxy = FreezingProxy(
        target.host or "127.0.0.1", target.port or 5432, trigger=b"INSERT INTO products"
    )
    with proxy.running():
        proxied = create_db_engine(_through(proxy, database.url), limits=LIMITS)
        try:
            with proxied.connect() as conn:  # the server applies the statement timeout
                assert conn.execute(text("SHOW statement_timeout")).scalar() == "1s"
            async with inventory_rig() as rig:
                with pytest.raises(OperationalError, match="did not answer within 2 s"):
                    await sync_inventory(
                        rig.unleashed(), proxied, business_id=BUSINESS, page_size=25
                    )
        finally:
            proxied.dispose()
    assert proxy.frozen == 1
    [run] = runs(engine)
    assert run["status"] == "failed"
    assert run["error_message"] == (
        "products stage: database error: the database did not answer within 2 s "
        "(limits.database.response_timeout_s)"
    )


def test_database_limits_are_configurable(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        "[limits.database]\nstatement_timeout_s = 5\nresponse_timeout_s = 8\n"
        "keepalives_idle_s = 7\n"
    )
    limits = load_config({}, cwd=tmp_path).limits.database
    assert (limits.statement_timeout_s, limits.response_timeout_s) == (5, 8)
    assert limits.keepalives_idle_s == 7
    (tmp_path / "masterops.toml").write_text(
        "[limits.database]\nstatement_timeout_s = 30\nresponse_timeout_s = 10\n"
    )
    with pytest.raises(ConfigError, match="response_timeout_s must be longer"):
        load_config({}, cwd=tmp_path)
