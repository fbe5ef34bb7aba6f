"""The sandbox's accounts: one per business per service, with deterministic credentials.

These stand for the accounts the four businesses hold at HubSpot, Unleashed and
n8n. The same seed always gives the same credentials, so a test, the demo and
``ops sandbox`` agree on them without passing them around.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

BUSINESSES: tuple[tuple[str, str], ...] = (
    ("teelixir", "Teelixir"),
    ("elevate", "Elevate Wholesale"),
    ("boo", "Buy Organics Online"),
    ("rhf", "Red Hill Fresh"),
)


@dataclass(frozen=True)
class SandboxAccount:
    """Credentials of one business at the three services."""

    business: str
    name: str
    hubspot_portal_id: int
    hubspot_token: str
    hubspot_client_secret: str  # signs webhook deliveries (v3 signature)
    hubspot_tier: str  # "starter" (100/10 s), "professional" (190), "limit_pack" (250)
    unleashed_api_id: str
    unleashed_api_key: str
    n8n_api_key: str  # one n8n instance serves every business


def _digest(seed: int, *parts: str) -> str:
    return hashlib.sha256(":".join([str(seed), *parts]).encode()).hexdigest()


def n8n_api_key(seed: int = 0) -> str:
    return "n8n_api_" + _digest(seed, "n8n")[:40]


def sandbox_accounts(seed: int = 0) -> dict[str, SandboxAccount]:
    """The accounts of the four businesses for ``seed``, keyed by business slug."""
    accounts: dict[str, SandboxAccount] = {}
    tiers = ("professional", "starter", "professional", "starter")
    for index, (slug, name) in enumerate(BUSINESSES):
        accounts[slug] = SandboxAccount(
            business=slug,
            name=name,
            hubspot_portal_id=4_000_000 + index * 1_111 + seed % 1000,
            hubspot_token="pat-na1-" + str(uuid.UUID(_digest(seed, slug, "hs")[:32])),
            hubspot_client_secret=_digest(seed, slug, "hs-secret")[:36],
            hubspot_tier=tiers[index],
            unleashed_api_id=str(uuid.UUID(_digest(seed, slug, "ul-id")[:32])),
            unleashed_api_key=_digest(seed, slug, "ul-key")[:64],
            n8n_api_key=n8n_api_key(seed),
        )
    return accounts
