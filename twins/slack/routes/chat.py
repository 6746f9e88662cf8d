"""chat.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack import constants
from twins.slack.dependencies import Args, slack_method
from twins.slack.errors import MsgTooLong, SlackError
from twins.slack.service import chat


def _content(args: Args) -> dict[str, Any]:
    """text, blocks, attachments; or `markdown_text`, which stands for both text and blocks (a
    `markdown` block) and so may not come with either (`markdown_text_conflict`)."""
    text = args.str("text")
    blocks = args.json("blocks", error="invalid_blocks_format")
    markdown = args.str("markdown_text")
    if markdown is not None:
        if text is not None or blocks is not None:
            raise SlackError("markdown_text_conflict")
        if len(markdown) > constants.MAX_MARKDOWN_TEXT:
            raise MsgTooLong()
        text, blocks = markdown, [{"type": "markdown", "text": markdown}]
    return {
        "text": text,
        "blocks": blocks,
        "attachments": args.json("attachments", error="invalid_attachments"),
    }


@slack_method("chat.postMessage")
def chat_post_message(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.post_message(
        ctx,
        channel=args.str("channel"),
        **_content(args),
        thread_ts=args.str("thread_ts"),
        reply_broadcast=args.bool("reply_broadcast"),
        username=args.str("username"),
        icon_emoji=args.str("icon_emoji"),
        icon_url=args.str("icon_url"),
        metadata=args.json("metadata", error="invalid_metadata_format"),
        client_msg_id=args.str("client_msg_id"),
    )


@slack_method("chat.update")
def chat_update(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.update_message(
        ctx,
        channel=args.str("channel"),
        ts=args.str("ts"),
        **_content(args),
        metadata=args.json("metadata", error="invalid_metadata_format"),
    )


@slack_method("chat.delete")
def chat_delete(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.delete_message(ctx, channel=args.str("channel"), ts=args.str("ts"))


@slack_method("chat.postEphemeral")
def chat_post_ephemeral(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.post_ephemeral(
        ctx,
        channel=args.str("channel"),
        user=args.str("user"),
        **_content(args),
        thread_ts=args.str("thread_ts"),
    )


@slack_method("chat.getPermalink")
def chat_get_permalink(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.permalink(ctx, channel=args.str("channel"), message_ts=args.str("message_ts"))


@slack_method("chat.meMessage")
def chat_me_message(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.me_message(ctx, channel=args.str("channel"), text=args.str("text"))


@slack_method("chat.scheduleMessage")
def chat_schedule_message(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.schedule_message(
        ctx,
        channel=args.str("channel"),
        post_at=args.str("post_at"),
        **_content(args),
        thread_ts=args.str("thread_ts"),
        reply_broadcast=args.bool("reply_broadcast"),
    )


@slack_method("chat.scheduledMessages.list")
def chat_scheduled_messages_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.list_scheduled(
        ctx,
        channel=args.str("channel"),
        oldest=args.str("oldest"),
        latest=args.str("latest"),
        cursor=args.str("cursor"),
        limit=args.int("limit"),
    )


@slack_method("chat.deleteScheduledMessage")
def chat_delete_scheduled_message(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return chat.delete_scheduled(
        ctx, channel=args.str("channel"), scheduled_message_id=args.str("scheduled_message_id")
    )
