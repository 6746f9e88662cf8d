"""chat.unfurl: an app attaches previews of the links in a message.

https://docs.slack.dev/reference/methods/chat.unfurl and
https://docs.slack.dev/messaging/unfurling-links-in-messages . `unfurls` maps each URL (as it
appears in the message) to an attachment or `{"blocks": [...]}`; the preview is stored on the
message as an app unfurl attachment (`app_unfurl_url`, `is_app_unfurl`), replacing any earlier
preview of the same URL, and apps in the channel hear `message_changed`. The twin checks the
URL is in the message (`cannot_unfurl_url`) but not the app's unfurl domains, and does not
send `link_shared` (see docs/twins/slack.md). Composer unfurls (`unfurl_id` + `source`) name
a link the twin never shows, so they answer `invalid_unfurl_id`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from dtu.context import TwinContext
from twins.slack import blocks as block_kit
from twins.slack import constants, events
from twins.slack.errors import SlackError
from twins.slack.service import common
from twins.slack.service.common import MSG

_LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>|(https?://[^\s<>]+)")


def _links(text: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in _LINK.finditer(text or "")}


def _preview(url: str, value: Any, number: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SlackError("cannot_parse_attachment")
    out = dict(value)
    if "blocks" in out:
        if not isinstance(out["blocks"], list):
            raise SlackError("cannot_parse_attachment")
        try:
            block_kit.validate(out["blocks"], limit=constants.MAX_BLOCKS_MESSAGE)
        except SlackError:
            raise SlackError("cannot_parse_attachment") from None
    out.update(
        {
            "id": number,
            "from_url": url,
            "original_url": url,
            "app_unfurl_url": url,
            "is_app_unfurl": True,
        }
    )
    return out


def unfurl(
    ctx: TwinContext,
    *,
    channel: str | None,
    ts: str | None,
    unfurls: Any,
    unfurl_id: str | None,
    source: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/chat.unfurl"""
    if unfurl_id or source:
        if not source:
            raise SlackError("missing_source")
        if source not in ("composer", "conversations_history"):
            raise SlackError("invalid_source")
        if not unfurl_id:
            raise SlackError("missing_unfurl_id")
        raise SlackError("invalid_unfurl_id")
    if not channel:
        raise SlackError("missing_channel")
    if not ts:
        raise SlackError("missing_ts")
    if unfurls is None:
        raise SlackError("missing_unfurls")
    if not isinstance(unfurls, dict) or not unfurls:
        raise SlackError("invalid_unfurls_format")
    try:
        conv = common.visible_conversation(ctx, channel)
    except SlackError:
        raise SlackError("cannot_find_channel") from None
    try:
        row = common.get_message(ctx, conv.id, common.parse_ts(ts, "cannot_find_message"))
    except SlackError:
        raise SlackError("cannot_find_message") from None
    if row.subtype == "tombstone":
        raise SlackError("cannot_find_message")
    links = _links(row.text)
    for url in unfurls:
        if url not in links:
            raise SlackError("cannot_unfurl_url")
    kept = [a for a in row.attachments or [] if a.get("app_unfurl_url") not in unfurls]
    first = max((int(a.get("id", 0)) for a in kept if isinstance(a.get("id"), int)), default=0) + 1
    previews = [_preview(url, value, first + i) for i, (url, value) in enumerate(unfurls.items())]
    previous = common.message_object(ctx, row)
    ctx.conn.execute(
        update(MSG)
        .where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == row.ts)
        .values(attachments=kept + previews)
    )
    message = common.message_object(ctx, common.get_message(ctx, conv.id, row.ts))
    change_ts = common.micros_to_ts(int(ctx.now() * 1_000_000))
    events.emit(
        ctx,
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": conv.id,
            "ts": change_ts,
            "message": message,
            "previous_message": previous,
            "event_ts": change_ts,
            "channel_type": {"channel": "channel", "group": "group", "im": "im", "mpim": "mpim"}[conv.kind],
        },
        channel_id=conv.id,
        conversation_kind=conv.kind,
    )
    return {}
