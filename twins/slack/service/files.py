"""Files: the external upload flow (files.getUploadURLExternal, the upload URL,
files.completeUploadExternal) and files.info, files.list, files.delete.

https://docs.slack.dev/messaging/working-with-files#uploading_files . Uploading takes three
steps: ask for an upload URL (Slack reserves a file id and notes the declared `length`), POST
the bytes to that URL, then complete the upload, which titles the files and shares them into
conversations as one message carrying `files` (the `initial_comment` as its text). A file
nobody shared stays private to its uploader. Bytes live in the `File` row and are served back
at `url_private` / `url_private_download` to a token of the same workspace.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Row, and_, insert, select, update

from dtu.context import TwinContext
from dtu.db import table
from dtu.pagination import page_number
from twins.slack import blocks as block_kit
from twins.slack import constants, events, models
from twins.slack.errors import ChannelNotFound, InvalidArguments, NotInChannel, SlackError, UserNotFound
from twins.slack.service import chat, common
from twins.slack.service.common import CONV, MSG, USER

FILE = table(models.File)
_KEY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# https://docs.slack.dev/reference/methods/files.getUploadURLExternal : alt text up to 1000
# characters, snippets up to 1 MB.
MAX_ALT_TXT = 1000
MAX_SNIPPET_BYTES = 1024 * 1024
# https://slack.com/help/articles/201330736 : a file may be up to 1 GB.
MAX_FILE_BYTES = 1024**3
# https://docs.slack.dev/reference/methods/files.completeUploadExternal : up to 100 channels.
MAX_SHARE_CHANNELS = 100
# https://docs.slack.dev/reference/methods/files.list : legacy paging, 100 per page by default.
LIST_DEFAULT_COUNT = 100
LIST_MAX_COUNT = 1000
LIST_TYPES = {"all", "spaces", "snippets", "images", "gdocs", "zips", "pdfs"}

# extension -> (filetype, mimetype, pretty_type), as Slack labels them in file objects.
_BY_EXTENSION: dict[str, tuple[str, str, str]] = {
    "txt": ("text", "text/plain", "Plain Text"),
    "log": ("text", "text/plain", "Plain Text"),
    "py": ("python", "text/plain", "Python"),
    "js": ("javascript", "text/plain", "JavaScript/JSON"),
    "ts": ("typescript", "text/plain", "TypeScript"),
    "json": ("json", "application/json", "JSON"),
    "csv": ("csv", "text/csv", "CSV"),
    "md": ("markdown", "text/plain", "Markdown (raw)"),
    "html": ("html", "text/html", "HTML"),
    "xml": ("xml", "text/xml", "XML"),
    "yaml": ("yaml", "text/plain", "YAML"),
    "yml": ("yaml", "text/plain", "YAML"),
    "sh": ("shell", "text/plain", "Shell"),
    "sql": ("sql", "text/plain", "SQL"),
    "diff": ("diff", "text/plain", "Diff"),
    "png": ("png", "image/png", "PNG"),
    "jpg": ("jpg", "image/jpeg", "JPEG"),
    "jpeg": ("jpg", "image/jpeg", "JPEG"),
    "gif": ("gif", "image/gif", "GIF"),
    "svg": ("svg", "image/svg+xml", "SVG"),
    "webp": ("webp", "image/webp", "WebP"),
    "pdf": ("pdf", "application/pdf", "PDF"),
    "zip": ("zip", "application/zip", "Zip"),
    "gz": ("gzip", "application/x-gzip", "GZip"),
    "docx": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word Document",
    ),
    "xlsx": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel Spreadsheet",
    ),
    "pptx": (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PowerPoint Presentation",
    ),
    "mp3": ("mp3", "audio/mpeg", "MP3"),
    "mp4": ("mp4", "video/mp4", "MPEG 4 Video"),
}
# snippet_type values (Slack's syntax highlighting languages) -> pretty_type
SNIPPET_TYPES: dict[str, str] = {
    "auto": "Plain Text",
    "text": "Plain Text",
    "python": "Python",
    "javascript": "JavaScript/JSON",
    "typescript": "TypeScript",
    "json": "JSON",
    "csv": "CSV",
    "markdown": "Markdown (raw)",
    "html": "HTML",
    "xml": "XML",
    "yaml": "YAML",
    "shell": "Shell",
    "sql": "SQL",
    "diff": "Diff",
    "go": "Go",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
    "csharp": "C#",
    "ruby": "Ruby",
    "php": "PHP",
    "rust": "Rust",
    "kotlin": "Kotlin",
    "swift": "Swift",
    "scala": "Scala",
    "css": "CSS",
    "dockerfile": "Dockerfile",
    "powershell": "PowerShell",
    "perl": "Perl",
    "r": "R",
    "lua": "Lua",
    "haskell": "Haskell",
    "clojure": "Clojure",
    "erlang": "Erlang",
    "elixir": "Elixir",
    "groovy": "Groovy",
    "objc": "Objective-C",
    "ocaml": "OCaml",
    "vb": "VB.NET",
    "vbscript": "VBScript",
    "verilog": "Verilog",
    "matlab": "MATLAB",
    "latex": "LaTeX",
    "apache": "Apache",
    "coffeescript": "CoffeeScript",
    "dart": "Dart",
    "fsharp": "F#",
    "julia": "Julia",
    "pascal": "Pascal",
    "puppet": "Puppet",
    "smalltalk": "Smalltalk",
    "tcl": "Tcl",
    "vhdl": "VHDL",
    "cypher": "Cypher",
    "mumps": "MUMPS",
    "post": "Post",
    "sass": "Sass",
    "scheme": "Scheme",
    "lisp": "Lisp",
}


# -- shapes ------------------------------------------------------------------------------------


def _kind_of(name: str, content: bytes | None) -> tuple[str, str, str]:
    """Slack labels a file from its extension, and sniffs text content when that says nothing."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    if content is not None and b"\x00" not in content:
        try:
            content.decode("utf-8")
            return _BY_EXTENSION["txt"]
        except UnicodeDecodeError:
            pass
    return ("binary", "application/octet-stream", "Binary")


