"""search.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import search


@slack_method("search.messages")
def search_messages(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return search.search_messages(
        ctx,
        query=args.str("query"),
        sort=args.str("sort"),
        sort_dir=args.str("sort_dir"),
        count=args.int("count"),
        page=args.int("page"),
        cursor=args.str("cursor"),
    )
