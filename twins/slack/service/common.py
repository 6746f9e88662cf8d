"""What every Slack service shares: ts minting, conversation resolution, wire shapes.

https://docs.slack.dev/reference/objects . Shapes here are what the Web API returns; a
service builds its answer from these so that `conversations.info` and `conversations.list`
can never disagree on what a channel looks like.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Row, and_, bindparam, func, select

from dtu.context import TwinContext
from dtu.db import core_tables, json_loads, table
from dtu.ids import advance
from dtu.sql import Prepared
from twins.slack import models
from twins.slack.errors import (
    ChannelNotFound,
    IsArchived,
    MissingScope,
    NotInChannel,
    SlackError,
    UserNotFound,
)

CONV = table(models.Conversation)
MEMBER = table(models.Member)
MSG = table(models.Message)
USER = table(models.User)
TEAM = table(models.Team)
APP = table(models.App)
REACTION = table(models.Reaction)
PIN = table(models.Pin)
ZERO_TS = "0000000000.000000"

# The hot statements, built once: building a Core statement costs more than running it on
# SQLite (bench/PROFILE.md), and a prebuilt one also keeps its cache key.
COUNTER = core_tables("slack").counter
_CONV_BY_ID = select(CONV).where(CONV.c.tenant_id == bindparam("tenant"), CONV.c.id == bindparam("key"))
_CONV_BY_NAME = select(CONV).where(CONV.c.tenant_id == bindparam("tenant"), CONV.c.name == bindparam("key"))
_IS_MEMBER = select(MEMBER.c.user_id).where(
    MEMBER.c.tenant_id == bindparam("tenant"),
    MEMBER.c.conversation_id == bindparam("channel"),
    MEMBER.c.user_id == bindparam("user"),
)
_TEAM_ID = select(TEAM.c.id).where(TEAM.c.tenant_id == bindparam("tenant"))
_TEAM = select(TEAM).where(TEAM.c.tenant_id == bindparam("tenant"))
_USER_BY_ID = select(USER).where(USER.c.tenant_id == bindparam("tenant"), USER.c.id == bindparam("user"))
_MESSAGE = select(MSG).where(
    MSG.c.tenant_id == bindparam("tenant"),
    MSG.c.channel_id == bindparam("channel"),
    MSG.c.ts == bindparam("ts"),
)
_REACTIONS = (
    select(REACTION.c.ts, REACTION.c.name, REACTION.c.user_id)
    .where(
        REACTION.c.tenant_id == bindparam("tenant"),
        REACTION.c.channel_id == bindparam("channel"),
        REACTION.c.ts.in_(bindparam("tss", expanding=True)),
    )
    .order_by(REACTION.c.seq, REACTION.c.ts, REACTION.c.name, REACTION.c.user_id)
)
# On SQLite a range of the key, then the exact set in Python (see `pinned_in`).
_REACTIONS_BETWEEN = Prepared(
    select(REACTION.c.ts, REACTION.c.name, REACTION.c.user_id)
    .where(
        REACTION.c.tenant_id == bindparam("tenant"),
        REACTION.c.channel_id == bindparam("channel"),
        REACTION.c.ts >= bindparam("lo"),
        REACTION.c.ts <= bindparam("hi"),
    )
    .order_by(REACTION.c.seq, REACTION.c.ts, REACTION.c.name, REACTION.c.user_id)
)
_PINNED = select(PIN.c.ts).where(
    PIN.c.tenant_id == bindparam("tenant"),
    PIN.c.channel_id == bindparam("channel"),
    PIN.c.ts.in_(bindparam("tss", expanding=True)),
)
_PINNED_BETWEEN = Prepared(
    select(PIN.c.ts).where(
        PIN.c.tenant_id == bindparam("tenant"),
        PIN.c.channel_id == bindparam("channel"),
        PIN.c.ts >= bindparam("lo"),
        PIN.c.ts <= bindparam("hi"),
    )
)


# -- ts ----------------------------------------------------------------------------------------


def ts_to_micros(ts: str) -> int:
    sec, _, frac = ts.partition(".")
    return int(sec) * 1_000_000 + int((frac + "000000")[:6])


def micros_to_ts(micros: int) -> str:
    return f"{micros // 1_000_000:010d}.{micros % 1_000_000:06d}"


def parse_ts(value: str | None, error: str = "invalid_ts") -> str | None:
    """Normalise a ts argument ("1503435956.000247", "1503435956", "1503435956.5")."""
    if value is None or value == "":
        return None
    try:
        if float(value) < 0:
            raise ValueError
        return micros_to_ts(ts_to_micros(value.strip()))
    except (ValueError, OverflowError):
        raise SlackError(error) from None


def next_ts(ctx: TwinContext, channel_id: str) -> str:
    """A ts unique and increasing within the channel, from the twin clock. The channel's last
    ts is a core counter (in micros), not a conversation column: a post must not change the
    conversation row, which every call reads through the cache."""
    now = int(ctx.now() * 1_000_000)
    return micros_to_ts(advance(ctx.conn, COUNTER, ctx.tenant, "ts:" + channel_id, now))


def text_meta(value: str, creator: str | None, when: int) -> dict[str, Any]:
    return {"value": value, "creator": creator or "" if value else "", "last_set": when if value else 0}


# -- conversations -----------------------------------------------------------------------------


def get_conversation(ctx: TwinContext, channel: str | None) -> Row[Any]:
    """A conversation by id, or by `#name` / `name` where Slack accepts names."""
    if not channel:
        raise ChannelNotFound()
    stmt, key = _CONV_BY_ID, channel
    if not channel[:1].isupper() or channel.startswith("#"):
        stmt, key = _CONV_BY_NAME, channel.lstrip("#")
    tenant = ctx.tenant
    row: Row[Any] | None = ctx.runtime.cache("slack.conversation", CONV).get(
        (tenant, stmt is _CONV_BY_ID, key),
        lambda: (tenant, ctx.conn.execute(stmt, {"tenant": tenant, "key": key}).first()),
    )
    if row is None:
        raise ChannelNotFound()
    return row


def is_member(ctx: TwinContext, channel_id: str, user_id: str | None) -> bool:
    if user_id is None:
        return False
    tenant = ctx.tenant
    params = {"tenant": tenant, "channel": channel_id, "user": user_id}
    member: bool = ctx.runtime.cache("slack.member", MEMBER).get(
        (tenant, channel_id, user_id),
        lambda: (tenant, ctx.conn.execute(_IS_MEMBER, params).first() is not None),
    )
    return member


def visible_conversation(ctx: TwinContext, channel: str | None) -> Row[Any]:
    """Slack hides private conversations from non-members: they get `channel_not_found`."""
    row = get_conversation(ctx, channel)
    if (row.is_private or row.kind in ("im", "mpim")) and not is_member(ctx, row.id, ctx.principal.user_id):
        raise ChannelNotFound()
    return row


def readable_conversation(ctx: TwinContext, channel: str | None) -> Row[Any]:
    """For history-like reads: bots must be members; users may read public channels."""
    row = visible_conversation(ctx, channel)
    if ctx.principal.is_bot and not is_member(ctx, row.id, ctx.principal.user_id):
        raise NotInChannel()
    return row


SCOPE_PREFIX = {"channel": "channels", "group": "groups", "im": "im", "mpim": "mpim"}


def require_kind_scope(ctx: TwinContext, conv: Row[Any], family: str) -> None:
    """Methods that take any conversation accept one scope per kind (`channels:history`,
    `groups:history`, `im:history`, `mpim:history`); the token needs the one for this
    conversation's kind, else `missing_scope` names it (the method's own check only asked for
    one of them)."""
    p = ctx.principal
    needed = f"{SCOPE_PREFIX[conv.kind]}:{family}"
    if p is None or p.kind == "configuration" or needed in p.scopes:
        return
    raise MissingScope(extra={"needed": needed, "provided": ",".join(sorted(p.scopes))})


def writable_conversation(ctx: TwinContext, channel: str | None) -> Row[Any]:
    row = visible_conversation(ctx, channel)
    if row.is_archived:
        raise IsArchived()
    return row


def member_ids(ctx: TwinContext, channel_id: str) -> list[str]:
    return [
        r[0]
        for r in ctx.conn.execute(
            select(MEMBER.c.user_id)
            .where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.conversation_id == channel_id)
            .order_by(MEMBER.c.joined, MEMBER.c.user_id)
        )
    ]


def num_members(ctx: TwinContext, channel_id: str) -> int:
    return int(
        ctx.conn.execute(
            select(func.count())
            .select_from(MEMBER)
            .where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.conversation_id == channel_id)
        ).scalar_one()
    )


def team_id(ctx: TwinContext) -> str:
    tenant = ctx.tenant
    team: str = ctx.runtime.cache("slack.team", TEAM).get(
        tenant, lambda: (tenant, str(ctx.conn.execute(_TEAM_ID, {"tenant": tenant}).scalar_one()))
    )
    return team


def conversation_object(
    ctx: TwinContext, row: Row[Any], *, member: bool | None = None, with_num_members: bool = False
) -> dict[str, Any]:
    """The conversation object. https://docs.slack.dev/reference/objects/conversation-object"""
    viewer = ctx.principal.user_id if ctx.principal is not None else None
    if member is None:
        member = is_member(ctx, row.id, viewer)
    if row.kind == "im":
        other = row.im_user
        if viewer == row.im_user:
            other = row.creator
        return {
            "id": row.id,
            "created": row.created,
            "is_archived": row.is_archived,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": team_id(ctx),
            "updated": row.updated * 1000,
            "user": other,
            "is_user_deleted": False,
            "priority": 0,
        }
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "is_channel": row.kind == "channel",
        "is_group": row.kind == "group",
        "is_im": False,
        "is_mpim": row.kind == "mpim",
        "is_private": row.is_private,
        "created": row.created,
        "is_archived": row.is_archived,
        "is_general": row.is_general,
        "unlinked": 0,
        "name_normalized": row.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": team_id(ctx),
        "updated": row.updated * 1000,
        "parent_conversation": None,
        "creator": row.creator or "",
        "shared_team_ids": [team_id(ctx)],
        "pending_connected_team_ids": [],
        "is_member": member,
        "topic": row.topic or text_meta("", None, 0),
        "purpose": row.purpose or text_meta("", None, 0),
        "previous_names": list(row.previous_names or []),
    }
    if with_num_members:
        out["num_members"] = num_members(ctx, row.id)
    return out


