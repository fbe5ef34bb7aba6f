"""``ops sandbox``: serve the local HubSpot, Unleashed and n8n on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from masterops.cli.errors import UsageError
from masterops.cli.listen import bind_listening
from masterops.cli.output import print_json, print_table


def sandbox(
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
) -> None:
    """Serve the sandbox until interrupted; prints each service's URL and credentials."""
    # Imported here: the product never imports the sandbox except where it is started.
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
    box = Sandbox(seed=seed, volume=volume, faults=fault_config)
    box.urls = {
        "hubspot": f"http://{host}:{port}",
        "unleashed": f"http://{host}:{port + 1}",
        "n8n": f"http://{host}:{port + 2}",
    }
    info = box.describe()
    if json_output:
        print_json(info)
    else:
        typer.echo("Sandbox serving (Ctrl-C to stop):")
        for service, url in info["urls"].items():
            typer.echo(f"  {service:10} {url}")
        print_table(info["credentials"], title="Credentials (sandbox only)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(box.serve(host=host, port=port, sockets=listening))
