"""Who may see and move what. One place, so every face (API, CLI, admin)
answers the same way.

- A member sees their own wallet and nothing else of other members.
- Organisers and admins of an organisation see and adjust accounts scoped
  to that organisation or any organisation below it.
"""

from __future__ import annotations

from dataclasses import dataclass

from community.accounts import member_ref
from community.organisations import subtree_ids
from community.roles import MANAGING_ROLES, Role
from ledger.models import AccountBalance


@dataclass(frozen=True, slots=True)
class Principal:
    member_id: int
    name: str
    home_organisation_id: int
    grants: tuple[tuple[int, Role], ...]

    def has_role(self, *roles: Role) -> bool:
        return any(role in roles for _, role in self.grants)

    def organisations_with(self, *roles: Role) -> list[int]:
        return [organisation_id for organisation_id, role in self.grants if role in roles]

    @property
    def ref(self) -> str:
        return member_ref(self.member_id)


def _scope_organisation(account: AccountBalance) -> int | None:
    prefix, _, value = account.scope_ref.partition(":")
    if prefix != "org" or not value.isdigit():
        return None
    return int(value)


async def managed_organisations(principal: Principal) -> set[int]:
    """Every organisation the principal manages (their grants' subtrees)."""
    managed: set[int] = set()
    for organisation_id in principal.organisations_with(*MANAGING_ROLES):
        managed |= await subtree_ids(organisation_id)
    return managed


async def can_manage_account(principal: Principal, account: AccountBalance) -> bool:
    organisation_id = _scope_organisation(account)
    if organisation_id is None:
        return False
    return organisation_id in await managed_organisations(principal)


async def can_read_account(principal: Principal, account: AccountBalance) -> bool:
    if account.owner_ref == principal.ref:
        return True
    return await can_manage_account(principal, account)


async def can_manage_organisation(principal: Principal, organisation_id: int) -> bool:
    return organisation_id in await managed_organisations(principal)
