"""The ingest tests build on the sync tests' rigs: their helpers are imported by name."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ has no packages: the order intake's rig extends tests/sync/inventory_helpers.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
