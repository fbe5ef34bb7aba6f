"""The whole sandbox: HubSpot, Unleashed and n8n built together and served on loopback.

``Sandbox`` builds the three imitations for the four businesses from one seed,
applies fault switches, hands out in-process transports, and serves each service
on its own port with uvicorn (``port``, ``port + 1``, ``port + 2``; with ``port=0``
the system picks three free ports). ``ops sandbox`` calls ``serve()``; ``ops demo``
and the tests call ``start_in_thread()`` and ``stop()``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from masterops_sandbox.accounts import n8n_api_key, sandbox_accounts
from masterops_sandbox.faults import FaultConfig
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.hubspot import build_hubspot
from masterops_sandbox.n8n import DEFAULT_EXECUTIONS, build_n8n
from masterops_sandbox.unleashed import build_unleashed

SERVICES = ("hubspot", "unleashed", "n8n")  # also their port order
DEFAULT_PORT = 8900
_FAULT_FIELDS = {f.name for f in fields(FaultConfig)}
Guard = Callable[[str, ASGIApp], ASGIApp]  # (service, its harness) -> the app to serve


class Sandbox:
    """HubSpot, Unleashed and n8n imitations for the four businesses, from one seed."""

    def __init__(
        self,
        seed: int = 0,
        volume: int = 300,
        faults: dict[str, dict[str, Any]] | None = None,
        *,
        webhook_url: str | None = None,
        n8n_executions: int = DEFAULT_EXECUTIONS,
    ) -> None:
        """``volume`` sizes the seeded Unleashed data; ``webhook_url`` is where HubSpot
        delivers its webhooks (none when None); ``faults`` maps a service to
        ``FaultConfig`` switches (``ValueError`` for an unknown service or switch)."""
        self.seed = seed
        self.volume = volume
        self.accounts = sandbox_accounts(seed)
        self.n8n_api_key = n8n_api_key(seed)
        self.hubspot_api, self.hubspot = build_hubspot(
            self.accounts, seed=seed, webhook_url=webhook_url
        )
        self.unleashed_api, self.unleashed = build_unleashed(
            self.accounts, seed=seed, volume=volume
        )
        self.n8n_api, self.n8n = build_n8n(self.n8n_api_key, seed=seed, executions=n8n_executions)
        for service, switches in (faults or {}).items():
            try:
                self.harness(service).faults.configure(**switches)
            except TypeError as exc:
                raise ValueError(f"bad fault switches for {service}: {exc}") from exc
        self._guard: Guard | None = None
        self._servers: dict[str, uvicorn.Server] = {}
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._host = "127.0.0.1"
        self._planned_urls: dict[str, str] = {}

    # -- in process --------------------------------------------------------------------

    def harness(self, service: str) -> ServiceHarness:
        if service not in SERVICES:
            raise ValueError(f"unknown sandbox service {service!r}; expected one of {SERVICES}")
        harness: ServiceHarness = getattr(self, service)
        return harness

    def app(self, service: str) -> ASGIApp:
        """What serves the service: its harness, behind the guard if one is set."""
        harness = self.harness(service)
        return harness if self._guard is None else self._guard(service, harness)

    def set_guard(self, guard: Guard | None) -> None:
        """Put every request of every service through ``guard(service, harness)`` (the
        state folder's lock, see ``persist.py``); transports made before keep their app."""
        self._guard = guard

    def transport(self, service: str) -> SandboxTransport:
        """An httpx transport that calls the service in process (no sockets)."""
        return SandboxTransport(app=self.app(service))

    # -- snapshot ----------------------------------------------------------------------

    def to_state(self, service: str) -> dict[str, Any]:
        """One service's whole state as JSON data (see each service's ``to_state``)."""
        if service == "hubspot":
            return self.hubspot_api.to_state()
        if service == "unleashed":
            return self.unleashed_api.to_state()
        self.harness(service)  # an unknown service raises ValueError
        return self.n8n_api.store.to_state()

    def load_state(self, service: str, state: dict[str, Any]) -> None:
        """Replace one service's state with a ``to_state`` snapshot."""
        if service == "hubspot":
            self.hubspot_api.load_state(state)
        elif service == "unleashed":
            self.unleashed_api.load_state(state)
        else:
            self.harness(service)
            self.n8n_api.store.load_state(state)

    # -- served on loopback ------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        """Each service's base URL: the live ones while serving, else the planned ones
        (known as soon as ``serve`` is given fixed ports, or set by the caller)."""
        live: dict[str, str] = {}
        for service, server in self._servers.items():
            listeners = getattr(server, "servers", None) or []
            if server.started and listeners and listeners[0].sockets:
                port = listeners[0].sockets[0].getsockname()[1]
                live[service] = f"http://{self._host}:{port}"
        return live if len(live) == len(SERVICES) else dict(self._planned_urls)

    @urls.setter
    def urls(self, planned: dict[str, str]) -> None:
        self._planned_urls = dict(planned)

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        sockets: Sequence[socket.socket] | None = None,
    ) -> None:
        """Serve the three services until cancelled or interrupted (Ctrl-C).

        ``sockets``: already bound, one per service in order (HubSpot, Unleashed, n8n), so a
        caller can learn that a port is taken before it announces anything."""
        self._prepare(host, port)
        await self._run(sockets)

    def start_in_thread(
        self, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 15.0
    ) -> dict[str, str]:
        """Serve in a background thread; returns the URLs once every port accepts
        connections. ``port=0`` (the default here) lets the system pick free ports."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already serving")
        self._prepare(host, port)
        self._thread_error = None

        def run() -> None:
            try:
                asyncio.run(self._run())
            except BaseException as exc:  # SystemExit from uvicorn when a port is taken
                self._thread_error = exc

        self._thread = threading.Thread(target=run, name="masterops-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._live():
            if self._thread_error is not None or not self._thread.is_alive():
                self._thread = None
                raise RuntimeError(f"the sandbox did not start: {self._thread_error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start within {timeout} s")
            time.sleep(0.02)
        for url in self.urls.values():
            _wait_for_port(url, deadline)
        return self.urls

    def _live(self) -> bool:
        return all(
            server.started and getattr(server, "servers", None) for server in self._servers.values()
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (from any thread) and wait for the background thread, if any."""
        for server in self._servers.values():
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _prepare(self, host: str, port: int) -> None:
        self._host = host
        self._servers = {}
        if port:
            self._planned_urls = {
                service: f"http://{host}:{port + offset}" for offset, service in enumerate(SERVICES)
            }
        for offset, service in enumerate(SERVICES):
            config = uvicorn.Config(
                self.app(service),
                host=host,
                port=port + offset if port else 0,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
            self._servers[service] = uvicorn.Server(config)

    async def _run(self, sockets: Sequence[socket.socket] | None = None) -> None:
        bound = [[sock] for sock in sockets] if sockets else [None] * len(self._servers)
        tasks = [
            asyncio.create_task(server.serve(sockets=listening))
            for server, listening in zip(self._servers.values(), bound, strict=True)
        ]
        try:
            # One server ending (a taken port, a signal) ends them all.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for server in self._servers.values():
                server.should_exit = True
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await self.hubspot_api.aclose()
        for result in results:
            if isinstance(result, BaseException):
                raise result

    # -- for `ops sandbox` -------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """URLs, the per-business credentials and the active faults, as plain data.

        ``businesses`` nests the credentials per business and service; ``credentials``
        holds the same as flat rows (business, service, credential, value) for a table."""
        businesses: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        for slug, account in self.accounts.items():
            per_service: dict[str, dict[str, Any]] = {
                "hubspot": {
                    "portal_id": account.hubspot_portal_id,
                    "token": account.hubspot_token,
                    "client_secret": account.hubspot_client_secret,
                    "tier": account.hubspot_tier,
                },
                "unleashed": {
                    "api_id": account.unleashed_api_id,
                    "api_key": account.unleashed_api_key,
                },
                "n8n": {"api_key": account.n8n_api_key},
            }
            businesses[slug] = {"name": account.name, **per_service}
            for service, credentials in per_service.items():
                for credential, value in credentials.items():
                    rows.append(
                        {
                            "business": slug,
                            "service": service,
                            "credential": credential,
                            "value": value,
                        }
                    )
        active_faults = {
            service: config.to_dict()
            for service in SERVICES
            if (config := self.harness(service).faults.config) != FaultConfig(seed=config.seed)
        }
        return {
            "seed": self.seed,
            "volume": self.volume,
            "urls": self.urls,
            "n8n_api_key": self.n8n_api_key,
            "businesses": businesses,
            "credentials": rows,
            "faults": active_faults,
        }


def _wait_for_port(url: str, deadline: float) -> None:
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def parse_faults(spec: str) -> dict[str, dict[str, Any]]:
    """Parse ``"hubspot:rate_429=0.1,retry_after=2;unleashed:rate_5xx=0.05"``.

    Sections are separated by ``;``, switches by ``,``; switch names are ``FaultConfig``
    fields. Raises ``ValueError`` naming the part that is wrong."""
    result: dict[str, dict[str, Any]] = {}
    for section in (s.strip() for s in spec.split(";")):
        if not section:
            continue
        service, sep, body = section.partition(":")
        service = service.strip()
        if not sep:
            raise ValueError(f"fault section {section!r} must look like 'service:switch=value'")
        if service not in SERVICES:
            raise ValueError(
                f"unknown service {service!r} in fault section {section!r}; "
                f"expected one of {', '.join(SERVICES)}"
            )
        switches = result.setdefault(service, {})
        for part in (p.strip() for p in body.split(",")):
            if not part:
                continue
            name, eq, raw = (x.strip() for x in part.partition("="))
            if not eq or not name or not raw:
                raise ValueError(f"fault switch {part!r} for {service} must look like name=value")
            if name not in _FAULT_FIELDS:
                raise ValueError(
                    f"unknown fault switch {name!r} for {service}; "
                    f"expected one of {', '.join(sorted(_FAULT_FIELDS))}"
                )
            switches[name] = _fault_value(service, name, raw)
        try:
            FaultConfig(**switches).validate()
        except ValueError as exc:
            raise ValueError(f"fault section {section!r}: {exc}") from exc
    return result


def _fault_value(service: str, name: str, raw: str) -> Any:
    try:
        if name == "path_pattern":
            return raw
        if name == "policy_429":
            return None if raw.lower() == "none" else raw.upper()
        if name == "retry_after" and raw.lower() == "none":
            return None
        if name in ("status_5xx", "seed"):
            return int(raw)
        return float(raw)
    except ValueError:
        raise ValueError(f"fault switch {name}={raw!r} for {service} is not a number") from None
