"""usergroups.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import usergroups


@slack_method("usergroups.create")
def usergroups_create(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.create(
        ctx,
        name=args.str("name"),
        handle=args.str("handle"),
        description=args.str("description"),
        channels=args.list("channels"),
        additional_channels=args.list("additional_channels"),
        include_count=args.bool("include_count"),
    )


@slack_method("usergroups.list")
def usergroups_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.list_usergroups(
        ctx,
        include_users=args.bool("include_users"),
        include_disabled=args.bool("include_disabled"),
        include_count=args.bool("include_count"),
    )


@slack_method("usergroups.update")
def usergroups_update(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.update_usergroup(
        ctx,
        usergroup=args.str("usergroup"),
        name=args.str("name"),
        handle=args.str("handle"),
        description=args.str("description"),
        channels=args.list("channels") if "channels" in args else None,
        additional_channels=args.list("additional_channels"),
        include_count=args.bool("include_count"),
    )


@slack_method("usergroups.disable")
def usergroups_disable(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.set_enabled(
        ctx, usergroup=args.str("usergroup"), enabled=False, include_count=args.bool("include_count")
    )


@slack_method("usergroups.enable")
def usergroups_enable(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.set_enabled(
        ctx, usergroup=args.str("usergroup"), enabled=True, include_count=args.bool("include_count")
    )


@slack_method("usergroups.users.list")
def usergroups_users_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.list_users(
        ctx, usergroup=args.str("usergroup"), include_disabled=args.bool("include_disabled")
    )


@slack_method("usergroups.users.update")
def usergroups_users_update(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return usergroups.update_users(
        ctx,
        usergroup=args.str("usergroup"),
        users=args.list("users"),
        include_count=args.bool("include_count"),
    )
