"""files.* methods, the upload URL files.getUploadURLExternal hands out, and url_private.

The upload URL (Slack: `https://files.slack.com/upload/v1/<opaque>`) is served here as
`/upload/v1/<key>`: it takes the raw bytes (slack_sdk's `files_upload_v2` POSTs them as the
body, urllib labelling them form-encoded and aiohttp octet-stream) or a multipart form (what
Slack's docs show with `curl -F`), and answers `200 text/plain "OK - <bytes>"` as Slack does.
The URL alone is the credential, as in Slack. `url_private` is served at `/files-pri/...`
to a token of the file's workspace, sent as `Authorization: Bearer`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from dtu.context import TwinContext
from dtu.runtime import TwinRuntime
from twins.slack.dependencies import Args, base_url, bearer, lookup_principal, slack_method
from twins.slack.errors import SlackError
from twins.slack.service import files

upload_router = APIRouter(include_in_schema=False)


@slack_method("files.getUploadURLExternal")
def files_get_upload_url_external(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return files.get_upload_url(
        ctx,
        filename=args.str("filename"),
        length=args.int("length"),
        alt_txt=args.str("alt_txt"),
        snippet_type=args.str("snippet_type"),
    )


@slack_method("files.completeUploadExternal")
def files_complete_upload_external(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return files.complete_upload(
        ctx,
        files=args.json("files"),
        channel_id=args.str("channel_id"),
        channels=args.list("channels"),
        initial_comment=args.str("initial_comment"),
        thread_ts=args.str("thread_ts"),
        blocks=args.json("blocks", error="invalid_blocks"),
        username=args.str("username"),
        icon_emoji=args.str("icon_emoji"),
        icon_url=args.str("icon_url"),
    )


@slack_method("files.info")
def files_info(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return files.file_info(ctx, file=args.str("file"))


@slack_method("files.list")
def files_list(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return files.list_files(
        ctx,
        user=args.str("user"),
        channel=args.str("channel"),
        types=args.str("types"),
        ts_from=args.str("ts_from"),
        ts_to=args.str("ts_to"),
        count=args.int("count"),
        page=args.int("page"),
    )


@slack_method("files.delete")
def files_delete(ctx: TwinContext, args: Args) -> dict[str, Any]:
    return files.delete_file(ctx, file=args.str("file"))


async def _upload_bytes(request: Request) -> bytes:
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "multipart/form-data":
        return await request.body()
    form = await request.form()
    for _, value in form.multi_items():
        if isinstance(value, UploadFile):
            return await value.read()
    for name in ("file", "content", "filename"):
        field = form.get(name)
        if isinstance(field, str):
            return field.encode("utf-8")
    return b""


@upload_router.post("/upload/v1/{key}")
async def upload(request: Request, key: str) -> Response:
    """Step 2 of the upload: the bytes for the file the URL reserved."""
    runtime: TwinRuntime = request.app.state.dtu
    data = await _upload_bytes(request)
    tenant = await runtime.store.run(lambda conn: files.tenant_of_upload(conn, key))
    if tenant is None or not await runtime.unit(
        tenant, lambda ctx: files.receive_upload(ctx, key=key, content=data)
    ):
        return PlainTextResponse("Not Found", status_code=404)
    return PlainTextResponse(f"OK - {len(data)}")


@upload_router.get("/files-pri/{team_file}/{name}")
async def file_private(request: Request, team_file: str, name: str) -> Response:
    return await _serve(request, team_file, download=False)


@upload_router.get("/files-pri/{team_file}/download/{name}")
async def file_private_download(request: Request, team_file: str, name: str) -> Response:
    return await _serve(request, team_file, download=True)


async def _serve(request: Request, team_file: str, *, download: bool) -> Response:
    """Slack sends callers without a valid token to its sign-in page (a redirect, not a 401)."""
    runtime: TwinRuntime = request.app.state.dtu
    url = base_url(request, runtime)
    login = RedirectResponse(f"{url}/?redir={quote(request.url.path)}", status_code=302)
    token = bearer(request.headers)
    if not token:
        return login
    try:
        principal = await runtime.store.run(lambda conn: lookup_principal(conn, token))
    except SlackError:
        return login
    if principal.kind == "configuration":
        return login
    row = await runtime.unit(
        principal.tenant,
        lambda ctx: files.download(ctx, team_file=team_file),
        principal=principal,
        base_url=url,
    )
    if row is None:
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"Content-Disposition": f'attachment; filename="{quote(row.name)}"'} if download else {}
    return Response(row.content or b"", media_type=row.mimetype, headers=headers)
