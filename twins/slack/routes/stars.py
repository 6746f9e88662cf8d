"""stars.* methods (user tokens): saved items."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import stars


def _item(args: Args) -> dict[str, Any]:
    return {
        "channel": args.str("channel"),
        "timestamp": args.str("timestamp"),
        "file": args.str("file"),
        "file_comment": args.str("file_comment"),
    }


@slack_method("stars.add")
def stars_add(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return stars.add(ctx, **_item(args))


@slack_method("stars.remove")
def stars_remove(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return stars.remove(ctx, **_item(args))


@slack_method("stars.list")
def stars_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return stars.list_stars(
        ctx,
        cursor=args.str("cursor"),
        limit=args.int("limit"),
        count=args.int("count"),
        page=args.int("page"),
    )
