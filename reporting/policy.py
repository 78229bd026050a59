"""Who may see a node's dashboard: organisers and admins who manage that
node (its subtree is theirs too). Anyone else gets what
``community.policy.managed_organisation`` answers: 404 for a node they
cannot see, 403 for one they see but do not manage, so an organiser of
community 1 never reads community 2's figures, on the page or in an export."""

from __future__ import annotations

from community.access import Principal
from community.models import OrganisationRecord
from community.policy import managed_organisation
from community.roles import MANAGING_ROLES, Level
from community.tables import Organisation
from community.tree_paths import subtree_range


async def dashboard_organisation(principal: Principal, organisation_id: int) -> OrganisationRecord:
    return await managed_organisation(principal, organisation_id)


# The picker lists the managed subtrees down to the grids: a city's admin
# sees thousands of buildings otherwise; a grid's buildings are in its figures.
PICKER_LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID)
MAX_PICKER_NODES = 300


async def dashboard_nodes(principal: Principal) -> list[OrganisationRecord]:
    """The nodes the principal may open the dashboard for, tree order (by
    path), down to the grids, at most ``MAX_PICKER_NODES``."""
    roots = sorted(set(principal.organisations_with(*MANAGING_ROLES)))
    if not roots:
        return []
    paths = [
        str(r["path"]) for r in await Organisation.select(Organisation.path).where(Organisation.id.is_in(roots)).run()
    ]
    # A root inside another root's subtree adds nothing.
    tops = [p for p in sorted(paths) if not any(p != q and p.startswith(q) for q in paths)]
    found: list[OrganisationRecord] = []
    for path in tops:
        low, high = subtree_range(path)
        rows = (
            await Organisation.select()
            .where(
                (Organisation.path >= low) & (Organisation.path < high) & Organisation.level.is_in(list(PICKER_LEVELS))
            )
            .order_by(Organisation.path)
            .limit(MAX_PICKER_NODES - len(found))
            .run()
        )
        found.extend(OrganisationRecord.from_row(row) for row in rows)
        if len(found) >= MAX_PICKER_NODES:
            break
    return found
