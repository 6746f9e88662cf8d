"""What people do in the Slack client, delivered to apps as Slack delivers it.

https://docs.slack.dev/interactivity/ . A slash command is POSTed form-encoded to the
command's URL (https://docs.slack.dev/interactivity/implementing-slash-commands); clicks in
messages and views (`block_actions`), modal submissions (`view_submission`) and dismissals
(`view_closed`) are POSTed to the app's interactivity URL as `payload=<json>`
(https://docs.slack.dev/reference/interaction-payloads). Each carries a fresh trigger_id; those
from messages and commands carry a response_url the app may use 5 times in 30 minutes
(https://docs.slack.dev/interactivity/handling-user-interaction#message_responses). Incoming
webhooks (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks) post
into the channel they were installed for, as the app.

Each interaction is three steps, so that no transaction is open while the app is called (the
app calls back into the twin, e.g. views.open with the trigger_id): `prepare_*` builds the
request in one unit of work, the caller sends it, and `apply_*` applies the app's answer in
another unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import Connection, Row, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import constants, models
from twins.slack.errors import SlackError
from twins.slack.service import chat, common, views
from twins.slack.service.common import APP, CONV, TEAM, USER

HOOK = table(models.Hook)
TOKEN = table(models.Token)
EPHEMERAL = table(models.Ephemeral)
_MIXED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# https://docs.slack.dev/interactivity/implementing-slash-commands#responding_basic_receipt : 3 s to answer
INTERACTION_TIMEOUT_S = 3.0


class Refused(Exception):
    """The simulated user cannot do that (no such user, message, element...): a control-plane error."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class Outbound:
    """A request prepared for the app: where it goes, the signed body, and what it is about."""

    kind: str  # slash_command | block_actions | block_suggestion | shortcut | message_action | view_*
    app_id: str
    target: str
    body: bytes
    signing_secret: str
    user_id: str
    trigger_id: str | None = None
    response_url: str | None = None
    channel_id: str | None = None
    command: str | None = None
    view_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def meta(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "app_id": self.app_id,
            "user": self.user_id,
            "channel": self.channel_id,
            "command": self.command,
            "view_id": self.view_id,
            "trigger_id": self.trigger_id,
        }


@dataclass
class Answer:
    """What the app answered: HTTP status (None when there was no answer), body, content type."""

    status: int | None
    error: str | None
    body: str
    content_type: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def parsed(self) -> Any:
        """The body as JSON when it is JSON, the text otherwise, None when empty."""
        text = self.body.strip()
        if not text:
            return None
        if "json" in self.content_type.lower() or text.startswith("{"):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return text
        return text


# -- who and where -----------------------------------------------------------------------------


def resolve_user(ctx: TwinContext, user: Any) -> Row[Any]:
    """The person acting: a user id or an email address."""
    if not user or not isinstance(user, str):
        raise Refused(400, "user is required: a user id or an email address", "user")
    row = ctx.conn.execute(
        select(USER).where(
            USER.c.tenant_id == ctx.tenant, (USER.c.id == user) | (USER.c.email == user.lower())
        )
    ).first()
    if row is None:
        raise Refused(404, f"no user {user!r} in this workspace", "user")
    if row.deleted:
        raise Refused(409, f"user {row.id} is deactivated", "user")
    if row.is_bot:
        raise Refused(400, f"{row.id} is a bot user; only people use the Slack client", "user")
    return row


def _team(ctx: TwinContext) -> Row[Any]:
    return ctx.conn.execute(select(TEAM).where(TEAM.c.tenant_id == ctx.tenant)).one()


def _app(ctx: TwinContext, app_id: str | None) -> Row[Any]:
    row = ctx.conn.execute(
        select(APP).where(APP.c.tenant_id == ctx.tenant, APP.c.id == (app_id or ""))
    ).first()
    if row is None:
        raise Refused(404, f"no app {app_id!r} in this workspace", "app")
    return row


def _sole_app(ctx: TwinContext, app_id: str | None) -> Row[Any]:
    if app_id:
        return _app(ctx, app_id)
    rows = ctx.conn.execute(select(APP).where(APP.c.tenant_id == ctx.tenant).order_by(APP.c.id)).all()
    if len(rows) != 1:
        raise Refused(400, "this workspace has several apps: name one with `app`", "app")
    return rows[0]


def app_context(ctx: TwinContext, app_id: str) -> TwinContext:
    """ctx acting as the app's bot user (what Slack does when it posts an app's response)."""
    from twins.slack.dependencies import lookup_principal

    token = ctx.conn.execute(
        select(TOKEN.c.token)
        .where(
            TOKEN.c.tenant_id == ctx.tenant,
            TOKEN.c.app_id == app_id,
            TOKEN.c.kind == "bot",
            TOKEN.c.revoked.is_(False),
        )
        .order_by(TOKEN.c.token)
    ).scalar()
    if token is None:
        raise SlackError("invalid_auth")
    return replace(
        ctx, principal=lookup_principal(ctx.conn, token), outbox=ctx.outbox, after_commit=ctx.after_commit
    )


def _user_object(person: Row[Any]) -> dict[str, Any]:
    return {"id": person.id, "username": person.name, "name": person.name, "team_id": person.team_id}


def _team_object(team: Row[Any]) -> dict[str, Any]:
    return {"id": team.id, "domain": team.domain}


def _conversation_for(ctx: TwinContext, person: Row[Any], channel: Any) -> Row[Any]:
    """A conversation the person can see (private ones only as a member)."""
    if not channel or not isinstance(channel, str):
        raise Refused(400, "channel is required", "channel")
    try:
        conv = common.get_conversation(ctx, channel)
    except SlackError:
        raise Refused(404, f"no channel {channel!r} in this workspace", "channel") from None
    if (conv.is_private or conv.kind in ("im", "mpim")) and not common.is_member(ctx, conv.id, person.id):
        raise Refused(404, f"{person.id} cannot see channel {channel!r}", "channel")
    return conv


def _channel_name(conv: Row[Any]) -> str:
    if conv.kind == "im":
        return "directmessage"
    return str(conv.name or conv.id)


