"""Users, user lifecycle, user credentials and the user schema."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta import constants
from twins.okta.dependencies import (
    Principal,
    authenticate,
    call,
    json_body,
    no_content,
    okta_json,
    query_bool,
)
from twins.okta.errors import not_found
from twins.okta.routes.common import paged
from twins.okta.service import common, groups, users

router = APIRouter()
READ, MANAGE = "okta.users.read", "okta.users.manage"
SELF_READ, SELF_MANAGE = "okta.users.read.self", "okta.users.manage.self"


@router.post("/api/v1/users", operation_id="createUser")
async def create_user(request: Request) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    activate = query_bool(request, "activate", True)
    provider = query_bool(request, "provider", False)
    next_login = request.query_params.get("nextLogin")
    user = await call(
        request,
        p,
        lambda ctx: users.create_user(
            ctx, body=body, activate=bool(activate), provider=bool(provider), next_login=next_login
        ),
    )
    return okta_json(user)


@router.get("/api/v1/users", operation_id="listUsers")
async def list_users(request: Request) -> Response:
    p = await authenticate(request, READ)
    qp = request.query_params
    q = qp.get("q")
    default = (
        constants.USERS_Q_DEFAULT_LIMIT
        if q and not (qp.get("filter") or qp.get("search"))
        else constants.USERS_DEFAULT_LIMIT
    )
    limit = common.parse_limit(qp.get("limit"), default=default, maximum=constants.USERS_MAX_LIMIT)
    items, nxt = await call(
        request,
        p,
        lambda ctx: users.list_users(
            ctx,
            q=q,
            filter_=qp.get("filter"),
            search=qp.get("search"),
            limit=limit,
            after=qp.get("after"),
            sort_by=qp.get("sortBy"),
            sort_order=qp.get("sortOrder"),
        ),
    )
    return paged(request, items, nxt)


def _me(p: Principal, id: str) -> str:
    """`me` is the caller: the API token's admin, or the user an access token was issued to
    (a client-credentials token has no user: E0000007, as Okta answers)."""
    if id != "me":
        return id
    if p.user_id is None:
        raise not_found("me", "User")
    return p.user_id


@router.get("/api/v1/users/{id}", operation_id="getUser")
async def get_user(request: Request, id: str) -> Response:
    # https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
    # `me` needs `okta.users.read.self` (or `okta.users.read`) on an access token.
    p = await authenticate(request, READ, *((SELF_READ,) if id == "me" else ()))
    uid = _me(p, id)
    return okta_json(await call(request, p, lambda ctx: users.get_user(ctx, user_id=uid)))


@router.post("/api/v1/users/{id}", operation_id="updateUser")
async def update_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE, *((SELF_MANAGE,) if id == "me" else ()))
    id = _me(p, id)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: users.update_user(ctx, user_id=id, body=body, partial=True))
    )


@router.put("/api/v1/users/{id}", operation_id="replaceUser")
async def replace_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: users.update_user(ctx, user_id=id, body=body, partial=False))
    )


@router.delete("/api/v1/users/{id}", operation_id="deleteUser")
async def delete_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: users.delete_user(ctx, user_id=id))
    return no_content()


@router.get("/api/v1/users/{id}/groups", operation_id="listUserGroups")
async def list_user_groups(request: Request, id: str) -> Response:
    p = await authenticate(request, READ)
    items = await call(request, p, lambda ctx: groups.list_user_groups(ctx, user_id=id))
    return paged(request, items, None)


@router.delete("/api/v1/users/{userId}/sessions", operation_id="revokeUserSessions")
async def revoke_user_sessions(request: Request, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    oauth_tokens = bool(query_bool(request, "oauthTokens", False))
    query_bool(request, "forgetDevices", True)
    await call(request, p, lambda ctx: users.clear_sessions(ctx, user_id=userId, oauth_tokens=oauth_tokens))
    return no_content()


@router.post("/api/v1/users/{id}/lifecycle/activate", operation_id="activateUser")
async def activate_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    send = bool(query_bool(request, "sendEmail", True))
    return okta_json(await call(request, p, lambda ctx: users.activate(ctx, user_id=id, send_email=send)))


@router.post("/api/v1/users/{id}/lifecycle/reactivate", operation_id="reactivateUser")
async def reactivate_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    send = bool(query_bool(request, "sendEmail", False))
    return okta_json(await call(request, p, lambda ctx: users.reactivate(ctx, user_id=id, send_email=send)))


@router.post("/api/v1/users/{id}/lifecycle/deactivate", operation_id="deactivateUser")
async def deactivate_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: users.deactivate(ctx, user_id=id))
    return okta_json({})


@router.post("/api/v1/users/{id}/lifecycle/suspend", operation_id="suspendUser")
async def suspend_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: users.suspend(ctx, user_id=id))
    return okta_json({})


@router.post("/api/v1/users/{id}/lifecycle/unsuspend", operation_id="unsuspendUser")
async def unsuspend_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: users.unsuspend(ctx, user_id=id))
    return okta_json({})


@router.post("/api/v1/users/{id}/lifecycle/unlock", operation_id="unlockUser")
async def unlock_user(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: users.unlock(ctx, user_id=id))
    return okta_json({})


@router.post("/api/v1/users/{id}/lifecycle/reset_factors", operation_id="resetFactors")
async def reset_factors(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: users.reset_factors(ctx, user_id=id))
    return okta_json({})


@router.post("/api/v1/users/{id}/lifecycle/expire_password", operation_id="expirePassword")
async def expire_password(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    return okta_json(await call(request, p, lambda ctx: users.expire_password(ctx, user_id=id)))


@router.post(
    "/api/v1/users/{id}/lifecycle/expire_password_with_temp_password",
    operation_id="expirePasswordWithTempPassword",
)
async def expire_password_temp(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    revoke = bool(query_bool(request, "revokeSessions", False))
    return okta_json(
        await call(
            request,
            p,
            lambda ctx: users.expire_password(ctx, user_id=id, temp_password=True, revoke_sessions=revoke),
        )
    )


@router.post("/api/v1/users/{id}/lifecycle/reset_password", operation_id="resetPassword")
async def reset_password(request: Request, id: str) -> Response:
    p = await authenticate(request, MANAGE)
    send = bool(query_bool(request, "sendEmail", True))
    revoke = bool(query_bool(request, "revokeSessions", False))
    return okta_json(
        await call(
            request,
            p,
            lambda ctx: users.reset_password(ctx, user_id=id, send_email=send, revoke_sessions=revoke),
        )
    )


@router.post("/api/v1/users/{userId}/credentials/change_password", operation_id="changePassword")
async def change_password(request: Request, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: users.change_password(ctx, user_id=userId, body=body))
    )


@router.post("/api/v1/users/{userId}/credentials/forgot_password", operation_id="forgotPassword")
async def forgot_password(request: Request, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request, required=False)
    send = bool(query_bool(request, "sendEmail", True))
    return okta_json(
        await call(
            request,
            p,
            lambda ctx: users.forgot_password(ctx, user_id=userId, send_email=send, body=body or None),
        )
    )


@router.post(
    "/api/v1/users/{userId}/credentials/forgot_password_recovery_question",
    operation_id="forgotPasswordSetNewPassword",
)
async def forgot_password_set_new_password(request: Request, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    query_bool(request, "sendEmail", True)
    return okta_json(
        await call(
            request, p, lambda ctx: users.forgot_password_set_new_password(ctx, user_id=userId, body=body)
        )
    )


@router.post(
    "/api/v1/users/{userId}/credentials/change_recovery_question", operation_id="changeRecoveryQuestion"
)
async def change_recovery_question(request: Request, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: users.change_recovery_question(ctx, user_id=userId, body=body))
    )


@router.get("/api/v1/meta/schemas/user/{schemaId}", operation_id="getUserSchema")
async def get_user_schema(request: Request, schemaId: str) -> Response:
    p = await authenticate(request, "okta.schemas.read")
    _default_schema(schemaId)
    return okta_json(await call(request, p, users.get_schema))


@router.post("/api/v1/meta/schemas/user/{schemaId}", operation_id="updateUserProfile")
async def update_user_schema(request: Request, schemaId: str) -> Response:
    p = await authenticate(request, "okta.schemas.manage")
    _default_schema(schemaId)
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: users.update_schema(ctx, body=body)))


def _default_schema(schema_id: str) -> None:
    from twins.okta.errors import not_found

    if schema_id not in ("default", users.DEFAULT_TYPE):
        raise not_found(schema_id, "UserSchema")
