"""Shared helpers of the Okta services: ids, timestamps, password hashing, paging cursors."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from dtu.context import TwinContext
from dtu.ids import encode
from dtu.pagination import CursorError, decode_cursor, encode_cursor
from twins.okta.errors import InvalidPaging

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def okta_id(ctx: TwinContext, prefix: str, kind: str | None = None) -> str:
    """A 20-character Okta id with its type prefix (`00u` users, `00g` groups, `0oa` apps...)."""
    return ctx.ids.token(kind or prefix, prefix=prefix, length=20, alphabet=BASE62)


def minted(
    ctx: TwinContext, kind: str, n: int, *, prefix: str = "", length: int = 20, alphabet: str = BASE62
) -> str:
    """The token `ctx.ids.token(kind, ...)` answers when the kind's counter reaches `n`: for
    values reserved at once with `ctx.ids.take` (one statement instead of one per id)."""
    return prefix + encode(ctx.ids.digest(kind, n), length - len(prefix), alphabet)


def okta_id_at(ctx: TwinContext, prefix: str, kind: str | None, n: int) -> str:
    """`okta_id(ctx, prefix, kind)` for the kind's counter value `n` (see `minted`)."""
    return minted(ctx, kind or prefix, n, prefix=prefix)


def iso(ts: float | None) -> str | None:
    """Okta's timestamps: ISO 8601, milliseconds, `Z` (`2024-05-01T12:34:56.000Z`)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float | None:
    """An ISO 8601 instant as Okta accepts it in filters (`...Z`, with or without millis)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def password_hash(tenant: str, password: str) -> str:
    return hashlib.sha256(f"okta-pw:{tenant}:{password}".encode()).hexdigest()


def answer_hash(tenant: str, answer: str) -> str:
    return hashlib.sha256(f"okta-rq:{tenant}:{answer.strip().lower()}".encode()).hexdigest()


def decode_after(after: str | None, filters: dict[str, Any]) -> list[Any] | None:
    """An `after` cursor, bound to the query it was minted for; anything else is E0000029."""
    try:
        return decode_cursor(after, filters=filters)
    except CursorError:
        raise InvalidPaging(causes=["Invalid cursor."]) from None


def encode_after(key: list[Any], filters: dict[str, Any]) -> str:
    return encode_cursor(key, filters=filters)


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    """Okta's `limit`: absent means the default, above the maximum is cut to it; junk is E0000001."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        from twins.okta.errors import validation

        raise validation("limit", "limit: The value must be an integer.") from None
    if value <= 0:
        return default
    return min(value, maximum)


def href(ctx: TwinContext, path: str, **extra: Any) -> dict[str, Any]:
    return {"href": f"{ctx.base_url}{path}", **extra}
