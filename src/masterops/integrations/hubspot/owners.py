"""Owners (``/crm/v3/owners``): the users records are assigned to through
``hubspot_owner_id``. Read-only in HubSpot; the list pages with ``after`` (up to 500 a
page) and can be narrowed to one email or to the archived owners (former users)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from masterops.integrations.hubspot.core import HubSpotCore, next_after, results_of
from masterops.integrations.hubspot.models import IdText, Model

OWNERS = "/crm/v3/owners"
OWNER = "/crm/v3/owners/{owner_id}"
#: HubSpot's largest owners page.
MAX_OWNERS_PAGE = 500


class OwnerTeam(Model):
    id: str
    name: str = ""
    primary: bool = False


class Owner(Model):
    """One owner; ``id`` is what ``hubspot_owner_id`` holds, ``user_id`` the account user."""

    id: IdText
    email: str | None = None
    type: str = "PERSON"
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    user_id: int | None = Field(default=None, alias="userId")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    archived: bool = False
    teams: list[OwnerTeam] = Field(default_factory=list)


class OwnerOperations(HubSpotCore):
    async def list_owners(
        self, *, email: str | None = None, archived: bool = False, page_size: int = 100
    ) -> list[Owner]:
        """Every owner (all pages), or only the one with ``email``; ``archived`` lists the
        owners that are no longer users instead."""
        if not 1 <= page_size <= MAX_OWNERS_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_OWNERS_PAGE}, got {page_size}")
        found: list[Owner] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": page_size, "archived": str(archived).lower()}
            if email is not None:
                params["email"] = email
            if after is not None:
                params["after"] = after
            response, body = await self._call_object(
                "GET", OWNERS, params=params, operation="list_owners"
            )
            found.extend(
                self._parse(Owner, raw, response=response, operation="list_owners", path=OWNERS)
                for raw in results_of(body)
            )
            following = next_after(body)
            if following is None or following == after:  # a repeated cursor would loop
                return found
            after = following

    async def get_owner(
        self, owner_id: str | int, *, by_user_id: bool = False, archived: bool = False
    ) -> Owner:
        """One owner by its owner id (or, ``by_user_id``, by its user id); ``NOT_FOUND``
        when there is none."""
        return await self._call_model(
            Owner,
            "GET",
            OWNER,
            path_params={"owner_id": owner_id},
            params={
                "idProperty": "userId" if by_user_id else "id",
                "archived": str(archived).lower(),
            },
            operation="get_owner",
        )
