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
    POST /_dtu/slack/options      {tenant, user, channel, message_ts | view_id, action_id, value}
    POST /_dtu/slack/shortcuts    {tenant, user, callback_id, channel?, message_ts?}
    POST /_dtu/slack/home         {tenant, user, app?, tab?}
    POST /_dtu/slack/oauth/authorize {tenant, user, url | client_id, scope, user_scope, redirect_uri,
                                   state, channel?, approve?}  -> the redirect back to the app
    POST /_dtu/slack/webhooks     {tenant, channel, app?, user?}  -> an incoming webhook URL
    POST /_dtu/slack/users        {tenant, email, name?, real_name?, title?, is_admin?}  -> a person
                                   joins the workspace (team_join), with their user token

Public (no credentials but the URL itself, like hooks.slack.com): incoming webhooks
`/services/T.../B.../<secret>` and response URLs `/commands/...` and `/actions/...`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from twins.slack.service import common, interactions, oauth, users
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


@dataclass
class Act:
    """One simulated person's act: its JSON body, tenant and twin URL, and the two things every
    act does, a unit of work (with the person's refusals as control-plane errors) and a request
    to the app."""

    rt: TwinRuntime
    body: dict[str, Any]
    tenant: str
    url: str

    def get(self, key: str) -> Any:
        return self.body.get(key)

    def args(self, *names: str) -> dict[str, Any]:
        """These fields of the body as keyword arguments (None when absent)."""
        return {name: self.body.get(name) for name in names}

    async def unit(self, fn: Callable[[TwinContext], T]) -> T:
        try:
            return await self.rt.unit(self.tenant, fn, base_url=self.url)
        except Refused as exc:
            raise ControlError(exc.status, exc.message, exc.field) from None
        except SlackError as exc:
            raise ControlError(400, exc.slack_code) from None

    async def send(self, out: Outbound) -> tuple[Delivery, Answer]:
        """POST to the app once and wait (3 s at most) for its synchronous answer."""
        delivery = Delivery(
            tenant=self.tenant,
            kind="interactivity",
            target=out.target,
            body=out.body,
            content_type="application/x-www-form-urlencoded",
            sign=signature_headers(out.signing_secret),
            timeout_s=interactions.INTERACTION_TIMEOUT_S,
            meta=out.meta,
        )
        attempt = await self.rt.deliveries.send_now(delivery)
        headers = attempt.response_headers or {}
        return delivery, Answer(
            status=attempt.status,
            error=attempt.error,
            body=attempt.response_body or "",
            content_type=headers.get("content-type", ""),
        )

    async def send_and_report(self, out: Outbound, outcome: Callable[[Answer], dict[str, Any]]) -> Response:
        delivery, answer = await self.send(out)
        return json_response(_report(delivery, answer, out, outcome(answer)))


async def _act(request: Request) -> Act:
    """The preamble of every control-plane act: body, tenant (404 if unknown), twin URL."""
    rt = _runtime(request)
    body = await _body(request)
    tenant = body.get("tenant") or request.query_params.get("tenant") or "default"
    if not isinstance(tenant, str) or not rt.tenant_exists(tenant):
        raise ControlError(404, f"no tenant {tenant!r}", "tenant")
    return Act(rt, body, tenant, base_url(request, rt))


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


def _acknowledged(answer: Answer) -> dict[str, Any]:
    """An app answers a click or a shortcut with an empty 200; anything else shows an error."""
    outcome: dict[str, Any] = {"outcome": "acknowledged" if answer.ok else "failed"}
    if not answer.ok:
        outcome["error_shown"] = "dispatch_failed" if answer.error != "http_timeout" else "operation_timeout"
    return outcome


def _where(act: Act) -> dict[str, Any]:
    """Where the person acts: a message (`channel`, `message_ts`, `ephemeral`) or a view."""
    return {**act.args("channel", "message_ts", "view_id"), "ephemeral": act.get("ephemeral") is True}


# -- control plane: the simulated person -------------------------------------------------------


@router.post("/commands")
async def run_command(request: Request) -> Response:
    """Type `/command text` in a channel."""
    act = await _act(request)
    out = await act.unit(
        lambda ctx: interactions.prepare_command(ctx, **act.args("user", "channel", "command", "text"))
    )
    delivery, answer = await act.send(out)
    outcome = await act.unit(lambda ctx: interactions.apply_command_answer(ctx, out, answer))
    return json_response(_report(delivery, answer, out, outcome))


