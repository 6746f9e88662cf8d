"""Apps, app users and app group assignments (`/api/v1/apps/...`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta import constants
from twins.okta.dependencies import authenticate, call, json_body, no_content, okta_json, query_bool
from twins.okta.routes.common import paged
from twins.okta.service import apps, common

router = APIRouter()
READ, MANAGE = "okta.apps.read", "okta.apps.manage"


@router.post("/api/v1/apps", operation_id="createApplication")
async def create_application(request: Request) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    activate = bool(query_bool(request, "activate", True))
    return okta_json(await call(request, p, lambda ctx: apps.create_app(ctx, body=body, activate=activate)))


@router.get("/api/v1/apps", operation_id="listApplications")
async def list_applications(request: Request) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"), default=constants.APPS_DEFAULT_LIMIT, maximum=constants.APPS_MAX_LIMIT
    )
    items, nxt = await call(
        request,
        p,
        lambda ctx: apps.list_apps(
            ctx, q=qp.get("q"), filter_=qp.get("filter"), limit=limit, after=qp.get("after")
        ),
    )
    return paged(request, items, nxt)


@router.get("/api/v1/apps/{appId}", operation_id="getApplication")
async def get_application(request: Request, appId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(await call(request, p, lambda ctx: apps.get_app(ctx, app_id=appId)))


@router.put("/api/v1/apps/{appId}", operation_id="replaceApplication")
async def replace_application(request: Request, appId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: apps.replace_app(ctx, app_id=appId, body=body)))


@router.delete("/api/v1/apps/{appId}", operation_id="deleteApplication")
async def delete_application(request: Request, appId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: apps.delete_app(ctx, app_id=appId))
    return no_content()


@router.post("/api/v1/apps/{appId}/lifecycle/activate", operation_id="activateApplication")
async def activate_application(request: Request, appId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: apps.set_status(ctx, app_id=appId, active=True))
    return okta_json({})


@router.post("/api/v1/apps/{appId}/lifecycle/deactivate", operation_id="deactivateApplication")
async def deactivate_application(request: Request, appId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: apps.set_status(ctx, app_id=appId, active=False))
    return okta_json({})


# -- app users ------------------------------------------------------------------------------------


@router.post("/api/v1/apps/{appId}/users", operation_id="assignUserToApplication")
async def assign_user(request: Request, appId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: apps.assign_user(ctx, app_id=appId, body=body)))


@router.get("/api/v1/apps/{appId}/users", operation_id="listApplicationUsers")
async def list_app_users(request: Request, appId: str) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"), default=constants.APP_USERS_DEFAULT_LIMIT, maximum=constants.APP_USERS_MAX_LIMIT
    )
    expand = qp.get("expand") == "user"
    items, nxt = await call(
        request,
        p,
        lambda ctx: apps.list_app_users(
            ctx, app_id=appId, q=qp.get("q"), limit=limit, after=qp.get("after"), expand_user=expand
        ),
    )
    return paged(request, items, nxt)


@router.get("/api/v1/apps/{appId}/users/{userId}", operation_id="getApplicationUser")
async def get_app_user(request: Request, appId: str, userId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(await call(request, p, lambda ctx: apps.get_app_user(ctx, app_id=appId, user_id=userId)))


@router.post("/api/v1/apps/{appId}/users/{userId}", operation_id="updateApplicationUser")
async def update_app_user(request: Request, appId: str, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: apps.update_app_user(ctx, app_id=appId, user_id=userId, body=body))
    )


@router.delete("/api/v1/apps/{appId}/users/{userId}", operation_id="unassignUserFromApplication")
async def unassign_user(request: Request, appId: str, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: apps.unassign_user(ctx, app_id=appId, user_id=userId))
    return no_content()


# -- app groups -----------------------------------------------------------------------------------


@router.put("/api/v1/apps/{appId}/groups/{groupId}", operation_id="assignGroupToApplication")
async def assign_group(request: Request, appId: str, groupId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request, required=False)
    return okta_json(
        await call(request, p, lambda ctx: apps.assign_group(ctx, app_id=appId, group_id=groupId, body=body))
    )


@router.get("/api/v1/apps/{appId}/groups", operation_id="listApplicationGroupAssignments")
async def list_app_groups(request: Request, appId: str) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    limit = common.parse_limit(
        qp.get("limit"), default=constants.APPS_DEFAULT_LIMIT, maximum=constants.APPS_MAX_LIMIT
    )
    items, nxt = await call(
        request,
        p,
        lambda ctx: apps.list_group_assignments(
            ctx, app_id=appId, q=qp.get("q"), limit=limit, after=qp.get("after")
        ),
    )
    return paged(request, items, nxt)


@router.get("/api/v1/apps/{appId}/groups/{groupId}", operation_id="getApplicationGroupAssignment")
async def get_app_group(request: Request, appId: str, groupId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(
        await call(request, p, lambda ctx: apps.get_group_assignment(ctx, app_id=appId, group_id=groupId))
    )


@router.delete("/api/v1/apps/{appId}/groups/{groupId}", operation_id="unassignApplicationFromGroup")
async def unassign_group(request: Request, appId: str, groupId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: apps.unassign_group(ctx, app_id=appId, group_id=groupId))
    return no_content()


@router.get("/api/v1/groups/{groupId}/apps", operation_id="listAssignedApplicationsForGroup")
async def list_group_apps(request: Request, groupId: str) -> Response:
    p = await authenticate(request, "okta.groups.read")
    items = await call(request, p, lambda ctx: apps.list_group_apps(ctx, group_id=groupId))
    return paged(request, items, None)
