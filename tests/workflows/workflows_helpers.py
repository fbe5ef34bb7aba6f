"""Constants the workflow tests share (a module of its own: importing ``conftest`` by name
is ambiguous when several test folders have one)."""

from __future__ import annotations

from pathlib import Path

#: The shipped library, infra/n8n-workflows.
LIBRARY = Path(__file__).resolve().parents[2] / "infra" / "n8n-workflows"
