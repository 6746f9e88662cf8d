"""Drive push notifications: `files.watch`, `changes.watch` and `channels.stop`.

https://developers.google.com/workspace/drive/api/guides/push . Opening a channel sends a
`sync` message (message number 1); after that the Workspace store itself notifies the channel
of every unit of work that changes what it watches, whichever Google twin wrote it
(`twins/_workspace/push.py`: states, `X-Goog-Changed`, the core delivery engine).
Divergence: the address may be plain `http://` (Google demands HTTPS with a valid certificate).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, insert, select

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import push as workspace_push
from twins.gdrive import constants, models
from twins.gdrive.errors import GoogleError, required
from twins.gdrive.service import changes
from twins.gdrive.service.common import Access, caller

CHAN = table(models.Channel)


def _resource_id(ctx: TwinContext, key: str) -> str:
    digest = hashlib.sha256(f"{ctx.tenant}:{key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:27]


def _expiration(ctx: TwinContext, value: Any, max_ttl_s: int) -> int:
    """Milliseconds since the epoch: the default lifetime when absent, clipped to the maximum."""
    now_ms = int(ctx.now() * 1000)
    if value is None or value == "":
        return now_ms + constants.CHANNEL_DEFAULT_TTL_S * 1000
    try:
        wanted = int(value)
    except (TypeError, ValueError):
        raise GoogleError(
            "Invalid value for channel expiration.", status=400, reason="invalid", location="expiration"
        ) from None
    return min(max(wanted, now_ms), now_ms + max_ttl_s * 1000)


def _check_body(ctx: TwinContext, body: dict[str, Any]) -> None:
    if not body.get("id"):
        raise GoogleError("Required", status=400, reason="required", location="id", location_type="other")
    if not isinstance(body["id"], str) or len(body["id"]) > 64:
        raise GoogleError("Invalid channel id.", status=400, reason="invalid", location="id")
    kind = body.get("type")
    if not kind:
        raise GoogleError("Required", status=400, reason="required", location="type", location_type="other")
    if kind not in ("web_hook", "webhook"):
        raise GoogleError(f"Invalid channel type: {kind}", status=400, reason="push.invalidChannelType")
    address = body.get("address")
    if not address:
        raise GoogleError(
            "Required", status=400, reason="required", location="address", location_type="other"
        )
    parts = urlsplit(str(address))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GoogleError(
            f"WebHook callback must be HTTPS: {address}", status=400, reason="push.webhookUrlNotHttps"
        )
    token = body.get("token")
    if token is not None and (not isinstance(token, str) or len(token) > 256):
        raise GoogleError("Invalid channel token.", status=400, reason="invalid", location="token")
    taken = ctx.conn.execute(
        select(CHAN.c.id).where(CHAN.c.tenant_id == ctx.tenant, CHAN.c.id == body["id"])
    ).first()
    if taken is not None:
        raise GoogleError(f"Channel id {body['id']} not unique", status=400, reason="push.channelIdNotUnique")


def _open(
    ctx: TwinContext,
    *,
    body: dict[str, Any],
    kind: str,
    resource_id: str,
    resource_uri: str,
    file_id: str | None,
    page_token: int | None,
    max_ttl_s: int,
) -> dict[str, Any]:
    expiration = _expiration(ctx, body.get("expiration"), max_ttl_s)
    row = {
        "tenant_id": ctx.tenant,
        "id": body["id"],
        "resource_id": resource_id,
        "resource_uri": resource_uri,
        "kind": kind,
        "file_id": file_id,
        "email": caller(ctx).email,
        "address": str(body["address"]),
        "token": body.get("token"),
        "expiration": expiration,
        "message_number": 1,
        "page_token": page_token,
        "stopped": False,
    }
    ctx.conn.execute(insert(CHAN).values(**row))
    workspace_push.send(ctx, row, workspace_push.headers(row, "sync", 1))
    out: dict[str, Any] = {
        "kind": "api#channel",
        "id": body["id"],
        "resourceId": resource_id,
        "resourceUri": resource_uri,
    }
    if body.get("token") is not None:
        out["token"] = body["token"]
    out["expiration"] = str(expiration)
    return out


def watch_file(ctx: TwinContext, *, file_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """`files.watch`: a channel for one file (or folder); the caller must be able to see it."""
    row = Access(ctx).file(file_id)
    _check_body(ctx, body)
    uri = (
        f"{ctx.base_url}/drive/v3/files/{row.id}?acknowledgeAbuse=false&supportsAllDrives=false"
        "&supportsTeamDrives=false&alt=json"
    )
    return _open(
        ctx,
        body=body,
        kind="file",
        resource_id=_resource_id(ctx, "file:" + row.id),
        resource_uri=uri,
        file_id=row.id,
        page_token=None,
        max_ttl_s=constants.CHANNEL_MAX_TTL_FILE_S,
    )


def watch_changes(
    ctx: TwinContext, *, page_token: str | None, body: dict[str, Any], options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`changes.watch`: a channel on the caller's change log (or one shared drive's) from
    `pageToken` on; its parameters are kept in its resource URI, as Google writes it."""
    if not page_token:
        raise required("pageToken")
    token = changes.parse_token(page_token)
    options = options or {}
    drive_id = options.get("driveId")
    changes.check_drive(ctx, drive_id, all_drives=bool(options.get("supportsAllDrives")))
    _check_body(ctx, body)
    me = caller(ctx).email
    query = {"alt": "json", "pageToken": str(token)}
    for name, value in sorted(options.items()):
        if name == "driveId" and value:
            query[name] = str(value)
        elif name == "includeRemoved" and value is False:
            query[name] = "false"
        elif name != "driveId" and name != "includeRemoved" and value:
            query[name] = "true"
    return _open(
        ctx,
        body=body,
        kind="changes",
        resource_id=_resource_id(ctx, "changes:" + me + ":" + (drive_id or "")),
        resource_uri=f"{ctx.base_url}/drive/v3/changes?{urlencode(query)}",
        file_id=None,
        page_token=token,
        max_ttl_s=constants.CHANNEL_MAX_TTL_CHANGES_S,
    )


def stop(ctx: TwinContext, *, body: dict[str, Any]) -> None:
    """`channels.stop`: both the channel id and its resourceId must match."""
    channel_id, resource_id = body.get("id"), body.get("resourceId")
    row = (
        ctx.conn.execute(select(CHAN).where(CHAN.c.tenant_id == ctx.tenant, CHAN.c.id == channel_id)).first()
        if channel_id
        else None
    )
    if row is None or row.resource_id != resource_id:
        raise GoogleError(
            f"Channel '{channel_id}' not found for project '{ctx.tenant}'", status=404, reason="notFound"
        )
    ctx.conn.execute(delete(CHAN).where(CHAN.c.tenant_id == ctx.tenant, CHAN.c.id == row.id))
