"""Reactions: emoji that members put on messages.

https://docs.slack.dev/reference/methods/reactions.add and siblings. One row per (message,
emoji, user); `seq` is the order reactions were added in, which is both the order Slack
lists a message's reactions in and the newest-first order of `reactions.list`. Adding and
removing raise `reaction_added` / `reaction_removed` for apps whose bot is in the channel.
Reactions on files are retired in Slack (`not_reactable`); this twin models messages only.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, delete, func, insert, or_, select

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, page_number, slack_metadata
from twins.slack import events, models
from twins.slack.errors import InvalidCursor, IsArchived, MessageNotFound, SlackError
from twins.slack.service import common
from twins.slack.service.common import CONV, MEMBER, MSG, REACTION

FILE = table(models.File)

# Emoji names: lowercase letters, digits and `_ - + '`, with an optional skin tone modifier
# (`thumbsup::skin-tone-6`, https://docs.slack.dev/reference/methods/reactions.add).
_NAME = re.compile(r"^[a-z0-9_+'\-]+(::skin-tone-[2-6])?$")
# Slack caps the reactions one person may put on one message (too_many_reactions) and the
# distinct emoji one message may carry (too_many_emoji): 23 and 50 in Slack's help centre.
MAX_REACTIONS_PER_USER = 23
MAX_DISTINCT_EMOJI = 50
# Without `full`, Slack may cut a reaction's `users` list short (its `count` stays exact).
USERS_SHOWN = 50
# reactions.list: legacy `count`/`page` paging defaults to 100 items; cursor `limit` too.
LIST_DEFAULT = 100
LIST_MAX = 1000


def normalize_name(name: str | None) -> str:
    """`:thumbsup:` and `thumbsup` name the same emoji; anything else is `invalid_name`."""
    value = (name or "").strip()
    if len(value) > 2 and value.startswith(":") and value.endswith(":"):
        value = value[1:-1]
    if not value or len(value) > 100 or not _NAME.match(value):
        raise SlackError("invalid_name")
    return value


def _item(
    ctx: TwinContext, channel: str | None, timestamp: str | None, *, for_write: bool
) -> tuple[Row[Any], Row[Any]]:
    """The (conversation, message) a reaction call names; tombstones are gone for reactions."""
    if not channel or not timestamp:
        raise SlackError("no_item_specified")
    conv = common.visible_conversation(ctx, channel)
    if for_write and conv.is_archived:
        raise IsArchived()
    ts = common.parse_ts(timestamp, "bad_timestamp")
    row = common.get_message(ctx, conv.id, ts, MessageNotFound)
    if row.subtype == "tombstone":
        raise MessageNotFound()
    return conv, row


def _file_item(ctx: TwinContext, file: str | None, file_comment: str | None) -> Row[Any]:
    """A `file` / `file_comment` argument: file comments no longer exist in Slack."""
    if file_comment:
        raise SlackError("file_comment_not_found")
    row = ctx.conn.execute(select(FILE).where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == file)).first()
    if row is None:
        raise SlackError("file_not_found")
    return row


def _event(ctx: TwinContext, kind: str, conv: Row[Any], row: Row[Any], name: str) -> None:
    event: dict[str, Any] = {"type": kind, "user": ctx.principal.user_id, "reaction": name}
    if row.user_id:
        event["item_user"] = row.user_id
    event["item"] = {"type": "message", "channel": conv.id, "ts": row.ts}
    event["event_ts"] = common.micros_to_ts(int(ctx.now() * 1_000_000))
    events.emit(ctx, event, channel_id=conv.id, conversation_kind=conv.kind)


def add(
    ctx: TwinContext,
    *,
    channel: str | None,
    timestamp: str | None,
    name: str | None,
    file: str | None = None,
    file_comment: str | None = None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reactions.add"""
    if (file or file_comment) and not (channel and timestamp):
        raise SlackError("not_reactable")
    conv, row = _item(ctx, channel, timestamp, for_write=True)
    emoji = normalize_name(name)
    user = ctx.principal.user_id
    rows = ctx.conn.execute(
        select(REACTION.c.name, REACTION.c.user_id).where(
            REACTION.c.tenant_id == ctx.tenant, REACTION.c.channel_id == conv.id, REACTION.c.ts == row.ts
        )
    ).all()
    if any(n == emoji and u == user for n, u in rows):
        raise SlackError("already_reacted")
    if sum(1 for _, u in rows if u == user) >= MAX_REACTIONS_PER_USER:
        raise SlackError("too_many_reactions")
    distinct = {n for n, _ in rows}
    if emoji not in distinct and len(distinct) >= MAX_DISTINCT_EMOJI:
        raise SlackError("too_many_emoji")
    ctx.conn.execute(
        insert(REACTION).values(
            tenant_id=ctx.tenant,
            channel_id=conv.id,
            ts=row.ts,
            name=emoji,
            user_id=user,
            seq=ctx.ids.next("reaction"),
        )
    )
    _event(ctx, "reaction_added", conv, row, emoji)
    return {}


