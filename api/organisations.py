"""The organisation tree: nodes, the posts held at them, and the CSV import
of members into a node.

Reading the tree is open to members for the nodes they live under or hold a
grant over; a node they cannot see answers 404. Changing anything needs a
manager (organizer or admin) of that node; who may grant which role is
``community.access.can_grant_role``. Every change is in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, PathParameter, QueryParameter

from api.community_schemas import (
    MemberViewOut,
    OrganisationIn,
    OrganisationOutModel,
    OrganisationPageOut,
    PostHolderOut,
    PostIn,
    import_result_out,
    member_view,
    organisation_out,
    post_holder_out,
)
from api.errors import ProblemException, problem
from api.guards import principal_of, requires_manager, requires_member
from api.params import MAX_ID, Id
from community import audit
from community.access import (
    Principal,
    can_grant_role,
    can_manage_organisation,
    can_see_organisation,
    managed_organisations,
    verifying_organisations,
)
from community.accounts import organisation_ref
from community.errors import MemberNotFound
from community.member_import import MAX_IMPORT_BYTES, import_members
from community.members import MemberOut, get_member
from community.organisations import (
    MAX_PAGE_SIZE,
    OrganisationOut,
    OrganisationPage,
    ancestor_ids,
    child_ids,
    create_organisation,
    get_organisation,
    list_organisations,
    subtree_ids,
)
from community.posts import check_role, grant_post, list_post_holders, revoke_post
from community.roles import Role

Cursor = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID, description="next_cursor of the previous page")]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)]
RoleText = Annotated[str, PathParameter(min_length=1, max_length=20, description="a role, e.g. grid_worker")]


@dataclass
class MemberCsvUpload:
    """The CSV as a multipart ``file`` part (a model, not a bare
    ``UploadFile``: see ``api/catalog.py``)."""

    file: UploadFile


async def visible_organisation(principal: Principal, organisation_id: int) -> OrganisationOut:
    """The node if the caller may see it; otherwise 404, as if it did not exist."""
    if await can_see_organisation(principal, organisation_id):
        return await get_organisation(organisation_id)
    raise ProblemException(
        404, "organisation_not_found", f"no organisation {organisation_id} visible to you", field="organisation_id"
    )


async def managed_organisation(principal: Principal, organisation_id: int) -> OrganisationOut:
    """The node if the caller manages it; 404 if they cannot even see it, 403 otherwise."""
    organisation = await visible_organisation(principal, organisation_id)
    if not await can_manage_organisation(principal, organisation_id):
        raise ProblemException(403, "forbidden", "you do not manage this organisation", field="organisation_id")
    return organisation


async def managed_member(principal: Principal, member_id: int) -> MemberOut:
    """The member if the caller manages their home organisation; 404
    otherwise, exactly as for a member who does not exist."""
    try:
        member: MemberOut | None = await get_member(member_id)
    except MemberNotFound:
        member = None
    if member is None or not await can_manage_organisation(principal, member.home_organisation_id):
        raise ProblemException(404, "member_not_found", f"no member {member_id} that you manage", field="member_id")
    return member


def _page_out(page: OrganisationPage) -> OrganisationPageOut:
    return OrganisationPageOut(
        organisations=[organisation_out(o) for o in page.organisations], next_cursor=page.next_cursor
    )


class OrganisationsController(Controller):
    path = "/api/v1/organisations"
    tags = ["community"]

    @post("", guards=[requires_manager], operation_id="createOrganisation", summary="添加下级组织 · Add a child node")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[OrganisationIn]) -> OrganisationOutModel:
        principal = principal_of(request)
        await managed_organisation(principal, data.parent_id)
        parent_chain = await ancestor_ids(data.parent_id)
        admin_above = any(granted_at in parent_chain for granted_at in principal.organisations_with(Role.ADMIN))
        if data.issues_points and not admin_above:
            raise ProblemException(
                403, "forbidden", "only an admin over the parent creates an issuing organisation", field="issues_points"
            )
        organisation = await create_organisation(
            name_zh=data.name_zh,
            name_en=data.name_en,
            level=data.level,
            parent_id=data.parent_id,
            issues_points=data.issues_points,
        )
        await audit.record(
            principal.ref,
            "organisation.create",
            organisation_ref(organisation.id),
            parent_id=data.parent_id,
            level=data.level.value,
            name_zh=organisation.name_zh,
            issues_points=organisation.issues_points,
        )
        return organisation_out(organisation)

    @get("/{organisation_id:int}", guards=[requires_member], operation_id="getOrganisation", summary="One node")
    async def get_one(self, request: Request[Any, Any, Any], organisation_id: Id) -> OrganisationOutModel:
        return organisation_out(await visible_organisation(principal_of(request), organisation_id))

    @get(
        "/{organisation_id:int}/children",
        guards=[requires_member],
        operation_id="listOrganisationChildren",
        summary="The nodes directly below",
    )
    async def children(
        self, request: Request[Any, Any, Any], organisation_id: Id, cursor: Cursor = None, limit: Limit = 100
    ) -> OrganisationPageOut:
        await visible_organisation(principal_of(request), organisation_id)
        return _page_out(await list_organisations(await child_ids(organisation_id), after_id=cursor, limit=limit))

    @get(
        "/{organisation_id:int}/subtree",
        guards=[requires_member],
        operation_id="listOrganisationSubtree",
        summary="The node and every node below it, in id order",
    )
    async def subtree(
        self, request: Request[Any, Any, Any], organisation_id: Id, cursor: Cursor = None, limit: Limit = 100
    ) -> OrganisationPageOut:
        await visible_organisation(principal_of(request), organisation_id)
        return _page_out(await list_organisations(await subtree_ids(organisation_id), after_id=cursor, limit=limit))

    @get(
        "/{organisation_id:int}/posts",
        guards=[requires_member],
        operation_id="listOrganisationPosts",
        summary="Who holds which role at this node",
    )
    async def posts(
        self,
        request: Request[Any, Any, Any],
        organisation_id: Id,
        role: Annotated[Role | None, QueryParameter()] = None,
    ) -> list[PostHolderOut]:
        principal = principal_of(request)
        if organisation_id not in await verifying_organisations(principal):
            raise ProblemException(
                404, "organisation_not_found", f"no organisation {organisation_id} whose posts you may see"
            )
        managed = await managed_organisations(principal)
        return [
            post_holder_out(
                holder,
                full_phone=holder.member_id == principal.member_id or holder.home_organisation_id in managed,
            )
            for holder in await list_post_holders(organisation_id, role=role)
        ]

    @post(
        "/{organisation_id:int}/posts",
        guards=[requires_manager],
        operation_id="grantPost",
        summary="任命岗位 · Grant a post or role at this node",
        status_code=200,
    )
    async def grant(
        self, request: Request[Any, Any, Any], organisation_id: Id, data: JSONBody[PostIn]
    ) -> MemberViewOut:
        principal = principal_of(request)
        await _check_post_change(principal, organisation_id, data.member_id, data.role)
        await grant_post(organisation_id, data.member_id, data.role, actor_ref=principal.ref)
        return member_view(await get_member(data.member_id), full_phone=True)

    @delete(
        "/{organisation_id:int}/posts/{member_id:int}/{role:str}",
        guards=[requires_manager],
        operation_id="revokePost",
        summary="免去岗位 · Revoke a post or role at this node",
    )
    async def revoke(self, request: Request[Any, Any, Any], organisation_id: Id, member_id: Id, role: RoleText) -> None:
        principal = principal_of(request)
        checked = check_role(role)
        await _check_post_change(principal, organisation_id, member_id, checked)
        await revoke_post(organisation_id, member_id, checked, actor_ref=principal.ref)

    @post(
        "/{organisation_id:int}/members/import",
        guards=[requires_manager],
        operation_id="importMembers",
        summary="批量导入成员 · Import members from a CSV file (UTF-8 or GBK, ≤ 2 MB, ≤ 5,000 rows)",
    )
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        organisation_id: Id,
        data: Annotated[MemberCsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        skip_bad_rows: Annotated[bool, QueryParameter(description="write the valid rows, report the bad")] = False,
        dry_run: Annotated[bool, QueryParameter(description="validate only")] = False,
    ) -> Response[Any]:
        principal = principal_of(request)
        await managed_organisation(principal, organisation_id)
        if not isinstance(data.file, UploadFile):
            raise ProblemException(422, "validation_error", "send the CSV as the multipart part 'file'", field="file")
        content = await data.file.read(MAX_IMPORT_BYTES + 1)
        result = await import_members(
            content,
            organisation_id=organisation_id,
            actor_ref=principal.ref,
            created_by=principal.member_id,
            skip_bad_rows=skip_bad_rows,
            dry_run=dry_run,
        )
        out = import_result_out(result)
        if result.errors and not (skip_bad_rows and result.valid_rows):
            return problem(
                request,
                status=422,
                code="import_rows_invalid",
                detail=f"{len(result.bad_lines)} bad row(s) on line(s) "
                f"{', '.join(map(str, result.bad_lines[:20]))}{'…' if len(result.bad_lines) > 20 else ''}; "
                "nothing was written",
                field="file",
                errors=[error.model_dump() for error in out.errors],
            )
        return Response(out, status_code=201 if result.written else 200)


async def _check_post_change(principal: Principal, organisation_id: int, member_id: int, role: Role) -> None:
    """Grant and revoke share one rule: the caller may grant that role at
    that node, manages the member, and is not changing their own roles."""
    await managed_organisation(principal, organisation_id)
    if not await can_grant_role(principal, organisation_id, role):
        raise ProblemException(403, "forbidden", f"you may not grant or revoke {role} at this node", field="role")
    await managed_member(principal, member_id)
    if member_id == principal.member_id:
        raise ProblemException(403, "forbidden", "nobody changes their own roles", field="member_id")