def _pretty(row: Row[Any]) -> str:
    if row.mode == "snippet":
        return SNIPPET_TYPES.get(row.filetype, "Plain Text")
    for filetype, mimetype, pretty in _BY_EXTENSION.values():
        if filetype == row.filetype and mimetype == row.mimetype:
            return pretty
    return "Binary"


def _team_and_domain(ctx: TwinContext) -> tuple[str, str]:
    row = ctx.conn.execute(
        select(common.TEAM.c.id, common.TEAM.c.domain).where(common.TEAM.c.tenant_id == ctx.tenant)
    ).one()
    return row.id, row.domain


def private_path(team: str, file_id: str, name: str, *, download: bool = False) -> str:
    """Where the twin serves a file's bytes (Slack: files.slack.com/files-pri/T-F/name)."""
    middle = "download/" if download else ""
    return f"/files-pri/{team}-{file_id}/{middle}{quote(name)}"


def file_object(
    ctx: TwinContext, row: Row[Any], *, team: str | None = None, domain: str | None = None
) -> dict[str, Any]:
    """The file object. https://docs.slack.dev/reference/objects/file-object"""
    if team is None or domain is None:
        team, domain = _team_and_domain(ctx)
    kinds = (
        dict(
            ctx.conn.execute(
                select(CONV.c.id, CONV.c.kind).where(
                    CONV.c.tenant_id == ctx.tenant, CONV.c.id.in_(list(row.channels or []))
                )
            ).all()
        )
        if row.channels
        else {}
    )
    channels = [c for c in row.channels or [] if kinds.get(c) == "channel"]
    groups = [c for c in row.channels or [] if kinds.get(c) in ("group", "mpim")]
    ims = [c for c in row.channels or [] if kinds.get(c) == "im"]
    slug = row.name.lower().replace(" ", "_")
    out: dict[str, Any] = {
        "id": row.id,
        "created": row.created,
        "timestamp": row.created,
        "name": row.name,
        "title": row.title,
        "mimetype": row.mimetype,
        "filetype": row.filetype,
        "pretty_type": _pretty(row),
        "user": row.user_id,
        "user_team": team,
        "editable": row.mode == "snippet",
        "size": row.size,
        "mode": row.mode,
        "is_external": False,
        "external_type": "",
        "is_public": bool(channels),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": ctx.base_url + private_path(team, row.id, row.name),
        "url_private_download": ctx.base_url + private_path(team, row.id, row.name, download=True),
        "media_display_type": "unknown",
        "permalink": f"https://{domain}.slack.com/files/{row.user_id}/{row.id}/{quote(slug)}",
        "permalink_public": f"https://slack-files.com/{team}-{row.id}-{row.upload_key[:10].lower()}",
        "comments_count": 0,
        "is_starred": False,
        "shares": row.shares or {},
        "channels": channels,
        "groups": groups,
        "ims": ims,
        "has_more_shares": False,
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if row.alt_txt:
        out["alt_txt"] = row.alt_txt
    if row.mimetype.startswith("text/") and row.content is not None:
        text = row.content.decode("utf-8", "replace")
        lines = text.splitlines()
        out["preview"] = "\n".join(lines[:5])
        out["lines"] = len(lines)
        out["lines_more"] = max(0, len(lines) - 5)
        out["preview_is_truncated"] = len(lines) > 5
    return out


# -- the upload flow ---------------------------------------------------------------------------


def get_upload_url(
    ctx: TwinContext,
    *,
    filename: str | None,
    length: int | None,
    alt_txt: str | None,
    snippet_type: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/files.getUploadURLExternal — reserves a file id
    and hands out a single-use URL on this twin that takes the bytes."""
    missing = [name for name, value in (("filename", filename), ("length", length)) if value is None]
    if missing:
        raise InvalidArguments(messages=[f"[ERROR] missing required field: {m}" for m in missing])
    assert filename is not None and length is not None
    if length <= 0:
        raise SlackError("missing_argument")
    if length > MAX_FILE_BYTES:
        raise SlackError("file_upload_size_restricted")
    if alt_txt is not None and len(alt_txt) > MAX_ALT_TXT:
        raise SlackError("alt_txt_too_large")
    mode = "hosted"
    if snippet_type:
        if snippet_type not in SNIPPET_TYPES:
            raise SlackError("unknown_snippet_type")
        if length > MAX_SNIPPET_BYTES:
            raise SlackError("snippet_too_large")
        mode = "snippet"
    file_id = ctx.ids.token("file", prefix="F", length=11)
    key = ctx.ids.token("upload-key", length=48, alphabet=_KEY_ALPHABET)
    ctx.conn.execute(
        insert(FILE).values(
            tenant_id=ctx.tenant,
            id=file_id,
            user_id=ctx.principal.user_id,
            name=filename,
            title="",
            filetype=snippet_type if snippet_type and snippet_type != "auto" else "binary",
            size=0,
            declared_length=length,
            created=int(ctx.now()),
            content=None,
            upload_key=key,
            state="pending",
            mode=mode,
            alt_txt=alt_txt,
            channels=[],
            shares={},
            seq=ctx.ids.next("file-seq"),
        )
    )
    return {"upload_url": f"{ctx.base_url}/upload/v1/{key}", "file_id": file_id}


def tenant_of_upload(conn: Connection, key: str) -> str | None:
    """The tenant whose file this upload URL reserves (the URL alone is the credential)."""
    return conn.execute(select(FILE.c.tenant_id).where(FILE.c.upload_key == key)).scalar()


def receive_upload(ctx: TwinContext, *, key: str, content: bytes) -> bool:
    """The bytes POSTed to an upload URL; False if the URL is unknown or already used up."""
    row = ctx.conn.execute(
        select(FILE.c.id, FILE.c.state).where(FILE.c.tenant_id == ctx.tenant, FILE.c.upload_key == key)
    ).first()
    if row is None or row.state not in ("pending", "uploaded"):
        return False
    ctx.conn.execute(
        update(FILE)
        .where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == row.id)
        .values(content=content, size=len(content), state="uploaded")
    )
    return True


def _share_targets(ctx: TwinContext, channel_id: str | None, channels: list[str]) -> list[tuple[str, str]]:
    """(requested id, error code) pairs; channel_id errs as channel_not_found, channels as invalid_channel."""
    targets: list[tuple[str, str]] = []
    if channel_id:
        targets.append((channel_id, "channel_not_found"))
    targets.extend((c, "invalid_channel") for c in channels if c != channel_id)
    if len(targets) > MAX_SHARE_CHANNELS:
        raise SlackError("channels_limit_exceeded")
    return targets


def _check_target(ctx: TwinContext, target: str, error: str) -> None:
    """Fail before anything is written: unknown or archived conversations, bots outside them."""
    if target[:1] in ("U", "W"):
        try:
            common.get_user(ctx, target)
        except UserNotFound:
            raise SlackError(error) from None
        return  # a user id shares into the caller's DM with them
    try:
        conv = common.visible_conversation(ctx, target)
    except ChannelNotFound:
        raise SlackError(error) from None
    if conv.is_archived:
        raise SlackError(error)
    member = common.is_member(ctx, conv.id, ctx.principal.user_id)
    if not member and (ctx.principal.is_bot or conv.kind != "channel"):
        raise NotInChannel()


def complete_upload(
    ctx: TwinContext,
    *,
    files: Any,
    channel_id: str | None,
    channels: list[str],
    initial_comment: str | None,
    thread_ts: str | None,
    blocks: Any,
    username: str | None,
    icon_emoji: str | None,
    icon_url: str | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/files.completeUploadExternal — titles the files,
    and shares them (one message per conversation) when a channel is given.

    A file whose bytes never arrived is `file_not_found` ("could not find the file from the
    upload ticket"); bytes that do not match the declared `length` are `file_update_failed`
    (the twin's choice: Slack documents no dedicated code)."""
    if files is None:
        raise InvalidArguments(messages=["[ERROR] missing required field: files"])
    if (
        not isinstance(files, list)
        or not files
        or not all(isinstance(f, dict) and f.get("id") for f in files)
    ):
        raise InvalidArguments(messages=["[ERROR] `files` must be a non-empty array of objects with an `id`"])
    rows: list[tuple[Row[Any], str | None]] = []
    for entry in files:
        row = ctx.conn.execute(
            select(FILE).where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == str(entry["id"]))
        ).first()
        if row is None or row.state in ("pending", "complete", "deleted"):
            raise SlackError("file_not_found")
        if row.user_id != ctx.principal.user_id:
            raise SlackError("access_denied")
        if row.size != row.declared_length:
            raise SlackError("file_update_failed")
        title = entry.get("title")
        rows.append((row, str(title) if title is not None else None))
    targets = _share_targets(ctx, channel_id, channels)
    for target, error in targets:
        _check_target(ctx, target, error)
    thread = common.parse_ts(thread_ts, "invalid_thread_ts") if thread_ts else None
    if blocks is not None and not initial_comment:
        blocks = block_kit.validate(blocks, limit=constants.MAX_BLOCKS_MESSAGE)
    else:
        blocks = None
    team, domain = _team_and_domain(ctx)
    ids = []
    for row, title in rows:
        filetype, mimetype, _ = _kind_of(row.name, row.content)
        if row.mode == "snippet":
            filetype = row.filetype if row.filetype != "binary" else filetype
            mimetype = "text/plain"
        ctx.conn.execute(
            update(FILE)
            .where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == row.id)
            .values(
                state="complete",
                title=title if title is not None else row.name,
                filetype=filetype,
                mimetype=mimetype,
            )
        )
        ids.append(row.id)
    for target, _ in targets:
        _share(
            ctx,
            ids,
            target,
            text=initial_comment or "",
            blocks=blocks,
            thread_ts=thread,
            team=team,
            domain=domain,
            username=username,
            icon_emoji=icon_emoji,
            icon_url=icon_url,
        )
    return {"files": [file_object(ctx, _get(ctx, fid), team=team, domain=domain) for fid in ids]}


