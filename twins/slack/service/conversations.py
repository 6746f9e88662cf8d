"""Conversations: channels, private channels, DMs and group DMs.

https://docs.slack.dev/reference/methods/conversations.list and siblings. Membership changes
post the `channel_join` / `channel_leave` messages and raise the member events Slack raises;
history and replies page newest-first / oldest-first by ts with cursors that neither skip nor
repeat messages written between pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, insert, or_, select, update

from dtu.context import TwinContext
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, slack_metadata
from dtu.sql import Prepared
from twins.slack import constants, events
from twins.slack.errors import (
    ChannelNotFound,
    InvalidCursor,
    IsArchived,
    MissingScope,
    NotInChannel,
    SlackError,
)
from twins.slack.service import common
from twins.slack.service.common import CONV, MEMBER, MSG, PIN, REACTION, TEAM, USER

_NAME_OK = re.compile(r"^[a-z0-9_\-\u00c0-\uffff]+$")
TYPES = {"public_channel", "private_channel", "mpim", "im"}


def _kinds(types: str | None) -> set[str]:
    wanted = {t.strip() for t in (types or "public_channel").split(",") if t.strip()}
    if not wanted or wanted - TYPES:
        raise SlackError("invalid_types")
    mapping = {"public_channel": "channel", "private_channel": "group", "mpim": "mpim", "im": "im"}
    return {mapping[t] for t in wanted}


def validate_name(name: str | None) -> str:
    """Channel names: lowercase letters, digits, hyphens and underscores; 80 characters at most."""
    if not name or not name.strip():
        raise SlackError("invalid_name_required")
    name = name.strip().lstrip("#")
    if len(name) > constants.MAX_CHANNEL_NAME:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_OK.match(name) or name != name.lower():
        if re.fullmatch(r"[\-_]+", name):
            raise SlackError("invalid_name_punctuation")
        raise SlackError("invalid_name_specials")
    if re.fullmatch(r"[\-_]+", name):
        raise SlackError("invalid_name_punctuation")
    return name


def _name_taken(ctx: TwinContext, name: str, except_id: str | None = None) -> bool:
    stmt = select(CONV.c.id).where(CONV.c.tenant_id == ctx.tenant, CONV.c.name == name)
    if except_id:
        stmt = stmt.where(CONV.c.id != except_id)
    return ctx.conn.execute(stmt).first() is not None


def _get(ctx: TwinContext, channel_id: str) -> Row[Any]:
    return ctx.conn.execute(select(CONV).where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == channel_id)).one()


def _insert_conversation(
    ctx: TwinContext,
    *,
    kind: str,
    name: str | None,
    is_private: bool,
    im_user: str | None = None,
    prefix: str = "C",
) -> str:
    now = int(ctx.now())
    channel_id = ctx.ids.token("conversation", prefix=prefix, length=11)
    ctx.conn.execute(
        insert(CONV).values(
            tenant_id=ctx.tenant,
            id=channel_id,
            kind=kind,
            name=name,
            is_private=is_private,
            creator=ctx.principal.user_id,
            created=now,
            updated=now,
            topic=common.text_meta("", None, 0),
            purpose=common.text_meta("", None, 0),
            previous_names=[],
            im_user=im_user,
            seq=ctx.ids.next("conversation-seq"),
        )
    )
    return channel_id


def add_member(
    ctx: TwinContext, conv: Row[Any], user_id: str, *, inviter: str | None = None, announce: bool = True
) -> bool:
    """Add a member; False if already there. Posts `channel_join` and raises member_joined_channel."""
    if common.is_member(ctx, conv.id, user_id):
        return False
    ctx.conn.execute(
        insert(MEMBER).values(
            tenant_id=ctx.tenant, conversation_id=conv.id, user_id=user_id, joined=ctx.now(), is_open=True
        )
    )
    if conv.kind in ("channel", "group") and announce:
        text = f"<@{user_id}> has joined the channel"
        post_system_message(ctx, conv, user_id, "channel_join", text, inviter=inviter)
        event: dict[str, Any] = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": conv.id,
            "channel_type": "C" if conv.kind == "channel" else "G",
            "team": common.team_id(ctx),
        }
        if inviter:
            event["inviter"] = inviter
        events.emit(ctx, event, channel_id=conv.id)
    return True


def remove_member(ctx: TwinContext, conv: Row[Any], user_id: str, *, announce: bool = True) -> None:
    if conv.kind in ("channel", "group") and announce:
        # Raised before the removal so that an app leaving still hears of it, as in Slack.
        events.emit(
            ctx,
            {
                "type": "member_left_channel",
                "user": user_id,
                "channel": conv.id,
                "channel_type": "C" if conv.kind == "channel" else "G",
                "team": common.team_id(ctx),
            },
            channel_id=conv.id,
        )
    ctx.conn.execute(
        delete(MEMBER).where(
            MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.conversation_id == conv.id, MEMBER.c.user_id == user_id
        )
    )
    if conv.kind in ("channel", "group") and announce:
        post_system_message(ctx, conv, user_id, "channel_leave", f"<@{user_id}> has left the channel")


def post_system_message(
    ctx: TwinContext, conv: Row[Any], user_id: str, subtype: str, text: str, **extra: Any
) -> str:
    ts = common.next_ts(ctx, conv.id)
    ctx.conn.execute(
        insert(MSG).values(
            tenant_id=ctx.tenant,
            channel_id=conv.id,
            ts=ts,
            subtype=subtype,
            user_id=user_id,
            text=text,
            reply_users=[],
            written_at=ctx.now(),
            extra={k: v for k, v in extra.items() if v is not None} or None,
        )
    )
    message = {"type": "message", "subtype": subtype, "user": user_id, "text": text, "ts": ts}
    message.update({k: v for k, v in extra.items() if v is not None})
    events.message_event(ctx, conv, message)
    return ts


# -- methods -----------------------------------------------------------------------------------


def create(ctx: TwinContext, *, name: str | None, is_private: bool) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.create"""
    name = validate_name(name)
    if _name_taken(ctx, name):
        raise SlackError("name_taken")
    channel_id = _insert_conversation(
        ctx, kind="group" if is_private else "channel", name=name, is_private=is_private
    )
    conv = _get(ctx, channel_id)
    ctx.conn.execute(
        insert(MEMBER).values(
            tenant_id=ctx.tenant, conversation_id=channel_id, user_id=ctx.principal.user_id, joined=ctx.now()
        )
    )
    if not is_private:
        events.emit(
            ctx,
            {
                "type": "channel_created",
                "channel": {
                    "id": channel_id,
                    "name": name,
                    "created": conv.created,
                    "creator": ctx.principal.user_id,
                    "is_channel": True,
                    "name_normalized": name,
                },
            },
        )
    out = common.conversation_object(ctx, conv, member=True)
    out["last_read"] = common.ZERO_TS
    out["latest"] = None
    out["unread_count"] = 0
    out["unread_count_display"] = 0
    out["priority"] = 0
    return {"channel": out}


