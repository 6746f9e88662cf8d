"""What people do in the Slack client that has no Web API method, and the public URLs Slack
hands out.

Control plane (`/_dtu/slack/...`, loopback or admin token): a simulated person runs a slash
command, clicks an element of a message or a view, submits or closes a modal. The twin sends
the app exactly what Slack sends (signed, form-encoded, 3 s to answer), applies the app's
synchronous answer as Slack does, and tells the caller what happened.

    POST /_dtu/slack/commands     {tenant, user, channel, command, text}
    POST /_dtu/slack/actions      {tenant, user, channel, message_ts | view_id, action_id, block_id?,
                                   value? | selected_option? | selected_options? | selected_user? ..., values?}
    POST /_dtu/slack/views/submit {tenant, user, view_id, values: {block_id: {action_id: {...}}}}
    POST /_dtu/slack/views/close  {tenant, user, view_id, clear?}
    POST /_dtu/slack/webhooks     {tenant, channel, app?, user?}  -> an incoming webhook URL

Public (no credentials but the URL itself, like hooks.slack.com): incoming webhooks
`/services/T.../B.../<secret>` and response URLs `/commands/...` and `/actions/...`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import PlainTextResponse, Response

from dtu.admin.router import ControlError, guard
from dtu.context import TwinContext
from dtu.delivery import Delivery
from dtu.errors import json_response
from dtu.runtime import TwinRuntime
from twins.slack.dependencies import base_url
from twins.slack.errors import JSON, SlackError
from twins.slack.events import signature_headers
from twins.slack.service import common, interactions
from twins.slack.service.interactions import Answer, Outbound, Refused

T = TypeVar("T")

router = APIRouter(prefix="/_dtu/slack", include_in_schema=False, dependencies=[Depends(guard)])
hooks_router = APIRouter(include_in_schema=False)

SELECTIONS = (
    "value",
    "selected_option",
    "selected_options",
    "selected_user",
    "selected_users",
    "selected_conversation",
    "selected_conversations",
    "selected_channel",
    "selected_channels",
    "selected_date",
    "selected_time",
    "selected_date_time",
)


# -- helpers -----------------------------------------------------------------------------------


def _runtime(request: Request) -> TwinRuntime:
    rt: TwinRuntime = request.app.state.dtu
    return rt


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise ControlError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body is a JSON object")
    return data


def _tenant(rt: TwinRuntime, body: dict[str, Any], request: Request) -> str:
    tenant = body.get("tenant") or request.query_params.get("tenant") or "default"
    if not isinstance(tenant, str) or not rt.tenant_exists(tenant):
        raise ControlError(404, f"no tenant {tenant!r}", "tenant")
    return tenant


async def _unit(rt: TwinRuntime, tenant: str, url: str, fn: Callable[[TwinContext], T]) -> T:
    try:
        return await rt.unit(tenant, fn, base_url=url)
    except Refused as exc:
        raise ControlError(exc.status, exc.message, exc.field) from None
    except SlackError as exc:
        raise ControlError(400, exc.slack_code) from None


async def _send(rt: TwinRuntime, tenant: str, out: Outbound) -> tuple[Delivery, Answer]:
    """POST to the app once and wait (3 s at most) for its synchronous answer."""
    delivery = Delivery(
        tenant=tenant,
        kind="interactivity",
        target=out.target,
        body=out.body,
        content_type="application/x-www-form-urlencoded",
        sign=signature_headers(out.signing_secret),
        timeout_s=interactions.INTERACTION_TIMEOUT_S,
        meta=out.meta,
    )
    attempt = await rt.deliveries.send_now(delivery)
    headers = attempt.response_headers or {}
    return delivery, Answer(
        status=attempt.status,
        error=attempt.error,
        body=attempt.response_body or "",
        content_type=headers.get("content-type", ""),
    )


def _report(delivery: Delivery, answer: Answer, out: Outbound, outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "type": out.kind,
        "delivery_id": delivery.id,
        "status": answer.status,
        "error": answer.error,
        "response": {"status": answer.status, "content_type": answer.content_type, "body": answer.body},
        "trigger_id": out.trigger_id,
        "response_url": out.response_url,
        "payload": out.payload,
        **outcome,
    }


# -- control plane: the simulated person -------------------------------------------------------


@router.post("/commands")
async def run_command(request: Request) -> Response:
    """Type `/command text` in a channel."""
    rt = _runtime(request)
    body = await _body(request)
    tenant = _tenant(rt, body, request)
    url = base_url(request, rt)
    out = await _unit(
        rt,
        tenant,
        url,
        lambda ctx: interactions.prepare_command(
            ctx,
            user=body.get("user"),
            channel=body.get("channel"),
            command=body.get("command"),
            text=body.get("text"),
        ),
    )
    delivery, answer = await _send(rt, tenant, out)
    outcome = await _unit(rt, tenant, url, lambda ctx: interactions.apply_command_answer(ctx, out, answer))
    return json_response(_report(delivery, answer, out, outcome))


@router.post("/actions")
async def click(request: Request) -> Response:
    """Click a button (or choose in a select, a date picker...) in a message or a view."""
    rt = _runtime(request)
    body = await _body(request)
    tenant = _tenant(rt, body, request)
    url = base_url(request, rt)
    given = {k: body[k] for k in SELECTIONS if k in body}
    out = await _unit(
        rt,
        tenant,
        url,
        lambda ctx: interactions.prepare_block_action(
            ctx,
            user=body.get("user"),
            channel=body.get("channel"),
            message_ts=body.get("message_ts"),
            view_id=body.get("view_id"),
            action_id=body.get("action_id"),
            block_id=body.get("block_id"),
            given=given,
            values=body.get("values"),
        ),
    )
    delivery, answer = await _send(rt, tenant, out)
    outcome = {"outcome": "acknowledged" if answer.ok else "failed"}
    if not answer.ok:
        outcome["error_shown"] = "dispatch_failed" if answer.error != "http_timeout" else "operation_timeout"
    return json_response(_report(delivery, answer, out, outcome))


@router.post("/views/submit")
async def submit_view(request: Request) -> Response:
    """Press Submit on the modal in front of the user."""
    rt = _runtime(request)
    body = await _body(request)
    tenant = _tenant(rt, body, request)
    url = base_url(request, rt)
    submission = await _unit(
        rt,
        tenant,
        url,
        lambda ctx: interactions.prepare_view_submission(
            ctx, user=body.get("user"), view_id=body.get("view_id"), values=body.get("values")
        ),
    )
    if submission.out is None:
        return json_response(
            {
                "ok": True,
                "type": "view_submission",
                "delivery_id": None,
                "outcome": "blocked",
                "errors": submission.blocked,
                "view": submission.view,
            }
        )
    out = submission.out
    delivery, answer = await _send(rt, tenant, out)
    outcome = await _unit(
        rt, tenant, url, lambda ctx: interactions.apply_view_submission_answer(ctx, out, answer)
    )
    return json_response(_report(delivery, answer, out, outcome))


@router.post("/views/close")
async def close_view(request: Request) -> Response:
    """Dismiss the modal in front of the user (Cancel, or the X with `clear: true`)."""
    rt = _runtime(request)
    body = await _body(request)
    tenant = _tenant(rt, body, request)
    url = base_url(request, rt)
    result, out = await _unit(
        rt,
        tenant,
        url,
        lambda ctx: interactions.close_view(
            ctx, user=body.get("user"), view_id=body.get("view_id"), clear=bool(body.get("clear"))
        ),
    )
    if out is None:
        return json_response({"ok": True, "type": "view_closed", "delivery_id": None, **result})
    delivery, answer = await _send(rt, tenant, out)
    return json_response(_report(delivery, answer, out, result))


@router.post("/webhooks")
async def create_webhook(request: Request) -> Response:
    """Install an incoming webhook for a channel (what the OAuth `incoming-webhook` flow does)."""
    rt = _runtime(request)
    body = await _body(request)
    tenant = _tenant(rt, body, request)
    url = base_url(request, rt)
    made = await _unit(
        rt,
        tenant,
        url,
        lambda ctx: interactions.create_incoming_webhook(
            ctx, channel=body.get("channel"), app_id=body.get("app"), user=body.get("user")
        ),
    )
    return json_response({"ok": True, "incoming_webhook": made}, 201)


# -- public hooks ------------------------------------------------------------------------------


async def _hook_payload(request: Request) -> dict[str, Any] | None:
    """A JSON body, or a form with `payload=<json>` (both are accepted by Slack's hooks)."""
    raw = await request.body()
    mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if mime == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            data = orjson.loads(form["payload"]) if "payload" in form else None
        else:
            data = orjson.loads(raw)
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


async def _locate(rt: TwinRuntime, hook_id: str, team: str) -> str | None:
    """The tenant that owns this hook, if the URL is whole."""
    hook = await rt.store.run(lambda conn: interactions.find_hook(conn, hook_id))
    if hook is None:
        return None
    tenant: str = hook.tenant_id
    team_of = await rt.store.run(lambda conn: common.team_id(rt.context(conn, tenant)))
    return tenant if team_of == team else None


@hooks_router.post("/services/{team}/{bot}/{secret}")
async def incoming_webhook(request: Request, team: str, bot: str, secret: str) -> Response:
    """An incoming webhook: "ok", or Slack's error text with its status."""
    rt = _runtime(request)
    hook_id = f"services/{bot}/{secret}"
    tenant = await _locate(rt, hook_id, team)
    if tenant is None:
        known = await rt.store.run(lambda conn: interactions.hook_family_exists(conn, f"services/{bot}/"))
        return PlainTextResponse(
            "invalid_token" if known else "no_service", status_code=403 if known else 404
        )
    payload = await _hook_payload(request)
    if payload is None:
        return PlainTextResponse("invalid_payload", status_code=400)
    status, text = await rt.unit(
        tenant, lambda ctx: interactions.post_incoming(ctx, hook_id, payload), base_url=base_url(request, rt)
    )
    return PlainTextResponse(text, status_code=status)


async def _response_url(request: Request, kind: str, team: str, number: str, secret: str) -> Response:
    rt = _runtime(request)
    hook_id = f"{kind}/{number}/{secret}"
    tenant = await _locate(rt, hook_id, team)
    if tenant is None:
        return PlainTextResponse("no_service", status_code=404)
    payload = await _hook_payload(request)
    if payload is None:
        return Response(
            orjson.dumps({"ok": False, "error": "invalid_payload"}), status_code=400, media_type=JSON
        )
    status, answer = await rt.unit(
        tenant,
        lambda ctx: interactions.post_response_url(ctx, hook_id, payload),
        base_url=base_url(request, rt),
    )
    if isinstance(answer, str):
        return PlainTextResponse(answer, status_code=status)
    return Response(orjson.dumps(answer), status_code=status, media_type=JSON)


@hooks_router.post("/commands/{team}/{number}/{secret}")
async def command_response_url(request: Request, team: str, number: str, secret: str) -> Response:
    """The response_url of a slash command."""
    return await _response_url(request, "commands", team, number, secret)


@hooks_router.post("/actions/{team}/{number}/{secret}")
async def action_response_url(request: Request, team: str, number: str, secret: str) -> Response:
    """The response_url of a click in a message."""
    return await _response_url(request, "actions", team, number, secret)
