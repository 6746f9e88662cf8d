"""auth.test, auth.revoke, api.test, team.info, bots.info."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.errors import SlackError
from twins.slack.service import users


@slack_method("api.test", auth=False)
def api_test(ctx: TwinContext, args: Args) -> dict[str, Any]:
    """Echoes its arguments; `error=` makes it fail with that code, as Slack's does."""
    error = args.str("error")
    echoed = {k: v for k, v in args.raw.items() if k != "token" and isinstance(v, str | int | float | bool)}
    if error:
        raise SlackError(error, extra={"args": echoed})
    return {"args": echoed} if echoed else {}


@slack_method("auth.test")
def auth_test(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.auth_test(ctx)


@slack_method("auth.revoke")
def auth_revoke(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.revoke(ctx, test=args.bool("test"))


@slack_method("team.info")
def team_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.team_info(ctx, args.str("team"))


@slack_method("bots.info")
def bots_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return users.bots_info(ctx, args.str("bot"))