def _get(ctx: TwinContext, file_id: str) -> Row[Any]:
    return ctx.conn.execute(select(FILE).where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == file_id)).one()


def _share(
    ctx: TwinContext,
    file_ids: list[str],
    target: str,
    *,
    text: str,
    blocks: Any,
    thread_ts: str | None,
    team: str,
    domain: str,
    username: str | None,
    icon_emoji: str | None,
    icon_url: str | None,
) -> None:
    """Post the `file_share` message, then record the share on each file (channels, shares)."""
    objects = [file_object(ctx, _get(ctx, fid), team=team, domain=domain) for fid in file_ids]
    posted = chat.post_message(
        ctx,
        channel=target,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        subtype="file_share",
        files=objects,
        username=username,
        icon_emoji=icon_emoji,
        icon_url=icon_url,
    )
    conv = common.get_conversation(ctx, posted["channel"])
    message = common.get_message(ctx, conv.id, posted["ts"])
    share: dict[str, Any] = {
        "reply_users": [],
        "reply_users_count": 0,
        "reply_count": 0,
        "ts": message.ts,
        "channel_name": conv.name,
        "team_id": team,
        "share_user_id": ctx.principal.user_id,
        "source": "UNKNOWN",
        "is_silent_share": False,
    }
    if conv.kind == "im":
        share.pop("channel_name")
    if message.thread_ts and message.thread_ts != message.ts:
        share["thread_ts"] = message.thread_ts
    visibility = "public" if conv.kind == "channel" else "private"
    for fid in file_ids:
        row = _get(ctx, fid)
        shares = {k: dict(v) for k, v in (row.shares or {}).items()}
        shares.setdefault(visibility, {}).setdefault(conv.id, []).append(share)
        chans = list(row.channels or [])
        if conv.id not in chans:
            chans.append(conv.id)
        ctx.conn.execute(
            update(FILE)
            .where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == fid)
            .values(channels=chans, shares=shares)
        )
        events.emit(
            ctx,
            {
                "type": "file_shared",
                "channel_id": conv.id,
                "file_id": fid,
                "user_id": ctx.principal.user_id,
                "file": {"id": fid},
                "event_ts": message.ts,
            },
            channel_id=conv.id,
        )
    # The message carries the files as they stand once shared (history shows the share).
    objects = [file_object(ctx, _get(ctx, fid), team=team, domain=domain) for fid in file_ids]
    ctx.conn.execute(
        update(MSG)
        .where(MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == conv.id, MSG.c.ts == message.ts)
        .values(files=objects)
    )


