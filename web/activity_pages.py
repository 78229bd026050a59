"""An activity a statement line links to (``web.causes``): what it was,
when, its status and the points it earned. The member's own only: another
member's activity answers 404 like a missing one (the member's phone pages
show their own data; reviewers work through the API)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request
from litestar.exceptions import NotFoundException
from litestar.response import Template

from activities.errors import ActivityNotFound
from activities.records import get_activity
from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.params import Id
from api.routing import get
from community.members import get_member
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render


class ActivityPages(Controller):
    path = ""
    include_in_schema = False
    guards = [requires_member]
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    @get("/activities/{activity_id:int}", name="activity")
    async def activity(self, request: Request[Any, Any, Any], principal: ActingPrincipal, activity_id: Id) -> Template:
        try:
            activity = await get_activity(activity_id)
        except ActivityNotFound:
            raise NotFoundException() from None
        if activity.member_id != principal.member_id:
            raise NotFoundException()
        return render(request, "activity.html", member=await get_member(principal.member_id), activity=activity)
