"""Drive `comments` and `replies`.

https://developers.google.com/workspace/drive/api/reference/rest/v3/comments and
https://developers.google.com/workspace/drive/api/reference/rest/v3/replies . Anyone who can
see a file reads its comments; commenting needs the commenter role (readers get 403). Only a
comment's (or reply's) author edits it; the author or the file's owner deletes it, which keeps
it as `deleted: true` without content (listed only with `includeDeleted`). A reply with
`action: resolve` resolves the comment, `reopen` reopens it.
Divergences: no notification emails; `htmlContent` is the escaped text (no mention links).
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from twins._workspace import common
from twins._workspace.common import RANK
from twins.gdrive import models
from twins.gdrive.errors import GoogleError, insufficient_file_permissions, invalid_value
from twins.gdrive.service.common import Access, Renderer

C = table(models.Comment)
R = table(models.Reply)
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _not_found(kind: str, item_id: str) -> GoogleError:
    return GoogleError(
        f"{kind.capitalize()} not found: {item_id}.",
        status=404,
        reason="notFound",
        location=f"{kind}Id",
        location_type="parameter",
    )


def _forbidden(kind: str) -> GoogleError:
    return GoogleError(
        f"The user does not have sufficient permissions for this {kind}.",
        status=403,
        reason="insufficientPermissions" if kind != "file" else "insufficientFilePermissions",
    )


def _content(body: dict[str, Any], *, needed: bool = True) -> str | None:
    value = body.get("content")
    if value is None or value == "":
        if not needed:
            return None
        raise GoogleError(
            "Required parameter: content",
            status=400,
            reason="required",
            location="content",
            location_type="other",
        )
    if not isinstance(value, str):
        raise invalid_value(message=f"Invalid value at 'comment.content' (TYPE_STRING), {value!r}")
    return value


def _file(ctx: TwinContext, file_id: str, *, comment: bool) -> tuple[Access, Any]:
    access = Access(ctx)
    row = access.file(file_id)
    if comment and RANK[access.role(row.id) or "reader"] < RANK["commenter"]:
        raise insufficient_file_permissions()
    return access, row


def _comment(ctx: TwinContext, file_id: str, comment_id: str, *, include_deleted: bool = True) -> Any:
    row = ctx.conn.execute(
        select(C).where(C.c.tenant_id == ctx.tenant, C.c.file_id == file_id, C.c.id == comment_id)
    ).first()
    if row is None or (row.deleted and not include_deleted):
        raise _not_found("comment", comment_id)
    return row


def _reply(
    ctx: TwinContext, file_id: str, comment_id: str, reply_id: str, *, include_deleted: bool = True
) -> Any:
    row = ctx.conn.execute(
        select(R).where(
            R.c.tenant_id == ctx.tenant,
            R.c.file_id == file_id,
            R.c.comment_id == comment_id,
            R.c.id == reply_id,
        )
    ).first()
    if row is None or (row.deleted and not include_deleted):
        raise _not_found("reply", reply_id)
    return row


def _set_comment(ctx: TwinContext, file_id: str, comment_id: str, **values: Any) -> None:
    ctx.conn.execute(
        update(C)
        .where(C.c.tenant_id == ctx.tenant, C.c.file_id == file_id, C.c.id == comment_id)
        .values(**values)
    )


def _set_reply(ctx: TwinContext, file_id: str, comment_id: str, reply_id: str, **values: Any) -> None:
    ctx.conn.execute(
        update(R)
        .where(
            R.c.tenant_id == ctx.tenant,
            R.c.file_id == file_id,
            R.c.comment_id == comment_id,
            R.c.id == reply_id,
        )
        .values(**values)
    )


def _author(renderer: Renderer, email: str) -> dict[str, Any]:
    user = renderer.user(email) or {}
    return {k: user[k] for k in ("kind", "displayName", "photoLink", "me") if k in user}


def render_reply(renderer: Renderer, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "drive#reply",
        "id": row.id,
        "createdTime": common.rfc3339(row.created_time),
        "modifiedTime": common.rfc3339(row.modified_time),
        "author": _author(renderer, row.author),
        "deleted": bool(row.deleted),
    }
    if not row.deleted and row.content:
        out["htmlContent"] = html.escape(row.content)
        out["content"] = row.content
    if row.action:
        out["action"] = row.action
    return out


def render_comment(
    ctx: TwinContext, renderer: Renderer, row: Any, *, include_deleted: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "drive#comment",
        "id": row.id,
        "createdTime": common.rfc3339(row.created_time),
        "modifiedTime": common.rfc3339(row.modified_time),
        "author": _author(renderer, row.author),
        "deleted": bool(row.deleted),
        "resolved": bool(row.resolved),
    }
    if not row.deleted:
        out["htmlContent"] = html.escape(row.content)
        out["content"] = row.content
        if row.quoted:
            out["quotedFileContent"] = dict(row.quoted)
    if row.anchor:
        out["anchor"] = row.anchor
    replies = ctx.conn.execute(
        select(R)
        .where(R.c.tenant_id == ctx.tenant, R.c.file_id == row.file_id, R.c.comment_id == row.id)
        .order_by(R.c.seq)
    )
    out["replies"] = [render_reply(renderer, r) for r in replies if include_deleted or not r.deleted]
    return out


def _page(page_token: str | None, prefix: str) -> int:
    if not page_token:
        return 0
    head, _, number = page_token.partition(":")
    if head != prefix or not number.isdigit():
        raise invalid_value("pageToken")
    return int(number)


# -- comments ----------------------------------------------------------------------------------------


def create_comment(ctx: TwinContext, *, file_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """`comments.create`."""
    access, row = _file(ctx, file_id, comment=True)
    content = _content(body)
    quoted = body.get("quotedFileContent")
    if quoted is not None and not isinstance(quoted, dict):
        raise invalid_value(message="Invalid value at 'comment.quoted_file_content'")
    now = ctx.now()
    ids = common.ids(ctx)
    comment_id = "AAAA" + ids.token("comment", length=11, alphabet=_ID_ALPHABET)
    ctx.conn.execute(
        insert(C).values(
            tenant_id=ctx.tenant,
            file_id=row.id,
            id=comment_id,
            seq=ids.next("comment-seq"),
            author=access.caller.email,
            content=content,
            anchor=body.get("anchor") if isinstance(body.get("anchor"), str) else None,
            quoted={"mimeType": quoted.get("mimeType", "text/html"), "value": str(quoted.get("value", ""))}
            if quoted
            else None,
            created_time=now,
            modified_time=now,
            resolved=False,
            deleted=False,
        )
    )
    return render_comment(ctx, Renderer(ctx, access), _comment(ctx, row.id, comment_id))


def list_comments(
    ctx: TwinContext,
    *,
    file_id: str,
    page_size: int,
    page_token: str | None,
    include_deleted: bool = False,
    start_modified_time: str | None = None,
) -> dict[str, Any]:
    """`comments.list`: oldest first."""
    access, row = _file(ctx, file_id, comment=False)
    since = None
    if start_modified_time:
        try:
            since = common.parse_rfc3339(start_modified_time)
        except ValueError:
            raise invalid_value("startModifiedTime") from None
    start = _page(page_token, row.id)
    rows = [
        c
        for c in ctx.conn.execute(
            select(C).where(C.c.tenant_id == ctx.tenant, C.c.file_id == row.id).order_by(C.c.seq)
        )
        if (include_deleted or not c.deleted) and (since is None or c.modified_time >= since)
    ]
    renderer = Renderer(ctx, access)
    out: dict[str, Any] = {"kind": "drive#commentList"}
    if start + page_size < len(rows):
        out["nextPageToken"] = f"{row.id}:{start + page_size}"
    out["comments"] = [
        render_comment(ctx, renderer, c, include_deleted=include_deleted)
        for c in rows[start : start + page_size]
    ]
    return out


def get_comment(
    ctx: TwinContext, *, file_id: str, comment_id: str, include_deleted: bool = False
) -> dict[str, Any]:
    """`comments.get`."""
    access, row = _file(ctx, file_id, comment=False)
    comment = _comment(ctx, row.id, comment_id, include_deleted=include_deleted)
    return render_comment(ctx, Renderer(ctx, access), comment, include_deleted=include_deleted)


def update_comment(
    ctx: TwinContext, *, file_id: str, comment_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """`comments.update`: the author changes the text."""
    access, row = _file(ctx, file_id, comment=True)
    comment = _comment(ctx, row.id, comment_id, include_deleted=False)
    content = _content(body)
    if comment.author != access.caller.email:
        raise _forbidden("comment")
    _set_comment(ctx, row.id, comment.id, content=content, modified_time=ctx.now())
    return render_comment(ctx, Renderer(ctx, access), _comment(ctx, row.id, comment.id))


def delete_comment(ctx: TwinContext, *, file_id: str, comment_id: str) -> None:
    """`comments.delete`: by the author or the file's owner."""
    access, row = _file(ctx, file_id, comment=True)
    comment = _comment(ctx, row.id, comment_id, include_deleted=False)
    if comment.author != access.caller.email and access.role(row.id) != "owner":
        raise _forbidden("comment")
    _set_comment(ctx, row.id, comment.id, deleted=True, content="", modified_time=ctx.now())


