"""Messages: chat.postMessage and its siblings.

https://docs.slack.dev/reference/methods/chat.postMessage . A message's ts is unique and
increasing per channel; a reply updates its parent's reply_count, reply_users and
latest_reply; an update raises `message_changed` and a delete `message_deleted` (a parent
with replies becomes a tombstone, as in Slack).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, slack_metadata
from dtu.ratelimit import Limit
from dtu.sql import Prepared
from twins.slack import blocks as block_kit
from twins.slack import constants, events, models
from twins.slack.errors import (
    MessageNotFound,
    MsgTooLong,
    NoText,
    NotInChannel,
    SlackError,
    rate_limited,
)
from twins.slack.service import common
from twins.slack.service.common import APP, CONV, MSG, PIN, REACTION

SCHEDULED = table(models.ScheduledMessage)
EPHEMERAL = table(models.Ephemeral)
SYSTEM_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "tombstone",
}
# chat.postMessage's statements, built once (see common.py).
# (The bot profile needs the app's id and name only: its manifest is JSON worth not decoding.)
_APP_BY_ID = select(APP.c.id, APP.c.name).where(
    APP.c.tenant_id == bindparam("tenant"), APP.c.id == bindparam("app")
)
_INSERT_MSG = Prepared(insert(MSG), columns=[c.name for c in MSG.columns])


class _AsWritten:
    """A message row as just inserted, for `message_object`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _target(ctx: TwinContext, channel: str | None) -> Row[Any]:
    """A channel id or name; a user id means the app's DM with that user (opened on demand)."""
    if channel and channel[:1] in ("U", "W") and ctx.principal.user_id:
        from twins.slack.service import conversations

        opened = conversations.open_conversation(
            ctx, channel=None, users=[channel], return_im=False, prevent_creation=False
        )
        return common.get_conversation(ctx, opened["channel"]["id"])
    return common.writable_conversation(ctx, channel)


def _may_post(ctx: TwinContext, conv: Row[Any]) -> None:
    if common.is_member(ctx, conv.id, ctx.principal.user_id):
        return
    if conv.kind == "channel" and ("chat:write.public" in ctx.principal.scopes or not ctx.principal.is_bot):
        return
    raise NotInChannel()


def _content(
    args_text: str | None,
    blocks: Any,
    attachments: Any,
    *,
    limit_text: bool,
    block_limit: int = constants.MAX_BLOCKS_MESSAGE,
) -> tuple[str, list[Any] | None, list[Any] | None]:
    text = args_text or ""
    if blocks is not None:
        blocks = block_kit.validate(blocks, limit=block_limit)
    if attachments is not None:
        if not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if len(attachments) > 100:
            raise SlackError("too_many_attachments")
    if not text and not blocks and not attachments:
        raise NoText()
    if len(text) > constants.MAX_TEXT:
        if limit_text:
            raise MsgTooLong()
        text = text[: constants.MAX_TEXT]  # chat.postMessage truncates rather than refuses
    return text, blocks, attachments


def _author(
    ctx: TwinContext, username: str | None, icon_emoji: str | None, icon_url: str | None
) -> dict[str, Any]:
    p = ctx.principal
    extra: dict[str, Any] = {}
    if p.is_bot:
        tenant = ctx.tenant
        app = ctx.runtime.cache("slack.app", APP).get(
            (tenant, p.app_id),
            lambda: (tenant, ctx.conn.execute(_APP_BY_ID, {"tenant": tenant, "app": p.app_id}).first()),
        )
        if app is not None:
            extra["bot_profile"] = {
                "id": p.bot_id,
                "deleted": False,
                "name": app.name,
                "updated": 0,
                "app_id": app.id,
                "icons": {"image_36": "", "image_48": "", "image_72": ""},
                "team_id": p.team_id,
            }
        if "chat:write.customize" in p.scopes:
            if username:
                extra["username"] = username
            if icon_emoji or icon_url:
                extra["icons"] = {"emoji": icon_emoji} if icon_emoji else {"image_64": icon_url}
    return extra


