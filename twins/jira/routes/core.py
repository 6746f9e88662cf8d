"""Server info, myself, users and groups."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from twins.jira.dependencies import body_object, int_param, multi, run
from twins.jira.routes.common import API, api_router
from twins.jira.service import users

router = api_router()


@router.get(API + "/serverInfo", operation_id="getServerInfo")
async def get_server_info(request: Request) -> Response:
    return await run(request, users.server_info)


@router.get(API + "/myself", operation_id="getCurrentUser")
async def get_current_user(request: Request) -> Response:
    return await run(request, lambda ctx: users.myself(ctx, expand=multi(request, "expand")))


@router.get(API + "/user", operation_id="getUser")
async def get_user(request: Request) -> Response:
    return await run(
        request, lambda ctx: users.get_user(ctx, account_id=request.query_params.get("accountId"))
    )


@router.get(API + "/user/search", operation_id="findUsers")
async def find_users(request: Request) -> Response:
    q = request.query_params
    return await run(
        request,
        lambda ctx: users.search_users(
            ctx,
            query=q.get("query", q.get("username")),
            account_id=q.get("accountId"),
            start_at=int_param(request, "startAt", 0) or 0,
            max_results=int_param(request, "maxResults", 50) or 50,
        ),
    )


@router.get(API + "/user/assignable/search", operation_id="findAssignableUsers")
async def find_assignable_users(request: Request) -> Response:
    q = request.query_params
    return await run(
        request,
        lambda ctx: users.assignable_users(
            ctx,
            project=q.get("project"),
            issue_key=q.get("issueKey") or q.get("issueId"),
            query=q.get("query", q.get("username")),
            start_at=int_param(request, "startAt", 0) or 0,
            max_results=int_param(request, "maxResults", 50) or 50,
        ),
    )


@router.get(API + "/user/bulk", operation_id="bulkGetUsers")
async def bulk_get_users(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: users.bulk_users(
            ctx,
            account_ids=multi(request, "accountId") or [],
            start_at=int_param(request, "startAt", 0) or 0,
            max_results=int_param(request, "maxResults", 10) or 10,
        ),
    )


@router.get(API + "/users/search", operation_id="getAllUsers")
async def get_all_users(request: Request) -> Response:
    return await run(
        request,
        lambda ctx: users.all_users(
            ctx,
            start_at=int_param(request, "startAt", 0) or 0,
            max_results=int_param(request, "maxResults", 50) or 50,
        ),
    )


@router.get(API + "/group/member", operation_id="getUsersFromGroup")
async def get_users_from_group(request: Request) -> Response:
    q = request.query_params
    return await run(
        request,
        lambda ctx: users.group_members(
            ctx,
            name=q.get("groupname"),
            group_id=q.get("groupId"),
            start_at=int_param(request, "startAt", 0) or 0,
            max_results=int_param(request, "maxResults", 50) or 50,
        ),
    )


@router.post(API + "/group", operation_id="createGroup")
async def create_group(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: users.create_group(ctx, name=data.get("name")), status=201)


@router.post(API + "/group/user", operation_id="addUserToGroup")
async def add_user_to_group(request: Request) -> Response:
    data = await body_object(request)
    q = request.query_params
    return await run(
        request,
        lambda ctx: users.add_user_to_group(
            ctx, name=q.get("groupname"), group_id=q.get("groupId"), account_id=data.get("accountId")
        ),
        status=201,
    )


@router.delete(API + "/group/user", operation_id="removeUserFromGroup")
async def remove_user_from_group(request: Request) -> Response:
    q = request.query_params
    return await run(
        request,
        lambda ctx: users.remove_user_from_group(
            ctx, name=q.get("groupname"), group_id=q.get("groupId"), account_id=q.get("accountId")
        ),
    )
