"""Primary authentication (`/api/v1/authn`) and sessions (`/api/v1/sessions`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.context import TwinContext
from dtu.runtime import TwinRuntime
from twins.okta.dependencies import anonymous, authenticate, call, json_body, no_content, okta_json
from twins.okta.errors import InvalidToken
from twins.okta.service import authn

router = APIRouter()


@router.post("/api/v1/authn", operation_id="authenticate")
async def primary_authn(request: Request) -> Response:
    # The Authn API is public: the org is the one the request reaches. With one twin serving
    # many orgs, an API token (optional, as for trusted apps) picks the org; none means the default.
    tenant = "default"
    body = await json_body(request)
    if request.headers.get("authorization"):
        tenant = (await authenticate(request)).tenant
    elif isinstance(body.get("token"), str) and body["token"]:
        tenant = await _user_token_tenant(request, body["token"]) or tenant
    return okta_json(
        await call(request, anonymous(request, tenant), lambda ctx: authn.primary_authn(ctx, body=body))
    )


async def _user_token_tenant(request: Request, token: str) -> str | None:
    """The org that issued an activation or recovery token (its link reaches that org)."""
    runtime: TwinRuntime = request.app.state.dtu
    found: str | None = await runtime.store.run(lambda conn: authn.tenant_of_user_token(conn, token))
    return found


async def _state_tenant(request: Request, body: dict[str, Any]) -> str:
    """The org that issued the body's state token (E0000011 for none or an unknown one)."""
    token = body.get("stateToken")
    runtime: TwinRuntime = request.app.state.dtu
    tenant = (
        await runtime.store.run(lambda conn: authn.tenant_of_state_token(conn, token))
        if isinstance(token, str) and token
        else None
    )
    if tenant is None:
        raise InvalidToken()
    return tenant


async def _in_transaction(
    request: Request, step: Callable[[TwinContext, dict[str, Any]], dict[str, Any]]
) -> Response:
    """A step of an Authn transaction: the body's state token names the org, `step` answers."""
    body = await json_body(request)
    tenant = await _state_tenant(request, body)
    return okta_json(await call(request, anonymous(request, tenant), lambda ctx: step(ctx, body)))


@router.post("/api/v1/authn/factors/{factorId}/verify", operation_id="verifyAuthnFactor")
async def verify_authn_factor(request: Request, factorId: str) -> Response:
    return await _in_transaction(
        request, lambda ctx, body: authn.verify_factor(ctx, factor_id=factorId, body=body)
    )


@router.post("/api/v1/authn/factors", operation_id="enrollAuthnFactor")
async def enroll_authn_factor(request: Request) -> Response:
    return await _in_transaction(request, lambda ctx, body: authn.enroll_factor(ctx, body=body))


@router.post("/api/v1/authn/factors/{factorId}/lifecycle/activate", operation_id="activateAuthnFactor")
async def activate_authn_factor(request: Request, factorId: str) -> Response:
    return await _in_transaction(
        request, lambda ctx, body: authn.activate_factor(ctx, factor_id=factorId, body=body)
    )


@router.post("/api/v1/authn/previous", operation_id="previousAuthnStep")
async def previous_authn_step(request: Request) -> Response:
    return await _in_transaction(request, lambda ctx, body: authn.previous(ctx, body=body))


@router.post("/api/v1/authn/cancel", operation_id="cancelTransaction")
async def cancel_transaction(request: Request) -> Response:
    return await _in_transaction(request, lambda ctx, body: authn.cancel(ctx, body=body))


@router.post("/api/v1/authn/credentials/change_password", operation_id="changePasswordAuthn")
async def change_expired_password(request: Request) -> Response:
    return await _in_transaction(request, lambda ctx, body: authn.change_expired_password(ctx, body=body))


@router.post("/api/v1/authn/recovery/token", operation_id="verifyRecoveryToken")
async def verify_recovery_token(request: Request) -> Response:
    body = await json_body(request)
    token = body.get("recoveryToken")
    tenant = "default"
    if isinstance(token, str) and token:
        tenant = await _user_token_tenant(request, token) or tenant
    return okta_json(
        await call(
            request, anonymous(request, tenant), lambda ctx: authn.verify_recovery_token(ctx, body=body)
        )
    )


@router.post("/api/v1/authn/recovery/answer", operation_id="answerRecoveryQuestion")
async def answer_recovery_question(request: Request) -> Response:
    return await _in_transaction(request, lambda ctx, body: authn.answer_recovery_question(ctx, body=body))


@router.post("/api/v1/authn/credentials/reset_password", operation_id="resetPasswordAuthn")
async def reset_password(request: Request) -> Response:
    return await _in_transaction(request, lambda ctx, body: authn.reset_password(ctx, body=body))


@router.post("/api/v1/sessions", operation_id="createSession")
async def create_session(request: Request) -> Response:
    p = await authenticate(request, "okta.sessions.manage")
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: authn.create_session(ctx, body=body)))


@router.get("/api/v1/sessions/{sessionId}", operation_id="getSession")
async def get_session(request: Request, sessionId: str) -> Response:
    p = await authenticate(request, "okta.sessions.read")
    return okta_json(await call(request, p, lambda ctx: authn.get_session(ctx, session_id=sessionId)))


@router.post("/api/v1/sessions/{sessionId}/lifecycle/refresh", operation_id="refreshSession")
async def refresh_session(request: Request, sessionId: str) -> Response:
    p = await authenticate(request, "okta.sessions.manage")
    return okta_json(await call(request, p, lambda ctx: authn.refresh_session(ctx, session_id=sessionId)))


@router.delete("/api/v1/sessions/{sessionId}", operation_id="revokeSession")
async def revoke_session(request: Request, sessionId: str) -> Response:
    p = await authenticate(request, "okta.sessions.manage")
    await call(request, p, lambda ctx: authn.close_session(ctx, session_id=sessionId))
    return no_content()
