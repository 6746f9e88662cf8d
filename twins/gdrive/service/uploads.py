"""Drive uploads: multipart bodies and resumable sessions.

https://developers.google.com/workspace/drive/api/guides/manage-uploads . A resumable
session starts with a POST (metadata, `X-Upload-Content-Type`/`-Length`) answered with the
session URI in `Location`; the bytes then come in PUTs with `Content-Range: bytes a-b/total`
(or `/*` while the size is unknown). An incomplete session answers 308 with
`Range: bytes=0-<last>`; `Content-Range: bytes */total` asks where it stands. The session
URI is a capability: it works without the bearer token, as Google's does.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from sqlalchemy import select, update

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import common
from twins._workspace.common import Caller
from twins.gdrive import models
from twins.gdrive.errors import GoogleError, bad_request
from twins.gdrive.service import files, quota
from twins.gdrive.service.common import Access, caller

U = table(models.Upload)
_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], bytes, str]:
    """A `multipart/related` upload: (metadata, media bytes, media content type)."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise bad_request("Bad multipart request: no boundary.", reason="badContent")
    boundary = b"--" + m.group(1).encode()
    parts = []
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, data = chunk.partition(b"\n\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            try:
                data = base64.b64decode(data)
            except ValueError:
                raise bad_request("Bad multipart request: invalid base64.", reason="badContent") from None
        parts.append((headers, data))
    if len(parts) != 2:
        raise bad_request(
            "Bad multipart request: expected a metadata part and a media part.", reason="badContent"
        )
    import orjson

    try:
        metadata = orjson.loads(parts[0][1]) if parts[0][1].strip() else {}
    except orjson.JSONDecodeError:
        raise GoogleError("Invalid JSON payload received.", status=400, reason="parseError") from None
    if not isinstance(metadata, dict):
        raise GoogleError("Invalid JSON payload received.", status=400, reason="parseError")
    return metadata, parts[1][1], parts[1][0].get("content-type", "application/octet-stream")


def start(
    ctx: TwinContext,
    *,
    metadata: dict[str, Any],
    params: dict[str, Any],
    mime: str | None,
    total: int | None,
    file_id: str | None,
) -> str:
    """Open a resumable session (checking now what the final call would refuse)."""
    files._check_metadata(metadata, creating=file_id is None)
    if file_id is not None:
        file_id = Access(ctx).file(file_id, min_role="writer").id
    upload_id = "AHVrdx" + common.ids(ctx).token(
        "upload", length=80, alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
    )
    ctx.conn.execute(
        U.insert().values(
            tenant_id=ctx.tenant,
            id=upload_id,
            email=caller(ctx).email,
            file_id=file_id,
            file_metadata=metadata,
            params=params,
            mime_type=mime or metadata.get("mimeType") or "application/octet-stream",
            total=total,
            received=b"",
            created=ctx.now(),
            done_file=None,
        )
    )
    return upload_id


def tenant_of_upload(conn: Any, upload_id: str) -> str | None:
    return conn.execute(select(U.c.tenant_id).where(U.c.id == upload_id)).scalar()  # type: ignore[no-any-return]


def put(ctx: TwinContext, *, upload_id: str, content_range: str | None, body: bytes) -> dict[str, Any]:
    """One PUT of a session: `{"state": "incomplete", "received": n}` or `{"state": "done", "file": {...}}`."""
    row = ctx.conn.execute(select(U).where(U.c.tenant_id == ctx.tenant, U.c.id == upload_id)).first()
    if row is None:
        raise GoogleError("Not Found", status=404, reason="notFound")
    ctx.principal = Caller(
        tenant=ctx.tenant, email=row.email, scopes=frozenset(), domain=row.email.split("@")[-1]
    )
    quota.charge(ctx, row.email)  # a chunk is a query of the session's user
    if row.done_file is not None:
        return {"state": "done", "file": files.render(ctx, row.done_file), "params": row.params}
    received = bytes(row.received or b"")
    total = row.total
    declared: int | None  # the size this request declares; None for `bytes */*` / `a-b/*`
    if content_range is None:
        # the whole file in one request; an empty one says nothing new (googleapiclient finishes
        # a session whose declared size is 0 this way)
        start_at, end, declared = 0, len(body) - 1, (len(body) if body else None)
        status_query = not body
    else:
        m = _RANGE.match(content_range.strip())
        if not m:
            raise bad_request("Failed to parse Content-Range header.")
        status_query = m.group(1) is None
        declared = None if m.group(3) == "*" else int(m.group(3))
        start_at = int(m.group(1)) if m.group(1) is not None else 0
        end = int(m.group(2)) if m.group(2) is not None else -1
    if declared is not None:
        if total is not None and declared != total:
            raise bad_request(
                "Invalid request. The Content-Range header's total does not match the upload size "
                "declared when the session started."
            )
        total = declared
    if not status_query:
        if end < start_at or end - start_at + 1 != len(body):
            raise bad_request(
                "Invalid request. The number of bytes uploaded does not match the Content-Range header."
            )
        if start_at > len(received):
            raise bad_request(
                "Invalid request. The Content-Range header's start offset is past the bytes received so far."
            )
        if total is not None and end + 1 > total:
            raise bad_request("Invalid request. The Content-Range header's end is past the total size.")
        # Bytes already persisted are kept; a resent chunk only adds what lies past them.
        received = received + body[len(received) - start_at :]
    ctx.conn.execute(
        update(U)
        .where(U.c.tenant_id == ctx.tenant, U.c.id == upload_id)
        .values(received=received, total=total)
    )
    if total is None or len(received) < total:
        return {"state": "incomplete", "received": len(received)}
    params = dict(row.params or {})
    if row.file_id is None:
        result = files.create(
            ctx, metadata=dict(row.file_metadata or {}), data=received, media_mime=row.mime_type
        )
    else:
        result = files.update_file(
            ctx,
            file_id=row.file_id,
            metadata=dict(row.file_metadata or {}),
            data=received,
            media_mime=row.mime_type,
            add_parents=params.get("addParents"),
            remove_parents=params.get("removeParents"),
            keep_revision_forever=bool(params.get("keepRevisionForever")),
        )
    ctx.conn.execute(
        update(U)
        .where(U.c.tenant_id == ctx.tenant, U.c.id == upload_id)
        .values(done_file=result["id"], received=b"")
    )
    return {"state": "done", "file": result, "params": params}
