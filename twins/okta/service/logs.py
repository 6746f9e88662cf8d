"""System Log queries: GET /api/v1/logs (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/).

`since` (default: 7 days ago) and `until` bound `published`; `filter` is the SCIM expression
language over LogEvent fields; `q` keeps events whose text contains every space-separated
term; `sortOrder` is ASCENDING (default) or DESCENDING. An ASCENDING query without `until` is
a polling request: its `Link rel="next"` is always there, and following it later returns the
events written since.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from dtu.context import TwinContext
from dtu.db import table
from twins.okta import constants, models
from twins.okta.errors import validation
from twins.okta.service import query
from twins.okta.service.common import decode_after, encode_after, parse_iso

_LOG = table(models.LogEvent)


def _instant(name: str, raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    value = parse_iso(raw)
    if value is None:
        raise validation(name, f"{name}: The value must be a valid ISO 8601 date.")
    return value


_EPSILON_S = 1e-6


def list_events(
    ctx: TwinContext,
    *,
    since: str | None,
    until: str | None,
    filter_: str | None,
    q: str | None,
    sort_order: str | None,
    limit: int,
    after: str | None,
) -> tuple[list[dict[str, Any]], str | None, bool]:
    """Returns (events, next cursor, polling)."""
    order = (sort_order or "ASCENDING").upper()
    if order not in ("ASCENDING", "DESCENDING"):
        raise validation("sortOrder", "sortOrder: The value must be ASCENDING or DESCENDING.")
    start = _instant("since", since)
    end = _instant("until", until)
    if start is None:
        start = ctx.now() - constants.LOGS_DEFAULT_WINDOW_S
    if end is not None and end < start:
        raise validation("until", "until: The until parameter must be after the since parameter.")
    node = query.parse(filter_, query.LOG_FILTER) if filter_ else None
    terms = [t.lower() for t in (q or "").split() if t]
    filters = {"since": since, "until": until, "filter": filter_, "q": q, "sortOrder": order}
    key = decode_after(after, filters)
    # `since`/`until` come at Okta's millisecond precision; a stored time that falls exactly on a
    # millisecond must compare as that millisecond whatever the float rounding of either side.
    stmt = select(_LOG.c.seq, _LOG.c.event).where(
        _LOG.c.tenant_id == ctx.tenant, _LOG.c.published >= start - _EPSILON_S
    )
    if end is not None:
        stmt = stmt.where(_LOG.c.published < end - _EPSILON_S)
    vb = ctx.visible_before()
    if vb is not None:
        stmt = stmt.where(_LOG.c.published <= vb)
    descending = order == "DESCENDING"
    if key is not None:
        stmt = stmt.where(_LOG.c.seq < int(key[0]) if descending else _LOG.c.seq > int(key[0]))
    stmt = stmt.order_by(_LOG.c.seq.desc() if descending else _LOG.c.seq)
    out: list[tuple[int, dict[str, Any]]] = []
    more = False
    for seq, event in ctx.conn.execute(stmt):
        if node is not None and not query.matches(node, query.getter(event)):
            continue
        if terms:
            text = orjson.dumps(event).decode().lower()
            if not all(term in text for term in terms):
                continue
        if len(out) == limit:
            more = True
            break
        out.append((seq, event))
    polling = not descending and end is None
    if out:
        last = out[-1][0]
    elif key is not None:
        last = int(key[0])
    else:
        last = 0
    nxt = encode_after([last], filters) if (more or polling) and (out or polling) else None
    return [e for _, e in out], nxt, polling
