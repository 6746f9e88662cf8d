"""Identity: auth.test, auth.revoke, team.info, bots.info and the users.* methods.

https://docs.slack.dev/reference/methods/users.list and siblings. Emails appear only for
tokens with `users:read.email`, as in Slack.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import CursorError, clamp, decode_cursor, encode_cursor, slack_metadata
from twins.slack import constants, events, models
from twins.slack.errors import InvalidArguments, InvalidCursor, SlackError, UserNotFound, UsersNotFound
from twins.slack.service import common
from twins.slack.service.common import APP, TEAM, USER


def auth_test(ctx: TwinContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/auth.test"""
    p = ctx.principal
    team = common.team_row(ctx)
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
    return {"profile": full_profile(ctx, row, with_email=common.can_see_emails(ctx))}


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


# -- profiles ----------------------------------------------------------------------------------

# https://docs.slack.dev/reference/methods/users.profile.set : what a profile may set, and limits
PROFILE_TEXT = {"first_name", "last_name", "real_name", "display_name", "title", "phone", "pronouns"}
MAX_NAME = 80  # real_name, display_name, first_name, last_name
MAX_STATUS_TEXT = 100
MAX_TITLE = 250
MAX_EPOCH = 2**32  # status_expiration is Unix seconds
RESERVED_NAMES = {"channel", "everyone", "here", "slackbot", "group", "admin", "owner"}
_EMOJI = re.compile(r"^:[a-z0-9_+'\-]+(::skin-tone-[2-6])?:$")


def full_profile(ctx: TwinContext, row: Row[Any], *, with_email: bool = True) -> dict[str, Any]:
    """The profile object with what users.profile.set stores beyond the shared shape: custom
    `fields`, `pronouns`, `status_expiration` (a status whose expiry the clock passed is gone)."""
    out = common.profile_object(row, with_email=with_email)
    prof = row.profile or {}
    out["fields"] = dict(prof.get("fields") or {})
    if prof.get("pronouns"):
        out["pronouns"] = prof["pronouns"]
    expiration = int(prof.get("status_expiration") or 0)
    if expiration and ctx.now() >= expiration:
        out.update(status_text="", status_emoji="", status_expiration=0)
    else:
        out["status_expiration"] = expiration
    return out


def _profile_changes(ctx: TwinContext, profile: Any, name: str | None, value: str | None) -> dict[str, Any]:
    """The `profile` argument (a JSON object), or one `name` / `value` pair."""
    if profile is None:
        if not name:
            raise SlackError("invalid_profile")
        return {name: value or ""}
    if not isinstance(profile, dict):
        raise SlackError("invalid_profile")
    return profile


def _check_text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SlackError("invalid_profile")
    limit = {"status_text": MAX_STATUS_TEXT, "title": MAX_TITLE}.get(key, MAX_NAME)
    if len(value) > limit:
        raise SlackError("too_long")
    return value


