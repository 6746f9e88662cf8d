"""emoji.list."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import emoji


@slack_method("emoji.list")
def emoji_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    args.bool("include_categories")  # validated; the standard set is not modelled
    return emoji.list_emoji(ctx)
