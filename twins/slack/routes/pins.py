"""pins.* methods."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import pins


@slack_method("pins.add")
def pins_add(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return pins.add(ctx, channel=args.str("channel"), timestamp=args.str("timestamp"))


@slack_method("pins.remove")
def pins_remove(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return pins.remove(ctx, channel=args.str("channel"), timestamp=args.str("timestamp"))


@slack_method("pins.list")
def pins_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return pins.list_pins(ctx, channel=args.str("channel"))
