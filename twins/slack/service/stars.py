"""Stars (saved items): messages, files and conversations a person keeps for later.

https://docs.slack.dev/reference/methods/stars.add and siblings (user tokens only; each
person sees only their own). An item is starred at most once (`already_starred`); listing is
newest first, by cursor (`cursor`/`limit`) or by legacy `count`/`page` with `paging`.
Items whose message or file has since gone are left out of the list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, func, insert, select

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, page_number, slack_metadata
from twins.slack import models
from twins.slack.errors import InvalidCursor, MessageNotFound, SlackError
from twins.slack.service import common, files
from twins.slack.service.common import MSG

STAR = table(models.Star)
LIST_DEFAULT = 100
LIST_MAX = 1000


def _target(
    ctx: TwinContext, channel: str | None, timestamp: str | None, file: str | None, file_comment: str | None
) -> dict[str, Any]:
    """The item a stars call names, as the row it would store."""
    if file_comment:
        raise SlackError("file_comment_not_found")
    if file:
        row = files._lookup(ctx, file)
        return {"item": row.id, "type": "file", "file_id": row.id}
    if not channel:
        raise SlackError("no_item_specified")
    conv = common.visible_conversation(ctx, channel)
    if timestamp:
        ts = common.parse_ts(timestamp, "bad_timestamp")
        row = common.get_message(ctx, conv.id, ts, MessageNotFound)
        if row.subtype == "tombstone":
            raise MessageNotFound()
        return {"item": f"{conv.id}:{row.ts}", "type": "message", "channel_id": conv.id, "ts": row.ts}
    kind = {"channel": "channel", "group": "group", "im": "im", "mpim": "group"}[conv.kind]
    return {"item": conv.id, "type": kind, "channel_id": conv.id}


def _starred(ctx: TwinContext, item: str) -> bool:
    return (
        ctx.conn.execute(
            select(STAR.c.item).where(
                STAR.c.tenant_id == ctx.tenant, STAR.c.user_id == ctx.principal.user_id, STAR.c.item == item
            )
        ).first()
        is not None
    )


def add(
    ctx: TwinContext,
    *,
    channel: str | None,
    timestamp: str | None,
    file: str | None,
    file_comment: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/stars.add"""
    target = _target(ctx, channel, timestamp, file, file_comment)
    if _starred(ctx, target["item"]):
        raise SlackError("already_starred")
    ctx.conn.execute(
        insert(STAR).values(
            tenant_id=ctx.tenant,
            user_id=ctx.principal.user_id,
            date_create=int(ctx.now()),
            seq=ctx.ids.next("star"),
            **target,
        )
    )
    return {}


def remove(
    ctx: TwinContext,
    *,
    channel: str | None,
    timestamp: str | None,
    file: str | None,
    file_comment: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/stars.remove — `not_starred` if it was not."""
    target = _target(ctx, channel, timestamp, file, file_comment)
    if not _starred(ctx, target["item"]):
        raise SlackError("not_starred")
    ctx.conn.execute(
        delete(STAR).where(
            STAR.c.tenant_id == ctx.tenant,
            STAR.c.user_id == ctx.principal.user_id,
            STAR.c.item == target["item"],
        )
    )
    return {}


def _entry(ctx: TwinContext, row: Row[Any]) -> dict[str, Any] | None:
    """One item of stars.list, or None when what was starred is gone."""
    out: dict[str, Any] = {"type": row.type}
    if row.type == "message":
        msg = ctx.conn.execute(
            select(MSG).where(
                MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == row.channel_id, MSG.c.ts == row.ts
            )
        ).first()
        if msg is None or msg.subtype == "tombstone":
            return None
        message = common.messages_out(ctx, row.channel_id, [msg])[0]
        message["permalink"] = common.message_permalink(ctx, row.channel_id, msg)
        message["is_starred"] = True
        out.update(channel=row.channel_id, message=message)
    elif row.type == "file":
        try:
            found = files._lookup(ctx, row.file_id)
        except SlackError:
            return None
        file = files.file_object(ctx, found)
        file["is_starred"] = True
        out["file"] = file
    else:
        out["channel"] = row.channel_id
    out["date_create"] = row.date_create
    return out


def list_stars(
    ctx: TwinContext, *, cursor: str | None, limit: int | None, count: int | None, page: int | None
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/stars.list — the caller's items, newest first."""
    base = select(STAR).where(STAR.c.tenant_id == ctx.tenant, STAR.c.user_id == ctx.principal.user_id)
    out: dict[str, Any] = {}
    if cursor or limit:
        n = clamp(limit, default=LIST_DEFAULT, maximum=LIST_MAX)
        try:
            key = decode_cursor(cursor, kind="stars")
        except CursorError:
            raise InvalidCursor() from None
        stmt = base.where(STAR.c.seq < key[0]) if key else base
        rows = ctx.conn.execute(stmt.order_by(STAR.c.seq.desc()).limit(n + 1)).all()
    else:
        n = clamp(count, default=LIST_DEFAULT, maximum=LIST_MAX)
        current = page_number(page)
        total = int(ctx.conn.execute(select(func.count()).select_from(base.subquery())).scalar_one())
        rows = ctx.conn.execute(base.order_by(STAR.c.seq.desc()).offset((current - 1) * n).limit(n + 1)).all()
        out["paging"] = {
            "per_page": n,
            "spill": 0,
            "page": current,
            "total": total,
            "pages": (total + n - 1) // n,
        }
    more = len(rows) > n
    rows = rows[:n]
    items = [e for e in (_entry(ctx, r) for r in rows) if e is not None]
    next_cursor = encode_cursor([rows[-1].seq], kind="stars") if more and (cursor or limit) else ""
    return {"items": items, **out, **slack_metadata(next_cursor)}
