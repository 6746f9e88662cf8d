"""Reminders a person sets for themselves.

https://docs.slack.dev/reference/methods/reminders.add and siblings (user tokens only). A
reminder is one-off (`time`, completed with reminders.complete) or recurring (`recurrence`,
which never completes). `time` is read as Slack reads it: a Unix timestamp (up to five years
ahead), a number of seconds from now (within 24 hours), or a short English phrase ("in 15
minutes", "tomorrow", "every Thursday"); anything else is `cannot_parse`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row, delete, or_, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import models
from twins.slack.errors import SlackError
from twins.slack.service import common

REMINDER = table(models.Reminder)
DAY = 24 * 3600
MAX_AHEAD_S = 5 * 365 * DAY
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FREQUENCIES = {"daily", "weekly", "monthly", "yearly"}
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": DAY, "week": 7 * DAY}
_IN = re.compile(r"^in\s+(\d+|an?|one)\s+(second|minute|hour|day|week)s?$")
_EVERY = re.compile(r"^every\s+(day|weekday|week|month|year|(?:mon|tues|wednes|thurs|fri|satur|sun)days?)$")
# Where "tomorrow" lands: 9 AM in the person's time zone, Slack's default reminder hour.
MORNING_S = 9 * 3600


def _object(row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "creator": row.creator, "user": row.user_id, "text": row.text}
    if row.recurrence is not None:
        out.update(recurring=True, recurrence=row.recurrence)
    else:
        out.update(recurring=False, time=row.time, complete_ts=row.complete_ts)
    return out


def _recurrence(value: Any) -> dict[str, Any]:
    """The `recurrence` argument: {frequency: daily|weekly|monthly|yearly, weekdays?: [...]}."""
    if not isinstance(value, dict) or value.get("frequency") not in FREQUENCIES:
        raise SlackError("cannot_parse")
    out: dict[str, Any] = {"frequency": value["frequency"]}
    if value["frequency"] == "weekly":
        days = value.get("weekdays") or []
        if not isinstance(days, list) or not all(isinstance(d, str) and d.lower() in WEEKDAYS for d in days):
            raise SlackError("cannot_parse")
        out["weekdays"] = [d.lower() for d in days]
    return out


def parse_time(now: float, offset: int, text: str) -> tuple[int | None, dict[str, Any] | None]:
    """(when, recurrence) for a `time` argument; `cannot_parse` when Slack could not read it."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        number = int(float(value))
        when = int(now) + number if number <= DAY else number
        if when <= now or when > now + MAX_AHEAD_S:
            raise SlackError("cannot_parse")
        return when, None
    match = _IN.match(value)
    if match:
        count = 1 if match.group(1) in ("a", "an", "one") else int(match.group(1))
        return int(now) + count * _UNITS[match.group(2)], None
    if value == "tomorrow":
        local_midnight = int((now + offset) // DAY) * DAY - offset
        return local_midnight + DAY + MORNING_S, None
    match = _EVERY.match(value)
    if match:
        word = match.group(1)
        if word == "weekday":
            return None, {"frequency": "weekly", "weekdays": WEEKDAYS[:5]}
        if word in ("day", "week", "month", "year"):
            return None, {"frequency": {"day": "daily", "week": "weekly"}.get(word, word + "ly")}
        day = next(d for d in WEEKDAYS if word.startswith(d[:-3]))
        return None, {"frequency": "weekly", "weekdays": [day]}
    raise SlackError("cannot_parse")


def add(
    ctx: TwinContext, *, text: str | None, time: str | None, user: str | None, recurrence: Any
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reminders.add — for oneself only."""
    if not text or not time:
        raise SlackError("missing_argument")
    me = common.get_user(ctx, ctx.principal.user_id)
    if user and user != me.id:
        if user == "USLACKBOT":
            raise SlackError("cannot_add_slackbot")
        other = common.get_user(ctx, user)
        raise SlackError("cannot_add_bot" if other.is_bot else "cannot_add_others")
    when, repeat = parse_time(ctx.now(), me.tz_offset, time)
    if recurrence is not None:
        repeat = _recurrence(recurrence)
        when = None
    reminder_id = ctx.ids.token("reminder", prefix="Rm", length=12)
    ctx.conn.execute(
        REMINDER.insert().values(
            tenant_id=ctx.tenant,
            id=reminder_id,
            creator=me.id,
            user_id=me.id,
            text=text,
            time=when,
            recurrence=repeat,
            complete_ts=0,
            seq=ctx.ids.next("reminder-seq"),
        )
    )
    return {"reminder": _object(_get(ctx, reminder_id))}


def _get(ctx: TwinContext, reminder_id: str | None) -> Row[Any]:
    """The caller's reminder (their own, or one set for them); others' are `not_found`."""
    if not reminder_id:
        raise SlackError("missing_argument")
    me = ctx.principal.user_id
    row = ctx.conn.execute(
        select(REMINDER).where(
            REMINDER.c.tenant_id == ctx.tenant,
            REMINDER.c.id == reminder_id,
            or_(REMINDER.c.user_id == me, REMINDER.c.creator == me),
        )
    ).first()
    if row is None:
        raise SlackError("not_found")
    return row


def list_reminders(ctx: TwinContext) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reminders.list — completed ones included."""
    me = ctx.principal.user_id
    rows = ctx.conn.execute(
        select(REMINDER)
        .where(REMINDER.c.tenant_id == ctx.tenant, or_(REMINDER.c.user_id == me, REMINDER.c.creator == me))
        .order_by(REMINDER.c.seq)
    ).all()
    return {"reminders": [_object(r) for r in rows]}


def info(ctx: TwinContext, *, reminder: str | None) -> dict[str, Any]:
    return {"reminder": _object(_get(ctx, reminder))}


def complete(ctx: TwinContext, *, reminder: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/reminders.complete"""
    row = _get(ctx, reminder)
    if row.user_id != ctx.principal.user_id:
        raise SlackError("cannot_complete_others")
    if row.recurrence is not None:
        raise SlackError("cannot_complete_recurring")
    if not row.complete_ts:
        ctx.conn.execute(
            update(REMINDER)
            .where(REMINDER.c.tenant_id == ctx.tenant, REMINDER.c.id == row.id)
            .values(complete_ts=int(ctx.now()))
        )
    return {}


def delete_reminder(ctx: TwinContext, *, reminder: str | None) -> dict[str, Any]:
    row = _get(ctx, reminder)
    ctx.conn.execute(delete(REMINDER).where(REMINDER.c.tenant_id == ctx.tenant, REMINDER.c.id == row.id))
    return {}
