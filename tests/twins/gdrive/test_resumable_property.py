"""Hypothesis: a resumable upload survives any chunking, resent chunks (the answer to a PUT was
lost, so the client sends it again, from where it was or from further back) and status queries
(`Content-Range: bytes */N`), and always ends with exactly the bytes sent and their md5."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtu.testing.plugin import Tenant


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
