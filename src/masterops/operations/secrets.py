"""``ops secrets``: every configured secret checked (present, well-formed, how old), and
rotated: the platform's own API tokens and order-webhook secrets with an overlap window,
third-party keys verified with a real call before the old one is dropped.

A value is never stored, logged or printed here except the one new secret a rotation
generates, returned to the command that shows it once. Ages come from
``secret_records`` (first seen, last changed), which holds a short keyed fingerprint only.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets as random
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from sqlalchemy import Connection, Engine, select, update

from masterops.config import Config, SecretKind, SecretSource
from masterops.db.api_tokens import create_token
from masterops.db.secret_records import observe, record_rotation
from masterops.db.tables import api_tokens

Status = Literal["ok", "warning", "problem"]

_PAT = re.compile(r"pat-[a-z]{2,3}\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_N8N_LEGACY = re.compile(r"n8n_api_[A-Za-z0-9]{20,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
#: A signing key the platform generates or verifies with: at least this long.
MIN_SIGNING_KEY = 32


def _jwt(value: str) -> bool:
    """Three base64url parts whose first is a JSON header naming its algorithm."""
    parts = value.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict) and "alg" in header


def format_problem(kind: SecretKind, value: str) -> str | None:
    """What is wrong with the shape of a secret of ``kind``, or None. Never quotes it."""
    if value != value.strip():
        return "has spaces or a line break at its start or end (a copy-paste slip?)"
    if kind == "hubspot_token" and not _PAT.fullmatch(value):
        return "is not a HubSpot private-app token (pat-<region>-<uuid>, e.g. pat-na1-...)"
    if kind == "unleashed_api_id" and not _GUID.fullmatch(value):
        return "is not a GUID, as an Unleashed API id is (8-4-4-4-12 hex digits)"
    if kind == "hubspot_client_secret" and len(value) < MIN_SIGNING_KEY:
        return f"is {len(value)} characters; a HubSpot app's client secret is longer"
    if kind == "unleashed_api_key" and not _BASE64.fullmatch(value):
        return "is not an Unleashed API key (a long base64 string)"
    if kind == "n8n_api_key" and not (_jwt(value) or _N8N_LEGACY.fullmatch(value)):
        return "is not an n8n API key (a JWT, or n8n_api_... from n8n before 1.80)"
    if kind == "supabase_key" and not (_jwt(value) or value.startswith(("sb_secret_", "sb_"))):
        return "is not a Supabase key (a JWT, or sb_secret_...)"
    if kind in ("order_webhook_secret", "previous_secret", "alert_webhook_secret") and (
        len(value) < MIN_SIGNING_KEY
    ):
        return f"is {len(value)} characters; a signing key needs at least {MIN_SIGNING_KEY}"
    if kind == "slack_webhook_url" and not value.startswith("https://hooks.slack.com/"):
        return "is not a Slack incoming-webhook URL (https://hooks.slack.com/...)"
    if kind == "database_password" and len(value) < 12:
        return f"is {len(value)} characters; use at least 12"
    return None


@dataclass(frozen=True)
class SecretCheck:
    """One configured secret: what is wrong with it (if anything) and how old it is."""

    variable: str
    kind: str
    business: str | None
    status: Status
    problems: tuple[str, ...] = ()
    age_days: int | None = None
    rotated_at: datetime | None = None


@dataclass(frozen=True)
class SecretsReport:
    checks: list[SecretCheck]
    file_problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        statuses = [c.status for c in self.checks]
        if self.file_problems or "problem" in statuses:
            return "problem"
        return "warning" if "warning" in statuses else "ok"


def dotenv_problems(path: Path | None) -> list[str]:
    """A ``.env`` others may read is a problem (it holds every secret)."""
    if path is None:
        return []
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [f"{path} is readable by others (mode {mode:04o}); run: chmod 600 {path}"]
    return []


def insecure_url_problems(config: Config) -> list[str]:
    """The service URLs the configuration refused (plain http:// off this machine)."""
    return [p for p in config.problems if "http://" in p or "https://" in p]


def check_secrets(config: Config, engine: Engine, now: datetime) -> SecretsReport:
    """Every configured secret checked, and its sighting recorded (first seen, changed)."""
    limit = config.alerts.secret_max_age_days
    checks = []
    with engine.begin() as conn:
        for source in config.secret_sources:
            value = source.value.get_secret_value()
            record = observe(
                conn,
                variable=source.variable,
                kind=source.kind,
                business_id=source.business,
                value=value,
                now=now,
            )
            problems = []
            shape = format_problem(source.kind, value)
            if shape:
                problems.append(f"{source.variable} {shape}")
            age = (now - record.changed_at).days
            status: Status = "problem" if problems else "ok"
            if age > limit and status == "ok":
                status = "warning"
                problems.append(
                    f"{source.variable} unchanged for {age} days (limit {limit}): rotate it"
                )
            checks.append(
                SecretCheck(
                    source.variable,
                    source.kind,
                    source.business,
                    status,
                    tuple(problems),
                    age,
                    record.rotated_at,
                )
            )
        checks += _token_checks(conn, config, now)
    return SecretsReport(
        checks, dotenv_problems(config.dotenv_file) + insecure_url_problems(config)
    )


def _token_checks(conn: Connection, config: Config, now: datetime) -> list[SecretCheck]:
    """The platform's live API tokens, with a warning for one expiring soon."""
    warn = timedelta(days=config.alerts.token_expiry_warn_days)
    t = api_tokens
    rows = conn.execute(
        select(t.c.name, t.c.created_at, t.c.expires_at).where(
            t.c.revoked_at.is_(None), (t.c.expires_at.is_(None)) | (t.c.expires_at > now)
        )
    )
    found = []
    for name, created_at, expires_at in rows:
        problems: list[str] = []
        status: Status = "ok"
        if expires_at is not None and expires_at - now <= warn:
            status = "warning"
            problems = [
                f"API token {name!r} expires {expires_at:%Y-%m-%d %H:%M} UTC: "
                f"ops secrets rotate api-token --name {name}"
            ]
        found.append(
            SecretCheck(
                f"api-token:{name}",
                "api_token",
                None,
                status,
                tuple(problems),
                (now - created_at).days,
            )
        )
    return found


# -- rotation ----------------------------------------------------------------------------


class RotationError(Exception):
    """A rotation that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class TokenRotation:
    name: str
    token: str  # the new token: shown once, never stored
    old_name: str
    old_retires_at: datetime


def rotate_api_token(
    engine: Engine, name: str, *, overlap: timedelta, now: datetime
) -> TokenRotation:
    """A new token with the same name, scope, businesses and lifetime; the old one keeps
    working for ``overlap`` under the name ``<name>@retiring-<id>``, then expires."""
    t = api_tokens
    with engine.begin() as conn:
        old = conn.execute(
            select(t).where(t.c.name == name, t.c.revoked_at.is_(None))
        ).one_or_none()
        if old is None:
            raise RotationError(f"no live API token named {name!r} (ops tokens list)")
        retires = now + overlap
        if old.expires_at is not None:
            retires = min(retires, old.expires_at)
        old_name = f"{name}@retiring-{old.id}"[:100]
        conn.execute(update(t).where(t.c.id == old.id).values(name=old_name, expires_at=retires))
        lifetime = old.expires_at - old.created_at if old.expires_at is not None else None
        _, token = create_token(
            conn,
            name=name,
            scope=old.scope,
            businesses=list(old.businesses_json) if old.businesses_json else None,
            expires_at=now + lifetime if lifetime is not None else None,
        )
    return TokenRotation(name, token, old_name, retires)


def new_signing_key() -> str:
    """A fresh key for a webhook the platform verifies: 256 random bits, URL-safe."""
    return random.token_urlsafe(32)


@dataclass(frozen=True)
class KeyRotation:
    variable: str
    value: str  # the new key: for the sender, shown once
    previous_until: datetime
    env_file: Path | None


def rotate_order_webhook_secret(
    config: Config,
    engine: Engine,
    business: str,
    *,
    overlap: timedelta,
    now: datetime,
    env_file: Path | None,
    actor: str,
) -> KeyRotation:
    """A new order-webhook key for ``business``; the current one becomes ``_PREVIOUS``,
    accepted until ``now + overlap``. Written to ``env_file`` when given (restart
    ``ops serve`` to load it), else returned for the operator to set."""
    variable = f"MASTEROPS_{business.upper().replace('-', '_')}_ORDER_WEBHOOK_SECRET"
    current = config.business(business).order_webhook_secret
    if current is None:
        raise RotationError(f"{variable} is not set: there is no order-webhook key to rotate")
    value = new_signing_key()
    until = now + overlap
    if env_file is not None:
        write_env(
            env_file,
            {
                variable: value,
                variable + "_PREVIOUS": current.get_secret_value(),
                variable + "_PREVIOUS_UNTIL": until.isoformat(timespec="seconds"),
            },
        )
    with engine.begin() as conn:
        record_rotation(
            conn,
            variable=variable,
            kind="order_webhook_secret",
            business_id=business,
            value=value,
            now=now,
            actor=actor,
        )
    return KeyRotation(variable, value, until, env_file)


def retire_previous(variable: str, env_file: Path) -> bool:
    """Drop ``<variable>_PREVIOUS`` (and its time) from ``env_file``; False if absent."""
    names = (variable + "_PREVIOUS", variable + "_PREVIOUS_UNTIL")
    lines = env_file.read_text().splitlines()
    kept = [line for line in lines if line.partition("=")[0].strip() not in names]
    if len(kept) == len(lines):
        return False
    _write_lines(env_file, kept)
    return True


def write_env(env_file: Path, values: dict[str, str]) -> None:
    """Set ``values`` in a ``.env`` file, replacing their lines or appending them; the
    file stays (or becomes) private to its owner."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    left = dict(values)
    out = []
    for line in lines:
        name = line.partition("=")[0].strip()
        if name in left:
            out.append(f"{name}={left.pop(name)}")
        else:
            out.append(line)
    out += [f"{name}={value}" for name, value in left.items()]
    _write_lines(env_file, out)


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    """Replace ``path`` atomically with ``lines``, mode 0600 from the first byte."""
    temporary = path.with_name(path.name + ".rotating")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    temporary.replace(path)


#: Third-party credentials a rotation verifies with a real call before the swap.
THIRD_PARTY: dict[str, tuple[str, SecretKind, str]] = {
    "hubspot-token": ("HUBSPOT_TOKEN", "hubspot_token", "hubspot"),
    "unleashed-key": ("UNLEASHED_API_KEY", "unleashed_api_key", "unleashed"),
    "n8n-key": ("N8N_API_KEY", "n8n_api_key", "n8n"),
}


def with_new_credential(config: Config, business: str, which: str, value: str) -> Config:
    """``config`` with ``business``'s credential ``which`` replaced by ``value``."""
    b = config.business(business)
    secret = SecretStr(value)
    if which == "hubspot-token":
        if b.hubspot is None:
            raise RotationError(f"{business} has no HubSpot configured: {b.disabled['hubspot']}")
        changed = replace(b, hubspot=replace(b.hubspot, token=secret))
    elif which == "unleashed-key":
        if b.unleashed is None:
            raise RotationError(f"{business} has no Unleashed configured")
        changed = replace(b, unleashed=replace(b.unleashed, api_key=secret))
    elif which == "n8n-key":
        if b.n8n is None:
            raise RotationError(f"{business} has no n8n configured")
        changed = replace(b, n8n=replace(b.n8n, api_key=secret))
    else:
        raise RotationError(f"unknown credential {which!r}; known: {', '.join(THIRD_PARTY)}")
    return replace(config, businesses={**config.businesses, business: changed})


def third_party_checklist(which: str, business: str, variable: str) -> list[str]:
    """What to do, in order, once the new key has been verified."""
    where = {
        "hubspot-token": "HubSpot: Settings > Integrations > Private apps > the app > "
        "Auth > Rotate (the old token keeps working for 7 days)",
        "unleashed-key": "Unleashed: Integration > Unleashed API Access",
        "n8n-key": "n8n: Settings > n8n API > create a key; delete the old one afterwards",
    }[which]
    return [
        f"1. Create the new credential in {where}.",
        f"2. Verified here with a real call: the new value works for {business}.",
        f"3. Put it in {variable} (--env-file writes it) and restart ops serve and the workers.",
        "4. Check: ops health --business " + business,
        "5. Revoke the old credential at the service.",
    ]


def source_of(config: Config, variable: str) -> SecretSource | None:
    for source in config.secret_sources:
        if source.variable == variable:
            return source
    return None