def _form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def _payload_form(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": orjson.dumps(payload).decode()}).encode()


def _action_ts(ctx: TwinContext) -> str:
    return common.micros_to_ts(int(ctx.now() * 1_000_000))


# -- response_url and incoming webhook URLs ----------------------------------------------------


def mint_response_url(
    ctx: TwinContext,
    *,
    kind: str,
    app_id: str,
    channel_id: str,
    user_id: str,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    ephemeral_id: int | None = None,
) -> str:
    """{base}/{commands|actions}/T.../<number>/<secret>, like hooks.slack.com's."""
    number = str(10**12 + ctx.ids.next("response-url"))
    secret = ctx.ids.token("response-url-secret", length=24, alphabet=_MIXED)
    ctx.conn.execute(
        insert(HOOK).values(
            tenant_id=ctx.tenant,
            id=f"{kind}/{number}/{secret}",
            kind="response_url",
            channel_id=channel_id,
            user_id=user_id,
            app_id=app_id,
            thread_ts=thread_ts,
            message_ts=message_ts,
            ephemeral_id=ephemeral_id,
            created=ctx.now(),
            uses=0,
        )
    )
    return f"{ctx.base_url}/{kind}/{common.team_id(ctx)}/{number}/{secret}"


def find_hook(conn: Connection, hook_id: str) -> Row[Any] | None:
    """A hook by its URL path, in whichever tenant holds it (the URL is the only credential)."""
    return conn.execute(select(HOOK).where(HOOK.c.id == hook_id)).first()


def hook_family_exists(conn: Connection, prefix: str) -> bool:
    return (
        conn.execute(select(HOOK.c.id).where(HOOK.c.id.startswith(prefix, autoescape=True))).first()
        is not None
    )


def install_webhook(
    ctx: TwinContext,
    conv: Row[Any],
    app: Row[Any],
    *,
    installer: str | None = None,
    bot: str | None = None,
    secret: str | None = None,
    announce: bool = True,
) -> str:
    """Install an incoming webhook for a channel: the app joins the channel (as it does when a
    person picks a channel in the OAuth `incoming-webhook` flow); answers the URL path after
    the team id (`B.../<secret>`)."""
    from twins.slack.service import conversations

    if app.bot_user_id:
        conversations.add_member(ctx, conv, app.bot_user_id, inviter=installer, announce=announce)
    bot = bot or ctx.ids.token("webhook", prefix="B", length=11)
    secret = secret or ctx.ids.token("webhook-secret", length=24, alphabet=_MIXED)
    ctx.conn.execute(
        insert(HOOK).values(
            tenant_id=ctx.tenant,
            id=f"services/{bot}/{secret}",
            kind="incoming",
            channel_id=conv.id,
            user_id=installer,
            app_id=app.id,
            created=ctx.now(),
            uses=0,
        )
    )
    return f"{bot}/{secret}"


def create_incoming_webhook(
    ctx: TwinContext, *, channel: Any, app_id: str | None, user: Any
) -> dict[str, Any]:
    """A person installs an incoming webhook for a channel; answers the `incoming_webhook` object
    of the OAuth response. https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks"""
    installer = resolve_user(ctx, user) if user else None
    if not channel or not isinstance(channel, str):
        raise Refused(400, "channel is required", "channel")
    try:
        conv = common.get_conversation(ctx, channel)
    except SlackError:
        raise Refused(404, f"no channel {channel!r} in this workspace", "channel") from None
    if conv.is_archived:
        raise Refused(409, f"channel {conv.id} is archived", "channel")
    app = _sole_app(ctx, app_id)
    path = install_webhook(ctx, conv, app, installer=installer.id if installer else None)
    team = _team(ctx)
    name = f"#{conv.name}" if conv.kind in ("channel", "group") else conv.id
    return {
        "url": f"{ctx.base_url}/services/{team.id}/{path}",
        "channel": name,
        "channel_id": conv.id,
        "configuration_url": f"https://{team.domain}.slack.com/services/{path.split('/')[0]}",
        "app_id": app.id,
    }


def load_webhooks(ctx: TwinContext, items: list[dict[str, Any]], *, fresh_credentials: bool) -> list[str]:
    """Fixture `incoming_webhooks: [{channel, app?, id?, secret?, user?}]`; a new tenant gets
    fresh secrets (they are credentials). Answers the hooks' paths after the team id."""
    made = []
    for item in items:
        conv = ctx.conn.execute(
            select(CONV).where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == item["channel"])
        ).first()
        if conv is None:
            raise ValueError(f"incoming webhook for unknown channel {item['channel']!r}")
        app_id = item.get("app")
        app = ctx.conn.execute(
            select(APP).where(APP.c.tenant_id == ctx.tenant, APP.c.id == app_id)
            if app_id
            else select(APP).where(APP.c.tenant_id == ctx.tenant).order_by(APP.c.id)
        ).first()
        if app is None:
            raise ValueError(f"incoming webhook for unknown app {app_id!r}")
        secret = None if fresh_credentials else item.get("secret")
        made.append(
            install_webhook(
                ctx, conv, app, installer=item.get("user"), bot=item.get("id"), secret=secret, announce=False
            )
        )
    return made


def _message_fields(payload: dict[str, Any]) -> tuple[Any, Any, Any]:
    text = payload.get("text")
    if text is not None and not isinstance(text, str):
        raise SlackError("invalid_payload")
    return text, payload.get("blocks"), payload.get("attachments")


