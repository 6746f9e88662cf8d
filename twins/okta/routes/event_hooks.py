"""Event hooks (`/api/v1/eventHooks/...`).

Verification runs its HTTP handshake between two units of work, never inside a transaction:
read the hook and mint a challenge, GET the hook URI through the delivery engine (journaled
as an `event_hook_verification` delivery), then record the outcome.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dtu.delivery import Delivery
from dtu.runtime import TwinRuntime
from twins.okta import constants
from twins.okta.dependencies import authenticate, call, json_body, no_content, okta_json
from twins.okta.routes.common import paged
from twins.okta.service import event_hooks

router = APIRouter()
READ, MANAGE = "okta.eventHooks.read", "okta.eventHooks.manage"


@router.post("/api/v1/eventHooks", operation_id="createEventHook")
async def create_event_hook(request: Request) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(await call(request, p, lambda ctx: event_hooks.create_hook(ctx, body=body)))


@router.get("/api/v1/eventHooks", operation_id="listEventHooks")
async def list_event_hooks(request: Request) -> Response:
    p = await authenticate(request, READ)
    return paged(request, await call(request, p, event_hooks.list_hooks), None)


@router.get("/api/v1/eventHooks/{eventHookId}", operation_id="getEventHook")
async def get_event_hook(request: Request, eventHookId: str) -> Response:
    p = await authenticate(request, READ)
    return okta_json(await call(request, p, lambda ctx: event_hooks.get_hook(ctx, hook_id=eventHookId)))


@router.put("/api/v1/eventHooks/{eventHookId}", operation_id="replaceEventHook")
async def replace_event_hook(request: Request, eventHookId: str) -> Response:
    p = await authenticate(request, MANAGE)
    body = await json_body(request)
    return okta_json(
        await call(request, p, lambda ctx: event_hooks.replace_hook(ctx, hook_id=eventHookId, body=body))
    )


@router.delete("/api/v1/eventHooks/{eventHookId}", operation_id="deleteEventHook")
async def delete_event_hook(request: Request, eventHookId: str) -> Response:
    p = await authenticate(request, MANAGE)
    await call(request, p, lambda ctx: event_hooks.delete_hook(ctx, hook_id=eventHookId))
    return no_content()


@router.post("/api/v1/eventHooks/{eventHookId}/lifecycle/activate", operation_id="activateEventHook")
async def activate_event_hook(request: Request, eventHookId: str) -> Response:
    p = await authenticate(request, MANAGE)
    return okta_json(
        await call(request, p, lambda ctx: event_hooks.set_status(ctx, hook_id=eventHookId, active=True))
    )


@router.post("/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", operation_id="deactivateEventHook")
async def deactivate_event_hook(request: Request, eventHookId: str) -> Response:
    p = await authenticate(request, MANAGE)
    return okta_json(
        await call(request, p, lambda ctx: event_hooks.set_status(ctx, hook_id=eventHookId, active=False))
    )


@router.post("/api/v1/eventHooks/{eventHookId}/lifecycle/verify", operation_id="verifyEventHook")
async def verify_event_hook(request: Request, eventHookId: str) -> Response:
    p = await authenticate(request, MANAGE)
    runtime: TwinRuntime = request.app.state.dtu
    plan = await call(request, p, lambda ctx: event_hooks.plan_verification(ctx, hook_id=eventHookId))
    status: int | None = None
    body: str | None = None
    if not plan.timeout:
        delivery = Delivery(
            tenant=p.tenant,
            kind="event_hook_verification",
            target=plan.uri,
            body=b"",
            method="GET",
            sign=lambda _b, _t: dict(plan.headers),
            timeout_s=constants.EVENT_HOOK_TIMEOUT_S,
            meta={"type": "event_hook_verification", "hook": plan.hook_id},
        )
        attempt = await runtime.deliveries.send_now(delivery)
        status, body = attempt.status, attempt.response_body
    ok = event_hooks.answered(plan, status, body)
    return okta_json(
        await call(request, p, lambda ctx: event_hooks.finish_verification(ctx, challenge=plan, ok=ok))
    )
