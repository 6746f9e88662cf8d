"""files.* and the external upload flow, through slack_sdk's own `files_upload_v2`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from dtu.testing.plugin import Tenant

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as err:
        call()
    return str(err.value.response["error"])


def _upload_url(client: WebClient, filename: str, data: bytes, **kwargs: Any) -> tuple[str, str]:
    resp = client.files_getUploadURLExternal(filename=filename, length=len(data), **kwargs)
    return str(resp["upload_url"]), str(resp["file_id"])


def test_upload_v2_shares_into_the_channel(bot: WebClient, general: str) -> None:
    done = bot.files_upload_v2(
        channel=general,
        content="line one\nline two\n",
        filename="notes.txt",
        title="Meeting notes",
        initial_comment="Here are the notes",
    )
    file = done["file"]
    assert file["id"].startswith("F") and file["title"] == "Meeting notes" and file["name"] == "notes.txt"
    assert file["size"] == 18 and file["mimetype"] == "text/plain" and file["filetype"] == "text"
    assert file["channels"] == [general] and file["mode"] == "hosted"
    latest = bot.conversations_history(channel=general, limit=1)["messages"][0]
    assert latest["text"] == "Here are the notes" and latest["subtype"] == "file_share"
    assert [f["id"] for f in latest["files"]] == [file["id"]]
    share = file["shares"]["public"][general][0]
    assert share["ts"] == latest["ts"] and share["channel_name"] == "general"


def test_upload_url_points_at_the_twin_and_answers_ok(bot: WebClient, slack_tenant: Tenant) -> None:
    url, _ = _upload_url(bot, "a.bin", b"12345")
    assert url.startswith(slack_tenant.url + "/upload/v1/")
    resp = httpx.post(url, content=b"12345")
    assert (resp.status_code, resp.text) == (200, "OK - 5")
    assert resp.headers["content-type"].startswith("text/plain")


def test_upload_accepts_multipart(bot: WebClient) -> None:
    url, file_id = _upload_url(bot, "pic.png", PNG)
    resp = httpx.post(url, files={"filename": ("pic.png", PNG, "image/png")})
    assert resp.text == f"OK - {len(PNG)}"
    done = bot.files_completeUploadExternal(files=[{"id": file_id, "title": "A picture"}])
    assert done["files"][0]["mimetype"] == "image/png" and done["files"][0]["size"] == len(PNG)


def test_unknown_upload_url_is_404(slack_tenant: Tenant) -> None:
    assert httpx.post(slack_tenant.url + "/upload/v1/nosuchkey", content=b"x").status_code == 404


def test_url_private_serves_the_bytes_with_a_token(
    bot: WebClient, slack_tenant: Tenant, general: str
) -> None:
    file = bot.files_upload_v2(channel=general, file=PNG, filename="pic.png")["file"]
    auth = {"Authorization": f"Bearer {slack_tenant.bot_token}"}
    got = httpx.get(file["url_private_download"], headers=auth)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert "attachment" in got.headers["content-disposition"]
    assert httpx.get(file["url_private"], headers=auth).content == PNG


def test_url_private_without_a_token_redirects_to_sign_in(bot: WebClient, general: str) -> None:
    file = bot.files_upload_v2(channel=general, content="secret", filename="s.txt")["file"]
    resp = httpx.get(file["url_private"])
    assert resp.status_code == 302 and "redir=" in resp.headers["location"]


def test_async_client_upload_v2(slack_tenant: Tenant, general: str) -> None:
    async def run() -> dict[str, Any]:
        client = AsyncWebClient(token=slack_tenant.bot_token, base_url=slack_tenant.api_url)
        done = await client.files_upload_v2(channel=general, content=b"\x00\x01binary", filename="blob")
        return dict(done["file"])

    file = asyncio.run(run())
    assert file["size"] == 8 and file["filetype"] == "binary" and file["pretty_type"] == "Binary"


def test_snippet_type_makes_a_snippet(bot: WebClient) -> None:
    done = bot.files_upload_v2(content="print('hi')\n", filename="hi", snippet_type="python")
    file = done["file"]
    assert file["mode"] == "snippet" and file["filetype"] == "python" and file["pretty_type"] == "Python"


def test_upload_without_channel_stays_private(bot: WebClient, alice: WebClient) -> None:
    file_id = bot.files_upload_v2(content="just mine", filename="mine.txt")["file"]["id"]
    assert bot.files_info(file=file_id)["file"]["channels"] == []
    assert _error(lambda: alice.files_info(file=file_id)) == "file_not_found"
    assert file_id not in [f["id"] for f in alice.files_list()["files"]]
    assert file_id in [f["id"] for f in bot.files_list()["files"]]


def test_upload_in_a_thread(bot: WebClient, general: str) -> None:
    parent = bot.chat_postMessage(channel=general, text="parent")["ts"]
    file = bot.files_upload_v2(channel=general, content="x", filename="x.txt", thread_ts=parent)["file"]
    replies = bot.conversations_replies(channel=general, ts=parent)["messages"]
    assert [m.get("files", [{}])[0].get("id") for m in replies[1:]] == [file["id"]]
    assert file["shares"]["public"][general][0]["thread_ts"] == parent


def test_get_upload_url_errors(bot: WebClient) -> None:
    assert _error(lambda: bot.files_getUploadURLExternal(filename="a", length=0)) == "missing_argument"
    assert (
        _error(lambda: bot.files_getUploadURLExternal(filename="a", length=1, alt_txt="x" * 1001))
        == "alt_txt_too_large"
    )
    assert (
        _error(lambda: bot.files_getUploadURLExternal(filename="a", length=1, snippet_type="klingon"))
        == "unknown_snippet_type"
    )
    assert (
        _error(lambda: bot.files_getUploadURLExternal(filename="a", length=2_000_000, snippet_type="text"))
        == "snippet_too_large"
    )
    assert (
        _error(lambda: bot.files_getUploadURLExternal(filename="a", length=2 * 1024**3))
        == "file_upload_size_restricted"
    )


def test_complete_before_upload_is_file_not_found(bot: WebClient) -> None:
    _, file_id = _upload_url(bot, "a.txt", b"abc")
    assert _error(lambda: bot.files_completeUploadExternal(files=[{"id": file_id}])) == "file_not_found"


def test_complete_with_wrong_length_fails(bot: WebClient) -> None:
    url, file_id = _upload_url(bot, "a.txt", b"abc")
    httpx.post(url, content=b"abcdef")
    assert _error(lambda: bot.files_completeUploadExternal(files=[{"id": file_id}])) == "file_update_failed"


def test_complete_someone_elses_upload_is_access_denied(bot: WebClient, alice: WebClient) -> None:
    url, file_id = _upload_url(bot, "a.txt", b"abc")
    httpx.post(url, content=b"abc")
    assert _error(lambda: alice.files_completeUploadExternal(files=[{"id": file_id}])) == "access_denied"


def test_complete_twice_is_file_not_found(bot: WebClient) -> None:
    url, file_id = _upload_url(bot, "a.txt", b"abc")
    httpx.post(url, content=b"abc")
    bot.files_completeUploadExternal(files=[{"id": file_id}])
    assert _error(lambda: bot.files_completeUploadExternal(files=[{"id": file_id}])) == "file_not_found"


def test_complete_channel_errors(bot: WebClient) -> None:
    url, file_id = _upload_url(bot, "a.txt", b"abc")
    httpx.post(url, content=b"abc")
    done: list[dict[str, str | None]] = [{"id": file_id}]
    assert (
        _error(lambda: bot.files_completeUploadExternal(files=done, channel_id="C0NOTTHERE"))
        == "channel_not_found"
    )
    assert (
        _error(lambda: bot.files_completeUploadExternal(files=done, channels=["C0NOTTHERE"]))
        == "invalid_channel"
    )
    random = next(c["id"] for c in bot.conversations_list()["channels"] if c["name"] == "random")
    assert _error(lambda: bot.files_completeUploadExternal(files=done, channel_id=random)) == "not_in_channel"
    # nothing was completed by the failed calls
    assert bot.files_completeUploadExternal(files=done)["files"][0]["id"] == file_id


def test_complete_without_files_is_invalid_arguments(bot: WebClient) -> None:
    assert (
        _error(lambda: bot.api_call("files.completeUploadExternal", params={"channel_id": "C1"}))
        == "invalid_arguments"
    )


def test_files_list_pages_newest_first(bot: WebClient, slack_tenant: Tenant) -> None:
    ids = [bot.files_upload_v2(content=f"file {i}", filename=f"f{i}.txt")["file"]["id"] for i in range(3)]
    first = bot.files_list(count=2)
    assert first["paging"] == {"count": 2, "total": 3, "page": 1, "pages": 2}
    second = bot.files_list(count=2, page=2)
    assert [f["id"] for f in first["files"] + second["files"]] == ids[::-1]


def test_files_list_filters(bot: WebClient, alice: WebClient, general: str) -> None:
    pic = bot.files_upload_v2(channel=general, file=PNG, filename="p.png")["file"]["id"]
    text = alice.files_upload_v2(channel=general, content="hello", filename="t.txt")["file"]["id"]
    assert [f["id"] for f in bot.files_list(types="images")["files"]] == [pic]
    assert [f["id"] for f in bot.files_list(user="U0DTUALICE")["files"]] == [text]
    assert {f["id"] for f in alice.files_list(channel=general)["files"]} == {pic, text}
    assert bot.files_list(ts_to="1")["files"] == []
    assert _error(lambda: bot.files_list(types="movies")) == "unknown_type"
    assert _error(lambda: bot.files_list(user="U0NOBODY00")) == "user_not_found"


def test_files_info_unknown(bot: WebClient) -> None:
    assert _error(lambda: bot.files_info(file="F0NOSUCHFIL")) == "file_not_found"


def test_delete_removes_the_file_everywhere(bot: WebClient, general: str) -> None:
    file_id = bot.files_upload_v2(channel=general, content="bye", filename="bye.txt")["file"]["id"]
    assert bot.files_delete(file=file_id)["ok"] is True
    assert _error(lambda: bot.files_info(file=file_id)) == "file_deleted"
    assert file_id not in [f["id"] for f in bot.files_list()["files"]]
    shared = bot.conversations_history(channel=general, limit=1)["messages"][0]
    assert shared["files"] == [{"id": file_id, "mode": "tombstone"}]
    assert _error(lambda: bot.files_delete(file=file_id)) == "file_deleted"


def test_delete_someone_elses_file(bot: WebClient, bob: WebClient, alice: WebClient, general: str) -> None:
    file_id = bot.files_upload_v2(channel=general, content="mine", filename="m.txt")["file"]["id"]
    assert _error(lambda: bob.files_delete(file=file_id)) == "cant_delete_file"
    assert alice.files_delete(file=file_id)["ok"] is True  # a workspace admin may


def test_delete_unknown_file(bot: WebClient) -> None:
    assert _error(lambda: bot.files_delete(file="F0NOSUCHFIL")) == "file_not_found"
