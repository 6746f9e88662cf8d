"""search.messages: Slack's message search, for user tokens.

https://docs.slack.dev/reference/methods/search.messages, with the modifiers of Slack's
search (help centre, "Search in Slack"). A query is words (every one
must appear, case-insensitively, as a whole word; `dep*` matches a prefix), "quoted phrases",
`-word` exclusions and modifiers: `in:#channel` / `in:<#C123>` / `in:C123` / `in:@user` (the
DM), `from:@user` / `from:<@U123>` / `from:me`, `before:` / `after:` / `on:` / `during:` dates
(YYYY-MM-DD, YYYY-MM, YYYY, `today`, `yesterday` or a month name, in the searcher's time zone),
`has:link|pin|reaction`. A user finds messages in
public channels and in conversations they are a member of; ephemeral messages live apart
from history and are never found. Results page the legacy way (`count`, `page`: `paging` and
`pagination`), or by cursor when `cursor` is given (`*` for the first page).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Row, and_, func, or_, select

from dtu.context import TwinContext
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, page_number
from twins.slack.errors import InvalidCursor, SlackError
from twins.slack.service import common
from twins.slack.service.chat import SYSTEM_SUBTYPES
from twins.slack.service.common import CONV, MEMBER, MSG, PIN, REACTION, USER

DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_PAGE = 100
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_CHANNEL_REF = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_REF = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_LINK = re.compile(r"<https?://|https?://", re.IGNORECASE)


@dataclass
class Query:
    """A parsed query: what must (and must not) appear, and the modifiers."""

    terms: list[str] = field(default_factory=list)  # whole words; a trailing * makes a prefix
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    has: set[str] = field(default_factory=set)
    dates: list[tuple[str, str]] = field(default_factory=list)  # (before|after|on|during, value)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def parse_query(query: str) -> Query:
    q = Query()
    for token in _TOKEN.findall(query):
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated else token
        if body.startswith('"'):
            phrase = words(body.strip('"'))
            if negated:
                q.excluded.extend(phrase[:1] if len(phrase) == 1 else [])
            elif len(phrase) == 1:
                q.terms.append(phrase[0])
            elif phrase:
                q.phrases.append(phrase)
            continue
        key, sep, value = body.partition(":")
        key = key.lower()
        if sep and value and not negated:
            if key == "in":
                q.channels.append(value)
                continue
            if key == "from":
                q.users.append(value)
                continue
            if key == "has":
                q.has.add(value.lower())
                continue
            if (
                key in ("before", "after", "on", "during")
                and _date_range(value, date(2000, 1, 1)) is not None
            ):
                q.dates.append((key, value))
                continue
        found = words(body)
        if negated:
            q.excluded.extend(found)
        elif body.endswith("*") and len(found) == 1:
            q.terms.append(found[0] + "*")
        else:
            q.terms.extend(found)
    return q


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def _date_range(value: str, today: date) -> tuple[date, date] | None:
    """The [first day, day after last) a date modifier names: YYYY-MM-DD, YYYY-MM or YYYY,
    `today` or `yesterday`, or a month name (its latest occurrence, this month included), as
    Slack's search reads them (https://slack.com/help/articles/202528808)."""
    word = value.lower()
    if word in ("today", "yesterday"):
        first = today - timedelta(days=0 if word == "today" else 1)
        return first, first + timedelta(days=1)
    if word in _MONTHS:
        month = _MONTHS.index(word) + 1
        year = today.year if month <= today.month else today.year - 1
        first = date(year, month, 1)
        return first, date(year + month // 12, month % 12 + 1, 1)
    try:
        parts = [int(p) for p in value.split("-")]
        if len(parts) == 3:
            first = date(parts[0], parts[1], parts[2])
            return first, first + timedelta(days=1)
        if len(parts) == 2:
            first = date(parts[0], parts[1], 1)
            return first, date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if len(parts) == 1 and len(value) == 4:
            return date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)
    except ValueError:
        return None
    return None


def _zone(ctx: TwinContext) -> tzinfo:
    """The searcher's time zone: dates in queries are their local days, as in Slack."""
    row = ctx.conn.execute(
        select(USER.c.tz, USER.c.tz_offset).where(
            USER.c.tenant_id == ctx.tenant, USER.c.id == ctx.principal.user_id
        )
    ).first()
    if row is None:
        return UTC
    try:
        return ZoneInfo(row.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(seconds=row.tz_offset or 0))


def _day_start(day: date, zone: tzinfo) -> str:
    seconds = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
    return common.micros_to_ts(max(int(seconds), 0) * 1_000_000)


