"""bookmarks.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import bookmarks


@slack_method("bookmarks.add")
def bookmarks_add(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return bookmarks.add(
        ctx,
        channel_id=args.str("channel_id"),
        title=args.str("title"),
        type=args.str("type"),
        link=args.str("link"),
        emoji=args.str("emoji"),
        entity_id=args.str("entity_id"),
        parent_id=args.str("parent_id"),
    )


@slack_method("bookmarks.edit")
def bookmarks_edit(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return bookmarks.edit(
        ctx,
        channel_id=args.str("channel_id"),
        bookmark_id=args.str("bookmark_id"),
        title=args.str("title"),
        link=args.str("link"),
        emoji=args.str("emoji"),
    )


@slack_method("bookmarks.list")
def bookmarks_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return bookmarks.list_bookmarks(ctx, channel_id=args.str("channel_id"))


@slack_method("bookmarks.remove")
def bookmarks_remove(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return bookmarks.remove(ctx, channel_id=args.str("channel_id"), bookmark_id=args.str("bookmark_id"))