@router.post("/actions")
async def click(request: Request) -> Response:
    """Click a button (or choose in a select, a date picker...) in a message, an ephemeral
    message (`ephemeral: true`) or a view."""
    act = await _act(request)
    given = {k: act.body[k] for k in SELECTIONS if k in act.body}
    out = await act.unit(
        lambda ctx: interactions.prepare_block_action(
            ctx, given=given, **act.args("user", "action_id", "block_id", "values"), **_where(act)
        )
    )
    return await act.send_and_report(out, _acknowledged)


@router.post("/options")
async def type_in_external_select(request: Request) -> Response:
    """Type in an external select: the app's options load URL answers what the menu shows."""
    act = await _act(request)
    value = act.get("value") if act.get("value") is not None else ""
    out = await act.unit(
        lambda ctx: interactions.prepare_block_suggestion(
            ctx, value=value, **act.args("user", "action_id", "block_id"), **_where(act)
        )
    )
    if out is None:
        return json_response(
            {
                "ok": True,
                "type": "block_suggestion",
                "delivery_id": None,
                "outcome": "too_short",
                "options": [],
            }
        )
    return await act.send_and_report(out, interactions.read_options)


@router.post("/shortcuts")
async def run_shortcut(request: Request) -> Response:
    """Pick a global shortcut, or (with `channel` and `message_ts`) a message shortcut."""
    act = await _act(request)
    out = await act.unit(
        lambda ctx: interactions.prepare_shortcut(
            ctx, **act.args("user", "callback_id", "channel", "message_ts")
        )
    )
    return await act.send_and_report(out, _acknowledged)


@router.post("/home")
async def open_home(request: Request) -> Response:
    """Open the app's Home tab (or Messages tab): `app_home_opened` for a subscribed app."""
    act = await _act(request)
    result = await act.unit(
        lambda ctx: interactions.open_home(
            ctx, user=act.get("user"), app_id=act.get("app"), tab=act.get("tab")
        )
    )
    return json_response({"ok": True, "type": "app_home_opened", **result})


@router.post("/oauth/authorize")
async def authorize_app(request: Request) -> Response:
    """Open an app's OAuth authorize URL and press Allow (`approve: false`: Cancel); answers the
    redirect the browser follows back to the app."""
    act = await _act(request)
    params = oauth.authorize_params(act.get("url")) if act.get("url") is not None else act.body
    result = await act.unit(
        lambda ctx: oauth.authorize(
            ctx,
            user=act.get("user"),
            request=params,
            channel=act.get("channel"),
            approve=act.get("approve") is not False,
        )
    )
    return json_response({"ok": True, **result})


@router.post("/views/submit")
async def submit_view(request: Request) -> Response:
    """Press Submit on the modal in front of the user."""
    act = await _act(request)
    submission = await act.unit(
        lambda ctx: interactions.prepare_view_submission(ctx, **act.args("user", "view_id", "values"))
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
    delivery, answer = await act.send(out)
    outcome = await act.unit(lambda ctx: interactions.apply_view_submission_answer(ctx, out, answer))
    return json_response(_report(delivery, answer, out, outcome))


@router.post("/views/close")
async def close_view(request: Request) -> Response:
    """Dismiss the modal in front of the user (Cancel, or the X with `clear: true`)."""
    act = await _act(request)
    result, out = await act.unit(
        lambda ctx: interactions.close_view(
            ctx, user=act.get("user"), view_id=act.get("view_id"), clear=bool(act.get("clear"))
        )
    )
    if out is None:
        return json_response({"ok": True, "type": "view_closed", "delivery_id": None, **result})
    return await act.send_and_report(out, lambda answer: result)


@router.post("/webhooks")
async def create_webhook(request: Request) -> Response:
    """Install an incoming webhook for a channel (what the OAuth `incoming-webhook` flow does)."""
    act = await _act(request)
    made = await act.unit(
        lambda ctx: interactions.create_incoming_webhook(
            ctx, channel=act.get("channel"), app_id=act.get("app"), user=act.get("user")
        )
    )
    return json_response({"ok": True, "incoming_webhook": made}, 201)


@router.post("/users")
async def join_workspace(request: Request) -> Response:
    """A person accepts an invitation and joins the workspace: `team_join` for subscribed apps,
    and they land in #general. Answers their user object and a user token."""
    act = await _act(request)
    joined = await act.unit(
        lambda ctx: users.join_team(
            ctx,
            **act.args("email", "name", "real_name", "title"),
            is_admin=act.get("is_admin") is True,
        )
    )
    return json_response({"ok": True, **joined}, 201)


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
