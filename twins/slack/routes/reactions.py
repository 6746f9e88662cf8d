"""reactions.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import reactions


@slack_method("reactions.add")
def reactions_add(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reactions.add(
        ctx,
        channel=args.str("channel"),
        timestamp=args.str("timestamp"),
        name=args.str("name"),
        file=args.str("file"),
        file_comment=args.str("file_comment"),
    )


@slack_method("reactions.remove")
def reactions_remove(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reactions.remove(
        ctx,
        channel=args.str("channel"),
        timestamp=args.str("timestamp"),
        name=args.str("name"),
        file=args.str("file"),
        file_comment=args.str("file_comment"),
    )


@slack_method("reactions.get")
def reactions_get(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reactions.get(
        ctx,
        channel=args.str("channel"),
        timestamp=args.str("timestamp"),
        full=args.bool("full"),
        file=args.str("file"),
        file_comment=args.str("file_comment"),
    )


@slack_method("reactions.list")
def reactions_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return reactions.list_reactions(
        ctx,
        user=args.str("user"),
        full=args.bool("full"),
        cursor=args.str("cursor"),
        limit=args.int("limit"),
        count=args.int("count"),
        page=args.int("page"),
    )
