"""dnd.* methods: Do Not Disturb."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import dnd


@slack_method("dnd.info")
def dnd_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return dnd.info(ctx, user=args.str("user"))


@slack_method("dnd.setSnooze")
def dnd_set_snooze(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return dnd.set_snooze(ctx, num_minutes=args.str("num_minutes"))


@slack_method("dnd.endSnooze")
def dnd_end_snooze(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return dnd.end_snooze(ctx)


@slack_method("dnd.endDnd")
def dnd_end_dnd(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return dnd.end_dnd(ctx)


@slack_method("dnd.teamInfo")
def dnd_team_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return dnd.team_info(ctx, users=args.list("users"))
