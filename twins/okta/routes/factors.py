"""A user's MFA factors (`/api/v1/users/{userId}/factors/...`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.okta.dependencies import authenticate, call, json_body, no_content, okta_json, query_bool
from twins.okta.routes.common import paged
from twins.okta.service import factors

router = APIRouter()
READ, MANAGE = "okta.users.read", "okta.users.manage"


@router.post("/api/v1/users/{userId}/factors", operation_id="enrollFactor")
async def enroll_factor(request: Request, userId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    activate = bool(query_bool(request, "activate", False))
    return okta_json(
        await call(request, p, lambda ctx: factors.enroll(ctx, user_id=userId, body=body, activate=activate))
    )


@router.get("/api/v1/users/{userId}/factors", operation_id="listFactors")
async def list_factors(request: Request, userId: str) -> Response:
    p = await authenticate(request, READ)
    return paged(request, await call(request, p, lambda ctx: factors.list_factors(ctx, user_id=userId)), None)


@router.get("/api/v1/users/{userId}/factors/{factorId}", operation_id="getFactor")
async def get_factor(request: Request, userId: str, factorId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(
        await call(request, p, lambda ctx: factors.get_factor(ctx, user_id=userId, factor_id=factorId))
    )


@router.delete("/api/v1/users/{userId}/factors/{factorId}", operation_id="unenrollFactor")
async def unenroll_factor(request: Request, userId: str, factorId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: factors.unenroll(ctx, user_id=userId, factor_id=factorId))
    return no_content()


@router.post("/api/v1/users/{userId}/factors/{factorId}/lifecycle/activate", operation_id="activateFactor")
async def activate_factor(request: Request, userId: str, factorId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request, required=False)
    return okta_json(
        await call(
            request, p, lambda ctx: factors.activate(ctx, user_id=userId, factor_id=factorId, body=body)
        )
    )


@router.post("/api/v1/users/{userId}/factors/{factorId}/verify", operation_id="verifyFactor")
async def verify_factor(request: Request, userId: str, factorId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request, required=False)
    return okta_json(
        await call(request, p, lambda ctx: factors.verify(ctx, user_id=userId, factor_id=factorId, body=body))
    )