# -- reading and deleting ----------------------------------------------------------------------


def _visible(ctx: TwinContext, row: Row[Any], kinds: dict[str, str]) -> bool:
    """Own files, files shared in a public channel, and files shared where the caller is a member."""
    viewer = ctx.principal.user_id
    if row.user_id == viewer:
        return True
    for channel in row.channels or []:
        if kinds.get(channel) == "channel" or common.is_member(ctx, channel, viewer):
            return True
    return False


def _kinds(ctx: TwinContext) -> dict[str, str]:
    return dict(ctx.conn.execute(select(CONV.c.id, CONV.c.kind).where(CONV.c.tenant_id == ctx.tenant)).all())


def _lookup(ctx: TwinContext, file_id: str | None) -> Row[Any]:
    """A file the caller may see: unknown, unfinished or hidden files are `file_not_found`."""
    row = ctx.conn.execute(
        select(FILE).where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == (file_id or ""))
    ).first()
    if row is None or row.state in ("pending", "uploaded") or not _visible(ctx, row, _kinds(ctx)):
        raise SlackError("file_not_found")
    if row.state == "deleted":
        raise SlackError("file_deleted")
    return row


def file_info(ctx: TwinContext, *, file: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/files.info"""
    row = _lookup(ctx, file)
    return {"file": file_object(ctx, row), "comments": [], "response_metadata": {"next_cursor": ""}}


def _of_types(row: Row[Any], types: set[str]) -> bool:
    if "all" in types:
        return True
    return (
        ("images" in types and row.mimetype.startswith("image/"))
        or ("snippets" in types and row.mode == "snippet")
        or ("zips" in types and row.filetype == "zip")
        or ("pdfs" in types and row.filetype == "pdf")
    )


def _ts_arg(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def list_files(
    ctx: TwinContext,
    *,
    user: str | None,
    channel: str | None,
    types: str | None,
    ts_from: str | None,
    ts_to: str | None,
    count: int | None,
    page: int | None,
) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/files.list — newest first, legacy paging
    (`count`, `page`; the answer's `paging` has count, total, page, pages)."""
    wanted = {t.strip() for t in (types or "all").split(",") if t.strip()} or {"all"}
    if wanted - LIST_TYPES:
        raise SlackError("unknown_type")
    if (
        user
        and ctx.conn.execute(
            select(USER.c.id).where(USER.c.tenant_id == ctx.tenant, USER.c.id == user)
        ).first()
        is None
    ):
        raise UserNotFound()
    n = LIST_DEFAULT_COUNT if count is None or count < 1 else min(count, LIST_MAX_COUNT)
    page_no = page_number(page)
    stmt = select(FILE).where(FILE.c.tenant_id == ctx.tenant, FILE.c.state == "complete")
    if user:
        stmt = stmt.where(FILE.c.user_id == user)
    low, high = _ts_arg(ts_from), _ts_arg(ts_to)
    if low is not None:
        stmt = stmt.where(FILE.c.created >= low)
    if high is not None:
        stmt = stmt.where(FILE.c.created <= high)
    kinds = _kinds(ctx)
    rows = [
        r
        for r in ctx.conn.execute(stmt.order_by(FILE.c.created.desc(), FILE.c.seq.desc())).all()
        if (not channel or channel in (r.channels or [])) and _of_types(r, wanted) and _visible(ctx, r, kinds)
    ]
    team, domain = _team_and_domain(ctx)
    chunk = rows[(page_no - 1) * n : page_no * n]
    return {
        "files": [file_object(ctx, r, team=team, domain=domain) for r in chunk],
        "paging": {"count": n, "total": len(rows), "page": page_no, "pages": math.ceil(len(rows) / n)},
    }


def delete_file(ctx: TwinContext, *, file: str | None) -> dict[str, Any]:
    """https://docs.slack.dev/reference/methods/files.delete — the uploader may delete, and so
    may a workspace admin's user token. The file becomes a tombstone in the messages that
    shared it, and `file_deleted` is raised."""
    row = _lookup(ctx, file)
    p = ctx.principal
    if row.user_id != p.user_id and not (p.kind == "user" and p.is_admin):
        raise SlackError("cant_delete_file")
    ctx.conn.execute(
        update(FILE)
        .where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == row.id)
        .values(state="deleted", content=None, size=0)
    )
    for where in (row.shares or {}).values():
        for channel_id, shares in where.items():
            for share in shares:
                msg = ctx.conn.execute(
                    select(MSG.c.files).where(
                        and_(
                            MSG.c.tenant_id == ctx.tenant,
                            MSG.c.channel_id == channel_id,
                            MSG.c.ts == share["ts"],
                        )
                    )
                ).first()
                if msg is None or not msg.files:
                    continue
                kept = [
                    {"id": f["id"], "mode": "tombstone"} if f.get("id") == row.id else f for f in msg.files
                ]
                ctx.conn.execute(
                    update(MSG)
                    .where(
                        MSG.c.tenant_id == ctx.tenant, MSG.c.channel_id == channel_id, MSG.c.ts == share["ts"]
                    )
                    .values(files=kept)
                )
    event_ts = common.micros_to_ts(int(ctx.now() * 1_000_000))
    events.emit(ctx, {"type": "file_deleted", "file_id": row.id, "event_ts": event_ts})
    return {}


def download(ctx: TwinContext, *, team_file: str) -> Row[Any] | None:
    """The bytes behind url_private for this caller, or None when Slack would not serve them."""
    team, _, file_id = team_file.partition("-")
    if team != common.team_id(ctx):
        return None
    row = ctx.conn.execute(select(FILE).where(FILE.c.tenant_id == ctx.tenant, FILE.c.id == file_id)).first()
    if row is None or row.state != "complete" or not _visible(ctx, row, _kinds(ctx)):
        return None
    return row
