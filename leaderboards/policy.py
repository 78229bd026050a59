"""Who may see which board.

- An organisation node's boards: whoever may see the node
  (``community.access.can_see_organisation``): members living at or below
  it (their grid, community, street…) and staff whose posts cover it.
- A team's boards: its members, and whoever may see the team's organisation.
- A campaign's boards: whoever may see the campaign (``campaigns.policy``).

Anything else is ``BoardNotFound``, worded as for a scope that does not
exist; text that is not a scope at all is ``InvalidBoardRequest``. A
member's own visibility is theirs alone to change (the service takes the
principal and changes only that member).
"""

from __future__ import annotations

from campaigns.campaigns import find_campaign
from campaigns.errors import CampaignNotFound
from campaigns.policy import check_campaign_visible
from community.access import Principal, can_see_organisation
from community.teams import find_team, is_team_member
from core.ids import MAX_ID
from leaderboards.errors import BoardNotFound, InvalidBoardRequest
from leaderboards.keys import ScopeKind, parse_scope

MAX_SCOPE_CHARS = 30


def _not_found(scope: str) -> BoardNotFound:
    return BoardNotFound(f"no leaderboard {scope} for you", field="scope")


async def _may_see_team_board(principal: Principal, team_id: int) -> bool:
    team = await find_team(team_id)
    if team is None:
        return False
    return await is_team_member(team_id, principal.member_id) or await can_see_organisation(
        principal, team.organisation_id
    )


async def _may_see_campaign_board(principal: Principal, campaign_id: int) -> bool:
    try:
        await check_campaign_visible(principal, campaign_id, await find_campaign(campaign_id))
    except CampaignNotFound:
        return False
    return True


async def check_board_visible(principal: Principal, scope: str) -> str:
    """The scope, normalised, if the principal may see its boards."""
    if len(scope) > MAX_SCOPE_CHARS:
        raise InvalidBoardRequest(f"a scope has at most {MAX_SCOPE_CHARS} characters", field="scope")
    try:
        kind, scope_id = parse_scope(scope)
    except ValueError:
        raise InvalidBoardRequest("scope is org:<id>, team:<id> or campaign:<id>", field="scope") from None
    if not 1 <= scope_id <= MAX_ID:  # beyond every id column: nothing there to see
        raise _not_found(scope)
    if kind is ScopeKind.ORGANISATION:
        allowed = await can_see_organisation(principal, scope_id)
    elif kind is ScopeKind.TEAM:
        allowed = await _may_see_team_board(principal, scope_id)
    else:
        allowed = await _may_see_campaign_board(principal, scope_id)
    if not allowed:
        raise _not_found(scope)
    return f"{kind.value}:{scope_id}"