# -- replies -----------------------------------------------------------------------------------------


def create_reply(ctx: TwinContext, *, file_id: str, comment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """`replies.create`: text, and/or `action` resolve|reopen (which sets the comment's `resolved`)."""
    access, row = _file(ctx, file_id, comment=True)
    comment = _comment(ctx, row.id, comment_id, include_deleted=False)
    action = body.get("action")
    if action is not None and action not in ("resolve", "reopen"):
        raise invalid_value(message=f"Invalid value for reply action: {action}")
    content = _content(body, needed=action is None)
    now = ctx.now()
    ids = common.ids(ctx)
    reply_id = "AAAA" + ids.token("reply", length=11, alphabet=_ID_ALPHABET)
    ctx.conn.execute(
        insert(R).values(
            tenant_id=ctx.tenant,
            file_id=row.id,
            comment_id=comment.id,
            id=reply_id,
            seq=ids.next("reply-seq"),
            author=access.caller.email,
            content=content or "",
            action=action,
            created_time=now,
            modified_time=now,
            deleted=False,
        )
    )
    values: dict[str, Any] = {"modified_time": now}
    if action is not None:
        values["resolved"] = action == "resolve"
    _set_comment(ctx, row.id, comment.id, **values)
    return render_reply(Renderer(ctx, access), _reply(ctx, row.id, comment.id, reply_id))


def list_replies(
    ctx: TwinContext,
    *,
    file_id: str,
    comment_id: str,
    page_size: int,
    page_token: str | None,
    include_deleted: bool = False,
) -> dict[str, Any]:
    """`replies.list`: oldest first."""
    access, row = _file(ctx, file_id, comment=False)
    comment = _comment(ctx, row.id, comment_id)
    start = _page(page_token, comment.id)
    rows = [
        r
        for r in ctx.conn.execute(
            select(R)
            .where(R.c.tenant_id == ctx.tenant, R.c.file_id == row.id, R.c.comment_id == comment.id)
            .order_by(R.c.seq)
        )
        if include_deleted or not r.deleted
    ]
    renderer = Renderer(ctx, access)
    out: dict[str, Any] = {"kind": "drive#replyList"}
    if start + page_size < len(rows):
        out["nextPageToken"] = f"{comment.id}:{start + page_size}"
    out["replies"] = [render_reply(renderer, r) for r in rows[start : start + page_size]]
    return out


def get_reply(
    ctx: TwinContext, *, file_id: str, comment_id: str, reply_id: str, include_deleted: bool = False
) -> dict[str, Any]:
    """`replies.get`."""
    access, row = _file(ctx, file_id, comment=False)
    comment = _comment(ctx, row.id, comment_id)
    return render_reply(
        Renderer(ctx, access), _reply(ctx, row.id, comment.id, reply_id, include_deleted=include_deleted)
    )


def update_reply(
    ctx: TwinContext, *, file_id: str, comment_id: str, reply_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """`replies.update`: the author changes the text."""
    access, row = _file(ctx, file_id, comment=True)
    comment = _comment(ctx, row.id, comment_id, include_deleted=False)
    reply = _reply(ctx, row.id, comment.id, reply_id, include_deleted=False)
    content = _content(body)
    if reply.author != access.caller.email:
        raise _forbidden("reply")
    _set_reply(ctx, row.id, comment.id, reply.id, content=content, modified_time=ctx.now())
    return render_reply(Renderer(ctx, access), _reply(ctx, row.id, comment.id, reply.id))


def delete_reply(ctx: TwinContext, *, file_id: str, comment_id: str, reply_id: str) -> None:
    """`replies.delete`: by the author or the file's owner."""
    access, row = _file(ctx, file_id, comment=True)
    comment = _comment(ctx, row.id, comment_id, include_deleted=False)
    reply = _reply(ctx, row.id, comment.id, reply_id, include_deleted=False)
    if reply.author != access.caller.email and access.role(row.id) != "owner":
        raise _forbidden("reply")
    _set_reply(ctx, row.id, comment.id, reply.id, deleted=True, content="", modified_time=ctx.now())
