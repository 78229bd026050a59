"""The organisation tree: nodes, the posts held at them, and the CSV import
of members into a node.

Handlers parse, call the domain and shape the reply. Who may see or change
what is ``community/policy.py`` (a node one cannot see answers 404, one
seen but not managed 403); the services that change things check it and
write the audit trail in their own transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, PathParameter, QueryParameter

from api.dependencies import ActingPrincipal
from api.errors import ProblemException, problem
from api.guards import requires_manager, requires_member
from api.params import Cursor, Id
from api.routing import delete, get, post
from api.schemas.community import (
    MemberViewOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPageOut,
    PostHolderOut,
    PostIn,
    import_result_out,
    member_view,
    organisation_out,
    organisation_page_out,
    post_holder_out,
)
from community import policy, structure
from community.member_import import MAX_IMPORT_BYTES
from community.members import get_member
from community.models import OrganisationRecord
from community.organisations import MAX_PAGE_SIZE, list_children, list_subtree
from community.posts import grant_post, revoke_post, visible_post_holders
from community.roles import Role

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)]
RoleText = Annotated[str, PathParameter(min_length=1, max_length=20, description="a role, e.g. grid_worker")]


@dataclass
class MemberCsvUpload:
    """The CSV as a multipart ``file`` part (a model, not a bare
    ``UploadFile``: see ``api/marketplace/catalog.py``)."""

    file: UploadFile


async def provide_visible_organisation(principal: ActingPrincipal, organisation_id: Id) -> OrganisationRecord:
    """The node in the path, if the caller may see it; 404 otherwise, as for
    a node that does not exist (``community.policy.visible_organisation``)."""
    return await policy.visible_organisation(principal, organisation_id)


async def provide_managed_organisation(principal: ActingPrincipal, organisation_id: Id) -> OrganisationRecord:
    """The node in the path, if the caller manages it: 404 if they cannot
    see it, 403 if they see it only (``community.policy.managed_organisation``)."""
    return await policy.managed_organisation(principal, organisation_id)


class OrganisationsController(Controller):
    path = "/api/v1/organisations"
    tags = ["community"]
    dependencies = {
        "organisation": Provide(provide_visible_organisation),
        "managed_organisation": Provide(provide_managed_organisation),
    }

    @post("", guards=[requires_manager], operation_id="createOrganisation", summary="添加下级组织 · Add a child node")
    async def create(self, principal: ActingPrincipal, data: JSONBody[OrganisationIn]) -> OrganisationOut:
        organisation = await structure.create_organisation(
            principal,
            parent_id=data.parent_id,
            level=data.level,
            name_zh=data.name_zh,
            name_en=data.name_en,
            issues_points=data.issues_points,
        )
        return organisation_out(organisation)

    @get("/{organisation_id:int}", guards=[requires_member], operation_id="getOrganisation", summary="One node")
    async def get_one(self, organisation: NamedDependency[OrganisationRecord]) -> OrganisationOut:
        return organisation_out(organisation)

    @get(
        "/{organisation_id:int}/children",
        guards=[requires_member],
        operation_id="listOrganisationChildren",
        summary="The nodes directly below",
    )
    async def children(
        self, organisation: NamedDependency[OrganisationRecord], cursor: Cursor = None, limit: Limit = 100
    ) -> OrganisationPageOut:
        return organisation_page_out(await list_children(organisation.id, cursor=cursor, limit=limit))

    @get(
        "/{organisation_id:int}/subtree",
        guards=[requires_member],
        operation_id="listOrganisationSubtree",
        summary="The node and every node below it, in id order",
    )
    async def subtree(
        self, organisation: NamedDependency[OrganisationRecord], cursor: Cursor = None, limit: Limit = 100
    ) -> OrganisationPageOut:
        return organisation_page_out(await list_subtree(organisation.id, cursor=cursor, limit=limit))

    @get(
        "/{organisation_id:int}/posts",
        guards=[requires_member],
        operation_id="listOrganisationPosts",
        summary="Who holds which role at this node",
    )
    async def posts(
        self,
        principal: ActingPrincipal,
        organisation_id: Id,
        role: Annotated[Role | None, QueryParameter()] = None,
    ) -> list[PostHolderOut]:
        holders, full_phone_of = await visible_post_holders(principal, organisation_id, role=role)
        return [post_holder_out(holder, full_phone=holder.member_id in full_phone_of) for holder in holders]

    @post(
        "/{organisation_id:int}/posts",
        guards=[requires_manager],
        operation_id="grantPost",
        summary="任命岗位 · Grant a post or role at this node",
        status_code=200,
    )
    async def grant(self, principal: ActingPrincipal, organisation_id: Id, data: JSONBody[PostIn]) -> MemberViewOut:
        await grant_post(principal, organisation_id, data.member_id, data.role)
        return member_view(await get_member(data.member_id), full_phone=True)

    @delete(
        "/{organisation_id:int}/posts/{member_id:int}/{role:str}",
        guards=[requires_manager],
        operation_id="revokePost",
        summary="免去岗位 · Revoke a post or role at this node",
    )
    async def revoke(self, principal: ActingPrincipal, organisation_id: Id, member_id: Id, role: RoleText) -> None:
        await revoke_post(principal, organisation_id, member_id, role)

    @post(
        "/{organisation_id:int}/members/import",
        guards=[requires_manager],
        operation_id="importMembers",
        summary="批量导入成员 · Import members from a CSV file (UTF-8 or GBK, ≤ 2 MB, ≤ 5,000 rows)",
    )
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        managed_organisation: NamedDependency[OrganisationRecord],
        data: Annotated[MemberCsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        skip_bad_rows: Annotated[bool, QueryParameter(description="write the valid rows, report the bad")] = False,
        dry_run: Annotated[bool, QueryParameter(description="validate only")] = False,
    ) -> Response[Any]:
        """Only a manager of the node gets as far as the file; a refused
        import is a problem with every bad row (``request`` builds it)."""
        if not isinstance(data.file, UploadFile):
            raise ProblemException(422, "validation_error", "send the CSV as the multipart part 'file'", field="file")
        content = await data.file.read(MAX_IMPORT_BYTES + 1)
        result = await structure.import_members(
            principal,
            content,
            organisation_id=managed_organisation.id,
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
