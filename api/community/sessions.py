"""A member's own sessions: log out everywhere, change the password.

Both bump the member's session version (``community/sessions.py``), so every
token issued before answers 401 from then on, on every device. Logging out
therefore signs the member out on all their devices at once: tokens are not
tracked one by one. A password change hands back a fresh token, so the
device that changed it stays signed in.
"""

from __future__ import annotations

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from api.community.auth import TOKEN_DEPENDENCIES, LoginOut, TokenIssuer, issue_token, locked_problem, login_lockout
from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.routing import post
from community.access import Principal
from community.members import get_member
from community.models import MemberRecord
from community.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from community.sessions import change_password, end_all_sessions
from fengling_settings import Settings


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    new_password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)


async def change_own_password(
    principal: Principal, redis: Redis, settings: Settings, *, current_password: str, new_password: str
) -> MemberRecord:
    """The member's password change, for the API and the pages (``web/``):
    wrong current passwords count against the login lockout of the member's
    phone, so a stolen session cannot be used to guess it."""
    lockout = login_lockout(redis, settings)
    phone = (await get_member(principal.member_id)).phone
    locked_for = await lockout.reserve(phone)
    if locked_for:
        raise locked_problem("login_locked", "current_password", locked_for)
    member = await change_password(principal, current_password=current_password, new_password=new_password)
    await lockout.reset(phone)
    return member


class SessionsController(Controller):
    path = "/api/v1"
    tags = ["auth"]
    guards = [requires_member]
    dependencies = TOKEN_DEPENDENCIES

    @post(
        "/auth/logout",
        operation_id="logout",
        summary="退出登录（所有设备）· Log out on every device",
        status_code=204,
    )
    async def logout(self, principal: ActingPrincipal) -> None:
        await end_all_sessions(principal)

    @post(
        "/me/password",
        operation_id="changeMyPassword",
        summary="修改密码 · Change my password (other devices are signed out)",
        status_code=200,
    )
    async def change_password(
        self,
        principal: ActingPrincipal,
        data: JSONBody[PasswordChangeIn],
        redis: NamedDependency[Redis],
        settings: NamedDependency[Settings],
        jwt_auth: NamedDependency[TokenIssuer],
    ) -> LoginOut:
        """Wrong current passwords count against the login lockout of the
        member's phone, so a stolen token cannot be used to guess it."""
        member = await change_own_password(
            principal, redis, settings, current_password=data.current_password, new_password=data.new_password
        )
        return issue_token(jwt_auth, settings, member)