def post_message(
    ctx: TwinContext,
    *,
    channel: str | None,
    text: str | None,
    blocks: Any = None,
    attachments: Any = None,
    thread_ts: str | None = None,
    reply_broadcast: bool = False,
    username: str | None = None,
    icon_emoji: str | None = None,
    icon_url: str | None = None,
    metadata: Any = None,
    client_msg_id: str | None = None,
    subtype: str | None = None,
    files: list[Any] | None = None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.postMessage"""
    conv = _target(ctx, channel)
    _may_post(ctx, conv)
    if ctx.real_limits:
        # About one message a second per channel, per app (short bursts allowed).
        p = ctx.principal
        limit = Limit(
            f"chat.postMessage:{p.app_id or p.user_id}:{conv.id}",
            constants.POST_PER_CHANNEL_LIMIT,
            constants.POST_PER_CHANNEL_WINDOW_S,
        )
        verdict = ctx.runtime.limiter.hit(ctx.tenant, limit, ctx.now())
        if not verdict.allowed:
            raise rate_limited(verdict.retry_after_s)
    if files:
        text, blocks, attachments = text or "", blocks, attachments
    else:
        text, blocks, attachments = _content(text, blocks, attachments, limit_text=False)
    extra = _author(ctx, username, icon_emoji, icon_url)
    if metadata is not None:
        if not isinstance(metadata, dict) or "event_type" not in metadata:
            raise SlackError("invalid_metadata_format")
        extra["metadata"] = metadata
    if client_msg_id:
        extra["client_msg_id"] = client_msg_id
    parent = None
    thread = common.parse_ts(thread_ts, "invalid_thread_ts") if thread_ts else None
    if thread is not None:
        parent = ctx.conn.execute(
            select(MSG).where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == thread)
        ).first()
        if parent is None:
            thread = None  # Slack posts to the channel when the parent does not exist
        elif parent.subtype in SYSTEM_SUBTYPES:
            raise SlackError("cannot_reply_to_message")
        elif parent.thread_ts and parent.thread_ts != parent.ts:
            thread = parent.thread_ts  # a reply to a reply joins the same thread
            parent = ctx.conn.execute(
                select(MSG).where(
                    MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == thread
                )
            ).first()
    p = ctx.principal
    ts = common.next_ts(ctx, conv.id)
    if parent is not None:
        extra["parent_user_id"] = parent.user_id
    msg_subtype = subtype or (
        "thread_broadcast"
        if parent is not None and reply_broadcast
        else ("bot_message" if p.is_bot and extra.get("username") else None)
    )
    values = dict(
        tenant_id=ctx.tenant,
        channel_id=conv.id,
        ts=ts,
        subtype=msg_subtype,
        user_id=p.user_id,
        bot_id=p.bot_id,
        app_id=p.app_id if p.is_bot else None,
        text=text,
        blocks=blocks,
        attachments=attachments,
        files=files,
        thread_ts=thread,
        reply_count=0,
        reply_users=[],
        latest_reply=None,
        is_broadcast=bool(parent is not None and reply_broadcast),
        edited=None,
        extra=extra or None,
        written_at=ctx.now(),
    )
    _INSERT_MSG.execute(ctx.conn, values)
    if parent is not None:
        users = list(parent.reply_users or [])
        if p.user_id and p.user_id not in users:
            users.append(p.user_id)
        ctx.conn.execute(
            update(MSG)
            .where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == parent.ts)
            .values(
                thread_ts=parent.ts, reply_count=MSG.c.reply_count + 1, reply_users=users, latest_reply=ts
            )
        )
    # The answer is built from the values written (JSON values read back are equal to them).
    message = common.message_object(ctx, _AsWritten(values))
    events.message_event(ctx, conv, message)
    return {"channel": conv.id, "ts": ts, "message": message}


def _own(ctx: TwinContext, row: Row[Any]) -> bool:
    p = ctx.principal
    if p.is_bot:
        return row.bot_id is not None and row.bot_id == p.bot_id
    return row.user_id == p.user_id and row.bot_id is None


def update_message(
    ctx: TwinContext,
    *,
    channel: str | None,
    ts: str | None,
    text: str | None,
    blocks: Any,
    attachments: Any,
    metadata: Any = None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.update — authors edit their own messages."""
    conv = common.visible_conversation(ctx, channel)
    ts_norm = common.parse_ts(ts, "message_not_found")
    row = common.get_message(ctx, conv.id, ts_norm, MessageNotFound)
    if not _own(ctx, row) or row.subtype in SYSTEM_SUBTYPES:
        raise SlackError("cant_update_message")
    if text is None and blocks is None and attachments is None:
        raise NoText()
    new_text = text if text is not None else row.text
    new_blocks = blocks if blocks is not None else (None if text is not None else row.blocks)
    new_attachments = attachments if attachments is not None else row.attachments
    new_text, new_blocks, new_attachments = _content(new_text, new_blocks, new_attachments, limit_text=True)
    previous = common.message_object(ctx, row)
    edit_ts = common.micros_to_ts(int(ctx.now() * 1_000_000))
    extra = dict(row.extra or {})
    if metadata is not None:
        extra["metadata"] = metadata
    ctx.conn.execute(
        update(MSG)
        .where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == row.ts)
        .values(
            text=new_text,
            blocks=new_blocks,
            attachments=new_attachments,
            edited={"user": ctx.principal.user_id, "ts": edit_ts},
            extra=extra or None,
        )
    )
    message = common.message_object(ctx, common.get_message(ctx, conv.id, row.ts))
    events.emit(
        ctx,
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": conv.id,
            "ts": edit_ts,
            "message": message,
            "previous_message": previous,
            "event_ts": edit_ts,
            "channel_type": _channel_type(conv),
        },
        channel_id=conv.id,
        conversation_kind=conv.kind,
    )
    return {"channel": conv.id, "ts": row.ts, "text": new_text, "message": message}


