"""Pins: messages pinned to a conversation.

https://docs.slack.dev/reference/methods/pins.add and siblings. A message is pinned at most
once per conversation; pinning and unpinning raise `pin_added` / `pin_removed` (with the
pinned item) for apps whose bot is in the channel. Bots must be members to pin, as in Slack.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, func, insert, select

from dtu.context import TwinContext
from twins.slack import events
from twins.slack.errors import MessageNotFound, SlackError
from twins.slack.service import common
from twins.slack.service.common import MSG, PIN

# Slack's help centre: a conversation holds up to 100 pinned items (then `too_many_pins`).
MAX_PINS = 100


def _item(ctx: TwinContext, channel: str | None, timestamp: str | None) -> tuple[Row[Any], Row[Any]]:
    conv = common.readable_conversation(ctx, channel)
    if not timestamp:
        raise SlackError("no_item_specified")
    ts = common.parse_ts(timestamp, "bad_timestamp")
    row = common.get_message(ctx, conv.id, ts, MessageNotFound)
    if row.subtype == "tombstone":
        raise MessageNotFound()
    return conv, row


def _message(ctx: TwinContext, channel_id: str, row: Row[Any]) -> dict[str, Any]:
    out = common.messages_out(ctx, channel_id, [row])[0]
    out["permalink"] = common.message_permalink(ctx, channel_id, row)
    return out


def _pin_item(
    ctx: TwinContext, channel_id: str, created: int, created_by: str, row: Row[Any]
) -> dict[str, Any]:
    return {
        "type": "message",
        "created": created,
        "created_by": created_by,
        "channel": channel_id,
        "message": _message(ctx, channel_id, row),
    }


def _count(ctx: TwinContext, channel_id: str) -> int:
    return int(
        ctx.conn.execute(
            select(func.count())
            .select_from(PIN)
            .where(PIN.c.tenant_id == ctx.tenant, PIN.c.channel_id == channel_id)
        ).scalar_one()
    )


def _event(
    ctx: TwinContext, kind: str, conv: Row[Any], item: dict[str, Any], row: Row[Any], **extra: Any
) -> None:
    event: dict[str, Any] = {"type": kind, "user": ctx.principal.user_id, "channel_id": conv.id, "item": item}
    if row.user_id:
        event["item_user"] = row.user_id
    event["pin_count"] = _count(ctx, conv.id)
    event["pinned_info"] = {"channel": conv.id, "pinned_by": item["created_by"], "pinned_ts": item["created"]}
    event.update(extra)
    event["event_ts"] = common.micros_to_ts(int(ctx.now() * 1_000_000))
    events.emit(ctx, event, channel_id=conv.id, conversation_kind=conv.kind)


def add(ctx: TwinContext, *, channel: str | None, timestamp: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/pins.add"""
    conv, row = _item(ctx, channel, timestamp)
    pinned = ctx.conn.execute(
        select(PIN.c.ts).where(PIN.c.tenant_id == ctx.tenant, PIN.c.channel_id == conv.id, PIN.c.ts == row.ts)
    ).first()
    if pinned is not None:
        raise SlackError("already_pinned")
    if _count(ctx, conv.id) >= MAX_PINS:
        raise SlackError("too_many_pins")
    created, user = int(ctx.now()), ctx.principal.user_id
    ctx.conn.execute(
        insert(PIN).values(
            tenant_id=ctx.tenant, channel_id=conv.id, ts=row.ts, created=created, created_by=user
        )
    )
    _event(ctx, "pin_added", conv, _pin_item(ctx, conv.id, created, user, row), row)
    return {}


def remove(ctx: TwinContext, *, channel: str | None, timestamp: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/pins.remove — `no_pin` when the message is not pinned."""
    conv, row = _item(ctx, channel, timestamp)
    pin = ctx.conn.execute(
        select(PIN).where(PIN.c.tenant_id == ctx.tenant, PIN.c.channel_id == conv.id, PIN.c.ts == row.ts)
    ).first()
    if pin is None:
        raise SlackError("no_pin")
    item = _pin_item(ctx, conv.id, pin.created, pin.created_by, row)
    ctx.conn.execute(
        delete(PIN).where(PIN.c.tenant_id == ctx.tenant, PIN.c.channel_id == conv.id, PIN.c.ts == row.ts)
    )
    item["message"].pop("pinned_to", None)
    _event(ctx, "pin_removed", conv, item, row, has_pins=_count(ctx, conv.id) > 0)
    return {}


def list_pins(ctx: TwinContext, *, channel: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/pins.list — newest pin first, not paged."""
    conv = common.visible_conversation(ctx, channel)
    rows = ctx.conn.execute(
        select(PIN.c.created, PIN.c.created_by, MSG)
        .join(
            MSG,
            (MSG.c.tenant_id == PIN.c.tenant_id)
            & (MSG.c.channel_id == PIN.c.channel_id)
            & (MSG.c.ts == PIN.c.ts),
        )
        .where(PIN.c.tenant_id == ctx.tenant, PIN.c.channel_id == conv.id)
        .order_by(PIN.c.created.desc(), PIN.c.ts.desc())
    ).all()
    return {"items": [_pin_item(ctx, conv.id, r.created, r.created_by, r) for r in rows]}
