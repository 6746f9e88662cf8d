"""What every Google twin needs: the caller (`Caller`), Workspace ids, RFC 3339 times, roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from dtu.context import TwinContext
from dtu.db import table
from dtu.ids import Ids
from twins._workspace import models

_COUNTER = models.CORE.counter
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_TOKEN_ALPHABET = _ID_ALPHABET

FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
SPREADSHEET = "application/vnd.google-apps.spreadsheet"
DOCUMENT = "application/vnd.google-apps.document"
GOOGLE_APPS = "application/vnd.google-apps."

ROLES = ("reader", "commenter", "writer", "fileOrganizer", "organizer", "owner")
RANK = {role: i + 1 for i, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Caller:
    """Who is calling a Google twin: the effective user (the impersonated user under
    domain-wide delegation), the token's scopes, and the customer's domain."""

    tenant: str
    email: str
    scopes: frozenset[str]
    domain: str
    token: str = ""
    is_service_account: bool = False
    all_drives: bool = False  # the request said supportsAllDrives: shared-drive items are reachable


def ids(ctx: TwinContext) -> Ids:
    """Id minting on the Workspace's counters (`workspace_counter`, shared by the Google twins:
    two of them never mint the same file id in one database)."""
    return Ids(ctx.conn, seed=ctx.runtime.settings.seed, tenant=ctx.tenant, counter=_COUNTER)


def file_id(ctx: TwinContext) -> str:
    """Drive file ids: `1` and 32 base64url characters (33 in all)."""
    return ids(ctx).token("file", prefix="1", length=33, alphabet=_ID_ALPHABET)


def access_token(ctx: TwinContext) -> str:
    return "ya29." + ids(ctx).token("access-token", length=120, alphabet=_TOKEN_ALPHABET)


def refresh_token(ctx: TwinContext) -> str:
    return "1//" + ids(ctx).token("refresh-token", length=100, alphabet=_TOKEN_ALPHABET)


def rfc3339(t: float | None) -> str | None:
    """Google's timestamps: UTC with milliseconds, `2024-05-01T12:34:56.789Z`."""
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
    r"\s*([Zz]|[+-]\d{2}:?\d{2})?$"
)


def parse_rfc3339(text: str) -> float:
    """An RFC 3339 date-time (UTC when no offset is given, as Drive reads `q` dates)."""
    m = _RFC3339.match(text.strip())
    if not m:
        raise ValueError(text)
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    dt = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=UTC)
    value = dt.timestamp() + (float(frac) if frac else 0.0)
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        value -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return value


def customer_domain(ctx: TwinContext) -> str:
    c = table(models.Customer)
    return str(
        ctx.conn.execute(select(c.c.domain).where(c.c.tenant_id == ctx.tenant)).scalar() or "example.com"
    )
