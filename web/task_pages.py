"""巡逻任务 · 抢单 on the phone: the grab-order patrol tasks near the
volunteer, their own claims on top, a big 抢单 button and a 取消 button.

The handlers call the services the API calls (``activities.patrol_tasks``:
``grab_orders_for``, ``claim_task``, ``release_claim``), which apply the
policy and the claim rules and audit each step; here the answer is only
shaped. A claim is a plain form post, never queued in the outbox: whether a
slot is still free is decided by the server at that moment, so the volunteer
must see the answer. Success redirects back to the list with a notice; a
refusal shows the list again with the reason in plain words (409 for the
task's state, 403 for a task of another area); a task the volunteer cannot
see, or a claim they do not hold, is the 404 page like a missing one.

The check-in that completes a task is on the patrol page
(``web.earn_pages``: it offers the claimed task whose window is open).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from activities.errors import ClaimNotFound, ClaimRefused, PatrolTaskNotFound
from activities.patrol_tasks import claim_task, grab_orders_for, release_claim
from api.community.auth import TOKEN_DEPENDENCIES
from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.params import Id
from api.routing import get, post
from community.errors import AccessRefused
from community.members import get_member
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render

TASKS_PATH = "/earn/tasks"
NOTICES = frozenset({"task_claimed", "task_released"})
# A refusal's code (``activities.errors.ClaimRefused``) → what the page says.
REFUSALS = frozenset(
    {"task_full", "task_closed", "task_already_claimed", "task_not_grab_order", "claim_not_releasable"}
)


def refusal_key(error: ClaimRefused) -> str:
    """The catalog key telling the volunteer why a claim or release was refused."""
    return error.code if error.code in REFUSALS else "task_refused"


class TaskPages(Controller):
    path = TASKS_PATH
    include_in_schema = False
    guards = [requires_member]
    dependencies = TOKEN_DEPENDENCIES
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    async def _list(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        member = await get_member(principal.member_id)
        tasks = await grab_orders_for(principal)
        notice = request.query_params.get("n")
        return render(
            request,
            "earn_tasks.html",
            member=member,
            mine=tasks.mine,
            open_tasks=tasks.open,
            notice=notice if notice in NOTICES and error is None else None,
            error=error,
            status_code=status_code,
        )

    @get("", name="earn_tasks")
    async def tasks(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        return await self._list(request, principal)

    @post("/{task_id:int}/claim", status_code=303, name="earn_task_claim")
    async def claim(self, request: Request[Any, Any, Any], principal: ActingPrincipal, task_id: Id) -> Response[Any]:
        try:
            await claim_task(principal, task_id)
        except PatrolTaskNotFound:
            raise NotFoundException() from None
        except ClaimRefused as refused:
            return await self._list(request, principal, error=refusal_key(refused), status_code=409)
        except AccessRefused:
            return await self._list(request, principal, error="task_not_yours", status_code=403)
        return Redirect(f"{TASKS_PATH}?n=task_claimed#task-{task_id}", status_code=303)

    @post("/{task_id:int}/release", status_code=303, name="earn_task_release")
    async def release(self, request: Request[Any, Any, Any], principal: ActingPrincipal, task_id: Id) -> Response[Any]:
        try:
            await release_claim(principal, task_id)
        except (ClaimNotFound, PatrolTaskNotFound):
            raise NotFoundException() from None
        except ClaimRefused as refused:
            return await self._list(request, principal, error=refusal_key(refused), status_code=409)
        return Redirect(f"{TASKS_PATH}?n=task_released", status_code=303)
