"""The deployment recipe checked without a container engine (none runs on these machines):
compose.yaml by Debian's ``docker-compose config`` and by its shape, the systemd units by
``systemd-analyze verify``, the Dockerfile by its instructions, and every ``ops`` command
any of them runs parsed by the real command line. ``.env.example`` lists exactly the
variables the platform reads, ``masterops.example.toml`` loads clean, and the Prometheus
rules name only metric families ``/metrics`` really serves."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

# Typer 0.29 carries its own copy of click; its UsageError is what a bad command raises.
from typer._click.exceptions import UsageError

from masterops.cli.main import app
from masterops.config import DEFAULT_BUSINESSES, load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
UNITS = ROOT / "infra" / "systemd"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD",
    "N8N_DB_PASSWORD",
    "N8N_ENCRYPTION_KEY",
    "MASTEROPS_VERSION",
    "MASTEROPS_HTTP_PORT",
    "N8N_PORT",
    "PROMETHEUS_PORT",
    "TZ",
}
PLATFORM_SERVICES = {"migrate", "ops", "serve", "worker-1", "worker-2"}


def parse_ops_command(args: list[str]) -> list[str]:
    """Parse ``ops <args>`` with the real command line, running nothing: an unknown
    command, option or value raises click's UsageError. Returns the command path."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    ctx = command.make_context("ops", list(args), resilient_parsing=False)
    while hasattr(command, "resolve_command"):  # a group: the next word is a command
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert sub is not None and name is not None
        path.append(name)
        command = sub
        ctx = command.make_context(name, rest, parent=ctx)
    return path


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            assert name not in pairs, f"{name} listed twice"
            pairs[name] = value
    return pairs


# -- compose.yaml ------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose validates the file (.ci/run installs it)",
)
def test_compose_file_is_valid_for_docker_compose(tmp_path: Path) -> None:
    """As an operator runs it: beside a ``.env`` made from ``.env.example``."""
    shutil.copy(COMPOSE, tmp_path / "compose.yaml")
    example = ENV_EXAMPLE.read_text()
    for name, value in (("POSTGRES_PASSWORD", "pw"), ("N8N_DB_PASSWORD", "pw2")):
        example = example.replace(f"\n{name}=\n", f"\n{name}={value}\n")
    (tmp_path / ".env").write_text(example)

    def config(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker-compose", "-f", "compose.yaml", "config"],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=tmp_path,
            check=False,
        )

    checked = config(N8N_ENCRYPTION_KEY="key")
    assert checked.returncode == 0, checked.stderr
    resolved = yaml.safe_load(checked.stdout)
    serve = resolved["services"]["serve"]
    assert serve["environment"]["MASTEROPS_DATABASE_URL"] == (
        "postgresql://masterops:pw@postgres:5432/masterops"
    )
    # A required secret left empty is refused by name, not run with an empty key.
    missing = config()
    assert missing.returncode != 0
    assert "set N8N_ENCRYPTION_KEY in .env" in missing.stderr


