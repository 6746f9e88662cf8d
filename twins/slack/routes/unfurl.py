"""chat.unfurl: link previews an app attaches to a message (its own module: it is no part of
posting a message)."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import unfurl


@slack_method("chat.unfurl")
def chat_unfurl(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return unfurl.unfurl(
        ctx,
        channel=args.str("channel"),
        ts=args.str("ts"),
        unfurls=args.json("unfurls", error="invalid_unfurls_format"),
        unfurl_id=args.str("unfurl_id"),
        source=args.str("source"),
    )
