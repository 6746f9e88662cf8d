"""Do Not Disturb: each person's daily notification schedule and snoozes.

https://docs.slack.dev/reference/methods/dnd.info and siblings. A person's schedule is a daily
window in their own time zone (Slack's default, used when nothing else is set: 22:00 to
08:00); `dnd.setSnooze` silences them for a number of minutes on top of it, `dnd.endSnooze`
stops that, and `dnd.endDnd` ends whatever is in force now (the scheduled window comes back
the next day). Everything follows the twin clock. Changes raise `dnd_updated_user`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import events, models
from twins.slack.errors import SlackError
from twins.slack.service import common

DND = table(models.Dnd)
DAY = 24 * 3600
# dnd.teamInfo: "users" takes up to 50 ids. https://docs.slack.dev/reference/methods/dnd.teamInfo
MAX_TEAM_INFO_USERS = 50
# The longest snooze the twin takes (Slack documents `too_long` without the figure): a year.
MAX_SNOOZE_MINUTES = 365 * 24 * 60


def _settings(ctx: TwinContext, user_id: str) -> Row[Any] | None:
    return ctx.conn.execute(
        select(DND).where(DND.c.tenant_id == ctx.tenant, DND.c.user_id == user_id)
    ).first()


def _window(
    now: float, offset: int, start_minute: int, end_minute: int, ended_until: float | None
) -> tuple[int, int]:
    """The scheduled window in force now, else the next one: (start, end) in epoch seconds."""
    local_midnight = int((now + offset) // DAY) * DAY - offset
    length = (end_minute - start_minute) % (24 * 60) * 60 or DAY
    for day in (-1, 0, 1, 2):
        start = local_midnight + day * DAY + start_minute * 60
        end = start + length
        if end > now and not (ended_until is not None and end <= ended_until):
            return start, end
    return local_midnight + 3 * DAY + start_minute * 60, local_midnight + 3 * DAY + start_minute * 60 + length


def _status(ctx: TwinContext, user: Row[Any], *, own: bool) -> dict[str, Any]:
    """What dnd.info shows: the schedule to anyone, the snooze to the person themselves."""
    if user.is_bot:
        return {"dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1}
    row = _settings(ctx, user.id)
    now = ctx.now()
    enabled = row.enabled if row is not None else True
    out: dict[str, Any] = {"dnd_enabled": enabled, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1}
    if enabled:
        start, end = _window(
            now,
            user.tz_offset,
            row.start_minute if row is not None else 22 * 60,
            row.end_minute if row is not None else 8 * 60,
            row.ended_until if row is not None else None,
        )
        out.update(next_dnd_start_ts=start, next_dnd_end_ts=end)
    if own:
        snooze_end = row.snooze_end if row is not None else None
        snoozing = snooze_end is not None and snooze_end > now
        out["snooze_enabled"] = snoozing
        if snoozing:
            assert snooze_end is not None
            out.update(
                snooze_endtime=int(snooze_end),
                snooze_remaining=int(snooze_end - now),
                snooze_is_indefinite=False,
            )
    return out


def _save(ctx: TwinContext, user_id: str, **values: Any) -> None:
    if _settings(ctx, user_id) is None:
        ctx.conn.execute(insert(DND).values(tenant_id=ctx.tenant, user_id=user_id, **values))
    else:
        ctx.conn.execute(
            update(DND).where(DND.c.tenant_id == ctx.tenant, DND.c.user_id == user_id).values(**values)
        )


def _announce(ctx: TwinContext, user: Row[Any]) -> None:
    """https://docs.slack.dev/reference/events/dnd_updated_user"""
    status = _status(ctx, user, own=False)
    events.emit(ctx, {"type": "dnd_updated_user", "user": user.id, "dnd_status": status})


def info(ctx: TwinContext, *, user: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/dnd.info"""
    target = common.get_user(ctx, user or ctx.principal.user_id)
    return _status(ctx, target, own=target.id == ctx.principal.user_id and not ctx.principal.is_bot)


def set_snooze(ctx: TwinContext, *, num_minutes: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/dnd.setSnooze — starts or moves the snooze."""
    try:
        minutes = int(str(num_minutes).strip()) if num_minutes not in (None, "") else None
    except ValueError:
        minutes = None
    if minutes is None or minutes <= 0:
        raise SlackError("missing_duration")
    if minutes > MAX_SNOOZE_MINUTES:
        raise SlackError("too_long")
    me = common.get_user(ctx, ctx.principal.user_id)
    end = ctx.now() + minutes * 60
    _save(ctx, me.id, snooze_end=end)
    _announce(ctx, me)
    return {
        "snooze_enabled": True,
        "snooze_endtime": int(end),
        "snooze_remaining": minutes * 60,
        "snooze_is_indefinite": False,
    }


def end_snooze(ctx: TwinContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/dnd.endSnooze — `snooze_not_active` if none."""
    me = common.get_user(ctx, ctx.principal.user_id)
    row = _settings(ctx, me.id)
    if row is None or row.snooze_end is None or row.snooze_end <= ctx.now():
        raise SlackError("snooze_not_active")
    _save(ctx, me.id, snooze_end=None)
    _announce(ctx, me)
    status = _status(ctx, me, own=False)
    return {**status, "snooze_enabled": False}


def end_dnd(ctx: TwinContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/dnd.endDnd — ends the snooze and the scheduled
    window in force now; `not_in_dnd` when neither is."""
    me = common.get_user(ctx, ctx.principal.user_id)
    row = _settings(ctx, me.id)
    now = ctx.now()
    status = _status(ctx, me, own=False)
    in_window = status["dnd_enabled"] and status["next_dnd_start_ts"] <= now < status["next_dnd_end_ts"]
    snoozing = row is not None and row.snooze_end is not None and row.snooze_end > now
    if not in_window and not snoozing:
        raise SlackError("not_in_dnd")
    values: dict[str, Any] = {"snooze_end": None}
    if in_window:
        values["ended_until"] = float(status["next_dnd_end_ts"])
    _save(ctx, me.id, **values)
    _announce(ctx, me)
    return {}


def team_info(ctx: TwinContext, *, users: list[str]) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/dnd.teamInfo — the schedule of up to 50 people."""
    if not users:
        raise SlackError("no_users_provided")
    if len(users) > MAX_TEAM_INFO_USERS:
        raise SlackError("invalid_arguments", messages=[f"[ERROR] at most {MAX_TEAM_INFO_USERS} users"])
    rows = ctx.conn.execute(
        select(common.USER).where(common.USER.c.tenant_id == ctx.tenant, common.USER.c.id.in_(users))
    ).all()
    found = {r.id: r for r in rows}
    if any(u not in found for u in users):
        raise SlackError("user_not_visible")
    return {"users": {u: _status(ctx, found[u], own=False) for u in users}}
