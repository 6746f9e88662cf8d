"""Groups, group membership and group rules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta import constants
from twins.okta.dependencies import authenticate, call, json_body, no_content, okta_json, query_bool
from twins.okta.routes.common import paged
from twins.okta.service import common, groups

router = APIRouter()
READ, MANAGE = "okta.groups.read", "okta.groups.manage"


@router.post("/api/v1/groups", operation_id="addGroup")
async def add_group(request: Request) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: groups.create_group(ctx, body=body)))


@router.get("/api/v1/groups", operation_id="listGroups")
async def list_groups(request: Request) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"), default=constants.GROUPS_DEFAULT_LIMIT, maximum=constants.GROUPS_MAX_LIMIT
    )
    items, nxt = await call(
        request,
        p,
        lambda ctx: groups.list_groups(
            ctx,
            q=qp.get("q"),
            filter_=qp.get("filter"),
            search=qp.get("search"),
            limit=limit,
            after=qp.get("after"),
            sort_by=qp.get("sortBy"),
            sort_order=qp.get("sortOrder"),
            expand=qp.get("expand"),
        ),
    )
    return paged(request, items, nxt)


@router.post("/api/v1/groups/rules", operation_id="createGroupRule")
async def create_group_rule(request: Request) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: groups.create_rule(ctx, body=body)))


@router.get("/api/v1/groups/rules", operation_id="listGroupRules")
async def list_group_rules(request: Request) -> Response:
    p = await authenticate(request, READ)
    search = request.query_params.get("search")
    return paged(request, await call(request, p, lambda ctx: groups.list_rules(ctx, search=search)), None)


@router.get("/api/v1/groups/rules/{groupRuleId}", operation_id="getGroupRule")
async def get_group_rule(request: Request, groupRuleId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(await call(request, p, lambda ctx: groups.get_rule(ctx, rule_id=groupRuleId)))


@router.put("/api/v1/groups/rules/{groupRuleId}", operation_id="replaceGroupRule")
async def replace_group_rule(request: Request, groupRuleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: groups.replace_rule(ctx, rule_id=groupRuleId, body=body))
    )


@router.delete("/api/v1/groups/rules/{groupRuleId}", operation_id="deleteGroupRule")
async def delete_group_rule(request: Request, groupRuleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    remove = bool(query_bool(request, "removeUsers", False))
    await call(request, p, lambda ctx: groups.delete_rule(ctx, rule_id=groupRuleId, remove_users=remove))
    return no_content()


@router.post("/api/v1/groups/rules/{groupRuleId}/lifecycle/activate", operation_id="activateGroupRule")
async def activate_group_rule(request: Request, groupRuleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: groups.set_rule_status(ctx, rule_id=groupRuleId, active=True))
    return no_content()


@router.post("/api/v1/groups/rules/{groupRuleId}/lifecycle/deactivate", operation_id="deactivateGroupRule")
async def deactivate_group_rule(request: Request, groupRuleId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: groups.set_rule_status(ctx, rule_id=groupRuleId, active=False))
    return no_content()


@router.get("/api/v1/groups/{groupId}", operation_id="getGroup")
async def get_group(request: Request, groupId: str) -> Response:
    p = await authenticate(request, READ)
    expand = request.query_params.get("expand")
    return okta_json(
        await call(request, p, lambda ctx: groups.get_group(ctx, group_id=groupId, expand=expand))
    )


@router.put("/api/v1/groups/{groupId}", operation_id="replaceGroup")
async def replace_group(request: Request, groupId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: groups.replace_group(ctx, group_id=groupId, body=body))
    )


@router.delete("/api/v1/groups/{groupId}", operation_id="deleteGroup")
async def delete_group(request: Request, groupId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: groups.delete_group(ctx, group_id=groupId))
    return no_content()


@router.get("/api/v1/groups/{groupId}/users", operation_id="listGroupUsers")
async def list_group_users(request: Request, groupId: str) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"),
        default=constants.GROUP_USERS_DEFAULT_LIMIT,
        maximum=constants.GROUP_USERS_DEFAULT_LIMIT,
    )
    items, nxt = await call(
        request, p, lambda ctx: groups.list_members(ctx, group_id=groupId, limit=limit, after=qp.get("after"))
    )
    return paged(request, items, nxt)


@router.put("/api/v1/groups/{groupId}/users/{userId}", operation_id="assignUserToGroup")
async def assign_user(request: Request, groupId: str, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: groups.add_member(ctx, group_id=groupId, user_id=userId))
    return no_content()


@router.delete("/api/v1/groups/{groupId}/users/{userId}", operation_id="unassignUserFromGroup")
async def unassign_user(request: Request, groupId: str, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: groups.remove_member(ctx, group_id=groupId, user_id=userId))
    return no_content()


@router.get("/api/v1/groups/{groupId}/owners", operation_id="listGroupOwners")
async def list_group_owners(request: Request, groupId: str) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"),
        default=constants.GROUP_OWNERS_DEFAULT_LIMIT,
        maximum=constants.GROUP_OWNERS_DEFAULT_LIMIT,
    )
    items, nxt = await call(
        request,
        p,
        lambda ctx: groups.list_owners(
            ctx, group_id=groupId, search=qp.get("search"), limit=limit, after=qp.get("after")
        ),
    )
    return paged(request, items, nxt)


@router.post("/api/v1/groups/{groupId}/owners", operation_id="assignGroupOwner")
async def assign_group_owner(request: Request, groupId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    owner = await call(request, p, lambda ctx: groups.assign_owner(ctx, group_id=groupId, body=body))
    return okta_json(owner, status=201)


@router.delete("/api/v1/groups/{groupId}/owners/{ownerId}", operation_id="deleteGroupOwner")
async def delete_group_owner(request: Request, groupId: str, ownerId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: groups.delete_owner(ctx, group_id=groupId, owner_id=ownerId))
    return no_content()