def post_incoming(ctx: TwinContext, hook_id: str, payload: dict[str, Any]) -> tuple[int, str]:
    """A POST to an incoming webhook: "ok", or Slack's error text with its HTTP status.
    https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks#handling_errors"""
    hook = ctx.conn.execute(select(HOOK).where(HOOK.c.tenant_id == ctx.tenant, HOOK.c.id == hook_id)).one()
    conv = ctx.conn.execute(
        select(CONV).where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == hook.channel_id)
    ).first()
    if conv is None:
        return 404, "channel_not_found"
    if conv.is_archived:
        return 410, "channel_is_archived"
    try:
        text, blocks, attachments = _message_fields(payload)
        if not text and not blocks and not attachments:
            return 400, "no_text"
        sub = app_context(ctx, hook.app_id)
        chat.post_message(
            sub,
            channel=conv.id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=_str(payload.get("thread_ts")),
        )
    except SlackError as exc:
        code = exc.slack_code
        if code in ("channel_not_found", "not_in_channel"):
            return 404, "channel_not_found"
        if code == "is_archived":
            return 410, "channel_is_archived"
        return 400, code
    ctx.conn.execute(
        update(HOOK).where(HOOK.c.tenant_id == ctx.tenant, HOOK.c.id == hook_id).values(uses=HOOK.c.uses + 1)
    )
    return 200, "ok"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def post_response_url(ctx: TwinContext, hook_id: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """A POST to a response_url: a new ephemeral or in_channel message, or the original message
    replaced or deleted; 5 uses within 30 minutes."""
    hook = ctx.conn.execute(select(HOOK).where(HOOK.c.tenant_id == ctx.tenant, HOOK.c.id == hook_id)).one()
    if ctx.now() - hook.created > constants.RESPONSE_URL_TTL_S:
        return 404, "Expired url"
    if hook.uses >= constants.RESPONSE_URL_USES:
        return 404, "Used url"
    sub = app_context(ctx, hook.app_id)
    out: dict[str, Any] = {"ok": True}
    try:
        text, blocks, attachments = _message_fields(payload)
        original = hook.message_ts
        if hook.ephemeral_id is not None and (
            payload.get("delete_original") is True or payload.get("replace_original") is True
        ):
            _change_ephemeral(ctx, hook.ephemeral_id, payload, text, blocks, attachments)
        elif payload.get("delete_original") is True and original:
            chat.delete_message(sub, channel=hook.channel_id, ts=original)
        elif payload.get("replace_original") is True and original:
            if text is None and blocks is None and attachments is None:
                raise SlackError("no_text")
            chat.update_message(
                sub, channel=hook.channel_id, ts=original, text=text, blocks=blocks, attachments=attachments
            )
        elif payload.get("response_type") == "in_channel":
            chat.post_message(
                sub,
                channel=hook.channel_id,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=_str(payload.get("thread_ts")) or hook.thread_ts,
            )
        else:
            text, blocks, attachments = chat._content(text, blocks, attachments, limit_text=True)
            chat._store_ephemeral(
                sub,
                hook.channel_id,
                hook.user_id,
                text,
                blocks,
                attachments,
                _str(payload.get("thread_ts")) or hook.thread_ts,
                "response_url",
            )
    except SlackError as exc:
        status = 404 if exc.slack_code in ("channel_not_found", "message_not_found") else 400
        return status, {"ok": False, "error": exc.slack_code}
    ctx.conn.execute(
        update(HOOK).where(HOOK.c.tenant_id == ctx.tenant, HOOK.c.id == hook_id).values(uses=HOOK.c.uses + 1)
    )
    return 200, out


def _change_ephemeral(
    ctx: TwinContext, ephemeral_id: int, payload: dict[str, Any], text: Any, blocks: Any, attachments: Any
) -> None:
    """replace_original / delete_original on an ephemeral message: only the copy the person
    sees changes (chat.update cannot reach ephemeral messages; response_url can)."""
    where = (EPHEMERAL.c.tenant_id == ctx.tenant) & (EPHEMERAL.c.id == ephemeral_id)
    if ctx.conn.execute(select(EPHEMERAL.c.id).where(where)).first() is None:
        raise SlackError("message_not_found")
    if payload.get("delete_original") is True:
        ctx.conn.execute(delete(EPHEMERAL).where(where))
        return
    if text is None and blocks is None and attachments is None:
        raise SlackError("no_text")
    text, blocks, attachments = chat._content(text, blocks, attachments, limit_text=True)
    ctx.conn.execute(update(EPHEMERAL).where(where).values(text=text, blocks=blocks, attachments=attachments))


# -- slash commands ----------------------------------------------------------------------------


def prepare_command(ctx: TwinContext, *, user: Any, channel: Any, command: Any, text: Any) -> Outbound:
    """The form Slack POSTs to a slash command's URL.
    https://docs.slack.dev/interactivity/implementing-slash-commands#app_command_handling"""
    person = resolve_user(ctx, user)
    if not command or not isinstance(command, str):
        raise Refused(400, "command is required (e.g. /deploy)", "command")
    if text is not None and not isinstance(text, str):
        raise Refused(400, "text must be a string", "text")
    name = command if command.startswith("/") else "/" + command
    conv = _conversation_for(ctx, person, channel)
    if conv.is_archived:
        raise Refused(409, f"channel {conv.id} is archived: nobody can type there", "channel")
    found: tuple[Row[Any], dict[str, Any]] | None = None
    for app in ctx.conn.execute(select(APP).where(APP.c.tenant_id == ctx.tenant).order_by(APP.c.id)):
        for spec in app.slash_commands or []:
            if isinstance(spec, dict) and spec.get("command") == name:
                found = (app, spec)
                break
        if found:
            break
    if found is None:
        raise Refused(404, f"no app in this workspace has the slash command {name}", "command")
    app, spec = found
    url = spec.get("url")
    if not url:
        raise Refused(409, f"{name} has no request URL (apps on Socket Mode are not served)", "command")
    team = _team(ctx)
    trigger_id = views.mint_trigger(ctx, person.id)
    response_url = mint_response_url(
        ctx, kind="commands", app_id=app.id, channel_id=conv.id, user_id=person.id
    )
    fields = {
        "token": app.verification_token,
        "team_id": team.id,
        "team_domain": team.domain,
        "channel_id": conv.id,
        "channel_name": _channel_name(conv),
        "user_id": person.id,
        "user_name": person.name,
        "command": name,
        "text": text or "",
        "api_app_id": app.id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return Outbound(
        kind="slash_command",
        app_id=app.id,
        target=str(url),
        body=_form(fields),
        signing_secret=app.signing_secret,
        user_id=person.id,
        trigger_id=trigger_id,
        response_url=response_url,
        channel_id=conv.id,
        command=name,
        payload=fields,
    )


def _failure_code(answer: Answer) -> str:
    return "operation_timeout" if answer.error == "http_timeout" else "dispatch_failed"


def apply_command_answer(ctx: TwinContext, out: Outbound, answer: Answer) -> dict[str, Any]:
    """Show what the app answered: nothing (empty 200), an ephemeral message (text, or JSON
    without response_type), an in_channel message; or Slackbot's error when it did not answer."""
    assert out.channel_id is not None
    if not answer.ok:
        error = _failure_code(answer)
        text = f'{out.command} failed with the error "{error}"'
        chat._store_ephemeral(ctx, out.channel_id, out.user_id, text, None, None, None, "command")
        return {"outcome": "failed", "error": error, "shown": text}
    body = answer.parsed()
    if body is None:
        return {"outcome": "acknowledged"}
    message: dict[str, Any] = {"text": body} if isinstance(body, str) else body
    if not isinstance(message, dict):
        return {"outcome": "failed", "error": "invalid_response"}
    sub = app_context(ctx, out.app_id)
    try:
        text, blocks, attachments = _message_fields(message)
        if message.get("response_type") == "in_channel":
            posted = chat.post_message(
                sub, channel=out.channel_id, text=text, blocks=blocks, attachments=attachments
            )
            return {
                "outcome": "in_channel",
                "channel": posted["channel"],
                "ts": posted["ts"],
                "message": posted["message"],
            }
        text, blocks, attachments = chat._content(text, blocks, attachments, limit_text=True)
        ts = chat._store_ephemeral(
            sub, out.channel_id, out.user_id, text, blocks, attachments, None, "command"
        )
    except SlackError as exc:
        return {"outcome": "failed", "error": exc.slack_code}
    shown: dict[str, Any] = {"type": "message", "text": text, "ts": ts}
    if blocks is not None:
        shown["blocks"] = blocks
    if attachments is not None:
        shown["attachments"] = attachments
    return {"outcome": "ephemeral", "channel": out.channel_id, "message": shown}


# -- block_actions -----------------------------------------------------------------------------


def _derived_id(*parts: object, length: int = 5) -> str:
    from dtu.ids import encode, stable_hash

    return encode(stable_hash(*parts).to_bytes(8, "big"), length, _MIXED)


def _with_ids(blocks: list[Any], seed: str) -> list[Any]:
    """Message blocks as Slack shows them to apps: every block and element has an id."""
    out = orjson.loads(orjson.dumps(blocks))
    for i, block in enumerate(out):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _derived_id(seed, i))
        for j, element in enumerate(views.block_elements(block)):
            element.setdefault("action_id", _derived_id(seed, i, j))
    return list(out)


def _find_element(
    blocks: list[Any], action_id: Any, block_id: Any, *, inputs_too: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The element a person uses; elements of input blocks dispatch actions only with
    `dispatch_action` (but load external options either way: `inputs_too`)."""
    if not action_id and not block_id:
        raise Refused(400, "action_id (or block_id) names the element the user clicks", "action_id")
    for block in blocks:
        if not isinstance(block, dict) or (block_id and block.get("block_id") != block_id):
            continue
        for element in views.block_elements(block):
            if action_id and element.get("action_id") != action_id:
                continue
            if (
                block.get("type") == "input"
                and not inputs_too
                and not (element.get("dispatch_action") or block.get("dispatch_action"))
            ):
                continue  # inputs only dispatch actions when dispatch_action is set
            return block, element
    raise Refused(
        404, f"no interactive element with action_id={action_id!r} block_id={block_id!r} there", "action_id"
    )


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return [o for o in found if isinstance(o, dict)]


def _option(element: dict[str, Any], choice: Any, name: str) -> dict[str, Any]:
    if isinstance(choice, dict):
        choice = choice.get("value")
    if not isinstance(choice, str):
        raise Refused(400, f"{name} is an option value", name)
    known = _options(element)
    if not known and element.get("type", "").endswith("external_select"):
        return {"text": {"type": "plain_text", "text": choice, "emoji": True}, "value": choice}
    for option in known:
        if option.get("value") == choice:
            return option
    raise Refused(400, f"{element.get('action_id')} has no option with value {choice!r}", name)


def _coerce(element: dict[str, Any], name: str, value: Any) -> Any:
    """A user's choice as Slack reports it: option values become the element's option objects."""
    if name == "selected_option":
        return None if value is None else _option(element, value, name)
    if name == "selected_options":
        if not isinstance(value, list):
            raise Refused(400, f"{name} is a list of option values", name)
        return [_option(element, v, name) for v in value]
    if name in views.LIST_FIELDS:
        if not isinstance(value, list):
            raise Refused(400, f"{name} is a list", name)
        return value
    if name == "selected_date_time":
        return value
    if value is not None and not isinstance(value, str):
        raise Refused(400, f"{name} is a string", name)
    return value


def _choice(element: dict[str, Any], given: dict[str, Any]) -> tuple[str, Any] | None:
    name = views.SELECTED_FIELD.get(str(element.get("type")))
    if name is None:
        return None
    for key in (name, "value", "selected_option", "selected_options"):
        if key in given and given[key] is not None:
            return name, _coerce(element, name, given[key])
    initial = element.get(views.INITIAL_FIELD.get(name, ""))
    if initial is not None:
        return name, initial
    return name, [] if name in views.LIST_FIELDS else None


def _action(
    ctx: TwinContext, block: dict[str, Any], element: dict[str, Any], given: dict[str, Any]
) -> dict[str, Any]:
    """One entry of `actions`. https://docs.slack.dev/reference/interaction-payloads/block_actions-payload"""
    kind = element["type"]
    action: dict[str, Any] = {"action_id": element["action_id"], "block_id": block["block_id"]}
    if kind in ("button", "workflow_button"):
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
        if "url" in element:
            action["url"] = element["url"]
    else:
        choice = _choice(element, given)
        if choice is not None:
            action[choice[0]] = choice[1]
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    action["type"] = kind
    action["action_ts"] = _action_ts(ctx)
    return action


def _interactivity_url(app: Row[Any]) -> str:
    if not app.interactivity_url:
        raise Refused(409, f"app {app.id} has no interactivity request URL", "app")
    return str(app.interactivity_url)


def _set_state(ctx: TwinContext, row: Row[Any], values: Any) -> Row[Any]:
    """Record what the user has typed or chosen in a view's inputs so far."""
    state = build_state(row.definition, values, (row.state or {}).get("values") or {})
    ctx.conn.execute(
        update(views.VIEW)
        .where(views.VIEW.c.tenant_id == ctx.tenant, views.VIEW.c.id == row.id)
        .values(state={"values": state})
    )
    fresh = views.get_view(ctx, row.id)
    assert fresh is not None
    return fresh


def _in_view(
    ctx: TwinContext, person: Row[Any], view_id: Any, values: Any
) -> tuple[list[Any], Row[Any], Row[Any]]:
    """Blocks, app and view for a click inside a modal or a Home tab."""
    row = _live_view(ctx, person, view_id)
    if values is not None:
        row = _set_state(ctx, row, values)
    return list(row.definition.get("blocks") or []), _app(ctx, row.app_id), row


def _in_message(
    ctx: TwinContext, person: Row[Any], channel: Any, message_ts: Any
) -> tuple[list[Any], Row[Any], Row[Any], Row[Any]]:
    """Blocks, app, conversation and message for a click in a message."""
    conv = _conversation_for(ctx, person, channel)
    msg = _message_row(ctx, conv, message_ts)
    blocks = _with_ids(list(msg.blocks or []), f"{conv.id}:{msg.ts}")
    return blocks, _sole_app(ctx, msg.app_id), conv, msg


def _message_row(ctx: TwinContext, conv: Row[Any], message_ts: Any) -> Row[Any]:
    ts = common.parse_ts(message_ts if isinstance(message_ts, str) else None, "message_not_found")
    msg = ctx.conn.execute(
        select(common.MSG).where(
            common.MSG.c.tenant_id == ctx.tenant,
            common.MSG.c.channel_id == conv.id,
            common.MSG.c.ts == (ts or ""),
        )
    ).first()
    if msg is None or msg.subtype == "tombstone":
        raise Refused(404, f"no message {message_ts!r} in {conv.id}", "message_ts")
    return msg


def _in_ephemeral(
    ctx: TwinContext, person: Row[Any], channel: Any, message_ts: Any
) -> tuple[list[Any], Row[Any], Row[Any], Row[Any]]:
    """Blocks, app, conversation and ephemeral message for a click in an ephemeral message
    (only the person it was shown to can see it, hence click it)."""
    conv = _conversation_for(ctx, person, channel)
    ts = common.parse_ts(message_ts if isinstance(message_ts, str) else None, "message_not_found")
    eph = ctx.conn.execute(
        select(EPHEMERAL)
        .where(
            EPHEMERAL.c.tenant_id == ctx.tenant,
            EPHEMERAL.c.channel_id == conv.id,
            EPHEMERAL.c.user_id == person.id,
            EPHEMERAL.c.ts == (ts or ""),
        )
        .order_by(EPHEMERAL.c.id.desc())
    ).first()
    if eph is None:
        raise Refused(
            404, f"no ephemeral message {message_ts!r} shown to {person.id} in {conv.id}", "message_ts"
        )
    app_id = ctx.conn.execute(
        select(APP.c.id).where(APP.c.tenant_id == ctx.tenant, APP.c.bot_id == (eph.bot_id or ""))
    ).scalar()
    blocks = _with_ids(list(eph.blocks or []), f"ephemeral:{eph.id}")
    return blocks, _sole_app(ctx, app_id), conv, eph


def _payload(kind: str, person: Row[Any], app: Row[Any], team: Row[Any]) -> dict[str, Any]:
    """The fields every interaction payload starts with."""
    return {
        "type": kind,
        "user": _user_object(person),
        "api_app_id": app.id,
        "token": app.verification_token,
        "team": _team_object(team),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def prepare_block_action(
    ctx: TwinContext,
    *,
    user: Any,
    channel: Any = None,
    message_ts: Any = None,
    view_id: Any = None,
    action_id: Any = None,
    block_id: Any = None,
    given: dict[str, Any] | None = None,
    values: Any = None,
    ephemeral: bool = False,
) -> Outbound:
    """A click (or a choice) on an element of a message, an ephemeral message or a view:
    `block_actions`. https://docs.slack.dev/reference/interaction-payloads/block_actions-payload"""
    person = resolve_user(ctx, user)
    source = _source(
        ctx,
        person,
        channel=channel,
        message_ts=message_ts,
        view_id=view_id,
        values=values,
        ephemeral=ephemeral,
    )
    block, element = _find_element(source.blocks, action_id, block_id)
    target = _interactivity_url(source.app)
    payload = _payload("block_actions", person, source.app, _team(ctx))
    trigger_id = views.mint_trigger(ctx, person.id, view_id=source.view.id if source.view else None)
    payload.update(trigger_id=trigger_id, **source.fields(ctx))
    response_url: str | None = None
    if source.conv is not None:
        response_url = source.response_url(ctx, person)
        payload.update(state={"values": {}}, response_url=response_url)
    payload["actions"] = [_action(ctx, block, element, given or {})]
    return Outbound(
        kind="block_actions",
        app_id=source.app.id,
        target=target,
        body=_payload_form(payload),
        signing_secret=source.app.signing_secret,
        user_id=person.id,
        trigger_id=trigger_id,
        response_url=response_url,
        channel_id=source.conv.id if source.conv is not None else None,
        view_id=source.view.id if source.view is not None else None,
        payload=payload,
    )


@dataclass
class Source:
    """Where a person interacts with blocks: a message, an ephemeral message or a view."""

    blocks: list[Any]
    app: Row[Any]
    conv: Row[Any] | None = None
    message: Row[Any] | None = None
    ephemeral: Row[Any] | None = None
    view: Row[Any] | None = None

    def fields(self, ctx: TwinContext) -> dict[str, Any]:
        """`container`, and `channel` + `message` (a message) or `view` (a view). Ephemeral
        messages are not sent back: the app gets their ts alone."""
        if self.view is not None:
            return {
                "container": {"type": "view", "view_id": self.view.id},
                "view": views.view_object(ctx, self.view),
            }
        assert self.conv is not None
        shown = self.ephemeral if self.ephemeral is not None else self.message
        assert shown is not None
        out: dict[str, Any] = {
            "container": {
                "type": "message",
                "message_ts": shown.ts,
                "channel_id": self.conv.id,
                "is_ephemeral": self.ephemeral is not None,
            },
            "channel": {"id": self.conv.id, "name": _channel_name(self.conv)},
        }
        if self.message is not None:
            message = common.message_object(ctx, self.message)
            if "blocks" in message:
                message["blocks"] = self.blocks
            out["message"] = message
        return out

    def response_url(self, ctx: TwinContext, person: Row[Any]) -> str:
        assert self.conv is not None
        shown = self.ephemeral if self.ephemeral is not None else self.message
        assert shown is not None
        return mint_response_url(
            ctx,
            kind="actions",
            app_id=self.app.id,
            channel_id=self.conv.id,
            user_id=person.id,
            message_ts=shown.ts,
            thread_ts=shown.thread_ts if shown.thread_ts != shown.ts else None,
            ephemeral_id=self.ephemeral.id if self.ephemeral is not None else None,
        )


def _source(
    ctx: TwinContext,
    person: Row[Any],
    *,
    channel: Any,
    message_ts: Any,
    view_id: Any,
    values: Any,
    ephemeral: bool,
) -> Source:
    if view_id:
        blocks, app, view_row = _in_view(ctx, person, view_id, values)
        return Source(blocks, app, view=view_row)
    if ephemeral:
        blocks, app, conv, eph = _in_ephemeral(ctx, person, channel, message_ts)
        return Source(blocks, app, conv=conv, ephemeral=eph)
    blocks, app, conv, msg = _in_message(ctx, person, channel, message_ts)
    return Source(blocks, app, conv=conv, message=msg)


# -- block_suggestion (external selects) -------------------------------------------------------

EXTERNAL_SELECTS = {"external_select", "multi_external_select"}
# https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select
DEFAULT_MIN_QUERY_LENGTH = 3
MAX_OPTIONS = 100


def prepare_block_suggestion(
    ctx: TwinContext,
    *,
    user: Any,
    channel: Any = None,
    message_ts: Any = None,
    view_id: Any = None,
    action_id: Any = None,
    block_id: Any = None,
    value: Any = "",
    ephemeral: bool = False,
) -> Outbound | None:
    """The person types in an external select: `block_suggestion` to the app's options load
    URL, once the text reaches the element's `min_query_length` (None before: nothing is sent).
    https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload"""
    person = resolve_user(ctx, user)
    if not isinstance(value, str):
        raise Refused(400, "value is the text the person typed", "value")
    source = _source(
        ctx, person, channel=channel, message_ts=message_ts, view_id=view_id, values=None, ephemeral=ephemeral
    )
    block, element = _find_element(source.blocks, action_id, block_id, inputs_too=True)
    if element.get("type") not in EXTERNAL_SELECTS:
        raise Refused(
            409, f"{element.get('action_id')} is a {element.get('type')}, not an external select", "action_id"
        )
    minimum = element.get("min_query_length", DEFAULT_MIN_QUERY_LENGTH)
    if isinstance(minimum, int) and len(value) < minimum:
        return None
    if not source.app.options_url:
        raise Refused(409, f"app {source.app.id} has no options load URL (message_menu_options_url)", "app")
    payload = _payload("block_suggestion", person, source.app, _team(ctx))
    payload.update(
        action_id=element["action_id"], block_id=block["block_id"], value=value, **source.fields(ctx)
    )
    return Outbound(
        kind="block_suggestion",
        app_id=source.app.id,
        target=str(source.app.options_url),
        body=_payload_form(payload),
        signing_secret=source.app.signing_secret,
        user_id=person.id,
        channel_id=source.conv.id if source.conv is not None else None,
        view_id=source.view.id if source.view is not None else None,
        payload=payload,
    )


def _valid_option(option: Any) -> bool:
    if not isinstance(option, dict) or not isinstance(option.get("value"), str):
        return False
    text = option.get("text")
    return isinstance(text, dict) and text.get("type") == "plain_text" and isinstance(text.get("text"), str)


def read_options(answer: Answer) -> dict[str, Any]:
    """What the person's menu shows from the app's answer: `options` or `option_groups` (100 at
    most); anything else leaves the menu empty with Slack's load error."""
    if not answer.ok:
        return {"outcome": "failed", "error": _failure_code(answer), "options": []}
    body = answer.parsed()
    if isinstance(body, dict) and isinstance(body.get("options"), list):
        options = body["options"]
        if len(options) <= MAX_OPTIONS and all(_valid_option(o) for o in options):
            return {"outcome": "options", "options": options}
    if isinstance(body, dict) and isinstance(body.get("option_groups"), list):
        groups = body["option_groups"]
        if len(groups) <= MAX_OPTIONS and all(
            isinstance(g, dict)
            and isinstance(g.get("options"), list)
            and all(_valid_option(o) for o in g["options"])
            for g in groups
        ):
            return {"outcome": "options", "option_groups": groups}
    return {"outcome": "failed", "error": "invalid_options", "options": []}


# -- shortcuts ---------------------------------------------------------------------------------


def prepare_shortcut(
    ctx: TwinContext,
    *,
    user: Any,
    callback_id: Any,
    channel: Any = None,
    message_ts: Any = None,
) -> Outbound:
    """The person picks a shortcut: global (from the shortcuts menu, `shortcut`) or, with
    `channel` and `message_ts`, on a message (its "More actions" menu, `message_action`).
    https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload"""
    person = resolve_user(ctx, user)
    if not callback_id or not isinstance(callback_id, str):
        raise Refused(400, "callback_id names the shortcut", "callback_id")
    kind = "message" if message_ts else "global"
    found: Row[Any] | None = None
    for app in ctx.conn.execute(select(APP).where(APP.c.tenant_id == ctx.tenant).order_by(APP.c.id)):
        if any(
            isinstance(s, dict) and s.get("callback_id") == callback_id and s.get("type") == kind
            for s in app.shortcuts or []
        ):
            found = app
            break
    if found is None:
        raise Refused(404, f"no app in this workspace has a {kind} shortcut {callback_id!r}", "callback_id")
    app = found
    target = _interactivity_url(app)
    team = _team(ctx)
    trigger_id = views.mint_trigger(ctx, person.id)
    payload: dict[str, Any] = {
        "type": "shortcut" if kind == "global" else "message_action",
        "token": app.verification_token,
        "action_ts": _action_ts(ctx),
        "team": _team_object(team),
        "user": _user_object(person),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }
    response_url: str | None = None
    channel_id: str | None = None
    if kind == "message":
        conv = _conversation_for(ctx, person, channel)
        msg = _message_row(ctx, conv, message_ts)
        channel_id = conv.id
        response_url = mint_response_url(
            ctx,
            kind="actions",
            app_id=app.id,
            channel_id=conv.id,
            user_id=person.id,
            message_ts=msg.ts,
            thread_ts=msg.thread_ts if msg.thread_ts != msg.ts else None,
        )
        payload.update(
            channel={"id": conv.id, "name": _channel_name(conv)},
            message_ts=msg.ts,
            message=common.message_object(ctx, msg),
            response_url=response_url,
        )
    return Outbound(
        kind=payload["type"],
        app_id=app.id,
        target=target,
        body=_payload_form(payload),
        signing_secret=app.signing_secret,
        user_id=person.id,
        trigger_id=trigger_id,
        response_url=response_url,
        channel_id=channel_id,
        payload=payload,
    )


# -- App Home ----------------------------------------------------------------------------------


def open_home(ctx: TwinContext, *, user: Any, app_id: Any, tab: Any) -> dict[str, Any]:
    """The person opens the app's Home (or Messages) tab: `app_home_opened` for an app that
    subscribes, with the Home view published for them, if any. The tab's channel is the
    person's DM with the app, opened if need be.
    https://docs.slack.dev/reference/events/app_home_opened"""
    from twins.slack import events
    from twins.slack.service import conversations

    person = resolve_user(ctx, user)
    if tab is None:
        tab = "home"
    if tab not in ("home", "messages"):
        raise Refused(400, "tab is home or messages", "tab")
    app = _sole_app(ctx, app_id if isinstance(app_id, str) else None)
    if not app.bot_user_id:
        raise Refused(409, f"app {app.id} has no bot user, hence no App Home", "app")
    opened = conversations.open_conversation(
        app_context(ctx, app.id), channel=None, users=[person.id], return_im=False, prevent_creation=False
    )
    channel_id = opened["channel"]["id"]
    home = ctx.conn.execute(
        select(views.VIEW).where(
            views.VIEW.c.tenant_id == ctx.tenant,
            views.VIEW.c.app_id == app.id,
            views.VIEW.c.user_id == person.id,
            views.VIEW.c.type == "home",
        )
    ).first()
    event: dict[str, Any] = {"type": "app_home_opened", "user": person.id, "channel": channel_id, "tab": tab}
    if home is not None:
        event["view"] = views.view_object(ctx, home)
    event["event_ts"] = _action_ts(ctx)
    subscribed = app.request_url is not None and "app_home_opened" in (app.bot_events or [])
    if subscribed:
        events.deliver_event(ctx, app, common.team_id(ctx), event, ctx.now())
    return {"channel": channel_id, "tab": tab, "view": event.get("view"), "event_sent": subscribed}


# -- views: submission and closing -------------------------------------------------------------


def _live_view(ctx: TwinContext, person: Row[Any], view_id: Any) -> Row[Any]:
    """A view the person has in front of them (for a modal: the top of its stack)."""
    row = views.get_view(ctx, view_id if isinstance(view_id, str) else None)
    if row is None or not row.is_open:
        raise Refused(404, f"no open view {view_id!r}", "view_id")
    if row.user_id != person.id:
        raise Refused(403, f"view {row.id} is shown to {row.user_id}, not {person.id}", "view_id")
    if row.type == "modal":
        top = views.stack(ctx, row.root_view_id)[-1]
        if top.id != row.id:
            raise Refused(
                409,
                f"view {row.id} is under {top.id} in its modal: only the top view is on screen",
                "view_id",
            )
    return row


def build_state(definition: dict[str, Any], given: Any, previous: dict[str, Any]) -> dict[str, Any]:
    """`state.values` for every input block: what the user entered, else what was there before,
    else the element's initial value, else empty."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise Refused(400, "values is {block_id: {action_id: {...}}}", "values")
    inputs = {(b["block_id"], e.get("action_id")): e for b, e in views.input_elements(definition)}
    for block_id, actions in given.items():
        if not isinstance(actions, dict):
            raise Refused(400, f"values.{block_id} is {{action_id: {{...}}}}", "values")
        for action_id in actions:
            if (block_id, action_id) not in inputs:
                raise Refused(
                    400, f"the view has no input block {block_id!r} with action_id {action_id!r}", "values"
                )
    values: dict[str, Any] = {}
    for (block_id, action_id), element in inputs.items():
        kind = str(element.get("type"))
        name = views.SELECTED_FIELD.get(kind, "value")
        supplied = given.get(block_id, {}).get(action_id)
        before = (previous.get(block_id) or {}).get(action_id)
        if supplied is not None:
            raw = supplied.get(name, supplied.get("value")) if isinstance(supplied, dict) else supplied
            entry = {"type": kind, name: _coerce(element, name, raw)}
        elif before is not None:
            entry = before
        else:
            initial = element.get(views.INITIAL_FIELD.get(name, ""))
            empty: Any = [] if name in views.LIST_FIELDS else None
            entry = {"type": kind, name: initial if initial is not None else empty}
        values.setdefault(block_id, {})[action_id] = entry
    return values


def _missing_required(definition: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    missing: dict[str, str] = {}
    for block, element in views.input_elements(definition):
        if block.get("optional"):
            continue
        entry = values.get(block["block_id"], {}).get(element.get("action_id"), {})
        name = views.SELECTED_FIELD.get(str(element.get("type")), "value")
        if entry.get(name) in (None, "", []):
            missing[block["block_id"]] = "This field is required."
    return missing


@dataclass
class Submission:
    out: Outbound | None
    blocked: dict[str, str] | None = None
    view: dict[str, Any] | None = None


def prepare_view_submission(ctx: TwinContext, *, user: Any, view_id: Any, values: Any) -> Submission:
    """The user presses Submit: `view_submission` with the inputs in `view.state.values`
    (required inputs left empty stop it in the client, as in Slack).
    https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission"""
    person = resolve_user(ctx, user)
    row = _live_view(ctx, person, view_id)
    if row.type != "modal" or not row.definition.get("submit"):
        raise Refused(409, f"view {row.id} has no Submit button", "view_id")
    row = _set_state(ctx, row, values)
    state = (row.state or {}).get("values") or {}
    missing = _missing_required(row.definition, state)
    if missing:
        return Submission(None, blocked=missing, view=views.view_object(ctx, row))
    app = _app(ctx, row.app_id)
    target = _interactivity_url(app)
    trigger_id = views.mint_trigger(ctx, person.id, view_id=row.id)
    payload = {
        "type": "view_submission",
        "team": _team_object(_team(ctx)),
        "user": _user_object(person),
        "api_app_id": app.id,
        "token": app.verification_token,
        "trigger_id": trigger_id,
        "view": views.view_object(ctx, row),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    out = Outbound(
        kind="view_submission",
        app_id=app.id,
        target=target,
        body=_payload_form(payload),
        signing_secret=app.signing_secret,
        user_id=person.id,
        trigger_id=trigger_id,
        view_id=row.id,
        payload=payload,
    )
    return Submission(out)


def _top(ctx: TwinContext, root_view_id: str) -> dict[str, Any] | None:
    remaining = views.stack(ctx, root_view_id)
    return views.view_object(ctx, remaining[-1]) if remaining else None


def apply_view_submission_answer(ctx: TwinContext, out: Outbound, answer: Answer) -> dict[str, Any]:
    """The app's answer to a submission, applied as Slack does: empty closes the view,
    `errors` keeps it open with messages under the inputs, `update` replaces it, `push` stacks a
    new one, `clear` closes the whole modal.
    https://docs.slack.dev/surfaces/modals#interactions"""
    row = views.get_view(ctx, out.view_id)
    assert row is not None
    root = row.root_view_id
    if not answer.ok:
        return {"outcome": "failed", "error": _failure_code(answer), "view": _top(ctx, root)}
    body = answer.parsed()
    if body is None or (isinstance(body, dict) and not body.get("response_action")):
        views.close_views(ctx, [row.id])
        return {"outcome": "closed", "view": _top(ctx, root)}
    if not isinstance(body, dict):
        return {"outcome": "failed", "error": "invalid_response", "view": _top(ctx, root)}
    action = body.get("response_action")
    try:
        if action == "errors":
            errors = body.get("errors")
            blocks = {b["block_id"] for b, _ in views.input_elements(row.definition)}
            if not isinstance(errors, dict) or not errors or any(k not in blocks for k in errors):
                return {
                    "outcome": "failed",
                    "error": "invalid_errors",
                    "errors": errors,
                    "view": _top(ctx, root),
                }
            return {"outcome": "errors", "errors": errors, "view": _top(ctx, root)}
        if action == "update":
            definition = views.validate_view(ctx, body.get("view"), types=("modal",))
            views.replace_definition(ctx, row, definition)
            return {"outcome": "updated", "view": _top(ctx, root)}
        if action == "push":
            definition = views.validate_view(ctx, body.get("view"), types=("modal",))
            views.push_onto(ctx, row, definition)
            return {"outcome": "pushed", "view": _top(ctx, root)}
        if action == "clear":
            views.close_views(ctx, [v.id for v in views.stack(ctx, root)])
            return {"outcome": "cleared", "view": None}
    except SlackError as exc:
        return {
            "outcome": "failed",
            "error": exc.slack_code,
            "messages": exc.messages,
            "view": _top(ctx, root),
        }
    return {"outcome": "failed", "error": "invalid_response_action", "view": _top(ctx, root)}


def close_view(
    ctx: TwinContext, *, user: Any, view_id: Any, clear: bool
) -> tuple[dict[str, Any], Outbound | None]:
    """The user dismisses a modal: Cancel goes back one view, the X (or clear_on_close) closes
    the whole modal; `view_closed` goes to apps that set notify_on_close.
    https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_closed"""
    person = resolve_user(ctx, user)
    row = _live_view(ctx, person, view_id)
    if row.type != "modal":
        raise Refused(409, f"view {row.id} is a Home tab: it does not close", "view_id")
    whole = views.stack(ctx, row.root_view_id)
    cleared = clear or bool(row.definition.get("clear_on_close")) or len(whole) == 1
    shown = views.view_object(ctx, row)
    views.close_views(ctx, [v.id for v in whole] if cleared else [row.id])
    result = {"outcome": "cleared" if cleared else "closed", "view": _top(ctx, row.root_view_id)}
    if not row.definition.get("notify_on_close"):
        return result, None
    app = _app(ctx, row.app_id)
    if not app.interactivity_url:
        return result, None
    payload = {
        "type": "view_closed",
        "team": _team_object(_team(ctx)),
        "user": _user_object(person),
        "api_app_id": app.id,
        "token": app.verification_token,
        "view": shown,
        "is_cleared": cleared and len(whole) > 1,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    out = Outbound(
        kind="view_closed",
        app_id=app.id,
        target=str(app.interactivity_url),
        body=_payload_form(payload),
        signing_secret=app.signing_secret,
        user_id=person.id,
        view_id=row.id,
        payload=payload,
    )
    return result, out