def _date_filters(ctx: TwinContext, dates: list[tuple[str, str]]) -> list[Any]:
    zone = _zone(ctx)
    today = datetime.fromtimestamp(ctx.now(), zone).date()
    out: list[Any] = []
    for key, value in dates:
        span = _date_range(value, today)
        assert span is not None
        first, after_last = span
        if key == "before":
            out.append(MSG.c.ts < _day_start(first, zone))
        elif key == "after":
            out.append(MSG.c.ts >= _day_start(after_last, zone))
        else:
            out.append(and_(MSG.c.ts >= _day_start(first, zone), MSG.c.ts < _day_start(after_last, zone)))
    return out


def _user_ids(ctx: TwinContext, value: str) -> list[str]:
    if value.lower() == "me":
        return [ctx.principal.user_id]
    ref = _USER_REF.match(value)
    if ref:
        return [ref.group(1)]
    if _USER_ID.match(value):
        return [value]
    name = value.lstrip("@").lower()
    return [
        r[0]
        for r in ctx.conn.execute(
            select(USER.c.id).where(
                USER.c.tenant_id == ctx.tenant,
                or_(func.lower(USER.c.name) == name, func.lower(USER.c.display_name) == name),
            )
        )
    ]


def _channel_ids(ctx: TwinContext, value: str) -> list[str]:
    ref = _CHANNEL_REF.match(value)
    if ref:
        return [ref.group(1)]
    if _ID.match(value):
        return [value]
    if value.startswith("@") or _USER_REF.match(value):
        # in:@user — the searcher's DM with that user.
        others = _user_ids(ctx, value)
        viewer = ctx.principal.user_id
        mine = select(MEMBER.c.conversation_id).where(
            MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.user_id == viewer
        )
        theirs = select(MEMBER.c.conversation_id).where(
            MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.user_id.in_(others)
        )
        return [
            r[0]
            for r in ctx.conn.execute(
                select(CONV.c.id).where(
                    CONV.c.tenant_id == ctx.tenant,
                    CONV.c.kind == "im",
                    CONV.c.id.in_(mine),
                    CONV.c.id.in_(theirs),
                )
            )
        ]
    return [
        r[0]
        for r in ctx.conn.execute(
            select(CONV.c.id).where(CONV.c.tenant_id == ctx.tenant, CONV.c.name == value.lstrip("#").lower())
        )
    ]


# Longer words skip the SQL prefilter (SQLite refuses LIKE patterns past 50,000 bytes);
# the matcher in Python still applies them.
MAX_PREFILTER_TERM = 1000


def _like(word: str) -> Any:
    escaped = word.rstrip("*").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(MSG.c.text).like(f"%{escaped}%", escape="\\")


def _score(q: Query, tokens: list[str]) -> int | None:
    """How well a message's words match (None: not a match). Word hits, phrases count double."""
    score = 0
    for term in q.terms:
        hits = sum(1 for t in tokens if t.startswith(term[:-1])) if term.endswith("*") else tokens.count(term)
        if not hits:
            return None
        score += hits
    for phrase in q.phrases:
        size = len(phrase)
        hits = sum(1 for i in range(len(tokens) - size + 1) if tokens[i : i + size] == phrase)
        if not hits:
            return None
        score += 2 * hits
    if any(word in tokens for word in q.excluded):
        return None
    return score