# -- users -------------------------------------------------------------------------------------


def get_user(ctx: TwinContext, user_id: str | None) -> Row[Any]:
    if not user_id:
        raise UserNotFound()
    tenant = ctx.tenant
    row: Row[Any] | None = ctx.runtime.cache("slack.user", USER).get(
        (tenant, user_id),
        lambda: (tenant, ctx.conn.execute(_USER_BY_ID, {"tenant": tenant, "user": user_id}).first()),
    )
    if row is None:
        raise UserNotFound()
    return row


def team_row(ctx: TwinContext) -> Row[Any]:
    """The tenant's team (a workspace has one)."""
    tenant = ctx.tenant
    row: Row[Any] = ctx.runtime.cache("slack.team_row", TEAM).get(
        tenant, lambda: (tenant, ctx.conn.execute(_TEAM, {"tenant": tenant}).one())
    )
    return row


def profile_object(row: Row[Any], *, with_email: bool = True) -> dict[str, Any]:
    first, _, last = (row.real_name or row.name).partition(" ")
    prof = dict(row.profile or {})
    out = {
        "title": row.title,
        "phone": prof.get("phone", ""),
        "skype": "",
        "real_name": row.real_name,
        "real_name_normalized": row.real_name,
        "display_name": row.display_name,
        "display_name_normalized": row.display_name,
        "fields": {},
        "status_text": prof.get("status_text", ""),
        "status_emoji": prof.get("status_emoji", ""),
        "status_emoji_display_info": [],
        "status_expiration": 0,
        "avatar_hash": "g" + row.id[-11:].lower(),
        "first_name": prof.get("first_name", first),
        "last_name": prof.get("last_name", last),
        "image_24": "",
        "image_32": "",
        "image_48": "",
        "image_72": "",
        "image_192": "",
        "image_512": "",
        "team": row.team_id,
    }
    if row.is_bot:
        out["bot_id"] = row.bot_id
        out["always_active"] = True
    if with_email and row.email:
        out["email"] = row.email
    return out