def profile_set(
    ctx: TwinContext, *, user: str | None, profile: Any, name: str | None, value: str | None
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.profile.set — people edit their own
    profile; admins may edit others' (`user`), but only owners may edit an admin's."""
    me = common.get_user(ctx, ctx.principal.user_id)
    target = me if not user or user == me.id else common.get_user(ctx, user)
    if target.id != me.id:
        if not me.is_admin:
            raise SlackError("not_admin")
        if (target.is_admin or target.is_owner) and not me.is_owner:
            raise SlackError("cannot_update_admin_user")
    changes = _profile_changes(ctx, profile, name, value)
    columns: dict[str, Any] = {}
    stored = dict(target.profile or {})
    for key, raw in changes.items():
        if key in ("real_name", "display_name", "title"):
            text = _check_text(key, raw).strip()
            if key == "display_name":
                if text.startswith("@"):
                    raise SlackError("invalid_starts_with_at")
                if text.lower() in RESERVED_NAMES:
                    raise SlackError("reserved_name")
            columns[key] = text
        elif key in PROFILE_TEXT:
            stored[key] = _check_text(key, raw).strip()
        elif key == "status_text":
            stored[key] = _check_text(key, raw)
        elif key == "status_emoji":
            emoji = _check_text(key, raw)
            if emoji and not _EMOJI.match(emoji):
                raise SlackError("invalid_emoji_not_allowed")
            stored[key] = emoji
        elif key == "status_expiration":
            try:
                expiration = max(0, int(raw or 0))
            except (TypeError, ValueError):
                raise SlackError("invalid_profile") from None
            if expiration >= MAX_EPOCH:
                raise SlackError("invalid_profile")
            stored[key] = expiration
        elif key == "email":
            columns["email"] = _new_email(ctx, me, target, raw)
        elif key == "fields":
            stored["fields"] = _fields(ctx, dict(stored.get("fields") or {}), raw)
        # Other keys (images, skype...) Slack ignores here.
    if ("first_name" in changes or "last_name" in changes) and "real_name" not in changes:
        first = stored.get("first_name", (target.real_name or "").partition(" ")[0])
        last = stored.get("last_name", (target.real_name or "").partition(" ")[2])
        columns["real_name"] = f"{first} {last}".strip()
    if "real_name" in columns and not columns["real_name"]:
        raise SlackError("invalid_profile")
    ctx.conn.execute(
        update(USER)
        .where(USER.c.tenant_id == ctx.tenant, USER.c.id == target.id)
        .values(profile=stored, updated=int(ctx.now()), **columns)
    )
    row = common.get_user(ctx, target.id)
    _user_change(ctx, row)
    return {"profile": full_profile(ctx, row), "username": row.name}


def _new_email(ctx: TwinContext, me: Row[Any], target: Row[Any], raw: Any) -> str:
    if not me.is_admin:
        raise SlackError("not_admin")
    email = _check_text("email", raw).strip().lower()
    if "@" not in email:
        raise SlackError("invalid_profile")
    taken = ctx.conn.execute(
        select(USER.c.id).where(USER.c.tenant_id == ctx.tenant, USER.c.email == email, USER.c.id != target.id)
    ).first()
    if taken is not None:
        raise SlackError("email_taken")
    return email


def _fields(ctx: TwinContext, current: dict[str, Any], raw: Any) -> dict[str, Any]:
    """Custom field values `{field_id: {value, alt}}`; the ids are the team's (team.profile.get)."""
    if not isinstance(raw, dict):
        raise SlackError("invalid_profile")
    known = {f.get("id") for f in _team_fields(ctx)}
    for field_id, entry in raw.items():
        if field_id not in known:
            raise SlackError("invalid_profile")
        if isinstance(entry, str):
            entry = {"value": entry, "alt": ""}
        if not isinstance(entry, dict) or not isinstance(entry.get("value", ""), str):
            raise SlackError("invalid_profile")
        if entry.get("value", "") == "":
            current.pop(field_id, None)
        else:
            current[field_id] = {"value": entry["value"], "alt": str(entry.get("alt") or "")}
    return current


def _user_change(ctx: TwinContext, row: Row[Any]) -> None:
    """`user_change` for subscribed apps: https://docs.slack.dev/reference/events/user_change"""
    user = common.user_object(row)
    user["profile"] = full_profile(ctx, row)
    events.emit(ctx, {"type": "user_change", "user": user, "cache_ts": int(ctx.now())})


def _team_fields(ctx: TwinContext) -> list[dict[str, Any]]:
    fields = ctx.conn.execute(select(TEAM.c.profile_fields).where(TEAM.c.tenant_id == ctx.tenant)).scalar()
    return [f for f in fields or [] if isinstance(f, dict)]


def team_profile_get(ctx: TwinContext, *, visibility: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/team.profile.get — the custom profile fields a
    workspace defines (from the fixture's `team.profile_fields`), ordered."""
    if visibility not in (None, "all", "visible", "hidden"):
        raise InvalidArguments(messages=["[ERROR] visibility must be all, visible or hidden"])
    fields = []
    for i, f in enumerate(sorted(_team_fields(ctx), key=lambda f: int(f.get("ordering", 0)))):
        hidden = bool(f.get("is_hidden", False))
        if (visibility == "visible" and hidden) or (visibility == "hidden" and not hidden):
            continue
        fields.append(
            {
                "id": f.get("id"),
                "ordering": int(f.get("ordering", i)),
                "label": f.get("label", ""),
                "hint": f.get("hint", ""),
                "type": f.get("type", "text"),
                "possible_values": f.get("possible_values"),
                "options": f.get("options") or {"is_scim": False, "is_protected": False},
                "is_hidden": hidden,
                "section_id": f.get("section_id", ""),
            }
        )
    return {"profile": {"fields": fields}}


def identity(ctx: TwinContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/users.identity — Sign in with Slack: who the
    token's user is; email, avatar and team name with the matching identity scopes."""
    row = common.get_user(ctx, ctx.principal.user_id)
    team = ctx.conn.execute(select(TEAM).where(TEAM.c.tenant_id == ctx.tenant)).one()
    scopes = ctx.principal.scopes
    user: dict[str, Any] = {"name": row.real_name or row.name, "id": row.id}
    if "identity.email" in scopes and row.email:
        user["email"] = row.email
    if "identity.avatar" in scopes:
        user.update({f"image_{n}": "" for n in (24, 32, 48, 72, 192, 512)})
    out_team: dict[str, Any] = {"id": team.id}
    if "identity.team" in scopes:
        out_team.update({"name": team.name, "domain": team.domain})
    return {"user": user, "team": out_team}


# -- people joining ----------------------------------------------------------------------------

_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._\-]{0,79}$")


def join_team(
    ctx: TwinContext,
    *,
    email: Any,
    name: Any = None,
    real_name: Any = None,
    title: Any = None,
    is_admin: bool = False,
) -> dict[str, Any]:
    """A person accepts an invitation and joins the workspace (Slack has no Web API method for
    this: it happens in the Slack client). As in Slack, they land in #general, which posts
    their `channel_join` and raises `member_joined_channel`, and subscribed apps hear
    `team_join` with their user object (https://docs.slack.dev/reference/events/team_join).
    They get a user token for the workspace's first app, as the fixture's people have."""
    from twins.slack import seed
    from twins.slack.service import conversations
    from twins.slack.service.interactions import Refused

    if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email.strip()):
        raise Refused(400, "email is required: the address the invitation went to", "email")
    email = email.strip().lower()
    taken = select(USER.c.id).where(USER.c.tenant_id == ctx.tenant, USER.c.email == email)
    if ctx.conn.execute(taken).first() is not None:
        raise Refused(409, f"{email} is already a member of this workspace", "email")
    handle = name if name is not None else email.split("@")[0].lower()
    if not isinstance(handle, str) or not _HANDLE.match(handle):
        raise Refused(400, "name is lowercase letters, digits, periods, hyphens and underscores", "name")
    taken = select(USER.c.id).where(USER.c.tenant_id == ctx.tenant, USER.c.name == handle)
    if ctx.conn.execute(taken).first() is not None:
        raise Refused(409, f"the name {handle!r} is taken", "name")
    for key, value in (("real_name", real_name), ("title", title)):
        if value is not None and not isinstance(value, str):
            raise Refused(400, f"{key} is a string", key)
    team = common.team_row(ctx)
    user_id = ctx.ids.token("user", prefix="U", length=11)
    now = int(ctx.now())
    ctx.conn.execute(
        USER.insert().values(
            tenant_id=ctx.tenant,
            id=user_id,
            team_id=team.id,
            name=handle,
            real_name=real_name or handle,
            email=email,
            title=title or "",
            is_admin=bool(is_admin),
            profile={},
            updated=now,
        )
    )
    app_id = ctx.conn.execute(
        select(APP.c.id).where(APP.c.tenant_id == ctx.tenant).order_by(APP.c.id)
    ).scalar()
    token = (
        "xoxp-"
        + ctx.ids.token("token", length=12, alphabet="0123456789")
        + "-"
        + ctx.ids.hex("token-secret", 24)
    )
    ctx.conn.execute(
        table(models.Token)
        .insert()
        .values(
            tenant_id=ctx.tenant,
            token=token,
            kind="user",
            user_id=user_id,
            app_id=app_id,
            scopes=seed.user_scopes(),
            revoked=False,
        )
    )
    row = common.get_user(ctx, user_id)
    user = common.user_object(row)
    user["profile"] = full_profile(ctx, row)
    events.emit(ctx, {"type": "team_join", "user": user, "cache_ts": now})
    conv = common.CONV
    for general in ctx.conn.execute(
        select(conv).where(
            conv.c.tenant_id == ctx.tenant, conv.c.is_general.is_(True), conv.c.is_archived.is_(False)
        )
    ).all():
        conversations.add_member(ctx, general, user_id)
    return {"user": user, "token": token}
