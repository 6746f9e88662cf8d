"""Uploads (multipart, media, resumable with chunked PUTs) and downloads (alt=media, Range)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload, MediaIoBaseDownload, MediaIoBaseUpload

from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import error_of

CHUNK = 256 * 1024


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.access_token}"}


def _download(drive: Any, file_id: str, chunksize: int = CHUNK) -> bytes:
    buf = io.BytesIO()
    downloader = MediaIoBaseDownload(buf, drive.files().get_media(fileId=file_id), chunksize=chunksize)
    done = False
    while not done:
        _status, done = downloader.next_chunk()
    return buf.getvalue()


def test_multipart_upload(drive: Any) -> None:
    data = b"hello, drive\n"
    media = MediaIoBaseUpload(io.BytesIO(data), mimetype="text/plain", resumable=False)
    made = (
        drive.files()
        .create(
            body={"name": "hello.txt"},
            media_body=media,
            fields="id,name,mimeType,size,md5Checksum,headRevisionId",
        )
        .execute()
    )
    assert made["mimeType"] == "text/plain"
    assert made["size"] == str(len(data))
    assert made["md5Checksum"] == hashlib.md5(data).hexdigest()
    assert made["headRevisionId"]
    assert _download(drive, made["id"]) == data


def test_resumable_chunked_upload_and_chunked_download(drive: Any, tmp_path: Path) -> None:
    data = bytes(range(256)) * 3000 + b"tail"  # ~750 KB: three chunks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    media = MediaFileUpload(str(path), mimetype="application/octet-stream", chunksize=CHUNK, resumable=True)
    request = drive.files().create(body={"name": "blob.bin"}, media_body=media, fields="id,size,md5Checksum")
    response = None
    progress = []
    while response is None:
        status, response = request.next_chunk()
        if status is not None:
            progress.append(status.resumable_progress)
    assert progress == [CHUNK, 2 * CHUNK]
    assert response["size"] == str(len(data))
    assert response["md5Checksum"] == hashlib.md5(data).hexdigest()
    assert _download(drive, response["id"], chunksize=100_000) == data


def test_update_content_with_upload_adds_a_revision(drive: Any) -> None:
    first = MediaIoBaseUpload(io.BytesIO(b"v1"), mimetype="text/plain")
    made = (
        drive.files()
        .create(body={"name": "v.txt"}, media_body=first, fields="id,headRevisionId,version")
        .execute()
    )
    second = MediaIoBaseUpload(io.BytesIO(b"version two"), mimetype="text/plain", resumable=True)
    updated = (
        drive.files()
        .update(fileId=made["id"], media_body=second, fields="headRevisionId,version,size")
        .execute()
    )
    assert updated["headRevisionId"] != made["headRevisionId"]
    assert int(updated["version"]) > int(made["version"])
    assert updated["size"] == "11"
    assert _download(drive, made["id"]) == b"version two"


def test_media_upload_raw(gdrive_tenant: Tenant, drive: Any) -> None:
    resp = httpx.post(
        gdrive_tenant.url + "/upload/drive/v3/files",
        params={"uploadType": "media"},
        content=b"a,b\n1,2\n",
        headers={**_auth(gdrive_tenant), "Content-Type": "text/csv"},
    )
    assert resp.status_code == 200
    made = resp.json()
    assert made["name"] == "Untitled" and made["mimeType"] == "text/csv"
    assert _download(drive, made["id"]) == b"a,b\n1,2\n"


def test_range_download(gdrive_tenant: Tenant, drive: Any) -> None:
    media = MediaIoBaseUpload(io.BytesIO(b"0123456789"), mimetype="text/plain")
    fid = drive.files().create(body={"name": "digits"}, media_body=media).execute()["id"]
    url = f"{gdrive_tenant.url}/drive/v3/files/{fid}?alt=media"
    part = httpx.get(url, headers={**_auth(gdrive_tenant), "Range": "bytes=2-5"})
    assert part.status_code == 206
    assert part.content == b"2345"
    assert part.headers["content-range"] == "bytes 2-5/10"
    tail = httpx.get(url, headers={**_auth(gdrive_tenant), "Range": "bytes=-3"})
    assert tail.content == b"789"
    bad = httpx.get(url, headers={**_auth(gdrive_tenant), "Range": "bytes=20-30"})
    assert bad.status_code == 416
    assert bad.headers["content-range"] == "bytes */10"
    assert bad.json()["error"]["errors"][0]["reason"] == "requestedRangeNotSatisfiable"


def test_download_of_a_folder_is_403(drive: Any) -> None:
    fid = (
        drive.files()
        .create(body={"name": "f", "mimeType": "application/vnd.google-apps.folder"})
        .execute()["id"]
    )
    with pytest.raises(HttpError) as info:
        drive.files().get_media(fileId=fid).execute()
    assert info.value.resp.status == 403
    assert error_of(info.value)["errors"][0]["reason"] == "fileNotDownloadable"


def _session(tenant: Tenant, total: int | None = None) -> str:
    headers = {**_auth(tenant), "X-Upload-Content-Type": "text/plain"}
    if total is not None:
        headers["X-Upload-Content-Length"] = str(total)
    resp = httpx.post(
        tenant.url + "/upload/drive/v3/files?uploadType=resumable", json={"name": "r.txt"}, headers=headers
    )
    assert resp.status_code == 200
    location = resp.headers["location"]
    assert location.startswith(tenant.url + "/upload/drive/v3/files?uploadType=resumable&upload_id=")
    return location


def test_resumable_status_query_and_resend(gdrive_tenant: Tenant) -> None:
    url = _session(gdrive_tenant, 10)
    first = httpx.put(url, content=b"01234", headers={"Content-Range": "bytes 0-4/10"})
    assert first.status_code == 308
    assert first.headers["range"] == "bytes=0-4"
    status = httpx.put(url, content=b"", headers={"Content-Range": "bytes */10"})
    assert status.status_code == 308 and status.headers["range"] == "bytes=0-4"
    # A retry that overlaps what was stored keeps the stored bytes and adds the rest.
    done = httpx.put(url, content=b"3456789", headers={"Content-Range": "bytes 3-9/10"})
    assert done.status_code == 200
    fid = done.json()["id"]
    again = httpx.put(url, content=b"", headers={"Content-Range": "bytes */10"})
    assert again.status_code == 200 and again.json()["id"] == fid
    content = httpx.get(f"{gdrive_tenant.url}/drive/v3/files/{fid}?alt=media", headers=_auth(gdrive_tenant))
    assert content.content == b"0123456789"


def test_resumable_unknown_size_then_final_chunk(gdrive_tenant: Tenant) -> None:
    url = _session(gdrive_tenant)
    assert httpx.put(url, content=b"abc", headers={"Content-Range": "bytes 0-2/*"}).status_code == 308
    done = httpx.put(url, content=b"de", headers={"Content-Range": "bytes 3-4/5"})
    assert done.status_code == 200


def test_resumable_wrong_ranges_are_400(gdrive_tenant: Tenant) -> None:
    url = _session(gdrive_tenant, 10)
    gap = httpx.put(url, content=b"xx", headers={"Content-Range": "bytes 4-5/10"})
    assert gap.status_code == 400
    mismatch = httpx.put(url, content=b"xxx", headers={"Content-Range": "bytes 0-4/10"})
    assert mismatch.status_code == 400
    garbage = httpx.put(url, content=b"x", headers={"Content-Range": "chunks please"})
    assert garbage.status_code == 400
    assert garbage.json()["error"]["errors"][0]["domain"] == "global"
    # Nothing was stored by the refused chunks.
    status = httpx.put(url, content=b"", headers={"Content-Range": "bytes */10"})
    assert status.status_code == 308 and "range" not in status.headers


def test_unknown_upload_session_is_404(gdrive_tenant: Tenant) -> None:
    resp = httpx.put(
        gdrive_tenant.url + "/upload/drive/v3/files?uploadType=resumable&upload_id=nope", content=b"x"
    )
    assert resp.status_code == 404


def test_an_empty_file_uploads_resumable_as_the_client_sends_it(drive: Any) -> None:
    """googleapiclient finishes a 0-byte resumable upload with a bare PUT (no Content-Range)."""
    from googleapiclient.http import MediaInMemoryUpload

    media = MediaInMemoryUpload(b"", mimetype="text/plain", resumable=True)
    made = drive.files().create(body={"name": "empty.txt"}, media_body=media, fields="id,size").execute()
    assert made["size"] == "0"
    assert drive.files().get_media(fileId=made["id"]).execute() == b""
