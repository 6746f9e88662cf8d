"""views.* methods: modals and App Home tabs."""

from __future__ import annotations

from typing import Any

from dtu.context import TwinContext
from twins.slack.dependencies import Args, slack_method
from twins.slack.service import views


def _view(args: Args) -> Any:
    return args.json("view")


def _trigger(args: Args) -> str | None:
    return args.str("trigger_id") or args.str("interactivity_pointer")


@slack_method("views.open")
def views_open(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return views.open_view(ctx, trigger_id=_trigger(args), view=_view(args))


@slack_method("views.push")
def views_push(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return views.push_view(ctx, trigger_id=_trigger(args), view=_view(args))


@slack_method("views.update")
def views_update(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return views.update_view(
        ctx,
        view_id=args.str("view_id"),
        external_id=args.str("external_id"),
        view=_view(args),
        hash_=args.str("hash"),
    )


@slack_method("views.publish")
def views_publish(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return views.publish_view(ctx, user_id=args.str("user_id"), view=_view(args), hash_=args.str("hash"))
