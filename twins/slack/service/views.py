"""Views: modals and App Home tabs (views.open, views.push, views.update, views.publish).

https://docs.slack.dev/surfaces/modals and https://docs.slack.dev/reference/views . A modal is
opened with a trigger_id that Slack handed the app with an interaction (valid once, for 3 s);
views pushed on top of it form a stack of at most 3 views sharing one `root_view_id`. Every
write gives the view a new `hash`, and a stale hash passed back is `hash_conflict`. Slack
completes what the app sent: block ids and action ids where there are none, `emoji: true` on
plain_text, `verbatim: false` on mrkdwn, `optional: false` on inputs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import Row, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.ids import stable_hash
from twins.slack import blocks as block_kit
from twins.slack import constants, models
from twins.slack.errors import (
    InvalidArguments,
    InvalidBlocks,
    InvalidBlocksFormat,
    NotAllowedTokenType,
    SlackError,
)
from twins.slack.service import common
from twins.slack.service.common import APP, USER

VIEW = table(models.View)
TRIGGER = table(models.Trigger)

# https://docs.slack.dev/reference/methods/views.open#errors : "greater than 250kb"
MAX_VIEW_BYTES = 250_000
# https://docs.slack.dev/reference/views/modal-views : title, submit and close are at most 24 characters
MAX_BUTTON_TEXT = 24
MAX_PRIVATE_METADATA = 3000
MAX_ID_LENGTH = 255
# https://docs.slack.dev/reference/methods/views.push : "Currently the limit is 3"
MAX_STACK = 3
TRIGGER_FORMAT = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")
_MIXED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# What a user's input looks like in `state.values`, per element type (and when left empty).
SELECTED_FIELD = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "overflow": "selected_option",
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
    "file_input": "files",
}
INITIAL_FIELD = {
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
    "value": "initial_value",
    "rich_text_value": "initial_value",
}
LIST_FIELDS = {"selected_options", "selected_users", "selected_conversations", "selected_channels", "files"}


# -- triggers ----------------------------------------------------------------------------------


def mint_trigger(ctx: TwinContext, user_id: str, view_id: str | None = None) -> str:
    """A trigger_id as Slack hands it out ("<ms>.<team number>.<hex>"), valid once for 3 s.
    https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses"""
    team_number = stable_hash("team", common.team_id(ctx)) % 10**11
    trigger_id = f"{int(ctx.now() * 1000)}.{team_number}.{ctx.ids.hex('trigger', 32)}"
    ctx.conn.execute(
        insert(TRIGGER).values(
            tenant_id=ctx.tenant,
            id=trigger_id,
            user_id=user_id,
            issued_at=ctx.now(),
            used=False,
            view_id=view_id,
        )
    )
    return trigger_id


def _exchange_trigger(ctx: TwinContext, trigger_id: str | None) -> Row[Any]:
    """Spend a trigger: unknown or malformed, already spent and too old are three errors."""
    if not trigger_id:
        raise InvalidArguments(messages=["[ERROR] missing required field: trigger_id"])
    if not TRIGGER_FORMAT.match(trigger_id):
        raise SlackError("invalid_trigger_id")
    row = ctx.conn.execute(
        select(TRIGGER).where(TRIGGER.c.tenant_id == ctx.tenant, TRIGGER.c.id == trigger_id)
    ).first()
    if row is None:
        raise SlackError("invalid_trigger_id")
    if row.used:
        raise SlackError("exchanged_trigger_id")
    if ctx.now() - row.issued_at > constants.TRIGGER_TTL_S:
        raise SlackError("expired_trigger_id")
    ctx.conn.execute(
        update(TRIGGER).where(TRIGGER.c.tenant_id == ctx.tenant, TRIGGER.c.id == trigger_id).values(used=True)
    )
    return row


# -- validation and normalisation --------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.items.append(f"[ERROR] {message} [json-pointer:{pointer}]")


def _button_text(view: dict[str, Any], name: str, p: _Problems, *, required: bool) -> None:
    obj = view.get(name)
    if obj is None:
        if required:
            p.add(f"missing required field: {name}", f"/view/{name}")
        return
    if not isinstance(obj, dict):
        p.add("must provide an object", f"/view/{name}")
        return
    if obj.get("type") != "plain_text":
        p.add("must be one of [plain_text]", f"/view/{name}/type")
    text = obj.get("text")
    if not isinstance(text, str):
        p.add("missing required field: text", f"/view/{name}/text")
    elif not text:
        p.add("must be more than 0 characters", f"/view/{name}/text")
    elif len(text) > MAX_BUTTON_TEXT:
        p.add(f"must be less than {MAX_BUTTON_TEXT + 1} characters", f"/view/{name}/text")


def _string_field(view: dict[str, Any], name: str, limit: int, p: _Problems) -> None:
    value = view.get(name)
    if value is None:
        return
    if not isinstance(value, str):
        p.add("must provide a string", f"/view/{name}")
    elif len(value) > limit:
        p.add(f"must be less than {limit + 1} characters", f"/view/{name}")


def _normalise_text(obj: Any) -> None:
    """Slack echoes text objects back with their defaults filled in."""
    if isinstance(obj, dict):
        if isinstance(obj.get("text"), str):
            if obj.get("type") == "plain_text":
                obj.setdefault("emoji", True)
            elif obj.get("type") == "mrkdwn":
                obj.setdefault("verbatim", False)
        for value in obj.values():
            _normalise_text(value)
    elif isinstance(obj, list):
        for value in obj:
            _normalise_text(value)


def block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements of one block (accessory, actions elements, input element)."""
    kind = block.get("type")
    found: list[Any] = []
    if kind == "section" and "accessory" in block:
        found = [block["accessory"]]
    elif kind == "actions":
        found = list(block.get("elements") or [])
    elif kind == "input" and "element" in block:
        found = [block["element"]]
    return [
        e
        for e in found
        if isinstance(e, dict) and e.get("type") in block_kit.ELEMENTS and e.get("type") != "image"
    ]


