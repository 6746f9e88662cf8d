"""Webhook registration: dynamic (`/rest/api/{2,3}/webhook`) and admin (`/rest/webhooks/1.0`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twins.jira.dependencies import body_object, int_param, run
from twins.jira.routes.common import API, api_router
from twins.jira.service import webhooks

router = api_router()
admin = APIRouter()
ADMIN = "/rest/webhooks/1.0/webhook"


@router.post(API + "/webhook", operation_id="registerDynamicWebhooks")
async def register_dynamic_webhooks(request: Request) -> Response:
    data = await body_object(request)
    return await run(
        request,
        lambda ctx: webhooks.register_dynamic(ctx, url=data.get("url"), webhooks=data.get("webhooks")),
    )


@router.get(API + "/webhook", operation_id="getDynamicWebhooksForApp")
async def get_dynamic_webhooks(request: Request) -> Response:
    start = max(0, int_param(request, "startAt", 0) or 0)
    size = int_param(request, "maxResults", 100) or 100
    return await run(
        request, lambda ctx: webhooks.list_dynamic(ctx, start_at=start, max_results=min(max(size, 1), 100))
    )


@router.get(API + "/webhook/failed", operation_id="getFailedWebhooks")
async def get_failed_webhooks(request: Request) -> Response:
    after = int_param(request, "after")
    if after is None:
        after = int_param(request, "failedAfter")  # the spelling of the `next` links
    size = int_param(request, "maxResults")
    return await run(request, lambda ctx: webhooks.failed_webhooks(ctx, max_results=size, after=after))


@router.delete(API + "/webhook", operation_id="deleteWebhookById")
async def delete_webhooks(request: Request) -> Response:
    data = await body_object(request)
    await run(request, lambda ctx: webhooks.delete_dynamic(ctx, webhook_ids=data.get("webhookIds")))
    return Response(status_code=202)


@router.put(API + "/webhook/refresh", operation_id="refreshWebhooks")
async def refresh_webhooks(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: webhooks.refresh_dynamic(ctx, webhook_ids=data.get("webhookIds")))


@admin.get(ADMIN, operation_id="getAdminWebhooks")
async def get_admin_webhooks(request: Request) -> Response:
    return await run(request, webhooks.list_admin)


@admin.post(ADMIN, operation_id="createAdminWebhook")
async def create_admin_webhook(request: Request) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: webhooks.create_admin(ctx, data=data), status=201)


@admin.get(ADMIN + "/{webhook_id}", operation_id="getAdminWebhook")
async def get_admin_webhook(request: Request, webhook_id: str) -> Response:
    return await run(request, lambda ctx: webhooks.get_admin(ctx, webhook_id=webhook_id))


@admin.put(ADMIN + "/{webhook_id}", operation_id="updateAdminWebhook")
async def update_admin_webhook(request: Request, webhook_id: str) -> Response:
    data = await body_object(request)
    return await run(request, lambda ctx: webhooks.update_admin(ctx, webhook_id=webhook_id, data=data))


@admin.delete(ADMIN + "/{webhook_id}", operation_id="deleteAdminWebhook")
async def delete_admin_webhook(request: Request, webhook_id: str) -> Response:
    return await run(request, lambda ctx: webhooks.delete_admin(ctx, webhook_id=webhook_id))


router.routes.extend(admin.routes)
