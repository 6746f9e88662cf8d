"""User groups: named sets of members with an @handle.

https://docs.slack.dev/reference/methods/usergroups.create and siblings. Names are unique
among user groups; a handle must not clash with another group's handle, a member's name or
a channel's name, nor with the broadcast keywords. Disabling keeps the group (its
`date_delete` becomes non-zero) and hides it from lists unless `include_disabled`. Changes
raise `subteam_created`, `subteam_updated` and `subteam_members_changed` to subscribed apps.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, func, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import events, models
from twins.slack.errors import SlackError
from twins.slack.service import common
from twins.slack.service.common import CONV, USER

UG = table(models.Usergroup)
_HANDLE = re.compile(r"^[a-z0-9._\-]+$")
# Words Slack keeps for its own mentions (@here, @channel, @everyone...).
RESERVED_HANDLES = {"here", "channel", "everyone", "group", "slackbot"}
MAX_NAME = 255
MAX_HANDLE = 255
# The twin's reading of Slack's caps: descriptions are as long as a channel purpose.
MAX_DESCRIPTION = 250


def usergroup_object(
    ctx: TwinContext, row: Row[Any], *, with_users: bool, with_count: bool
) -> dict[str, Any]:
    """The usergroup object. https://docs.slack.dev/reference/objects/usergroup-object"""
    channels = list(row.channels or [])
    private = set()
    if channels:
        private = {
            r[0]
            for r in ctx.conn.execute(
                select(CONV.c.id).where(
                    CONV.c.tenant_id == ctx.tenant, CONV.c.id.in_(channels), CONV.c.is_private.is_(True)
                )
            )
        }
    out: dict[str, Any] = {
        "id": row.id,
        "team_id": row.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": row.name,
        "description": row.description,
        "handle": row.handle,
        "is_external": False,
        "date_create": row.date_create,
        "date_update": row.date_update,
        "date_delete": row.date_delete,
        "auto_type": None,
        "auto_provision": False,
        "enterprise_subteam_id": "",
        "created_by": row.created_by,
        "updated_by": row.updated_by or row.created_by,
        "deleted_by": (row.updated_by or row.created_by) if row.date_delete else None,
        "prefs": {
            "channels": [c for c in channels if c not in private],
            "groups": [c for c in channels if c in private],
        },
        "channel_count": len(channels),
    }
    if with_users:
        out["users"] = list(row.users or [])
    if with_count:
        out["user_count"] = len(row.users or [])
    return out


def _get(ctx: TwinContext, usergroup: str | None, *, include_disabled: bool = True) -> Row[Any]:
    if not usergroup:
        raise SlackError("missing_argument")
    row = ctx.conn.execute(select(UG).where(UG.c.tenant_id == ctx.tenant, UG.c.id == usergroup)).first()
    if row is None or (row.date_delete and not include_disabled):
        raise SlackError("no_such_subteam")
    return row


def _derive_handle(name: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9._\-]", "-", name.lower())).strip("-")


def _check_name(ctx: TwinContext, name: str, except_id: str | None) -> str:
    name = name.strip()
    if not name:
        raise SlackError("missing_subteam_name")
    if len(name) > MAX_NAME:
        raise SlackError("name_too_long")
    stmt = select(UG.c.id).where(UG.c.tenant_id == ctx.tenant, func.lower(UG.c.name) == name.lower())
    if except_id:
        stmt = stmt.where(UG.c.id != except_id)
    if ctx.conn.execute(stmt).first() is not None:
        raise SlackError("name_already_exists")
    return name


def _check_handle(ctx: TwinContext, handle: str, except_id: str | None) -> str:
    handle = handle.strip().lstrip("@").lower()
    if not handle or len(handle) > MAX_HANDLE or not _HANDLE.match(handle):
        raise SlackError("bad_handle")
    if handle in RESERVED_HANDLES:
        raise SlackError("forbidden_handle")
    stmt = select(UG.c.id).where(UG.c.tenant_id == ctx.tenant, UG.c.handle == handle)
    if except_id:
        stmt = stmt.where(UG.c.id != except_id)
    taken = ctx.conn.execute(stmt).first() is not None
    taken = (
        taken
        or ctx.conn.execute(
            select(USER.c.id).where(USER.c.tenant_id == ctx.tenant, USER.c.name == handle)
        ).first()
        is not None
    )
    taken = (
        taken
        or ctx.conn.execute(
            select(CONV.c.id).where(CONV.c.tenant_id == ctx.tenant, CONV.c.name == handle)
        ).first()
        is not None
    )
    if taken:
        raise SlackError("handle_already_exists")
    return handle


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise SlackError("description_too_long")
    return description


def _check_channels(ctx: TwinContext, channels: list[str]) -> list[str]:
    """Default channels: public or private channels the workspace has (never DMs)."""
    out: list[str] = []
    for channel in channels:
        row = ctx.conn.execute(
            select(CONV.c.kind).where(CONV.c.tenant_id == ctx.tenant, CONV.c.id == channel)
        ).first()
        if row is None or row.kind not in ("channel", "group"):
            raise SlackError("invalid_channel_provided")
        if channel not in out:
            out.append(channel)
    return out


def _updated(ctx: TwinContext, row_id: str) -> Row[Any]:
    row = _get(ctx, row_id)
    events.emit(
        ctx,
        {"type": "subteam_updated", "subteam": usergroup_object(ctx, row, with_users=True, with_count=True)},
    )
    return row


