"""conversations.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.errors import InvalidArguments, SlackError
from twins.slack.service import conversations as svc


def _limit(args: Args) -> int | None:
    """conversations.list and conversations.members document `invalid_limit` for a limit
    that is not a number (other methods answer `invalid_arguments`)."""
    try:
        return args.int("limit")
    except InvalidArguments:
        raise SlackError("invalid_limit") from None


@slack_method("conversations.create")
def conversations_create(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.create(ctx, name=args.str("name"), is_private=args.bool("is_private"))


@slack_method("conversations.list")
def conversations_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.list_conversations(
        ctx,
        types=args.str("types"),
        exclude_archived=args.bool("exclude_archived"),
        cursor=args.str("cursor"),
        limit=_limit(args),
    )


@slack_method("conversations.info")
def conversations_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.info(ctx, channel=args.str("channel"), include_num_members=args.bool("include_num_members"))


@slack_method("conversations.history")
def conversations_history(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.history(
        ctx,
        channel=args.str("channel"),
        oldest=args.str("oldest"),
        latest=args.str("latest"),
        inclusive=args.bool("inclusive"),
        cursor=args.str("cursor"),
        limit=args.int("limit"),
    )


@slack_method("conversations.replies")
def conversations_replies(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.replies(
        ctx,
        channel=args.str("channel"),
        ts=args.str("ts"),
        oldest=args.str("oldest"),
        latest=args.str("latest"),
        inclusive=args.bool("inclusive"),
        cursor=args.str("cursor"),
        limit=args.int("limit"),
    )


@slack_method("conversations.join")
def conversations_join(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.join(ctx, channel=args.str("channel"))


@slack_method("conversations.leave")
def conversations_leave(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.leave(ctx, channel=args.str("channel"))


@slack_method("conversations.invite")
def conversations_invite(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.invite(ctx, channel=args.str("channel"), users=args.list("users"), force=args.bool("force"))


@slack_method("conversations.kick")
def conversations_kick(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.kick(ctx, channel=args.str("channel"), user=args.str("user"))


@slack_method("conversations.members")
def conversations_members(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.members(ctx, channel=args.str("channel"), cursor=args.str("cursor"), limit=_limit(args))


@slack_method("conversations.archive")
def conversations_archive(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.archive(ctx, channel=args.str("channel"))


@slack_method("conversations.unarchive")
def conversations_unarchive(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.unarchive(ctx, channel=args.str("channel"))


@slack_method("conversations.rename")
def conversations_rename(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.rename(ctx, channel=args.str("channel"), name=args.str("name"))


@slack_method("conversations.setTopic")
def conversations_set_topic(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.set_text_meta(ctx, channel=args.str("channel"), field="topic", value=args.str("topic"))


@slack_method("conversations.setPurpose")
def conversations_set_purpose(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.set_text_meta(ctx, channel=args.str("channel"), field="purpose", value=args.str("purpose"))


@slack_method("conversations.open")
def conversations_open(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.open_conversation(
        ctx,
        channel=args.str("channel"),
        users=args.list("users"),
        return_im=args.bool("return_im"),
        prevent_creation=args.bool("prevent_creation"),
    )


@slack_method("conversations.close")
def conversations_close(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.close(ctx, channel=args.str("channel"))


@slack_method("conversations.mark")
def conversations_mark(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return svc.mark(ctx, channel=args.str("channel"), ts=args.str("ts"))
