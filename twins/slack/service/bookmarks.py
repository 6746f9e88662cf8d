"""Bookmarks: the links in a channel's header.

https://docs.slack.dev/reference/methods/bookmarks.add and siblings. The API adds `link`
bookmarks (folders and message/file bookmarks are client features); a bookmark belongs to one
channel and is listed in `rank` order, new ones last. Slack's newer methods report missing
required fields as `invalid_arguments` with `[ERROR] missing required field: <name>`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import models
from twins.slack.errors import ChannelNotFound, InvalidArguments, SlackError
from twins.slack.service import common

BOOKMARK = table(models.Bookmark)
TYPES = {"link"}
_EMOJI = re.compile(r"^:[a-z0-9_+'\-]+(::skin-tone-[2-6])?:$")
_LINK = re.compile(r"^https?://\S+$", re.IGNORECASE)
# Bookmarks a channel may hold before `too_many_bookmarks` (the twin's reading of Slack's cap).
MAX_BOOKMARKS = 100
MAX_TITLE = 255


def _channel(ctx: TwinContext, channel_id: str | None) -> Row[Any]:
    if not channel_id:
        raise ChannelNotFound()
    return common.visible_conversation(ctx, channel_id)


def _missing(name: str) -> SlackError:
    return InvalidArguments(messages=[f"[ERROR] missing required field: {name}"])


def _link(link: str | None) -> str:
    if not link or not _LINK.match(link.strip()):
        raise SlackError("invalid_link")
    return link.strip()


def _emoji(emoji: str | None) -> str | None:
    if emoji is None:
        return None
    if not _EMOJI.match(emoji.strip()):
        raise SlackError("invalid_emoji")
    return emoji.strip()


def _title(title: str) -> str:
    if len(title) > MAX_TITLE:
        raise InvalidArguments(
            messages=[f"[ERROR] must be less than {MAX_TITLE + 1} characters [json-pointer:/title]"]
        )
    return title


def _next_rank(last: str | None) -> str:
    """A rank after `last` in string order (Slack's ranks are short strings such as "g")."""
    if not last:
        return "g"
    if last[-1] < "z":
        return last[:-1] + chr(ord(last[-1]) + 1)
    return last + "g"


def bookmark_object(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/bookmarks.list (the bookmark shape)."""
    return {
        "id": row.id,
        "channel_id": row.channel_id,
        "title": row.title,
        "link": row.link,
        "emoji": row.emoji,
        "icon_url": None,
        "type": row.type,
        "entity_id": row.entity_id,
        "date_created": row.date_created,
        "date_updated": row.date_updated,
        "rank": row.rank,
        "last_updated_by_user_id": row.updated_by or row.created_by,
        "last_updated_by_team_id": common.team_id(ctx),
        "shortcut_id": None,
        "app_id": None,
    }


def _get(ctx: TwinContext, channel_id: str, bookmark_id: str | None) -> Row[Any]:
    row = None
    if bookmark_id:
        row = ctx.conn.execute(
            select(BOOKMARK).where(
                BOOKMARK.c.tenant_id == ctx.tenant,
                BOOKMARK.c.id == bookmark_id,
                BOOKMARK.c.channel_id == channel_id,
            )
        ).first()
    if row is None:
        raise SlackError("not_found")
    return row


def add(
    ctx: TwinContext,
    *,
    channel_id: str | None,
    title: str | None,
    type: str | None,
    link: str | None,
    emoji: str | None,
    entity_id: str | None,
    parent_id: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/bookmarks.add"""
    if not title:
        raise _missing("title")
    if not type:
        raise _missing("type")
    conv = _channel(ctx, channel_id)
    if type not in TYPES:
        raise SlackError("invalid_bookmark_type")
    if parent_id:
        raise SlackError("parent_bookmark_disabled")
    if entity_id:
        raise SlackError("invalid_entity_id")  # entity ids belong to message and file bookmarks
    url = _link(link)
    icon = _emoji(emoji)
    title = _title(title)
    where = (BOOKMARK.c.tenant_id == ctx.tenant, BOOKMARK.c.channel_id == conv.id)
    if (
        ctx.conn.execute(select(func.count()).select_from(BOOKMARK).where(*where)).scalar_one()
        >= MAX_BOOKMARKS
    ):
        raise SlackError("too_many_bookmarks")
    last = ctx.conn.execute(select(func.max(BOOKMARK.c.rank)).where(*where)).scalar()
    bookmark_id = ctx.ids.token("bookmark", prefix="Bk", length=12)
    ctx.conn.execute(
        insert(BOOKMARK).values(
            tenant_id=ctx.tenant,
            id=bookmark_id,
            channel_id=conv.id,
            title=title,
            link=url,
            emoji=icon,
            type=type,
            entity_id=None,
            rank=_next_rank(last),
            date_created=int(ctx.now()),
            date_updated=0,
            created_by=ctx.principal.user_id,
            updated_by=ctx.principal.user_id,
        )
    )
    return {"bookmark": bookmark_object(ctx, _get(ctx, conv.id, bookmark_id))}


def edit(
    ctx: TwinContext,
    *,
    channel_id: str | None,
    bookmark_id: str | None,
    title: str | None,
    link: str | None,
    emoji: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/bookmarks.edit — only the fields given change."""
    conv = _channel(ctx, channel_id)
    row = _get(ctx, conv.id, bookmark_id)
    values: dict[str, Any] = {}
    if title is not None:
        values["title"] = _title(title)
    if link is not None:
        values["link"] = _link(link)
    if emoji is not None:
        values["emoji"] = _emoji(emoji)
    if values:
        values.update(date_updated=int(ctx.now()), updated_by=ctx.principal.user_id)
        ctx.conn.execute(
            update(BOOKMARK)
            .where(BOOKMARK.c.tenant_id == ctx.tenant, BOOKMARK.c.id == row.id)
            .values(**values)
        )
    return {"bookmark": bookmark_object(ctx, _get(ctx, conv.id, row.id))}


def list_bookmarks(ctx: TwinContext, *, channel_id: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/bookmarks.list — in rank order, not paged."""
    conv = _channel(ctx, channel_id)
    rows = ctx.conn.execute(
        select(BOOKMARK)
        .where(BOOKMARK.c.tenant_id == ctx.tenant, BOOKMARK.c.channel_id == conv.id)
        .order_by(BOOKMARK.c.rank, BOOKMARK.c.date_created, BOOKMARK.c.id)
    ).all()
    return {"bookmarks": [bookmark_object(ctx, r) for r in rows]}


def remove(ctx: TwinContext, *, channel_id: str | None, bookmark_id: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/bookmarks.remove"""
    conv = _channel(ctx, channel_id)
    row = _get(ctx, conv.id, bookmark_id)
    ctx.conn.execute(delete(BOOKMARK).where(BOOKMARK.c.tenant_id == ctx.tenant, BOOKMARK.c.id == row.id))
    return {}