def _channel_type(conv: Row[Any]) -> str:
    return {"channel": "channel", "group": "group", "im": "im", "mpim": "mpim"}[conv.kind]


def delete_message(ctx: TwinContext, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.delete — own messages; workspace admins'
    user tokens may delete anyone's."""
    conv = common.visible_conversation(ctx, channel)
    ts_norm = common.parse_ts(ts, "message_not_found")
    row = common.get_message(ctx, conv.id, ts_norm, MessageNotFound)
    if row.subtype == "tombstone":
        raise MessageNotFound()
    if not _own(ctx, row) and not (ctx.principal.kind == "user" and ctx.principal.is_admin):
        raise SlackError("cant_delete_message")
    previous = common.message_object(ctx, row)
    key = and_(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == row.ts)
    if row.thread_ts == row.ts and row.reply_count > 0:
        ctx.conn.execute(
            update(MSG)
            .where(key)
            .values(
                subtype="tombstone",
                text="This message was deleted.",
                blocks=None,
                attachments=None,
                files=None,
                user_id="USLACKBOT",
                bot_id=None,
                app_id=None,
                edited=None,
            )
        )
    else:
        ctx.conn.execute(delete(MSG).where(key))
        if row.thread_ts and row.thread_ts != row.ts:
            _recount_thread(ctx, conv.id, row.thread_ts)
    ctx.conn.execute(
        delete(REACTION).where(
            REACTION.c.tenant_id == ctx.tenant, REACTION.c.channel_id == conv.id, REACTION.c.ts == row.ts
        )
    )
    ctx.conn.execute(
        delete(PIN).where(PIN.c.tenant_id == ctx.tenant, PIN.c.channel_id == conv.id, PIN.c.ts == row.ts)
    )
    event_ts = common.micros_to_ts(int(ctx.now() * 1_000_000))
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": conv.id,
        "ts": event_ts,
        "deleted_ts": row.ts,
        "event_ts": event_ts,
        "previous_message": previous,
        "channel_type": _channel_type(conv),
    }
    events.emit(ctx, event, channel_id=conv.id, conversation_kind=conv.kind)
    return {"channel": conv.id, "ts": row.ts}


def _recount_thread(ctx: TwinContext, channel_id: str, root: str) -> None:
    replies = ctx.conn.execute(
        select(MSG.c.ts, MSG.c.user_id)
        .where(
            MSG.c.tenant_id == ctx.tenant,
            MSG.c.channel_id == channel_id,
            MSG.c.thread_ts == root,
            MSG.c.ts != root,
        )
        .order_by(MSG.c.ts)
    ).all()
    users: list[str] = []
    for _, user in replies:
        if user and user not in users:
            users.append(user)
    parent = ctx.conn.execute(
        select(MSG).where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == channel_id, MSG.c.ts == root)
    ).first()
    if parent is None:
        return
    if not replies and parent.subtype == "tombstone":
        ctx.conn.execute(
            delete(MSG).where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == channel_id, MSG.c.ts == root)
        )
        return
    ctx.conn.execute(
        update(MSG)
        .where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == channel_id, MSG.c.ts == root)
        .values(
            reply_count=len(replies),
            reply_users=users,
            latest_reply=replies[-1][0] if replies else None,
            thread_ts=root if replies else None,
        )
    )


