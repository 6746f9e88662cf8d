"""Batch requests (`POST /batch/drive/v3`) as googleapiclient's `new_batch_http_request()` sends
and parses them: per-part answers and errors, per-part credentials, the 100-call limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from googleapiclient.errors import HttpError

from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import error_of


class Collector:
    """A batch callback that keeps each part's answer or error by request id."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.errors: dict[str, HttpError] = {}

    def __call__(self, request_id: str, response: Any, exception: HttpError | None) -> None:
        if exception is not None:
            self.errors[request_id] = exception
        else:
            self.answers[request_id] = response


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.access_token}"}


def test_a_batch_of_reads_and_writes(drive: Any) -> None:
    ids = [drive.files().create(body={"name": f"f{i}"}).execute()["id"] for i in range(3)]
    got = Collector()
    batch = drive.new_batch_http_request(callback=got)
    batch.add(drive.files().get(fileId=ids[0], fields="id,name"), request_id="get")
    batch.add(
        drive.files().update(fileId=ids[1], body={"name": "renamed"}, fields="name"), request_id="rename"
    )
    batch.add(drive.files().delete(fileId=ids[2]), request_id="delete")
    batch.add(drive.files().list(q="name = 'renamed'", fields="files(id)"), request_id="list")
    batch.execute()
    assert got.errors == {}
    assert got.answers["get"] == {"id": ids[0], "name": "f0"}
    assert got.answers["rename"] == {"name": "renamed"}
    assert got.answers["delete"] == ""  # 204: what a lone files.delete answers too
    # the parts ran in order: the list saw the rename made before it
    assert got.answers["list"] == {"files": [{"id": ids[1]}]}
    assert drive.files().get(fileId=ids[1]).execute()["name"] == "renamed"
    names = {f["name"] for f in drive.files().list().execute()["files"]}
    assert names == {"f0", "renamed"}


def test_a_failing_part_fails_alone(drive: Any) -> None:
    fid = drive.files().create(body={"name": "here"}).execute()["id"]
    got = Collector()
    batch = drive.new_batch_http_request(callback=got)
    batch.add(drive.files().get(fileId="1nosuchfile0000000000000000000000"), request_id="missing")
    batch.add(drive.files().get(fileId=fid), request_id="found")
    batch.add(drive.files().update(fileId=fid, body={"size": "3"}), request_id="bad-write")
    batch.execute()
    assert got.answers["found"]["name"] == "here"
    missing = got.errors["missing"]
    assert missing.resp.status == 404
    assert error_of(missing)["errors"][0] == {
        "message": "File not found: 1nosuchfile0000000000000000000000.",
        "domain": "global",
        "reason": "notFound",
        "location": "fileId",
        "locationType": "parameter",
    }
    assert got.errors["bad-write"].resp.status == 403
    assert error_of(got.errors["bad-write"])["errors"][0]["reason"] == "fieldNotWritable"


def test_each_part_carries_its_own_credentials(drive: Any, bob: Any) -> None:
    drive.files().create(body={"name": "alice's"}).execute()
    bob.files().create(body={"name": "bob's"}).execute()
    got = Collector()
    batch = drive.new_batch_http_request(callback=got)
    batch.add(drive.files().list(fields="files(name)"), request_id="alice")
    batch.add(bob.files().list(fields="files(name)"), request_id="bob")
    batch.execute()
    assert got.answers == {"alice": {"files": [{"name": "alice's"}]}, "bob": {"files": [{"name": "bob's"}]}}


def test_an_expired_token_in_a_batch_is_refreshed_and_the_part_sent_again(
    gdrive_tenant: Tenant, as_user: Callable[[str], Any]
) -> None:
    carol = as_user("carol@example.com")
    fid = carol.files().create(body={"name": "c"}).execute()["id"]
    gdrive_tenant.twin.clock(gdrive_tenant.tenant, advance_s=3601)  # the token expires on the twin
    got = Collector()
    batch = carol.new_batch_http_request(callback=got)
    batch.add(carol.files().get(fileId=fid, fields="name"), request_id="again")
    batch.execute()
    assert got.answers == {"again": {"name": "c"}} and got.errors == {}
    entries = gdrive_tenant.twin.control("GET", "/journal", params={"tenant": gdrive_tenant.tenant})[
        "entries"
    ]
    gets = [e["status"] for e in entries if e["operation"] == "drive.files.get"]
    assert gets == [401, 200]