def remove(
    ctx: TwinContext,
    *,
    channel: str | None,
    timestamp: str | None,
    name: str | None,
    file: str | None = None,
    file_comment: str | None = None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reactions.remove — only the reaction's author
    removes it (`no_reaction` otherwise)."""
    if (file or file_comment) and not (channel and timestamp):
        _file_item(ctx, file, file_comment)
        raise SlackError("no_reaction")
    conv, row = _item(ctx, channel, timestamp, for_write=True)
    emoji = normalize_name(name)
    gone = ctx.conn.execute(
        delete(REACTION).where(
            REACTION.c.tenant_id == ctx.tenant,
            REACTION.c.channel_id == conv.id,
            REACTION.c.ts == row.ts,
            REACTION.c.name == emoji,
            REACTION.c.user_id == ctx.principal.user_id,
        )
    ).rowcount
    if not gone:
        raise SlackError("no_reaction")
    _event(ctx, "reaction_removed", conv, row, emoji)
    return {}


def _shown(reactions: list[dict[str, Any]], full: bool) -> list[dict[str, Any]]:
    if full:
        return reactions
    return [{**r, "users": r["users"][:USERS_SHOWN]} for r in reactions]


def _message(ctx: TwinContext, channel_id: str, row: Row[Any], *, full: bool) -> dict[str, Any]:
    reactions = common.reactions_for(ctx, channel_id, [row.ts])
    if row.ts in reactions:
        reactions[row.ts] = _shown(reactions[row.ts], full)
    pins = common.pinned_in(ctx, channel_id, [row.ts])
    out = common.message_object(ctx, row, reactions=reactions, pinned=pins)
    out["permalink"] = common.message_permalink(ctx, channel_id, row)
    return out


def get(
    ctx: TwinContext,
    *,
    channel: str | None,
    timestamp: str | None,
    full: bool,
    file: str | None = None,
    file_comment: str | None = None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reactions.get — the item with its reactions."""
    if (file or file_comment) and not (channel and timestamp):
        f = _file_item(ctx, file, file_comment)
        return {
            "type": "file",
            "file": {
                "id": f.id,
                "created": f.created,
                "timestamp": f.created,
                "name": f.name,
                "title": f.title,
                "mimetype": f.mimetype,
                "filetype": f.filetype,
                "user": f.user_id,
                "size": f.size,
                "channels": list(f.channels or []),
            },
        }
    conv, row = _item(ctx, channel, timestamp, for_write=False)
    return {"type": "message", "channel": conv.id, "message": _message(ctx, conv.id, row, full=full)}


def list_reactions(
    ctx: TwinContext,
    *,
    user: str | None,
    full: bool,
    cursor: str | None,
    limit: int | None,
    count: int | None,
    page: int | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reactions.list — the messages a user reacted
    to, most recently reacted first, in conversations the caller can see. `cursor`/`limit`
    page by cursor; otherwise legacy `count`/`page` paging answers `paging` as well."""
    target = user or ctx.principal.user_id
    common.get_user(ctx, target)
    viewer = ctx.principal.user_id
    member_of = select(MEMBER.c.conversation_id).where(
        MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.user_id == viewer
    )
    visible = select(CONV.c.id).where(
        CONV.c.tenant_id == ctx.tenant, or_(CONV.c.kind == "channel", CONV.c.id.in_(member_of))
    )
    max_seq = func.max(REACTION.c.seq)
    latest = max_seq.label("latest")
    base = (
        select(REACTION.c.channel_id, REACTION.c.ts, latest)
        .where(
            REACTION.c.tenant_id == ctx.tenant,
            REACTION.c.user_id == target,
            REACTION.c.channel_id.in_(visible),
        )
        .group_by(REACTION.c.channel_id, REACTION.c.ts)
    )
    filters = {"user": target, "full": full}
    out: dict[str, Any] = {}
    if cursor or limit:
        n = clamp(limit, default=LIST_DEFAULT, maximum=LIST_MAX)
        try:
            key = decode_cursor(cursor, kind="reactions", filters=filters)
        except CursorError:
            raise InvalidCursor() from None
        stmt = base.having(max_seq < key[0]) if key else base
        keys = ctx.conn.execute(stmt.order_by(latest.desc()).limit(n + 1)).all()
    else:
        n = clamp(count, default=LIST_DEFAULT, maximum=LIST_MAX)
        current = page_number(page)
        total = int(ctx.conn.execute(select(func.count()).select_from(base.subquery())).scalar_one())
        keys = ctx.conn.execute(base.order_by(latest.desc()).offset((current - 1) * n).limit(n + 1)).all()
        out["paging"] = {"count": n, "total": total, "page": current, "pages": (total + n - 1) // n}
    more = len(keys) > n
    keys = keys[:n]
    items = []
    for channel_id, ts, _ in keys:
        row = ctx.conn.execute(
            select(MSG).where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == channel_id, MSG.c.ts == ts)
        ).first()
        if row is not None:
            items.append(
                {
                    "type": "message",
                    "channel": channel_id,
                    "message": _message(ctx, channel_id, row, full=full),
                }
            )
    next_cursor = encode_cursor([keys[-1][2]], kind="reactions", filters=filters) if more else ""
    return {"items": items, **out, **slack_metadata(next_cursor)}
