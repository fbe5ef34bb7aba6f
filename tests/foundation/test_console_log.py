"""The terminal log: readable lines or JSON lines, filtered by level, secrets masked."""

from __future__ import annotations

import io
import json

import pytest

from masterops.observability.console import ConsoleLog
from masterops.observability.events import LogEvent

SECRET = "pat-na1-console-secret-0000"


def _event(level: str, message: str, **details: object) -> LogEvent:
    return LogEvent(
        source="sync",
        service="hubspot",
        operation="upsert",
        level=level,  # type: ignore[arg-type]
        message=message,
        business_id="boo",
        details=dict(details),
    )


def test_terminal_lines_show_details_only_for_warnings_and_errors() -> None:
    out = io.StringIO()
    log = ConsoleLog(stream=out, min_level="debug")
    log(_event("info", "synced 3 products", run_id=7))
    log(_event("warn", "2 items refused", run_id=8))
    info, warn = out.getvalue().splitlines()
    assert info.endswith("INFO  boo/hubspot/upsert: synced 3 products")
    assert warn.endswith("WARN  boo/hubspot/upsert: 2 items refused run_id=8")


def test_json_lines_carry_everything_and_mask_secrets() -> None:
    out = io.StringIO()
    log = ConsoleLog(stream=out, json_lines=True, secrets=[SECRET])
    log(_event("error", f"refused token {SECRET}", headers={"Authorization": f"Bearer {SECRET}"}))
    record = json.loads(out.getvalue())
    assert record["level"] == "error" and record["business"] == "boo"
    assert SECRET not in out.getvalue() and "***" in record["message"]
    assert record["details"]["headers"]["Authorization"] == "***"


def test_level_filter_and_bad_level() -> None:
    out = io.StringIO()
    log = ConsoleLog(stream=out, min_level="warn")
    log(_event("info", "quiet"))
    log(_event("debug", "quieter"))
    assert out.getvalue() == ""
    with pytest.raises(ValueError, match="log level must be one of"):
        ConsoleLog(min_level="verbose")
