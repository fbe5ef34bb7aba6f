"""``ops sandbox``: serve the local HubSpot, Unleashed and n8n on loopback;
``ops sandbox reset``: forget the embedded sandbox's state."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from masterops.cli.errors import UsageError
from masterops.cli.listen import bind_listening
from masterops.cli.output import print_json, print_table
from masterops.cli.sandbox_env import environment_lines

app = typer.Typer(
    help="Serve the sandbox on loopback (no subcommand), or reset its state.",
    invoke_without_command=True,
)


@app.callback()
def sandbox(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option(help="HubSpot's port; Unleashed and n8n take the next two.")
    ] = 8900,
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed of the generated data and credentials.")] = 0,
    volume: Annotated[int, typer.Option(help="Unleashed products per business.")] = 300,
    faults: Annotated[
        str | None,
        typer.Option(
            help='Faults, e.g. "hubspot:rate_429=0.1,retry_after=2;unleashed:rate_5xx=0.05".'
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the URLs and credentials as JSON.")
    ] = False,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            metavar="FILE",
            help="Write the variables that point ops at this sandbox to FILE "
            "(load it with `set -a; . FILE`), or print them as export lines with '-'.",
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            metavar="FOLDER",
            help="Keep the state in FOLDER across restarts (default: a fresh seeded sandbox).",
        ),
    ] = None,
) -> None:
    """Serve the sandbox until interrupted; prints each service's URL and credentials."""
    if ctx.invoked_subcommand is not None:
        return
    # Imported here: the product never imports the sandbox except where it is started.
    from masterops_sandbox.persist import SandboxStateError, persisted_sandbox
    from masterops_sandbox.server import Sandbox, parse_faults

    if not 1 <= port <= 65533:
        raise UsageError(f"--port must be between 1 and 65533, got {port}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UsageError(f"--host must be a loopback address, got {host!r}")
    if volume < 1:
        raise UsageError(f"--volume must be at least 1, got {volume}")
    try:
        fault_config = parse_faults(faults) if faults else None
    except ValueError as exc:
        raise UsageError(f"--faults: {exc}") from None
    # Bound before anything is printed: a port in use must not follow a banner.
    listening = [
        bind_listening(host, port + offset, flag="--port (the sandbox takes it and the next two)")
        for offset in range(3)
    ]
    with contextlib.ExitStack() as stack:
        if state is None:
            box = Sandbox(seed=seed, volume=volume, faults=fault_config)
        else:
            try:
                box = stack.enter_context(
                    persisted_sandbox(state, seed=seed, volume=volume, faults=fault_config)
                )
            except SandboxStateError as exc:
                raise UsageError(f"--state: {exc}") from None
        box.urls = {
            "hubspot": f"http://{host}:{port}",
            "unleashed": f"http://{host}:{port + 1}",
            "n8n": f"http://{host}:{port + 2}",
        }
        info = box.describe()
        _announce(info, json_output=json_output, env=env)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(box.serve(host=host, port=port, sockets=listening))


def _announce(info: dict[str, Any], *, json_output: bool, env: str | None) -> None:
    """Print the URLs and credentials, and write (or print) the variables for ``--env``."""
    if env == "-":
        typer.echo("\n".join(environment_lines(info, export=True)), nl=True)
        typer.echo(f"# sandbox serving at {info['urls']['hubspot']} (Ctrl-C to stop)", err=True)
        return
    if env is not None:
        path = Path(env)
        try:
            path.write_text("\n".join(environment_lines(info, export=False)) + "\n")
        except OSError as exc:
            raise UsageError(f"--env: cannot write {path}: {exc.strerror}") from None
        path.chmod(0o600)  # it holds the sandbox's tokens
    if json_output:
        print_json(info)
        return
    typer.echo("Sandbox serving (Ctrl-C to stop):")
    for service, url in info["urls"].items():
        typer.echo(f"  {service:10} {url}")
    print_table(info["credentials"], title="Credentials (sandbox only)")
    if env is not None:
        typer.echo(f"Variables written to {env}: load them with `set -a; . {env}; set +a`")


@app.command("reset")
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget what commands did to the embedded sandbox: the next one starts from the seed."""
    from masterops.cli.options import command_context, confirm_destructive
    from masterops_sandbox.persist import SandboxStateError, reset_state

    with command_context() as ctx:
        folder = ctx.config.sandbox_state
        confirm_destructive(f"Delete the sandbox state in {folder}?", yes=yes)
        try:
            deleted = reset_state(folder)
        except SandboxStateError as exc:
            raise UsageError(str(exc)) from None
    if deleted:
        typer.echo(f"Sandbox state in {folder} deleted: the next command starts from the seed.")
    else:
        typer.echo(f"No sandbox state in {folder}: nothing to reset.")
