"""A portal's owners: the users records are assigned to (``hubspot_owner_id``).

HubSpot's owners API is read-only (``GET /crm/v3/owners``, ``.../{ownerId}``): owners
come from the account's users. Each sandbox portal gets a few, drawn from its seed;
their ids are the options of every type's ``hubspot_owner_id`` property, and records
seeded through ``HubSpotSandbox.bulk_load`` are spread over them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from masterops_sandbox.hubspot.values import iso_ms

_PEOPLE = (
    ("Ava", "Nguyen"),
    ("Liam", "Walker"),
    ("Mia", "Kowalski"),
    ("Noah", "Patel"),
)
#: The owner that is no longer a user: listed only with ``archived=true``.
ARCHIVED_OWNERS = 1


@dataclass(frozen=True)
class Owner:
    id: int
    user_id: int
    email: str
    first_name: str
    last_name: str
    team: tuple[int, str]  # (team id, name): every sandbox owner is in one team
    created_ms: int
    archived: bool

    @property
    def label(self) -> str:
        """How HubSpot labels the owner as a ``hubspot_owner_id`` option."""
        return f"{self.first_name} {self.last_name} ({self.email})"

    def to_json(self) -> dict[str, Any]:
        stamp = iso_ms(self.created_ms)
        body: dict[str, Any] = {
            "id": str(self.id),
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": self.archived,
        }
        if not self.archived:
            body["teams"] = [{"id": str(self.team[0]), "name": self.team[1], "primary": True}]
        return body


def seed_owners(seed: int, business: str, domain: str, created_ms: int) -> list[Owner]:
    """The portal's owners: the active ones first, then one archived, ids ascending."""
    rng = random.Random(f"hubspot-owners:{seed}:{business}")
    first_id = rng.randrange(10_000_000, 90_000_000)
    first_user = rng.randrange(1_000_000, 9_000_000)
    team = (rng.randrange(1_000, 9_999), f"{business.replace('_', ' ').title()} sales")
    return [
        Owner(
            id=first_id + index * 17,
            user_id=first_user + index * 3,
            email=f"{first.lower()}.{last.lower()}@{domain}",
            first_name=first,
            last_name=last,
            team=team,
            created_ms=created_ms,
            archived=index >= len(_PEOPLE) - ARCHIVED_OWNERS,
        )
        for index, (first, last) in enumerate(_PEOPLE)
    ]


class Owners:
    """The owners of one portal, by id."""

    def __init__(self, owners: list[Owner]) -> None:
        self._all = sorted(owners, key=lambda o: o.id)

    def active(self) -> list[Owner]:
        return [o for o in self._all if not o.archived]

    def listed(self, *, archived: bool) -> list[Owner]:
        return [o for o in self._all if o.archived == archived]

    def find(self, key: str, *, by_user_id: bool, archived: bool) -> Owner | None:
        for owner in self._all:
            value = owner.user_id if by_user_id else owner.id
            if str(value) == key and owner.archived == archived:
                return owner
        return None
