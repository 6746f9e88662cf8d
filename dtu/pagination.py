"""Keyset pagination with opaque cursors, and the four vendor wire styles on top.

Design note. A cursor carries the sort key of the last item served and a hash of the
request's other parameters: changing a filter between pages is refused (moto's paginator
rule), and items written between pages are neither skipped nor repeated, because the next
page starts strictly after the last key rather than at an offset.

    key = decode_cursor(cursor, filters={"channel": c})      # None on the first page
    rows = conn.execute(stmt.where(after_key([T.c.ts], key, descending=True)).limit(n + 1))
    next_cursor = encode_cursor(last_key, filters=...) if more else ""

Wire styles: Slack `response_metadata.next_cursor` ("" at the end); Okta `Link: <..>;
rel="next"`; Jira `startAt/maxResults/total/isLast` and `nextPageToken`; Google
`nextPageToken` (absent at the end).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import ColumnElement, and_, false, or_


class CursorError(ValueError):
    """A cursor that was not minted by this twin, or one minted for other parameters."""


def _filter_hash(filters: Mapping[str, Any] | None) -> str:
    if not filters:
        return ""
    blob = orjson.dumps({k: v for k, v in filters.items() if v is not None}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:12]


def encode_cursor(key: Sequence[Any], *, kind: str = "next", filters: Mapping[str, Any] | None = None) -> str:
    """An opaque, base64 cursor (Slack's own look like base64 of `kind:value`)."""
    body = orjson.dumps([list(key), _filter_hash(filters)])
    return base64.b64encode(kind.encode() + b":" + body).decode()


def decode_cursor(
    cursor: str | None, *, kind: str = "next", filters: Mapping[str, Any] | None = None
) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.b64decode(cursor.encode(), validate=True)
        prefix, _, body = raw.partition(b":")
        key, fh = orjson.loads(body)
    except (binascii.Error, ValueError, TypeError, UnicodeEncodeError):
        raise CursorError("invalid cursor") from None
    if prefix.decode(errors="replace") != kind or not isinstance(key, list) or fh != _filter_hash(filters):
        raise CursorError("invalid cursor")
    return key


def after_key(
    columns: Sequence[ColumnElement[Any]], key: Sequence[Any] | None, *, descending: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after `key` in (columns...) order, as a portable OR-chain."""
    if key is None:
        return and_(True)
    if len(key) != len(columns):
        return false()
    clauses = []
    for i, col in enumerate(columns):
        prefix = [columns[j] == key[j] for j in range(i)]
        cmp = col < key[i] if descending else col > key[i]
        clauses.append(and_(*prefix, cmp))
    return or_(*clauses)


def clamp(value: int | None, *, default: int, maximum: int, minimum: int = 1) -> int:
    """Vendor page-size rules: absent or 0 means the default; too large is cut to the maximum."""
    if value is None or value <= 0:
        return default
    return max(minimum, min(value, maximum))


MAX_PAGE = 2**31 - 1


def page_number(page: int | None) -> int:
    """A legacy `page` argument: absent or below 1 is the first page; a number past any real
    listing is capped (it answers an empty page, never an overflow in the store)."""
    return 1 if page is None or page < 1 else min(page, MAX_PAGE)


# -- wire styles -------------------------------------------------------------------------------


def slack_metadata(next_cursor: str | None) -> dict[str, Any]:
    return {"response_metadata": {"next_cursor": next_cursor or ""}}


def okta_link_header(base_url: str, path: str, params: Mapping[str, Any], next_after: str | None) -> str:
    """Okta's `Link` header: always `self`, and `next` while there is more."""
    self_q = urlencode({k: v for k, v in params.items() if v is not None and k != "after"})
    links = [f'<{base_url}{path}{"?" + self_q if self_q else ""}>; rel="self"']
    if next_after:
        q = urlencode({**{k: v for k, v in params.items() if v is not None}, "after": next_after})
        links.append(f'<{base_url}{path}?{q}>; rel="next"')
    return ", ".join(links)


def jira_page(
    values: list[Any], *, start_at: int, max_results: int, total: int | None, key: str = "values"
) -> dict[str, Any]:
    out: dict[str, Any] = {"startAt": start_at, "maxResults": max_results}
    if total is not None:
        out["total"] = total
        out["isLast"] = start_at + len(values) >= total
    out[key] = values
    return out


def google_page(items: list[Any], next_token: str | None, *, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {key: items}
    if next_token:
        out["nextPageToken"] = next_token
    return out