def _iid(tenant: str, channel_id: str, ts: str) -> str:
    """A stable, uuid-shaped result id (Slack's iid)."""
    h = hashlib.sha256(f"{tenant}:{channel_id}:{ts}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _channel_brief(conv: Row[Any], viewer: str | None) -> dict[str, Any]:
    name = conv.name
    if conv.kind == "im":  # a DM is named by the other party's id
        name = conv.creator if viewer == conv.im_user else conv.im_user
    return {
        "id": conv.id,
        "is_channel": conv.kind == "channel",
        "is_group": conv.kind == "group",
        "is_im": conv.kind == "im",
        "is_mpim": conv.kind == "mpim",
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_private": bool(conv.is_private) or conv.kind in ("im", "mpim"),
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "name": name,
    }


def search_messages(
    ctx: TwinContext,
    *,
    query: str | None,
    sort: str | None,
    sort_dir: str | None,
    count: int | None,
    page: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/search.messages"""
    if not query or not query.strip():
        raise SlackError("no_query")
    q = parse_query(query)
    by_time = (sort or "score").lower() == "timestamp"
    ascending = (sort_dir or "desc").lower() == "asc"
    per_page = clamp(count, default=DEFAULT_COUNT, maximum=MAX_COUNT)
    viewer = ctx.principal.user_id
    member_of = select(MEMBER.c.conversation_id).where(
        MEMBER.c.tenant_id == ctx.tenant, MEMBER.c.user_id == viewer
    )
    where: list[Any] = [
        MSG.c.tenant_id == ctx.tenant,
        or_(CONV.c.kind == "channel", CONV.c.id.in_(member_of)),
        or_(MSG.c.subtype.is_(None), MSG.c.subtype.not_in(sorted(SYSTEM_SUBTYPES))),
        common.stale_filter(ctx, MSG.c.written_at),
        *_date_filters(ctx, q.dates),
    ]
    if q.channels:
        where.append(MSG.c.channel_id.in_([c for v in q.channels for c in _channel_ids(ctx, v)]))
    if q.users:
        where.append(MSG.c.user_id.in_([u for v in q.users for u in _user_ids(ctx, v)]))
    for word in q.terms + [w for phrase in q.phrases for w in phrase]:
        if word.isascii() and len(word) <= MAX_PREFILTER_TERM:
            where.append(_like(word))
    rows = ctx.conn.execute(
        select(MSG)
        .join(CONV, (CONV.c.tenant_id == MSG.c.tenant_id) & (CONV.c.id == MSG.c.channel_id))
        .where(*where)
    ).all()
    scored = [(s, r) for r in rows if (s := _score(q, words(r.text or ""))) is not None and _has(ctx, q, r)]
    if by_time:
        scored.sort(key=lambda sr: sr[1].ts, reverse=not ascending)
    else:
        scored.sort(key=lambda sr: (sr[0], sr[1].ts), reverse=not ascending)
    total = len(scored)
    pages = (total + per_page - 1) // per_page
    filters = {"query": query, "sort": by_time, "asc": ascending, "count": per_page}
    next_cursor: str | None = None
    if cursor:
        try:
            key = None if cursor == "*" else decode_cursor(cursor, kind="search", filters=filters)
        except CursorError:
            raise InvalidCursor() from None
        offset = int(key[0]) if key else 0
        current = offset // per_page + 1
        next_cursor = (
            encode_cursor([offset + per_page], kind="search", filters=filters)
            if offset + per_page < total
            else ""
        )
    else:
        current = min(page_number(page), MAX_PAGE)
        offset = (current - 1) * per_page
    chosen = scored[offset : offset + per_page]
    matches = [_match(ctx, r) for _, r in chosen]
    pagination: dict[str, Any] = {
        "total_count": total,
        "page": current,
        "per_page": per_page,
        "page_count": pages,
        "first": offset + 1,
        "last": min(offset + per_page, total),
    }
    paging: dict[str, Any] = {"count": per_page, "total": total, "page": current, "pages": pages}
    if next_cursor is not None:
        pagination["next_cursor"] = next_cursor
        paging["next_cursor"] = next_cursor
    return {
        "query": query,
        "messages": {"total": total, "pagination": pagination, "paging": paging, "matches": matches},
    }


def _has(ctx: TwinContext, q: Query, row: Row[Any]) -> bool:
    """`has:` modifiers: links in the text, a pin, or a reaction."""
    for what in q.has:
        if what == "link" and not _LINK.search(row.text or ""):
            return False
        if what in ("pin", "reaction"):
            table = PIN if what == "pin" else REACTION
            found = ctx.conn.execute(
                select(table.c.ts)
                .where(
                    table.c.tenant_id == ctx.tenant,
                    table.c.channel_id == row.channel_id,
                    table.c.ts == row.ts,
                )
                .limit(1)
            ).first()
            if found is None:
                return False
    return True


def _match(ctx: TwinContext, row: Row[Any]) -> dict[str, Any]:
    conv = ctx.conn.execute(
        select(CONV).where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == row.channel_id)
    ).one()
    author = None
    if row.user_id:
        author = ctx.conn.execute(
            select(USER.c.name).where(USER.c.tenant_id == ctx.tenant, USER.c.id == row.user_id)
        ).scalar()
    extra = row.extra or {}
    out: dict[str, Any] = {
        "iid": _iid(ctx.tenant, conv.id, row.ts),
        "team": common.team_id(ctx),
        "channel": _channel_brief(conv, ctx.principal.user_id),
        "type": "message",
        "user": row.user_id or "",
        "username": extra.get("username") or author or "",
        "ts": row.ts,
        "text": row.text,
        "permalink": common.message_permalink(ctx, conv.id, row),
    }
    if row.bot_id:
        out["bot_id"] = row.bot_id
    if row.blocks is not None:
        out["blocks"] = row.blocks
    if row.attachments is not None:
        out["attachments"] = row.attachments
    if row.thread_ts:
        out["thread_ts"] = row.thread_ts
    return out
