"""Commands load what they use: ``ops --help`` and ``ops config show`` start without the
database, migration, web or HTTP stacks (checked in ``sys.modules``, not by timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "alembic", "starlette", "httpx", "uvicorn", "dbos", "prometheus_client")

# Runs the real entry point in a fresh interpreter, then lists the heavy packages loaded.
PROBE = """
import json, sys
from masterops.cli.main import main
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["ops", *args]
try:
    main()
except SystemExit:
    pass
print("LOADED=" + json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))))
"""


def _loaded(args: list[str], cwd: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "MASTEROPS_HOME": str(cwd / ".masterops")},
        check=True,
    ).stdout
    [line] = [x for x in out.splitlines() if x.startswith("LOADED=")]
    loaded: list[str] = json.loads(line.removeprefix("LOADED="))
    return loaded


@pytest.mark.parametrize("args", [["--help"], ["config", "show"], ["config", "show", "--json"]])
def test_light_commands_import_no_heavy_stack(args: list[str], tmp_path: Path) -> None:
    assert _loaded(args, tmp_path) == []


def test_the_probe_sees_a_heavy_command_load_its_stack(tmp_path: Path) -> None:
    # The same probe on a command that opens the database must see SQLAlchemy load, or
    # the check above would pass vacuously.
    assert "sqlalchemy" in _loaded(["db", "status"], tmp_path)
