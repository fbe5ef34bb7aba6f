"""The layer contracts in ``pyproject.toml`` hold, and really fail on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy's packages shadow the installed (editable) ones.
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_contracts_hold(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_planted_upward_import_breaks_the_build(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    # A domain module reaching up into the CLI, as jobs/ once did.
    health = tree / "src/masterops/health/store.py"
    health.write_text(health.read_text() + "\nfrom masterops.cli import output  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "masterops.health.store -> masterops.cli.output" in result.stdout


def test_a_planted_sandbox_import_breaks_the_build(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    sync = tree / "src/masterops/sync/common.py"
    sync.write_text(sync.read_text() + "\nimport masterops_sandbox.server  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "masterops.sync.common -> masterops_sandbox.server" in result.stdout
