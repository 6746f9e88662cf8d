"""Custom emoji: emoji.list.

https://docs.slack.dev/reference/methods/emoji.list . A workspace's custom emoji come from
its fixture (`emoji: {name: url | "alias:other"}`): Slack has no Web API to add them outside
Enterprise Grid admin methods. The standard Unicode set is not listed, as in Slack without
`include_categories`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dtu.context import TwinContext
from dtu.db import table
from twins.slack import models

EMOJI = table(models.Emoji)


def list_emoji(ctx: TwinContext) -> dict[str, Any]:
    rows = ctx.conn.execute(select(EMOJI).where(EMOJI.c.tenant_id == ctx.tenant).order_by(EMOJI.c.name)).all()
    latest = max((r.created for r in rows), default=0)
    return {
        "emoji": {r.name: f"alias:{r.alias_for}" if r.alias_for else r.url for r in rows},
        "cache_ts": f"{latest}.000000",
    }
