"""Fixtures of the health tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from health_fakes import FakeServices, MakeServices, make_config

from masterops.integrations.base import ConnectorRuntime


@pytest.fixture
def make_services(tmp_path: Path) -> MakeServices:
    def build(plan: dict[tuple[str, str], str], **kwargs: Any) -> FakeServices:
        return FakeServices(make_config(tmp_path), ConnectorRuntime(), plan, **kwargs)

    return build