def user_object(row: Row[Any], *, with_email: bool = True) -> dict[str, Any]:
    """The user object. https://docs.slack.dev/reference/objects/user-object"""
    return {
        "id": row.id,
        "team_id": row.team_id,
        "name": row.name,
        "deleted": row.deleted,
        "color": row.color,
        "real_name": row.real_name,
        "tz": row.tz,
        "tz_label": "Pacific Standard Time",
        "tz_offset": row.tz_offset,
        "profile": profile_object(row, with_email=with_email),
        "is_admin": row.is_admin,
        "is_owner": row.is_owner,
        "is_primary_owner": row.is_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": row.is_bot,
        "is_app_user": row.is_app_user,
        "updated": row.updated,
        "is_email_confirmed": True,
        "who_can_share_contact_card": "EVERYONE",
    }


def can_see_emails(ctx: TwinContext) -> bool:
    return "users:read.email" in ctx.principal.scopes


# -- messages ----------------------------------------------------------------------------------


def message_object(
    ctx: TwinContext,
    row: Any,  # a Row, a page row (`page_rows`), or a message as just written
    *,
    reactions: dict[str, list[dict[str, Any]]] | None = None,
    pinned: set[str] | None = None,
    channel: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    """The message object. https://docs.slack.dev/reference/objects/message-object

    `team` is the tenant's team id when the caller already has it (a page of messages asks once)."""
    out: dict[str, Any] = {"type": "message"}
    if row.subtype:
        out["subtype"] = row.subtype
    if row.user_id:
        out["user"] = row.user_id
    if row.bot_id:
        out["bot_id"] = row.bot_id
        if row.app_id:
            out["app_id"] = row.app_id
    out["text"] = row.text
    out["ts"] = row.ts
    if row.user_id:
        out["team"] = team if team is not None else team_id(ctx)
    extra = row.extra or {}
    for key in ("username", "icons", "metadata", "client_msg_id", "bot_profile"):
        if key in extra:
            out[key] = extra[key]
    if row.blocks is not None:
        out["blocks"] = row.blocks
    if row.attachments is not None:
        out["attachments"] = row.attachments
    if row.files is not None:
        out["files"] = row.files
        out["upload"] = False
    if row.edited:
        out["edited"] = row.edited
    if row.thread_ts:
        out["thread_ts"] = row.thread_ts
        if row.thread_ts == row.ts:
            out["reply_count"] = row.reply_count
            out["reply_users_count"] = len(row.reply_users or [])
            out["reply_users"] = list(row.reply_users or [])
            out["latest_reply"] = row.latest_reply
            out["is_locked"] = False
            out["subscribed"] = False
        else:
            out["parent_user_id"] = extra.get("parent_user_id")
    if row.subtype == "tombstone":
        out["hidden"] = True
    if channel is not None:
        out["channel"] = channel
    if reactions and row.ts in reactions:
        out["reactions"] = reactions[row.ts]
    if pinned and row.ts in pinned:
        out["pinned_to"] = [row.channel_id]
    return out


def reactions_for(ctx: TwinContext, channel_id: str, tss: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Reactions on these messages: [{name, users, count}] in the order they were first added."""
    if not tss:
        return {}
    rows: Sequence[Any]
    if ctx.runtime.store.is_sqlite:
        wanted = set(tss)
        params = {"tenant": ctx.tenant, "channel": channel_id, "lo": min(tss), "hi": max(tss)}
        rows = [r for r in _REACTIONS_BETWEEN.all(ctx.conn, params) if r[0] in wanted]
    else:
        rows = ctx.conn.execute(_REACTIONS, {"tenant": ctx.tenant, "channel": channel_id, "tss": tss}).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for ts, name, user in rows:
        entries = out.setdefault(ts, [])
        entry = next((e for e in entries if e["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            entries.append(entry)
        entry["users"].append(user)
        entry["count"] += 1
    return out


def pinned_in(ctx: TwinContext, channel_id: str, tss: list[str]) -> set[str]:
    if not tss:
        return set()
    if ctx.runtime.store.is_sqlite:
        # SQLite orders text as Python does, so a range scan of the key and the exact set here
        # find the same pins as an IN list, for a third of its cost (bench/PROFILE.md).
        wanted = set(tss)
        params = {"tenant": ctx.tenant, "channel": channel_id, "lo": min(tss), "hi": max(tss)}
        return {r[0] for r in _PINNED_BETWEEN.all(ctx.conn, params) if r[0] in wanted}
    return {
        r[0] for r in ctx.conn.execute(_PINNED, {"tenant": ctx.tenant, "channel": channel_id, "tss": tss})
    }


def _json_out(value: Any) -> Any:
    """A JSON column for the answer only: its stored text goes out as is (on SQLite; PostgreSQL's
    driver has decoded it already), which is also exact for integers past 64 bits."""
    if value is None or value == "null":
        return None
    return orjson.Fragment(value) if isinstance(value, str) else value


_PAGE_ROW: dict[tuple[str, ...], Any] = {}


def page_rows(fields: tuple[str, ...], raw: list[tuple[Any, ...]]) -> list[Any]:
    """Message rows from a page read as the driver gives them (`Prepared.tuples`), ready for
    `message_object`: blocks, attachments, files and edited are only copied into the answer, so
    their JSON text goes out as is; `extra` and `reply_users` are read, so decoded, each
    distinct text once per page (a bot's messages share theirs)."""
    make = _PAGE_ROW.get(fields)
    if make is None:
        make = _PAGE_ROW[fields] = namedtuple("MessageRow", fields)._make  # type: ignore[misc,attr-defined]
    out_only = [fields.index(n) for n in ("blocks", "attachments", "files", "edited")]
    read = [fields.index(n) for n in ("extra", "reply_users")]
    seen: dict[Any, Any] = {"null": None, "[]": []}
    rows = []
    for r in raw:
        values = list(r)
        for i in out_only:
            values[i] = _json_out(values[i])
        for i in read:
            v = values[i]
            if isinstance(v, str):
                if v not in seen:
                    seen[v] = json_loads(v)
                values[i] = seen[v]
        rows.append(make(values))
    return rows


def messages_out(
    ctx: TwinContext, channel_id: str, rows: Sequence[Any], pins: set[str] | None = None
) -> list[dict[str, Any]]:
    """Message objects for a page of rows (`pins`: the page's pinned ts, if already read)."""
    tss = [r.ts for r in rows]
    reactions = reactions_for(ctx, channel_id, tss)
    if pins is None:
        pins = pinned_in(ctx, channel_id, tss)
    team = team_id(ctx) if any(r.user_id for r in rows) else None
    return [message_object(ctx, r, reactions=reactions, pinned=pins, team=team) for r in rows]


def get_message(
    ctx: TwinContext, channel_id: str, ts: str | None, error: type[SlackError] | str = "message_not_found"
) -> Row[Any]:
    row = None
    if ts:
        row = ctx.conn.execute(_MESSAGE, {"tenant": ctx.tenant, "channel": channel_id, "ts": ts}).first()
    if row is None:
        raise error() if isinstance(error, type) else SlackError(error)
    return row


def stale_filter(ctx: TwinContext, column: Any) -> Any:
    """With the `stale_reads` fault, reads miss rows younger than the lag."""
    cutoff = ctx.visible_before()
    return column <= cutoff if cutoff is not None else and_(True)


def message_permalink(ctx: TwinContext, channel_id: str, row: Row[Any]) -> str:
    """https://docs.slack.dev/reference/methods/chat.getPermalink : the message's permalink."""
    domain = ctx.conn.execute(select(TEAM.c.domain).where(TEAM.c.tenant_id == ctx.tenant)).scalar_one()
    link = f"https://{domain}.slack.com/archives/{channel_id}/p{row.ts.replace('.', '')}"
    if row.thread_ts and row.thread_ts != row.ts:
        link += f"?thread_ts={row.thread_ts}&cid={channel_id}"
    return link
