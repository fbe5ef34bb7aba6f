"""Fixtures of the report tests: a database seeded with one known day of a business, and
the SMTP and HTTP sinks of the alert tests (reused, not copied)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

# The alert tests' real SMTP server (aiosmtpd) and local HTTP server: same stand-ins here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))

from report_data import seed_report_day


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """A migrated database holding the known day of ``report_data``."""
    seed_report_day(engine)
    return engine