def test_more_than_100_calls_the_rest_are_refused(drive: Any) -> None:
    fid = drive.files().create(body={"name": "many"}).execute()["id"]
    got = Collector()
    batch = drive.new_batch_http_request(callback=got)
    for i in range(102):
        batch.add(drive.files().get(fileId=fid, fields="id"), request_id=str(i))
    batch.execute()
    assert len(got.answers) == 100 and set(got.answers) == {str(i) for i in range(100)}
    assert set(got.errors) == {"100", "101"}
    err = got.errors["100"]
    assert err.resp.status == 403
    assert error_of(err)["errors"][0] == {
        "message": "Exceeds allowed inner batch requests soft limit. Please retry.",
        "domain": "global",
        "reason": "forbidden",
    }


def _batch(tenant: Tenant, parts: list[str], boundary: str = "b0undary") -> httpx.Response:
    body = "".join(
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <p{i}>\r\n\r\n{p}\r\n"
        for i, p in enumerate(parts)
    )
    return httpx.post(
        tenant.url + "/batch/drive/v3",
        content=(body + f"--{boundary}--\r\n").encode(),
        headers={**_auth(tenant), "Content-Type": f"multipart/mixed; boundary={boundary}"},
    )


def test_raw_batch_wire(gdrive_tenant: Tenant, drive: Any) -> None:
    """The outer bearer applies to parts that send none; parts answer in order with
    `Content-ID: <response-...>`; other paths and media downloads are refused part by part."""
    fid = drive.files().create(body={"name": "raw"}).execute()["id"]
    resp = _batch(
        gdrive_tenant,
        [
            f"GET /drive/v3/files/{fid}?fields=name HTTP/1.1\r\n\r\n",
            "POST /drive/v3/files?fields=name\r\nContent-Type: application/json\r\n\r\n"
            '{"name": "made in a batch"}',
            "GET /upload/drive/v3/files HTTP/1.1\r\n\r\n",
            f"GET /drive/v3/files/{fid}?alt=media HTTP/1.1\r\n\r\n",
        ],
    )
    assert resp.status_code == 200
    ctype = resp.headers["content-type"]
    assert ctype.startswith("multipart/mixed; boundary=batch_")
    boundary = ctype.split("boundary=")[1]
    chunks = resp.content.split(b"--" + boundary.encode())[1:-1]
    assert resp.content.endswith(b"--" + boundary.encode() + b"--\r\n")
    statuses = []
    for i, chunk in enumerate(chunks):
        head, _, inner = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        assert f"Content-ID: <response-p{i}>".encode() in head
        statuses.append(int(inner.split(b" ", 2)[1]))
    assert statuses == [200, 200, 404, 400]
    assert b'{"name":"raw"}' in chunks[0]
    assert b'{"name":"made in a batch"}' in chunks[1]


def test_a_batch_without_parts_is_400(gdrive_tenant: Tenant) -> None:
    resp = httpx.post(
        gdrive_tenant.url + "/batch/drive/v3",
        content=b'{"not": "a batch"}',
        headers={**_auth(gdrive_tenant), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "Invalid multipart request with 0 mime parts."


def test_faults_and_the_journal_see_each_inner_call(gdrive_tenant: Tenant, drive: Any) -> None:
    fid = drive.files().create(body={"name": "faulty"}).execute()["id"]
    twin = gdrive_tenant.twin
    twin.set_faults(
        {
            "version": 1,
            "name": "get-down",
            "rules": [
                {
                    "id": "get",
                    "match": {"operation": "drive.files.get", "tenant": gdrive_tenant.tenant},
                    "action": {"kind": "error", "status": 503},
                }
            ],
        },
        tenant=gdrive_tenant.tenant,
    )
    try:
        got = Collector()
        batch = drive.new_batch_http_request(callback=got)
        batch.add(drive.files().get(fileId=fid), request_id="get")
        batch.add(drive.files().list(fields="files(name)"), request_id="list")
        batch.execute()
    finally:
        twin.set_faults(None, tenant=gdrive_tenant.tenant)
    assert got.errors["get"].resp.status == 503
    assert got.answers["list"] == {"files": [{"name": "faulty"}]}
    entries = twin.control("GET", "/journal", params={"tenant": gdrive_tenant.tenant})["entries"]
    ops = [(e["operation"], e["status"]) for e in entries]
    assert ("drive.files.get", 503) in ops and ("drive.files.list", 200) in ops