def create(
    ctx: TwinContext,
    *,
    name: str | None,
    handle: str | None,
    description: str | None,
    channels: list[str],
    additional_channels: list[str],
    include_count: bool,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/usergroups.create — without a handle, one is
    made from the name."""
    if name is None:
        raise SlackError("missing_argument")
    clean_name = _check_name(ctx, name, None)
    clean_handle = _check_handle(ctx, handle if handle is not None else _derive_handle(clean_name), None)
    text = _check_description(description or "")
    defaults = _check_channels(ctx, channels)
    _check_channels(ctx, additional_channels)
    now = int(ctx.now())
    group_id = ctx.ids.token("usergroup", prefix="S", length=11)
    user = ctx.principal.user_id
    ctx.conn.execute(
        insert(UG).values(
            tenant_id=ctx.tenant,
            id=group_id,
            team_id=common.team_id(ctx),
            handle=clean_handle,
            name=clean_name,
            description=text,
            users=[],
            channels=defaults,
            date_create=now,
            date_update=now,
            date_delete=0,
            created_by=user,
            updated_by=user,
        )
    )
    row = _get(ctx, group_id)
    events.emit(
        ctx,
        {"type": "subteam_created", "subteam": usergroup_object(ctx, row, with_users=False, with_count=True)},
    )
    return {"usergroup": usergroup_object(ctx, row, with_users=True, with_count=include_count)}


def list_usergroups(
    ctx: TwinContext, *, include_users: bool, include_disabled: bool, include_count: bool
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/usergroups.list — by name, not paged."""
    stmt = select(UG).where(UG.c.tenant_id == ctx.tenant)
    if not include_disabled:
        stmt = stmt.where(UG.c.date_delete == 0)
    rows = ctx.conn.execute(stmt.order_by(func.lower(UG.c.name), UG.c.id)).all()
    return {
        "usergroups": [
            usergroup_object(ctx, r, with_users=include_users, with_count=include_count) for r in rows
        ]
    }


def update_usergroup(
    ctx: TwinContext,
    *,
    usergroup: str | None,
    name: str | None,
    handle: str | None,
    description: str | None,
    channels: list[str] | None,
    additional_channels: list[str],
    include_count: bool,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/usergroups.update — only the fields given change."""
    row = _get(ctx, usergroup)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _check_name(ctx, name, row.id)
    if handle is not None:
        values["handle"] = _check_handle(ctx, handle, row.id)
    if description is not None:
        values["description"] = _check_description(description)
    if channels is not None:
        values["channels"] = _check_channels(ctx, channels)
    _check_channels(ctx, additional_channels)
    values.update(date_update=int(ctx.now()), updated_by=ctx.principal.user_id)
    ctx.conn.execute(update(UG).where(UG.c.tenant_id == ctx.tenant, UG.c.id == row.id).values(**values))
    row = _updated(ctx, row.id)
    return {"usergroup": usergroup_object(ctx, row, with_users=True, with_count=include_count)}


def set_enabled(
    ctx: TwinContext, *, usergroup: str | None, enabled: bool, include_count: bool
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/usergroups.disable and usergroups.enable"""
    row = _get(ctx, usergroup)
    now = int(ctx.now())
    if bool(row.date_delete) == enabled:
        ctx.conn.execute(
            update(UG)
            .where(UG.c.tenant_id == ctx.tenant, UG.c.id == row.id)
            .values(date_delete=0 if enabled else now, date_update=now, updated_by=ctx.principal.user_id)
        )
        row = _updated(ctx, row.id)
    return {"usergroup": usergroup_object(ctx, row, with_users=True, with_count=include_count)}


def list_users(ctx: TwinContext, *, usergroup: str | None, include_disabled: bool) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/usergroups.users.list — a disabled group is
    found only with `include_disabled`."""
    row = _get(ctx, usergroup, include_disabled=include_disabled)
    return {"users": list(row.users or [])}


def update_users(
    ctx: TwinContext, *, usergroup: str | None, users: list[str], include_count: bool
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/usergroups.users.update — `users` replaces the
    whole membership; members must be active people of the workspace (`invalid_users`)."""
    row = _get(ctx, usergroup)
    if not users:
        raise SlackError("no_users_provided")
    wanted: list[str] = []
    for user_id in users:
        if user_id not in wanted:
            wanted.append(user_id)
    found = {
        r.id: r
        for r in ctx.conn.execute(
            select(USER.c.id, USER.c.deleted, USER.c.is_bot).where(
                USER.c.tenant_id == ctx.tenant, USER.c.id.in_(wanted)
            )
        )
    }
    if any(u not in found or found[u].deleted or found[u].is_bot for u in wanted):
        raise SlackError("invalid_users")
    before = list(row.users or [])
    now = int(ctx.now())
    ctx.conn.execute(
        update(UG)
        .where(UG.c.tenant_id == ctx.tenant, UG.c.id == row.id)
        .values(users=wanted, date_update=now, updated_by=ctx.principal.user_id)
    )
    added = [u for u in wanted if u not in before]
    removed = [u for u in before if u not in wanted]
    if added or removed:
        events.emit(
            ctx,
            {
                "type": "subteam_members_changed",
                "subteam_id": row.id,
                "team_id": row.team_id,
                "date_previous_update": row.date_update,
                "date_update": now,
                "added_users": added,
                "added_users_count": str(len(added)),
                "removed_users": removed,
                "removed_users_count": str(len(removed)),
            },
        )
    row = _updated(ctx, row.id)
    return {"usergroup": usergroup_object(ctx, row, with_users=True, with_count=include_count)}
