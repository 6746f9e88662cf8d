"""reminders.* methods (user tokens)."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import reminders


@slack_method("reminders.add")
def reminders_add(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reminders.add(
        ctx,
        text=args.str("text"),
        time=args.str("time"),
        user=args.str("user"),
        recurrence=args.json("recurrence", error="cannot_parse"),
    )


@slack_method("reminders.list")
def reminders_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reminders.list_reminders(ctx)


@slack_method("reminders.info")
def reminders_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reminders.info(ctx, reminder=args.str("reminder"))


@slack_method("reminders.complete")
def reminders_complete(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reminders.complete(ctx, reminder=args.str("reminder"))


@slack_method("reminders.delete")
def reminders_delete(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reminders.delete_reminder(ctx, reminder=args.str("reminder"))