def test_compose_topology() -> None:
    services = _compose()["services"]
    assert set(services) == {*PLATFORM_SERVICES, "postgres", "n8n", "prometheus"}
    # Two workers with distinct names: a shared name would make them one DBOS executor.
    names = [
        services[w]["command"][services[w]["command"].index("--name") + 1]
        for w in ("worker-1", "worker-2")
    ]
    assert len(set(names)) == 2
    for name in PLATFORM_SERVICES:
        service = services[name]
        assert service["image"].startswith("masterops:")
        assert service["env_file"] == ".env"
        assert "postgres:5432" in service["environment"]["MASTEROPS_DATABASE_URL"]
        assert set(service["depends_on"]) <= {"postgres", "migrate"}
    for name in ("serve", "worker-1", "worker-2"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    # n8n on PostgreSQL, not its SQLite default.
    assert services["n8n"]["environment"]["DB_TYPE"] == "postgresdb"
    assert services["n8n"]["image"].endswith(":1.123.81")


def test_every_ops_command_in_compose_parses() -> None:
    services = _compose()["services"]
    # `ops` is the one-off tool service (`docker compose run --rm ops ...`): help by default.
    assert services["ops"]["command"] == ["--help"]
    paths = {
        name: parse_ops_command(services[name]["command"]) for name in PLATFORM_SERVICES - {"ops"}
    }
    assert paths["serve"] == ["serve"]
    assert paths["migrate"] == ["db", "upgrade"]
    assert paths["worker-1"] == paths["worker-2"] == ["worker"]


def test_a_wrong_command_does_not_parse() -> None:
    # The check above can fail: a misspelt option is refused.
    with pytest.raises(UsageError):
        parse_ops_command(["worker", "--nmae", "x"])
    with pytest.raises(UsageError):
        parse_ops_command(["db", "upgrad"])


def test_compose_variables_are_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    assert used <= set(_env_example()), used - set(_env_example())


def test_prometheus_scrapes_serve_on_its_port() -> None:
    services = _compose()["services"]
    port = services["serve"]["command"][services["serve"]["command"].index("--port") + 1]
    scrape = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    [job] = scrape["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [f"serve:{port}"]
    assert job["metrics_path"] == "/metrics"


# -- the Dockerfile ----------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_is_multi_stage_pinned_and_unprivileged() -> None:
    instructions = _instructions()
    stages = [rest for word, rest in instructions if word == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS build")
    final = instructions[[w for w, _ in instructions].index("FROM", 1) :]
    users = [rest for word, rest in final if word == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    installs = [rest for word, rest in instructions if word == "RUN" and "pip install" in rest]
    assert installs and all("-c constraints.txt" in rest for rest in installs)
    [entrypoint] = [json.loads(rest) for word, rest in final if word == "ENTRYPOINT"]
    assert entrypoint == ["ops"]
    [cmd] = [json.loads(rest) for word, rest in final if word == "CMD"]
    assert parse_ops_command(cmd) == ["serve"]
    [expose] = [rest for word, rest in final if word == "EXPOSE"]
    assert cmd[cmd.index("--port") + 1] == expose
    # Everything the build copies gets past .dockerignore.
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    copied = [
        part
        for word, rest in instructions
        if word == "COPY" and "--from" not in rest
        for part in rest.split()[:-1]
    ]
    for path in copied:
        assert f"!{path.rstrip('/')}" in {line.rstrip("/") for line in ignore}, path
        assert (ROOT / path).exists(), path


# -- systemd -----------------------------------------------------------------------------


def _exec_starts() -> dict[str, list[str]]:
    found = {}
    for unit in sorted(UNITS.glob("*.service")):
        [line] = [x for x in unit.read_text().splitlines() if x.startswith("ExecStart=")]
        argv = shlex.split(line.removeprefix("ExecStart="))
        found[unit.name] = [a.replace("%i", "1") for a in argv]
    return found


def test_every_unit_runs_a_real_ops_command() -> None:
    starts = _exec_starts()
    assert set(starts) == {
        "masterops-migrate.service",
        "masterops-serve.service",
        "masterops-worker@.service",
    }
    assert {tuple(parse_ops_command(argv[1:])) for argv in starts.values()} == {
        ("db", "upgrade"),
        ("serve",),
        ("worker",),
    }
    assert all(argv[0] == "/opt/masterops/bin/ops" for argv in starts.values())


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_units_verify_clean(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on each unit, with ops pointed at this checkout's (the
    path it checks must exist) and no environment file: any warning fails the test."""
    ops = Path(sys.executable).with_name("ops")
    units = []
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text().replace("/opt/masterops/bin/ops", str(ops))
        text = re.sub(r"(?m)^EnvironmentFile=.*$", "EnvironmentFile=-/nonexistent", text)
        target = tmp_path / unit.name.replace("@.", "@1.")
        target.write_text(text)
        units.append(str(target))
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr


# -- .env.example and masterops.example.toml ---------------------------------------------


def _variables_the_platform_reads() -> set[str]:
    source = (
        "\n".join(
            p.read_text() for p in (ROOT / "src" / "masterops").rglob("*.py") if "cli" in p.parts
        )
        + (ROOT / "src/masterops/config.py").read_text()
    )
    names = set(re.findall(r'"(MASTEROPS_[A-Z0-9_]*[A-Z0-9])"', source))
    names.discard("MASTEROPS_TEST_DATABASE_URL")
    suffixes = set(re.findall(r'prefix \+ "([A-Z0-9_]+)"', source))
    for slug, _ in DEFAULT_BUSINESSES:
        names |= {f"MASTEROPS_{slug.upper()}_{suffix}" for suffix in suffixes}
    return names


def test_env_example_lists_every_variable_and_no_other() -> None:
    listed = set(_env_example())
    wanted = _variables_the_platform_reads()
    assert wanted - listed == set(), "missing from .env.example"
    assert listed - wanted - COMPOSE_ONLY == set(), "listed but never read"


def test_env_example_copied_as_it_is_means_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text())
    config = load_config({"MASTEROPS_DATABASE_URL": "sqlite:///x.db"}, cwd=tmp_path)
    assert config.problems == ()
    assert config.sandbox
    assert config.home == tmp_path / ".masterops"


def test_example_configuration_loads_clean(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text((ROOT / "masterops.example.toml").read_text())
    config = load_config({}, cwd=tmp_path)
    assert config.problems == ()
    assert list(config.businesses) == [slug for slug, _ in DEFAULT_BUSINESSES]
    assert config.schedules.timezone == "Australia/Melbourne"
    assert config.schedules.cron["inventory"] == "0 */15 6-22 * * *"