def post_ephemeral(
    ctx: TwinContext,
    *,
    channel: str | None,
    user: str | None,
    text: str | None,
    blocks: Any,
    attachments: Any,
    thread_ts: str | None,
    source: str = "api",
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.postEphemeral — seen by one member only,
    never in history; kept in the `ephemeral` collection for inspection."""
    conv = common.writable_conversation(ctx, channel)
    _may_post(ctx, conv)
    target = common.get_user(ctx, user)
    if not common.is_member(ctx, conv.id, target.id):
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = _content(text, blocks, attachments, limit_text=True)
    return {
        "message_ts": _store_ephemeral(ctx, conv.id, target.id, text, blocks, attachments, thread_ts, source)
    }


def _store_ephemeral(
    ctx: TwinContext,
    channel_id: str,
    user_id: str,
    text: str,
    blocks: Any,
    attachments: Any,
    thread_ts: str | None,
    source: str,
) -> str:
    ts = common.micros_to_ts(int(ctx.now() * 1_000_000))
    ctx.conn.execute(
        insert(EPHEMERAL).values(
            tenant_id=ctx.tenant,
            id=ctx.ids.next("ephemeral"),
            channel_id=channel_id,
            user_id=user_id,
            ts=ts,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            attachments=attachments,
            bot_id=ctx.principal.bot_id if ctx.principal else None,
            source=source,
        )
    )
    return ts


def permalink(ctx: TwinContext, *, channel: str | None, message_ts: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.getPermalink"""
    conv = common.visible_conversation(ctx, channel)
    ts_norm = common.parse_ts(message_ts, "message_not_found")
    row = common.get_message(ctx, conv.id, ts_norm, MessageNotFound)
    link = common.message_permalink(ctx, conv.id, row)
    return {"channel": conv.id, "permalink": link}


def me_message(ctx: TwinContext, *, channel: str | None, text: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.meMessage — an italic /me action."""
    if not text:
        raise NoText()
    if len(text) > constants.MAX_TEXT:
        raise MsgTooLong()
    out = post_message(ctx, channel=channel, text=text, subtype="me_message")
    return {"channel": out["channel"], "ts": out["ts"]}


def _epoch(value: str) -> int:
    """A unix-time argument ("1700000000", "1.7e9"); ValueError unless a finite number. Times
    beyond what the post_at column holds (32 bits) are clamped: nothing is scheduled that far."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return max(-(2**31), min(int(number), 2**31 - 1))


def schedule_message(
    ctx: TwinContext,
    *,
    channel: str | None,
    post_at: str | None,
    text: str | None,
    blocks: Any,
    attachments: Any,
    thread_ts: str | None,
    reply_broadcast: bool,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.scheduleMessage — posted when the twin
    clock reaches post_at (up to 120 days ahead)."""
    conv = _target(ctx, channel)
    _may_post(ctx, conv)
    try:
        when = _epoch(post_at) if post_at is not None else None
    except ValueError:
        when = None
    if when is None:
        raise SlackError("invalid_time")
    now = ctx.now()
    if when <= now:
        raise SlackError("time_in_past")
    if when > now + constants.MAX_SCHEDULE_AHEAD_S:
        raise SlackError("time_too_far")
    text, blocks, attachments = _content(text, blocks, attachments, limit_text=True)
    sched_id = ctx.ids.token("scheduled", prefix="Q", length=11)
    p = ctx.principal
    ctx.conn.execute(
        insert(SCHEDULED).values(
            tenant_id=ctx.tenant,
            id=sched_id,
            channel_id=conv.id,
            post_at=when,
            date_created=int(now),
            user_id=p.user_id,
            bot_id=p.bot_id,
            app_id=p.app_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=common.parse_ts(thread_ts) if thread_ts else None,
            reply_broadcast=reply_broadcast,
        )
    )
    message: dict[str, Any] = {"type": "message", "text": text, "user": p.user_id}
    if p.bot_id:
        message.update({"bot_id": p.bot_id, "app_id": p.app_id})
    if blocks is not None:
        message["blocks"] = blocks
    if attachments is not None:
        message["attachments"] = attachments
    return {"channel": conv.id, "scheduled_message_id": sched_id, "post_at": when, "message": message}


def list_scheduled(
    ctx: TwinContext,
    *,
    channel: str | None,
    oldest: str | None,
    latest: str | None,
    cursor: str | None,
    limit: int | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.scheduledMessages.list — the caller's
    app's pending messages, soonest first."""
    n = clamp(limit, default=constants.DEFAULT_LIMIT, maximum=constants.MAX_LIMIT)
    filters = {"channel": channel, "oldest": oldest, "latest": latest}
    try:
        key = decode_cursor(cursor, kind="scheduled", filters=filters)
    except CursorError:
        raise SlackError("invalid_cursor") from None
    stmt = select(SCHEDULED).where(SCHEDULED.c.tenant_id == ctx.tenant, SCHEDULED.c.state == "pending")
    p = ctx.principal
    stmt = (
        stmt.where(SCHEDULED.c.app_id == p.app_id)
        if p.app_id
        else stmt.where(SCHEDULED.c.user_id == p.user_id)
    )
    if channel:
        if (
            ctx.conn.execute(
                select(CONV.c.id).where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == channel)
            ).first()
            is None
        ):
            raise SlackError("invalid_channel")
        stmt = stmt.where(SCHEDULED.c.channel_id == channel)
    try:
        if oldest:
            stmt = stmt.where(SCHEDULED.c.post_at >= _epoch(oldest))
        if latest:
            stmt = stmt.where(SCHEDULED.c.post_at <= _epoch(latest))
    except ValueError:
        raise SlackError("invalid_arguments") from None
    if key:
        stmt = stmt.where(
            (SCHEDULED.c.post_at > key[0]) | ((SCHEDULED.c.post_at == key[0]) & (SCHEDULED.c.id > key[1]))
        )
    rows = ctx.conn.execute(stmt.order_by(SCHEDULED.c.post_at, SCHEDULED.c.id).limit(n + 1)).all()
    more = len(rows) > n
    rows = rows[:n]
    items = [
        {
            "id": r.id,
            "channel_id": r.channel_id,
            "post_at": r.post_at,
            "date_created": r.date_created,
            "text": r.text,
        }
        for r in rows
    ]
    return {
        "scheduled_messages": items,
        **slack_metadata(
            encode_cursor([rows[-1].post_at, rows[-1].id], kind="scheduled", filters=filters) if more else ""
        ),
    }


def delete_scheduled(
    ctx: TwinContext, *, channel: str | None, scheduled_message_id: str | None
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.deleteScheduledMessage"""
    conv = common.visible_conversation(ctx, channel)
    row = ctx.conn.execute(
        select(SCHEDULED).where(
            SCHEDULED.c.tenant_id == ctx.tenant,
            SCHEDULED.c.id == (scheduled_message_id or ""),
            SCHEDULED.c.channel_id == conv.id,
            SCHEDULED.c.state == "pending",
        )
    ).first()
    if row is None:
        raise SlackError("invalid_scheduled_message_id")
    ctx.conn.execute(
        update(SCHEDULED)
        .where(SCHEDULED.c.tenant_id == ctx.tenant, SCHEDULED.c.id == row.id)
        .values(state="deleted")
    )
    return {}


def due_scheduled(ctx: TwinContext) -> int:
    """Post this tenant's scheduled messages whose time has come; answers how many."""
    from twins.slack.dependencies import lookup_principal

    rows = ctx.conn.execute(
        select(SCHEDULED)
        .where(
            SCHEDULED.c.tenant_id == ctx.tenant,
            SCHEDULED.c.state == "pending",
            SCHEDULED.c.post_at <= ctx.now(),
        )
        .order_by(SCHEDULED.c.post_at, SCHEDULED.c.id)
    ).all()
    tok = table(models.Token)
    for r in rows:
        token = ctx.conn.execute(
            select(tok.c.token).where(
                tok.c.tenant_id == ctx.tenant,
                tok.c.user_id == r.user_id,
                tok.c.kind == ("bot" if r.bot_id else "user"),
                tok.c.revoked.is_(False),
            )
        ).scalar()
        state = "failed"
        if token is not None:
            sub = replace(ctx, principal=lookup_principal(ctx.conn, token), outbox=ctx.outbox)
            try:
                out = post_message(
                    sub,
                    channel=r.channel_id,
                    text=r.text,
                    blocks=r.blocks,
                    attachments=r.attachments,
                    thread_ts=r.thread_ts,
                    reply_broadcast=r.reply_broadcast,
                )
                state = "posted"
                ctx.conn.execute(
                    update(SCHEDULED)
                    .where(SCHEDULED.c.tenant_id == ctx.tenant, SCHEDULED.c.id == r.id)
                    .values(state=state, posted_ts=out["ts"])
                )
                continue
            except SlackError:
                pass
        ctx.conn.execute(
            update(SCHEDULED)
            .where(SCHEDULED.c.tenant_id == ctx.tenant, SCHEDULED.c.id == r.id)
            .values(state=state)
        )
    return len(rows)


def pending_tenants(conn: Any) -> list[str]:
    return [
        r[0]
        for r in conn.execute(select(SCHEDULED.c.tenant_id).where(SCHEDULED.c.state == "pending").distinct())
    ]