def _visible_to(ctx: TwinContext, user_id: str | None) -> Any:
    """Public channels to everyone; the rest only to members."""
    member_of = select(MEMBER.c.conversation_id).where(
        MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.user_id == user_id
    )
    return or_(CONV.c.kind == "channel", CONV.c.id.in_(member_of))


def _list(
    ctx: TwinContext,
    *,
    where: list[Any],
    types: str | None,
    exclude_archived: bool,
    cursor: str | None,
    limit: int | None,
    kind: str,
) -> tuple[Sequence[Row[Any]], str]:
    kinds = _kinds(types)
    p = ctx.principal
    for kind in sorted(kinds):  # each type asked for needs its read scope (`groups:read`...)
        needed = f"{common.SCOPE_PREFIX[kind]}:read"
        if needed not in p.scopes:
            raise MissingScope(extra={"needed": needed, "provided": ",".join(sorted(p.scopes))})
    n = clamp(limit, default=constants.DEFAULT_LIMIT, maximum=constants.MAX_LIMIT)
    filters = {"types": sorted(kinds), "exclude_archived": exclude_archived, "where": kind}
    try:
        key = decode_cursor(cursor, kind="conversations", filters=filters)
    except CursorError:
        raise InvalidCursor() from None
    stmt = select(CONV).where(CONV.c.tenant_id == ctx.tenant, CONV.c.kind.in_(kinds), *where)
    if exclude_archived:
        stmt = stmt.where(CONV.c.is_archived.is_(False))
    if key:
        stmt = stmt.where(CONV.c.seq > key[0])
    rows = ctx.conn.execute(stmt.order_by(CONV.c.seq).limit(n + 1)).all()
    more = len(rows) > n
    rows = rows[:n]
    return rows, encode_cursor([rows[-1].seq], kind="conversations", filters=filters) if more else ""


