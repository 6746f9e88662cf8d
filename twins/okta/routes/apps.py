"""Apps, app users and app group assignments (`/api/v1/apps/...`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta import constants
from twins.okta.dependencies import authenticate, call, json_body, no_content, okta_json, query_bool
from twins.okta.routes.common import paged
from twins.okta.service import app_credentials, apps, common

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
            ctx,
            q=qp.get("q"),
            filter_=qp.get("filter"),
            limit=limit,
            after=qp.get("after"),
            expand=qp.get("expand"),
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


# -- credentials: client secrets, signing keys, SAML metadata -------------------------------------


@router.get("/api/v1/apps/{appId}/credentials/secrets", operation_id="listOAuth2ClientSecrets")
async def list_client_secrets(request: Request, appId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(await call(request, p, lambda ctx: app_credentials.list_secrets(ctx, app_id=appId)))


@router.post("/api/v1/apps/{appId}/credentials/secrets", operation_id="createOAuth2ClientSecret")
async def create_client_secret(request: Request, appId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request, required=False)
    secret = await call(request, p, lambda ctx: app_credentials.create_secret(ctx, app_id=appId, body=body))
    return okta_json(secret, status=201)


@router.get("/api/v1/apps/{appId}/credentials/secrets/{secretId}", operation_id="getOAuth2ClientSecret")
async def get_client_secret(request: Request, appId: str, secretId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(
        await call(request, p, lambda ctx: app_credentials.get_secret(ctx, app_id=appId, secret_id=secretId))
    )


@router.delete("/api/v1/apps/{appId}/credentials/secrets/{secretId}", operation_id="deleteOAuth2ClientSecret")
async def delete_client_secret(request: Request, appId: str, secretId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: app_credentials.delete_secret(ctx, app_id=appId, secret_id=secretId))
    return no_content()


@router.post(
    "/api/v1/apps/{appId}/credentials/secrets/{secretId}/lifecycle/activate",
    operation_id="activateOAuth2ClientSecret",
)
async def activate_client_secret(request: Request, appId: str, secretId: str) -> Response:
    p = await authenticate(request, MANAGE)
    return okta_json(
        await call(
            request,
            p,
            lambda ctx: app_credentials.set_secret_status(ctx, app_id=appId, secret_id=secretId, active=True),
        )
    )


@router.post(
    "/api/v1/apps/{appId}/credentials/secrets/{secretId}/lifecycle/deactivate",
    operation_id="deactivateOAuth2ClientSecret",
)
async def deactivate_client_secret(request: Request, appId: str, secretId: str) -> Response:
    p = await authenticate(request, MANAGE)
    return okta_json(
        await call(
            request,
            p,
            lambda ctx: app_credentials.set_secret_status(
                ctx, app_id=appId, secret_id=secretId, active=False
            ),
        )
    )


@router.get("/api/v1/apps/{appId}/credentials/keys", operation_id="listApplicationKeys")
async def list_app_keys(request: Request, appId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(await call(request, p, lambda ctx: app_credentials.list_keys(ctx, app_id=appId)))


@router.get("/api/v1/apps/{appId}/credentials/keys/{keyId}", operation_id="getApplicationKey")
async def get_app_key(request: Request, appId: str, keyId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(
        await call(request, p, lambda ctx: app_credentials.get_key(ctx, app_id=appId, kid=keyId))
    )


@router.get("/api/v1/apps/{appId}/sso/saml/metadata", operation_id="previewSAMLmetadataForApplication")
async def saml_metadata(request: Request, appId: str) -> Response:
    p = await authenticate(request, READ)
    kid = request.query_params.get("kid")
    xml = await call(request, p, lambda ctx: app_credentials.saml_metadata(ctx, app_id=appId, kid=kid))
    return Response(xml, media_type="application/xml")


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
