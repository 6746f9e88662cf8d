"""users.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.errors import UsersNotFound
from twins.slack.service import conversations, users


@slack_method("users.list")
def users_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.list_users(ctx, cursor=args.str("cursor"), limit=args.int("limit"))


@slack_method("users.info")
def users_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.user_info(ctx, args.str("user"))


@slack_method("users.lookupByEmail")
def users_lookup_by_email(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.lookup_by_email(ctx, args.req("email", UsersNotFound))


@slack_method("users.profile.get")
def users_profile_get(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.profile_get(ctx, args.str("user"))


@slack_method("users.getPresence")
def users_get_presence(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.get_presence(ctx, args.str("user"))


@slack_method("users.setPresence")
def users_set_presence(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.set_presence(ctx, args.req("presence", "invalid_presence"))


@slack_method("users.conversations")
def users_conversations(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return conversations.users_conversations(
        ctx,
        user=args.str("user"),
        types=args.str("types"),
        exclude_archived=args.bool("exclude_archived"),
        cursor=args.str("cursor"),
        limit=args.int("limit"),
    )


@slack_method("users.profile.set")
def users_profile_set(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.profile_set(
        ctx,
        user=args.str("user"),
        profile=args.json("profile", error="invalid_profile"),
        name=args.str("name"),
        value=args.str("value"),
    )


@slack_method("users.identity")
def users_identity(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.identity(ctx)


@slack_method("team.profile.get")
def team_profile_get(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.team_profile_get(ctx, visibility=args.str("visibility"))