def _complete_blocks(ctx: TwinContext, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in what Slack fills in: block_id, action_id, input defaults, text defaults."""
    out = copy.deepcopy(blocks)
    for block in out:
        if "block_id" not in block:
            block["block_id"] = ctx.ids.token("block-id", length=5, alphabet=_MIXED)
        if block.get("type") == "input":
            block.setdefault("optional", False)
            block.setdefault("dispatch_action", False)
        for element in block_elements(block):
            if "action_id" not in element:
                element["action_id"] = ctx.ids.token("action-id", length=5, alphabet=_MIXED)
    _normalise_text(out)
    return out


def validate_view(ctx: TwinContext, view: Any, *, types: tuple[str, ...]) -> dict[str, Any]:
    """Check a view payload as Slack does and answer the stored definition.

    Slack reports view problems as `invalid_arguments` with one `[ERROR] ... [json-pointer:/view/...]`
    message per problem; a payload over 250 kB is `view_too_large`."""
    if view is None:
        raise InvalidArguments(messages=["[ERROR] missing required field: view"])
    if not isinstance(view, dict):
        raise InvalidArguments(messages=["[ERROR] must provide an object [json-pointer:/view]"])
    if len(orjson.dumps(view)) > MAX_VIEW_BYTES:
        raise SlackError("view_too_large")
    p = _Problems()
    kind = view.get("type")
    if kind not in types:
        p.add("failed to match all allowed schemas", "/view")
        p.add(f"must be one of [{', '.join(types)}]", "/view/type")
        raise InvalidArguments(messages=p.items)
    if kind == "modal":
        _button_text(view, "title", p, required=True)
        _button_text(view, "close", p, required=False)
        _button_text(view, "submit", p, required=False)
    elif "title" in view:
        _button_text(view, "title", p, required=False)
    _string_field(view, "private_metadata", MAX_PRIVATE_METADATA, p)
    _string_field(view, "callback_id", MAX_ID_LENGTH, p)
    _string_field(view, "external_id", MAX_ID_LENGTH, p)
    for flag in ("clear_on_close", "notify_on_close", "submit_disabled"):
        if flag in view and not isinstance(view[flag], bool):
            p.add("must provide a boolean", f"/view/{flag}")
    raw_blocks = view.get("blocks")
    if raw_blocks is None:
        p.add("missing required field: blocks", "/view/blocks")
    else:
        try:
            block_kit.validate(raw_blocks, limit=constants.MAX_BLOCKS_VIEW, surface=kind)
        except InvalidBlocksFormat:
            p.add("must provide an array", "/view/blocks")
        except InvalidBlocks as exc:
            p.items.extend(
                m.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks") for m in exc.messages
            )
    if (
        kind == "modal"
        and isinstance(raw_blocks, list)
        and "submit" not in view
        and any(isinstance(b, dict) and b.get("type") == "input" for b in raw_blocks)
    ):
        p.add("must provide submit when blocks include an input block", "/view/submit")
    if p.items:
        raise InvalidArguments(messages=p.items)
    definition: dict[str, Any] = {
        k: copy.deepcopy(v)
        for k, v in view.items()
        if k
        in (
            "type",
            "title",
            "close",
            "submit",
            "private_metadata",
            "callback_id",
            "external_id",
            "clear_on_close",
            "notify_on_close",
            "submit_disabled",
        )
    }
    for name in ("title", "close", "submit"):
        if isinstance(definition.get(name), dict):
            _normalise_text(definition[name])
    assert isinstance(raw_blocks, list)  # validated above
    definition["blocks"] = _complete_blocks(ctx, raw_blocks)
    return definition


# -- reading -----------------------------------------------------------------------------------


def view_object(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    """The view object. https://docs.slack.dev/reference/views"""
    d = row.definition
    team = common.team_id(ctx)
    bot_id = ctx.conn.execute(
        select(APP.c.bot_id).where(APP.c.tenant_id == ctx.tenant, APP.c.id == row.app_id)
    ).scalar()
    out: dict[str, Any] = {"id": row.id, "team_id": team, "type": row.type}
    if row.type == "modal" or "title" in d:
        out["title"] = d.get("title")
    out.update(
        {
            "close": d.get("close"),
            "submit": d.get("submit"),
            "blocks": d["blocks"],
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": row.state or {"values": {}},
            "hash": row.hash,
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "previous_view_id": row.previous_view_id,
            "root_view_id": row.root_view_id,
            "app_id": row.app_id,
            "external_id": row.external_id or "",
            "app_installed_team_id": team,
            "bot_id": bot_id,
        }
    )
    if "submit_disabled" in d:
        out["submit_disabled"] = d["submit_disabled"]
    return out


def get_view(ctx: TwinContext, view_id: str | None) -> Row[Any] | None:
    if not view_id:
        return None
    return ctx.conn.execute(select(VIEW).where(VIEW.c.tenant_id == ctx.tenant, VIEW.c.id == view_id)).first()


def stack(ctx: TwinContext, root_view_id: str) -> list[Row[Any]]:
    """The open views of one modal, bottom first."""
    return list(
        ctx.conn.execute(
            select(VIEW)
            .where(
                VIEW.c.tenant_id == ctx.tenant, VIEW.c.root_view_id == root_view_id, VIEW.c.is_open.is_(True)
            )
            .order_by(VIEW.c.seq)
        ).all()
    )


def input_elements(definition: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for each input block of a view."""
    for block in definition.get("blocks") or []:
        if (
            isinstance(block, dict)
            and block.get("type") == "input"
            and isinstance(block.get("element"), dict)
        ):
            yield block, block["element"]


def _new_hash(ctx: TwinContext) -> str:
    return f"{int(ctx.now())}.{ctx.ids.hex('view-hash', 8)}"


def _app_id(ctx: TwinContext) -> str:
    p = ctx.principal
    if p.kind == "configuration" or not p.app_id:
        raise NotAllowedTokenType()
    return str(p.app_id)


def _check_external_id(ctx: TwinContext, external_id: str | None, *, except_id: str | None = None) -> None:
    """external_id is unique among a workspace's live views."""
    if not external_id:
        return
    stmt = select(VIEW.c.id).where(
        VIEW.c.tenant_id == ctx.tenant, VIEW.c.external_id == external_id, VIEW.c.is_open.is_(True)
    )
    if except_id is not None:
        stmt = stmt.where(VIEW.c.id != except_id)
    if ctx.conn.execute(stmt).first() is not None:
        raise SlackError("duplicate_external_id")


def _insert(
    ctx: TwinContext,
    *,
    app_id: str,
    user_id: str,
    definition: dict[str, Any],
    root_view_id: str | None,
    previous_view_id: str | None,
) -> Row[Any]:
    view_id = ctx.ids.token("view", prefix="V", length=11)
    ctx.conn.execute(
        insert(VIEW).values(
            tenant_id=ctx.tenant,
            id=view_id,
            app_id=app_id,
            user_id=user_id,
            type=definition["type"],
            definition=definition,
            state={"values": {}},
            hash=_new_hash(ctx),
            root_view_id=root_view_id or view_id,
            previous_view_id=previous_view_id,
            external_id=definition.get("external_id") or None,
            is_open=True,
            seq=ctx.ids.next("view-seq"),
        )
    )
    row = get_view(ctx, view_id)
    assert row is not None
    return row


def _kept_state(old: Row[Any], definition: dict[str, Any]) -> dict[str, Any]:
    """Input values survive an update for inputs whose block_id and action_id are unchanged."""
    values = dict((old.state or {}).get("values") or {})
    alive = {(b["block_id"], e.get("action_id")) for b, e in input_elements(definition)}
    kept: dict[str, Any] = {}
    for block_id, actions in values.items():
        for action_id, value in (actions or {}).items():
            if (block_id, action_id) in alive:
                kept.setdefault(block_id, {})[action_id] = value
    return {"values": kept}


def replace_definition(ctx: TwinContext, row: Row[Any], definition: dict[str, Any]) -> Row[Any]:
    """Write a new definition over a live view: new hash, kept input state."""
    _check_external_id(ctx, definition.get("external_id"), except_id=row.id)
    external_id = definition.get("external_id") or row.external_id
    ctx.conn.execute(
        update(VIEW)
        .where(VIEW.c.tenant_id == ctx.tenant, VIEW.c.id == row.id)
        .values(
            definition=definition,
            hash=_new_hash(ctx),
            external_id=external_id,
            state=_kept_state(row, definition),
        )
    )
    fresh = get_view(ctx, row.id)
    assert fresh is not None
    return fresh


def push_onto(ctx: TwinContext, top: Row[Any], definition: dict[str, Any]) -> Row[Any]:
    """Push a view on the modal `top` belongs to (views.push, response_action push)."""
    if len(stack(ctx, top.root_view_id)) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    _check_external_id(ctx, definition.get("external_id"))
    return _insert(
        ctx,
        app_id=top.app_id,
        user_id=top.user_id,
        definition=definition,
        root_view_id=top.root_view_id,
        previous_view_id=top.id,
    )


def close_views(ctx: TwinContext, view_ids: list[str]) -> None:
    if view_ids:
        ctx.conn.execute(
            update(VIEW).where(VIEW.c.tenant_id == ctx.tenant, VIEW.c.id.in_(view_ids)).values(is_open=False)
        )


# -- methods -----------------------------------------------------------------------------------


def open_view(ctx: TwinContext, *, trigger_id: str | None, view: Any) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/views.open — a new modal for the user the
    trigger came from."""
    app_id = _app_id(ctx)
    definition = validate_view(ctx, view, types=("modal",))
    trigger = _exchange_trigger(ctx, trigger_id)
    _check_external_id(ctx, definition.get("external_id"))
    row = _insert(
        ctx,
        app_id=app_id,
        user_id=trigger.user_id,
        definition=definition,
        root_view_id=None,
        previous_view_id=None,
    )
    return {"view": view_object(ctx, row)}


def push_view(ctx: TwinContext, *, trigger_id: str | None, view: Any) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/views.push — only with a trigger from an
    interaction inside an open modal; at most 3 views in a stack."""
    _app_id(ctx)
    definition = validate_view(ctx, view, types=("modal",))
    trigger = _exchange_trigger(ctx, trigger_id)
    source = get_view(ctx, trigger.view_id)
    if source is None or not source.is_open or source.type != "modal":
        raise SlackError("not_found")
    top = stack(ctx, source.root_view_id)[-1]
    return {"view": view_object(ctx, push_onto(ctx, top, definition))}


def update_view(
    ctx: TwinContext, *, view_id: str | None, external_id: str | None, view: Any, hash_: str | None
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/views.update — by view_id or external_id;
    a hash from before the last write is `hash_conflict`."""
    app_id = _app_id(ctx)
    if not view_id and not external_id:
        raise InvalidArguments(messages=["[ERROR] either view_id or external_id is required"])
    stmt = select(VIEW).where(
        VIEW.c.tenant_id == ctx.tenant, VIEW.c.app_id == app_id, VIEW.c.is_open.is_(True)
    )
    stmt = stmt.where(VIEW.c.id == view_id) if view_id else stmt.where(VIEW.c.external_id == external_id)
    row = ctx.conn.execute(stmt).first()
    if row is None:
        raise SlackError("not_found")
    definition = validate_view(ctx, view, types=(row.type,))
    if hash_ and hash_ != row.hash:
        raise SlackError("hash_conflict")
    return {"view": view_object(ctx, replace_definition(ctx, row, definition))}


def publish_view(ctx: TwinContext, *, user_id: str | None, view: Any, hash_: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/views.publish — the user's Home tab of the
    calling app; bot tokens only."""
    app_id = _app_id(ctx)
    if not ctx.principal.is_bot:
        raise NotAllowedTokenType()
    if not user_id:
        raise InvalidArguments(messages=["[ERROR] missing required field: user_id"])
    user = ctx.conn.execute(select(USER).where(USER.c.tenant_id == ctx.tenant, USER.c.id == user_id)).first()
    if user is None or user.deleted:
        raise InvalidArguments(messages=["invalid `user_id`"])
    definition = validate_view(ctx, view, types=("home",))
    manifest = (
        ctx.conn.execute(
            select(APP.c.manifest).where(APP.c.tenant_id == ctx.tenant, APP.c.id == app_id)
        ).scalar()
        or {}
    )
    home = ((manifest.get("features") or {}).get("app_home") or {}) if isinstance(manifest, dict) else {}
    if home.get("home_tab_enabled") is False:
        raise SlackError("not_enabled")
    row = ctx.conn.execute(
        select(VIEW).where(
            VIEW.c.tenant_id == ctx.tenant,
            VIEW.c.app_id == app_id,
            VIEW.c.user_id == user_id,
            VIEW.c.type == "home",
        )
    ).first()
    if row is None:
        _check_external_id(ctx, definition.get("external_id"))
        row = _insert(
            ctx,
            app_id=app_id,
            user_id=user_id,
            definition=definition,
            root_view_id=None,
            previous_view_id=None,
        )
    else:
        if hash_ and hash_ != row.hash:
            raise SlackError("hash_conflict")
        row = replace_definition(ctx, row, definition)
    return {"view": view_object(ctx, row)}
