"""Hypothesis: a resumable upload survives any chunking, resent chunks (the answer to a PUT was
lost, so the client sends it again, from where it was or from further back) and status queries
(`Content-Range: bytes */N`), and always ends with exactly the bytes sent and their md5; and
google-api-python-client's chunked uploads and downloads survive failing requests."""

from __future__ import annotations

import hashlib
import io
import itertools
import random
from typing import Any

import httpx
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload, MediaIoBaseUpload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import drive_for


def _expect_308(resp: httpx.Response, received: int) -> None:
    assert resp.status_code == 308, resp.text
    if received:
        assert resp.headers["range"] == f"bytes=0-{received - 1}"
    else:
        assert "range" not in resp.headers


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.binary(max_size=3000))
    cuts = (
        sorted(set(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=6))))
        if len(data) > 1
        else []
    )
    bounds = [0, *[c for c in cuts if 0 < c < len(data)], len(data)]
    chunks = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    steps = []
    for start, end in chunks:
        steps.append(
            {
                "start": start,
                "end": end,
                "query_before": draw(st.booleans()),
                # resend this chunk: not at all, from its start, or from further back
                "resend_from": draw(st.one_of(st.none(), st.integers(0, start))),
                "star_total": draw(st.booleans()),  # `/*` while the size is not yet said
            }
        )
    return {"data": data, "declare": draw(st.booleans()), "steps": steps}


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
def test_any_chunking_and_retries_end_with_the_exact_bytes(
    gdrive_tenant: Tenant, plan: dict[str, Any]
) -> None:
    data: bytes = plan["data"]
    total = len(data)
    auth = {"Authorization": f"Bearer {gdrive_tenant.access_token}"}
    with httpx.Client(base_url=gdrive_tenant.url, timeout=30) as http:
        headers = {**auth, "X-Upload-Content-Type": "application/octet-stream"}
        if plan["declare"]:
            headers["X-Upload-Content-Length"] = str(total)
        start = http.post(
            "/upload/drive/v3/files?uploadType=resumable", json={"name": "p.bin"}, headers=headers
        )
        assert start.status_code == 200, start.text
        session = start.headers["location"]
        done: httpx.Response | None = None
        received = 0
        for step in plan["steps"]:
            a, b = step["start"], step["end"]
            last = b == total
            size = "*" if step["star_total"] and not last else str(total)
            if step["query_before"]:
                _expect_308(
                    http.put(session, content=b"", headers={"Content-Range": f"bytes */{size}"}), received
                )
            resp = http.put(
                session, content=data[a:b], headers={"Content-Range": f"bytes {a}-{b - 1}/{size}"}
            )
            received = b
            if last:
                assert resp.status_code == 200, resp.text
                done = resp
            else:
                _expect_308(resp, received)
            if step["resend_from"] is not None:
                k = step["resend_from"]
                again = http.put(
                    session, content=data[k:b], headers={"Content-Range": f"bytes {k}-{b - 1}/{size}"}
                )
                if last:
                    assert again.status_code == 200 and again.json()["id"] == resp.json()["id"]
                else:
                    _expect_308(again, received)
        if total == 0:  # no bytes to send: saying the size is zero finishes the upload
            done = http.put(session, content=b"", headers={"Content-Range": "bytes */0"})
        assert done is not None and done.status_code == 200, done.text if done else None
        fid = done.json()["id"]
        meta = http.get(f"/drive/v3/files/{fid}", params={"fields": "size,md5Checksum"}, headers=auth).json()
        assert meta == {"size": str(total), "md5Checksum": hashlib.md5(data).hexdigest()}
        assert http.get(f"/drive/v3/files/{fid}", params={"alt": "media"}, headers=auth).content == data
        # the finished session keeps answering with the file it made
        status = http.put(session, content=b"", headers={"Content-Range": f"bytes */{total}"})
        assert status.status_code == 200 and status.json()["id"] == fid


# -- the same through google-api-python-client, with requests failing on the way ----------------

KIB256 = 256 * 1024


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(0, 3 * KIB256 + 1000),
    seed=st.integers(0, 2**32),
    up_chunks=st.integers(1, 3),
    down_chunks=st.integers(1, 3),
    fail_seed=st.integers(0, 1000),
)
def test_the_client_uploads_and_downloads_through_failures_byte_for_byte(
    gdrive_tenant: Tenant, size: int, seed: int, up_chunks: int, down_chunks: int, fail_seed: int
) -> None:
    """MediaIoBaseUpload (resumable, a random chunk size) and MediaIoBaseDownload (a random chunk
    size) while a third of the session's PUTs and of the ranged GETs fail with 503. The upload
    resumes as Google documents it: after a failed chunk the client's next `next_chunk()` asks
    the session how much it holds (`Content-Range: bytes */N`) and goes on from there (its
    in-call `num_retries` cannot be used for stream uploads: googleapiclient resends a consumed
    stream slice). Downloads retry with `num_retries`. The bytes come back exact."""
    data = random.Random(seed).randbytes(size)
    drive = drive_for(gdrive_tenant, gdrive_tenant.access_token)
    flaky = [
        {
            "id": rid,
            "match": {"twin": "gdrive", "method": method, "path": path},
            "probability": 0.34,
            "action": {"kind": "error", "status": 503},
        }
        for rid, method, path in (
            ("chunks", "PUT", "/upload/drive/v3/files*"),
            ("ranges", "GET", "/drive/v3/files/*"),
        )
    ]
    gdrive_tenant.twin.set_faults(
        {"version": 1, "name": "flaky", "seed": fail_seed, "rules": flaky}, tenant=gdrive_tenant.tenant
    )
    failures = 0
    try:
        media = MediaIoBaseUpload(
            io.BytesIO(data),
            mimetype="application/octet-stream",
            chunksize=up_chunks * KIB256,
            resumable=True,
        )
        request = drive.files().create(
            body={"name": "flaky.bin"}, media_body=media, fields="id,size,md5Checksum"
        )
        done = None
        while done is None:
            try:
                _status, done = request.next_chunk()
            except HttpError as exc:
                assert exc.resp.status == 503
                failures += 1
        assert done["size"] == str(size) and done["md5Checksum"] == hashlib.md5(data).hexdigest()
        out = io.BytesIO()
        download = drive.files().get_media(fileId=done["id"])
        download._sleep = lambda _s: None  # the client's backoff between retries, skipped
        if size:
            downloader = MediaIoBaseDownload(out, download, chunksize=down_chunks * KIB256)
            downloader._sleep = lambda _s: None
            finished = False
            while not finished:
                _progress, finished = downloader.next_chunk(num_retries=30)
        else:
            out.write(download.execute(num_retries=30))
        assert out.getvalue() == data
    finally:
        gdrive_tenant.twin.set_faults(None, tenant=gdrive_tenant.tenant)
    journal = gdrive_tenant.twin.control("GET", "/journal", params={"tenant": gdrive_tenant.tenant})[
        "entries"
    ]
    faults = [e for e in journal if e.get("fault")]
    assert len(faults) >= failures
