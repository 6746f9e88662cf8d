"""Identity: auth.test, auth.revoke, team.info, bots.info and the users.* methods.

https://docs.slack.dev/reference/methods/users.list and siblings. Emails appear only for
tokens with `users:read.email`, as in Slack.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, slack_metadata
from twins.slack import constants, events, models
from twins.slack.errors import InvalidCursor, SlackError, UserNotFound, UsersNotFound
from twins.slack.service import common
from twins.slack.service.common import APP, TEAM, USER


def auth_test(ctx: TwinContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/auth.test"""
    p = ctx.principal
    team = ctx.conn.execute(select(TEAM).where(TEAM.c.tenant_id == ctx.tenant)).one()
    user = common.get_user(ctx, p.user_id) if p.user_id else None
    out: dict[str, Any] = {
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": user.name if user else None,
        "team_id": team.id,
        "user_id": p.user_id,
        "is_enterprise_install": False,
    }
    if p.bot_id:
        out["bot_id"] = p.bot_id
    return out


def revoke(ctx: TwinContext, *, test: bool) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/auth.revoke — the calling token stops working
    at once (`token_revoked` from then on); `test=true` only says it would. The token's app
    hears `tokens_revoked` if it subscribes."""
    p = ctx.principal
    if test:
        return {"revoked": False}
    token = table(models.Token)
    ctx.conn.execute(
        update(token).where(token.c.tenant_id == ctx.tenant, token.c.token == p.token).values(revoked=True)
    )
    app = ctx.conn.execute(
        select(APP).where(APP.c.tenant_id == ctx.tenant, APP.c.id == p.app_id, APP.c.request_url.is_not(None))
    ).first()
    if app is not None and "tokens_revoked" in (app.bot_events or []):
        kind = "bot" if p.is_bot else "oauth"
        event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [], kind: [p.user_id]}}
        event["event_ts"] = common.micros_to_ts(int(ctx.now() * 1_000_000))
        events.deliver_event(ctx, app, common.team_id(ctx), event, ctx.now())
    return {"revoked": True}


def team_info(ctx: TwinContext, team: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/team.info"""
    row = ctx.conn.execute(select(TEAM).where(TEAM.c.tenant_id == ctx.tenant)).one()
    if team and team != row.id:
        raise SlackError("team_not_found")
    return {
        "team": {
            "id": row.id,
            "name": row.name,
            "url": f"https://{row.domain}.slack.com/",
            "domain": row.domain,
            "email_domain": row.email_domain,
            "icon": {
                "image_default": True,
                "image_34": "",
                "image_44": "",
                "image_68": "",
                "image_88": "",
                "image_102": "",
                "image_132": "",
                "image_230": "",
            },
            "avatar_base_url": "https://ca.slack-edge.com/",
            "is_verified": False,
        }
    }


def bots_info(ctx: TwinContext, bot: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/bots.info"""
    bot = bot or ctx.principal.bot_id
    row = ctx.conn.execute(select(APP).where(APP.c.tenant_id == ctx.tenant, APP.c.bot_id == bot)).first()
    if row is None:
        raise SlackError("bot_not_found")
    return {
        "bot": {
            "id": row.bot_id,
            "deleted": False,
            "name": row.name,
            "updated": 0,
            "app_id": row.id,
            "user_id": row.bot_user_id,
            "icons": {"image_36": "", "image_48": "", "image_72": ""},
        }
    }


def list_users(ctx: TwinContext, *, cursor: str | None, limit: int | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.list — ordered by id, cursor paged."""
    n = clamp(limit, default=constants.MAX_LIMIT, maximum=constants.MAX_LIMIT)
    try:
        key = decode_cursor(cursor, kind="users")
    except CursorError:
        raise InvalidCursor() from None
    stmt = select(USER).where(USER.c.tenant_id == ctx.tenant)
    if key:
        stmt = stmt.where(USER.c.id > key[0])
    rows = ctx.conn.execute(stmt.order_by(USER.c.id).limit(n + 1)).all()
    more = len(rows) > n
    rows = rows[:n]
    emails = common.can_see_emails(ctx)
    return {
        "members": [common.user_object(r, with_email=emails) for r in rows],
        "cache_ts": int(ctx.now()),
        **slack_metadata(encode_cursor([rows[-1].id], kind="users") if more else ""),
    }


def user_info(ctx: TwinContext, user: str | None) -> dict[str, Any]:
    return {"user": common.user_object(common.get_user(ctx, user), with_email=common.can_see_emails(ctx))}


def lookup_by_email(ctx: TwinContext, email: str) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.lookupByEmail — case-insensitive."""
    row = ctx.conn.execute(
        select(USER).where(
            USER.c.tenant_id == ctx.tenant, USER.c.email.ilike(email.strip()), USER.c.deleted.is_(False)
        )
    ).first()
    if row is None:
        raise UsersNotFound()
    return {"user": common.user_object(row)}


def profile_get(ctx: TwinContext, user: str | None) -> dict[str, Any]:
    row = common.get_user(ctx, user or ctx.principal.user_id)
    return {"profile": common.profile_object(row, with_email=common.can_see_emails(ctx))}


def get_presence(ctx: TwinContext, user: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.getPresence — bots are always active;
    people are active unless they set themselves away."""
    row = common.get_user(ctx, user or ctx.principal.user_id)
    away = row.presence == "away"
    presence = "away" if away or row.deleted else "active"
    out: dict[str, Any] = {"presence": presence}
    if row.id == ctx.principal.user_id:
        out.update(
            {
                "online": not away,
                "auto_away": False,
                "manual_away": away,
                "connection_count": 0 if away else 1,
                "last_activity": int(ctx.now()),
            }
        )
    return out


def set_presence(ctx: TwinContext, presence: str) -> dict[str, Any]:
    if presence not in ("auto", "away"):
        raise SlackError("invalid_presence")
    if ctx.principal.user_id is None:
        raise UserNotFound()
    ctx.conn.execute(
        update(USER)
        .where(USER.c.tenant_id == ctx.tenant, USER.c.id == ctx.principal.user_id)
        .values(presence=presence)
    )
    return {}