def list_conversations(
    ctx: TwinContext, *, types: str | None, exclude_archived: bool, cursor: str | None, limit: int | None
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.list"""
    viewer = ctx.principal.user_id
    rows, next_cursor = _list(
        ctx,
        where=[_visible_to(ctx, viewer)],
        types=types,
        exclude_archived=exclude_archived,
        cursor=cursor,
        limit=limit,
        kind="list",
    )
    channels = []
    for r in rows:
        obj = common.conversation_object(ctx, r)
        if r.kind != "im":
            obj["num_members"] = common.num_members(ctx, r.id)
        channels.append(obj)
    return {"channels": channels, **slack_metadata(next_cursor)}


def users_conversations(
    ctx: TwinContext,
    *,
    user: str | None,
    types: str | None,
    exclude_archived: bool,
    cursor: str | None,
    limit: int | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.conversations — what a user belongs to
    (another user's private memberships only where the caller is a member too)."""
    target = user or ctx.principal.user_id
    common.get_user(ctx, target)
    member_of = select(MEMBER.c.conversation_id).where(
        MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.user_id == target
    )
    where = [CONV.c.id.in_(member_of)]
    if target != ctx.principal.user_id:
        where.append(_visible_to(ctx, ctx.principal.user_id))
    rows, next_cursor = _list(
        ctx,
        where=where,
        types=types,
        exclude_archived=exclude_archived,
        cursor=cursor,
        limit=limit,
        kind=f"user:{target}",
    )
    return {"channels": [common.conversation_object(ctx, r) for r in rows], **slack_metadata(next_cursor)}


def info(ctx: TwinContext, *, channel: str | None, include_num_members: bool) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.info"""
    conv = common.visible_conversation(ctx, channel)
    common.require_kind_scope(ctx, conv, "read")
    out = common.conversation_object(ctx, conv, with_num_members=include_num_members and conv.kind != "im")
    member = ctx.conn.execute(
        select(MEMBER.c.last_read).where(
            MEMBER.c.tenant_id == ctx.tenant,
            MEMBER.c.conversation_id == conv.id,
            MEMBER.c.user_id == ctx.principal.user_id,
        )
    ).first()
    if member is not None:
        out["last_read"] = member[0]
    return {"channel": out}


def _bounds(oldest: str | None, latest: str | None, inclusive: bool) -> list[Any]:
    oldest_ts = common.parse_ts(oldest, "invalid_ts_oldest")
    latest_ts = common.parse_ts(latest, "invalid_ts_latest")
    where = []
    if oldest_ts is not None:
        where.append(MSG.c.ts >= oldest_ts if inclusive else MSG.c.ts > oldest_ts)
    if latest_ts is not None:
        where.append(MSG.c.ts <= latest_ts if inclusive else MSG.c.ts < latest_ts)
    return where


_HISTORY_PAGES: dict[tuple[bool, ...], Prepared] = {}


def _history_page(cutoff: bool, oldest: bool, latest: bool, inclusive: bool, after_key: bool) -> Prepared:
    """The page statement for this combination of arguments, built once (a read runs it on
    every call; building it cost as much as running it)."""
    shape = (cutoff, oldest, latest, inclusive, after_key)
    found = _HISTORY_PAGES.get(shape)
    if found is None:
        ts = MSG.c.ts
        where = [
            MSG.c.tenant_id == bindparam("tenant"),
            MSG.c.channel_id == bindparam("channel"),
            or_(MSG.c.thread_ts.is_(None), MSG.c.thread_ts == ts, MSG.c.is_broadcast.is_(True)),
        ]
        if cutoff:
            where.append(MSG.c.written_at <= bindparam("cutoff"))
        if oldest:
            where.append(ts >= bindparam("oldest") if inclusive else ts > bindparam("oldest"))
        if latest:
            where.append(ts <= bindparam("latest") if inclusive else ts < bindparam("latest"))
        if after_key:
            where.append(ts < bindparam("key"))
        found = Prepared(
            select(*[c for c in MSG.columns if c.name not in ("tenant_id", "written_at", "is_broadcast")])
            .where(*where)
            .order_by(ts.desc())
            .limit(bindparam("n"))
        )
        _HISTORY_PAGES[shape] = found
    return found


def history(
    ctx: TwinContext,
    *,
    channel: str | None,
    oldest: str | None,
    latest: str | None,
    inclusive: bool,
    cursor: str | None,
    limit: int | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.history — newest first; thread
    replies appear only when broadcast to the channel."""
    conv = common.readable_conversation(ctx, channel)
    common.require_kind_scope(ctx, conv, "history")
    n = clamp(limit, default=constants.DEFAULT_LIMIT, maximum=constants.HISTORY_MAX_LIMIT)
    filters = {"channel": conv.id, "oldest": oldest, "latest": latest, "inclusive": inclusive}
    try:
        key = decode_cursor(cursor, kind="history", filters=filters)
    except CursorError:
        raise InvalidCursor() from None
    oldest_ts = common.parse_ts(oldest, "invalid_ts_oldest")
    latest_ts = common.parse_ts(latest, "invalid_ts_latest")
    cutoff = ctx.visible_before()
    if cutoff is not None:  # stale reads: the answer depends on the clock, nothing to reuse
        return _history_answer(ctx, conv.id, n, key, oldest, latest, inclusive, oldest_ts, latest_ts, cutoff)
    # A page is a function of the channel's messages, reactions and pins (and the team id):
    # it is rebuilt only after one of them changes in this tenant (dtu/cache.py).
    tenant = ctx.tenant
    page: dict[str, Any] = ctx.runtime.cache("slack.history", MSG, REACTION, PIN, TEAM).get(
        (tenant, conv.id, n, cursor or "", oldest, latest, inclusive),
        lambda: (
            tenant,
            _history_answer(ctx, conv.id, n, key, oldest, latest, inclusive, oldest_ts, latest_ts, None),
        ),
    )
    return page


def _history_answer(
    ctx: TwinContext,
    channel_id: str,
    n: int,
    key: list[Any] | None,
    oldest: str | None,
    latest: str | None,
    inclusive: bool,
    oldest_ts: str | None,
    latest_ts: str | None,
    cutoff: float | None,
) -> dict[str, Any]:
    filters = {"channel": channel_id, "oldest": oldest, "latest": latest, "inclusive": inclusive}
    params: dict[str, Any] = {
        "tenant": ctx.tenant,
        "channel": channel_id,
        "oldest": oldest_ts,
        "latest": latest_ts,
        "cutoff": cutoff,
        "key": key[0] if key else None,
        "n": n + 1,
    }
    page = _history_page(
        cutoff is not None, oldest_ts is not None, latest_ts is not None, inclusive, bool(key)
    )
    rows = common.page_rows(page.fields(ctx.conn), page.tuples(ctx.conn, params))
    more = len(rows) > n
    rows = rows[:n]
    pins = common.pinned_in(ctx, channel_id, [r.ts for r in rows])
    out: dict[str, Any] = {
        "messages": common.messages_out(ctx, channel_id, rows, pins),
        "has_more": more,
        "pin_count": len(pins),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }
    if oldest or latest:
        out["latest"] = latest
        out["oldest"] = oldest
    out.update(slack_metadata(encode_cursor([rows[-1].ts], kind="history", filters=filters) if more else ""))
    if not more:
        del out["response_metadata"]
    return out


def replies(
    ctx: TwinContext,
    *,
    channel: str | None,
    ts: str | None,
    oldest: str | None,
    latest: str | None,
    inclusive: bool,
    cursor: str | None,
    limit: int | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.replies — the parent first, then
    replies oldest first; a reply's ts finds its whole thread."""
    conv = common.readable_conversation(ctx, channel)
    common.require_kind_scope(ctx, conv, "history")
    ts_norm = common.parse_ts(ts, "thread_not_found")
    row = common.get_message(ctx, conv.id, ts_norm, "thread_not_found")
    root = row.thread_ts or row.ts
    n = clamp(limit, default=constants.DEFAULT_LIMIT, maximum=constants.MAX_LIMIT)
    filters = {"channel": conv.id, "ts": root, "oldest": oldest, "latest": latest, "inclusive": inclusive}
    try:
        key = decode_cursor(cursor, kind="replies", filters=filters)
    except CursorError:
        raise InvalidCursor() from None
    in_thread = or_(MSG.c.ts == root, MSG.c.thread_ts == root)
    stmt = select(MSG).where(
        MSG.c.tenant_id == ctx.tenant,
        MSG.c.channel_id == conv.id,
        in_thread,
        common.stale_filter(ctx, MSG.c.written_at),
        *_bounds(oldest, latest, inclusive),
    )
    if key:
        stmt = stmt.where(MSG.c.ts > key[0])
    rows = ctx.conn.execute(stmt.order_by(MSG.c.ts).limit(n + 1)).all()
    more = len(rows) > n
    rows = rows[:n]
    out: dict[str, Any] = {"messages": common.messages_out(ctx, conv.id, rows), "has_more": more}
    out.update(slack_metadata(encode_cursor([rows[-1].ts], kind="replies", filters=filters) if more else ""))
    return out


def join(ctx: TwinContext, *, channel: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.join — public channels only."""
    conv = common.get_conversation(ctx, channel)
    if conv.kind != "channel":
        if not common.is_member(ctx, conv.id, ctx.principal.user_id):
            raise ChannelNotFound()
        raise SlackError("method_not_supported_for_channel_type")
    if conv.is_archived:
        raise IsArchived()
    added = add_member(ctx, conv, ctx.principal.user_id)
    out: dict[str, Any] = {"channel": common.conversation_object(ctx, _get(ctx, conv.id), member=True)}
    if not added:
        out["warning"] = "already_in_channel"
        out["response_metadata"] = {"warnings": ["already_in_channel"]}
    return out


def leave(ctx: TwinContext, *, channel: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.leave"""
    conv = common.get_conversation(ctx, channel)
    member = common.is_member(ctx, conv.id, ctx.principal.user_id)
    if conv.kind in ("im",) or (conv.is_private and not member):
        raise SlackError(
            "method_not_supported_for_channel_type" if conv.kind == "im" else "channel_not_found"
        )
    if conv.is_archived:
        raise IsArchived()
    if conv.is_general:
        raise SlackError("cant_leave_general")
    if not member:
        raise SlackError("not_in_channel", extra={"not_in_channel": True}, status=200)
    if conv.is_private and common.num_members(ctx, conv.id) == 1:
        raise SlackError("last_member")
    remove_member(ctx, conv, ctx.principal.user_id)
    return {}


def invite(ctx: TwinContext, *, channel: str | None, users: list[str], force: bool) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.invite — all or nothing unless
    `force`, in which case the valid users are added and the errors listed."""
    conv = common.visible_conversation(ctx, channel)
    if conv.kind == "im":
        raise SlackError("method_not_supported_for_channel_type")
    if conv.is_archived:
        raise IsArchived()
    if not users:
        raise SlackError("no_user")
    if not common.is_member(ctx, conv.id, ctx.principal.user_id):
        raise NotInChannel()
    problems: list[dict[str, Any]] = []
    valid: list[str] = []
    for user in users:
        row = ctx.conn.execute(select(USER).where(USER.c.tenant_id == ctx.tenant, USER.c.id == user)).first()
        if row is None or row.deleted:
            problems.append({"user": user, "ok": False, "error": "user_not_found"})
        elif user == ctx.principal.user_id:
            problems.append({"user": user, "ok": False, "error": "cant_invite_self"})
        elif common.is_member(ctx, conv.id, user):
            problems.append({"user": user, "ok": False, "error": "already_in_channel"})
        else:
            valid.append(user)
    if problems and not force:
        raise SlackError(problems[0]["error"], extra={"errors": problems})
    for user in valid:
        add_member(ctx, conv, user, inviter=ctx.principal.user_id)
    out: dict[str, Any] = {"channel": common.conversation_object(ctx, _get(ctx, conv.id))}
    if problems:
        out["errors"] = problems
    return out


def kick(ctx: TwinContext, *, channel: str | None, user: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.kick"""
    conv = common.visible_conversation(ctx, channel)
    if conv.kind in ("im", "mpim"):
        raise SlackError("method_not_supported_for_channel_type")
    if conv.is_general:
        raise SlackError("cant_kick_from_general")
    target = common.get_user(ctx, user)
    if target.id == ctx.principal.user_id:
        raise SlackError("cant_kick_self")
    if not common.is_member(ctx, conv.id, target.id):
        raise NotInChannel()
    remove_member(ctx, conv, target.id)
    return {}


def members(
    ctx: TwinContext, *, channel: str | None, cursor: str | None, limit: int | None
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.members"""
    conv = common.visible_conversation(ctx, channel)
    common.require_kind_scope(ctx, conv, "read")
    n = clamp(limit, default=constants.DEFAULT_LIMIT, maximum=constants.MAX_LIMIT)
    try:
        key = decode_cursor(cursor, kind="members", filters={"channel": conv.id})
    except CursorError:
        raise InvalidCursor() from None
    stmt = select(MEMBER.c.user_id).where(
        MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.conversation_id == conv.id
    )
    if key:
        stmt = stmt.where(MEMBER.c.user_id > key[0])
    ids = [r[0] for r in ctx.conn.execute(stmt.order_by(MEMBER.c.user_id).limit(n + 1))]
    more = len(ids) > n
    ids = ids[:n]
    return {
        "members": ids,
        **slack_metadata(
            encode_cursor([ids[-1]], kind="members", filters={"channel": conv.id}) if more else ""
        ),
    }


def archive(ctx: TwinContext, *, channel: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.archive"""
    conv = common.visible_conversation(ctx, channel)
    if conv.kind == "im":
        raise SlackError("method_not_supported_for_channel_type")
    if conv.is_archived:
        raise SlackError("already_archived")
    if conv.is_general:
        raise SlackError("cant_archive_general")
    if ctx.principal.is_bot and not common.is_member(ctx, conv.id, ctx.principal.user_id):
        raise NotInChannel()
    post_system_message(ctx, conv, ctx.principal.user_id, "channel_archive", "archived the channel")
    ctx.conn.execute(
        update(CONV)
        .where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == conv.id)
        .values(is_archived=True, updated=int(ctx.now()))
    )
    event_type = "channel_archive" if conv.kind == "channel" else "group_archive"
    events.emit(
        ctx, {"type": event_type, "channel": conv.id, "user": ctx.principal.user_id}, channel_id=conv.id
    )
    return {}


def unarchive(ctx: TwinContext, *, channel: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.unarchive"""
    conv = common.visible_conversation(ctx, channel)
    if conv.kind == "im":
        raise SlackError("method_not_supported_for_channel_type")
    if not conv.is_archived:
        raise SlackError("not_archived")
    ctx.conn.execute(
        update(CONV)
        .where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == conv.id)
        .values(is_archived=False, updated=int(ctx.now()))
    )
    post_system_message(
        ctx, _get(ctx, conv.id), ctx.principal.user_id, "channel_unarchive", "un-archived the channel"
    )
    event_type = "channel_unarchive" if conv.kind == "channel" else "group_unarchive"
    events.emit(
        ctx, {"type": event_type, "channel": conv.id, "user": ctx.principal.user_id}, channel_id=conv.id
    )
    return {}


def rename(ctx: TwinContext, *, channel: str | None, name: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.rename"""
    conv = common.writable_conversation(ctx, channel)
    if conv.kind in ("im", "mpim"):
        raise SlackError("method_not_supported_for_channel_type")
    new = validate_name(name)
    if _name_taken(ctx, new, except_id=conv.id):
        raise SlackError("name_taken")
    if not common.is_member(ctx, conv.id, ctx.principal.user_id):
        raise NotInChannel()
    if new != conv.name:
        ctx.conn.execute(
            update(CONV)
            .where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == conv.id)
            .values(
                name=new, previous_names=[conv.name, *(conv.previous_names or [])], updated=int(ctx.now())
            )
        )
        post_system_message(
            ctx,
            conv,
            ctx.principal.user_id,
            "channel_name",
            f"renamed the channel from \u201c{conv.name}\u201d to \u201c{new}\u201d",
            old_name=conv.name,
            name=new,
        )
        event_type = "channel_rename" if conv.kind == "channel" else "group_rename"
        events.emit(
            ctx,
            {
                "type": event_type,
                "channel": {"id": conv.id, "name": new, "name_normalized": new, "created": conv.created},
            },
            channel_id=conv.id,
        )
    return {"channel": common.conversation_object(ctx, _get(ctx, conv.id))}


def set_text_meta(ctx: TwinContext, *, channel: str | None, field: str, value: str | None) -> dict[str, Any]:
    """conversations.setTopic / setPurpose: 250 characters at most; posts the change."""
    conv = common.writable_conversation(ctx, channel)
    if not common.is_member(ctx, conv.id, ctx.principal.user_id):
        raise NotInChannel()
    value = value or ""
    if len(value) > 250:
        raise SlackError("too_long")
    meta = common.text_meta(value, ctx.principal.user_id, int(ctx.now()))
    ctx.conn.execute(
        update(CONV)
        .where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == conv.id)
        .values(**{field: meta}, updated=int(ctx.now()))
    )
    if conv.kind != "im":
        subtype = "channel_topic" if field == "topic" else "channel_purpose"
        verb = "set the channel topic" if field == "topic" else "set the channel purpose"
        post_system_message(ctx, conv, ctx.principal.user_id, subtype, f"{verb}: {value}", **{field: value})
    return {"channel": common.conversation_object(ctx, _get(ctx, conv.id))}


def open_conversation(
    ctx: TwinContext, *, channel: str | None, users: list[str], return_im: bool, prevent_creation: bool
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.open — a DM with one user, a
    group DM with 2 to 8; reopening an existing one answers `already_open`."""
    me = ctx.principal.user_id
    if channel:
        conv = common.visible_conversation(ctx, channel)
        if conv.kind not in ("im", "mpim"):
            raise SlackError("method_not_supported_for_channel_type")
        return _reopen(ctx, conv, return_im=True)
    if not users:
        raise SlackError("users_list_not_supplied")
    others = [u for u in dict.fromkeys(users) if u != me]
    for u in others:
        row = common.get_user(ctx, u)
        if row.deleted:
            raise SlackError("user_disabled")
    if len(others) > 8:
        raise SlackError("too_many_users")
    if len(others) <= 1:
        other = others[0] if others else me
        conv_row = ctx.conn.execute(
            select(CONV).where(
                CONV.c.tenant_id == ctx.tenant,
                CONV.c.kind == "im",
                or_(
                    and_(CONV.c.creator == me, CONV.c.im_user == other),
                    and_(CONV.c.creator == other, CONV.c.im_user == me),
                ),
            )
        ).first()
        if conv_row is not None:
            return _reopen(ctx, conv_row, return_im=return_im)
        if prevent_creation:
            return {"no_op": True, "channel": {}}
        channel_id = _insert_conversation(
            ctx, kind="im", name=None, is_private=True, im_user=other, prefix="D"
        )
        for u in dict.fromkeys([me, other]):
            ctx.conn.execute(
                insert(MEMBER).values(
                    tenant_id=ctx.tenant, conversation_id=channel_id, user_id=u, joined=ctx.now()
                )
            )
        conv = _get(ctx, channel_id)
        out = common.conversation_object(ctx, conv) if return_im else {"id": channel_id}
        return {"channel": out}
    everyone = sorted({me, *others})
    name = (
        "mpdm-"
        + "--".join(
            ctx.conn.execute(
                select(USER.c.name).where(USER.c.tenant_id == ctx.tenant, USER.c.id == u)
            ).scalar_one()
            for u in everyone
        )
        + "-1"
    )
    existing = ctx.conn.execute(
        select(CONV).where(CONV.c.tenant_id == ctx.tenant, CONV.c.kind == "mpim", CONV.c.name == name)
    ).first()
    if existing is not None:
        return _reopen(ctx, existing, return_im=return_im)
    if prevent_creation:
        return {"no_op": True, "channel": {}}
    channel_id = _insert_conversation(ctx, kind="mpim", name=name, is_private=True, prefix="G")
    for u in everyone:
        ctx.conn.execute(
            insert(MEMBER).values(
                tenant_id=ctx.tenant, conversation_id=channel_id, user_id=u, joined=ctx.now()
            )
        )
    conv = _get(ctx, channel_id)
    return {"channel": common.conversation_object(ctx, conv) if return_im else {"id": channel_id}}


def _reopen(ctx: TwinContext, conv: Row[Any], *, return_im: bool) -> dict[str, Any]:
    me = ctx.principal.user_id
    member = ctx.conn.execute(
        select(MEMBER).where(
            MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.conversation_id == conv.id, MEMBER.c.user_id == me
        )
    ).first()
    already = bool(member is not None and member.is_open)
    ctx.conn.execute(
        update(MEMBER)
        .where(MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.conversation_id == conv.id, MEMBER.c.user_id == me)
        .values(is_open=True)
    )
    obj = common.conversation_object(ctx, conv) if return_im else {"id": conv.id}
    if return_im and member is not None:
        obj.update(
            {
                "last_read": member.last_read,
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
            }
        )
    out: dict[str, Any] = {"channel": obj}
    if already:
        out.update({"no_op": True, "already_open": True})
    return out


def close(ctx: TwinContext, *, channel: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.close — DMs and group DMs only."""
    conv = common.visible_conversation(ctx, channel)
    if conv.kind not in ("im", "mpim"):
        raise SlackError("method_not_supported_for_channel_type")
    member = ctx.conn.execute(
        select(MEMBER.c.is_open).where(
            MEMBER.c.tenant_id == ctx.tenant,
            MEMBER.c.conversation_id == conv.id,
            MEMBER.c.user_id == ctx.principal.user_id,
        )
    ).first()
    if member is None or not member[0]:
        return {"no_op": True, "already_closed": True}
    ctx.conn.execute(
        update(MEMBER)
        .where(
            MEMBER.c.tenant_id == ctx.tenant,
            MEMBER.c.conversation_id == conv.id,
            MEMBER.c.user_id == ctx.principal.user_id,
        )
        .values(is_open=False)
    )
    return {}


def mark(ctx: TwinContext, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/conversations.mark — moves the read cursor."""
    conv = common.visible_conversation(ctx, channel)
    ts_norm = common.parse_ts(ts, "invalid_timestamp")
    if ts_norm is None:
        raise SlackError("invalid_timestamp")
    if not common.is_member(ctx, conv.id, ctx.principal.user_id):
        raise NotInChannel()
    ctx.conn.execute(
        update(MEMBER)
        .where(
            MEMBER.c.tenant_id == ctx.tenant,
            MEMBER.c.conversation_id == conv.id,
            MEMBER.c.user_id == ctx.principal.user_id,
        )
        .values(last_read=ts_norm)
    )
    return {}
