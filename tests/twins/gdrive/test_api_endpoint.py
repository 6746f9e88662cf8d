"""google-api-python-client through `client_options={"api_endpoint": ...}` with its bundled
(static) discovery document, and a service-account key file whose token_uri is the twin.

With `api_endpoint` the client swaps only the host of media-upload URLs and keeps their
`https://` scheme, so uploads need the twin on HTTPS: here it is served over TLS (a certificate
made for 127.0.0.1, trusted through httplib2's `ca_certs`). Metadata calls, MediaFileUpload
resumable in chunks, multipart uploads, MediaIoBaseDownload in chunks and batch requests (sent to
the twin's `batch/drive/v3`: the client's `new_batch_http_request()` keeps Google's host) all
go to the twin."""

from __future__ import annotations

import io
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
import httpx
import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.http import BatchHttpRequest, MediaFileUpload, MediaInMemoryUpload, MediaIoBaseDownload

from dtu.settings import TwinSettings
from dtu.testing.tls import self_signed_certificate
from tests.twins.gdrive.conftest import serve
from twins.gdrive.app import create_app

DRIVE = "https://www.googleapis.com/auth/drive"


@dataclass
class TlsTwin:
    url: str
    ca: Path
    tenant: str
    credentials: dict[str, Any]


@pytest.fixture(scope="module")
def tls_twin(dtu_db_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsTwin]:
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    app = create_app(TwinSettings(db_url=dtu_db_url or "sqlite://"))
    with serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        trust = ssl.create_default_context(cafile=str(cert))
        made = httpx.post(url + "/_dtu/tenants", verify=trust).raise_for_status().json()
        yield TlsTwin(url, cert, made["tenant"], made["credentials"])
        httpx.delete(f"{url}/_dtu/tenants/{made['tenant']}", verify=trust)


@pytest.fixture
def drive(tls_twin: TlsTwin) -> Any:
    """Drive as alice, through the service account's key file (token_uri: the twin)."""
    info = {**tls_twin.credentials["service_account"], "token_uri": tls_twin.url + "/token"}
    creds = service_account.Credentials.from_service_account_info(
        info, scopes=[DRIVE], subject="alice@example.com"
    )
    raw = httplib2.Http(ca_certs=str(tls_twin.ca))
    raw.redirect_codes = raw.redirect_codes - {
        308
    }  # as googleapiclient's own build_http(): 308 is Resume Incomplete
    http = google_auth_httplib2.AuthorizedHttp(creds, http=raw)
    return build("drive", "v3", http=http, client_options={"api_endpoint": tls_twin.url + "/drive/v3/"})


def test_metadata_calls_go_to_the_endpoint(drive: Any) -> None:
    about = drive.about().get(fields="user(emailAddress)").execute()
    assert about == {"user": {"emailAddress": "alice@example.com"}}
    fid = drive.files().create(body={"name": "via endpoint"}).execute()["id"]
    assert drive.files().get(fileId=fid, fields="name").execute() == {"name": "via endpoint"}


def test_resumable_chunked_upload_and_chunked_download(drive: Any, tmp_path: Path) -> None:
    data = bytes(i % 251 for i in range(700 * 1024))  # three chunks of 256 KiB, the last short
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    media = MediaFileUpload(
        str(source), mimetype="application/octet-stream", chunksize=256 * 1024, resumable=True
    )
    request = drive.files().create(body={"name": "blob.bin"}, media_body=media, fields="id,size,md5Checksum")
    progress, done = [], None
    while done is None:
        status, done = request.next_chunk()
        if status is not None:
            progress.append(status.resumable_progress)
    assert progress == [256 * 1024, 512 * 1024]
    assert done["size"] == str(len(data))
    out = io.BytesIO()
    downloader = MediaIoBaseDownload(out, drive.files().get_media(fileId=done["id"]), chunksize=256 * 1024)
    finished, chunks = False, 0
    while not finished:
        _status, finished = downloader.next_chunk()
        chunks += 1
    assert out.getvalue() == data and chunks == 3


def test_multipart_upload(drive: Any) -> None:
    media = MediaInMemoryUpload(b"hello, endpoint", mimetype="text/plain")
    made = drive.files().create(body={"name": "m.txt"}, media_body=media, fields="id,size").execute()
    assert made["size"] == "15"
    assert drive.files().get_media(fileId=made["id"]).execute() == b"hello, endpoint"


def test_batch_to_the_endpoints_batch_path(drive: Any, tls_twin: TlsTwin) -> None:
    assert drive.new_batch_http_request()._batch_uri == "https://www.googleapis.com/batch/drive/v3"
    # A batch refreshes expired credentials through a bare httplib2.Http (googleapiclient's
    # _auth.refresh_credentials), which does not trust our certificate: get a token first.
    drive.about().get(fields="kind").execute()
    got: dict[str, Any] = {}
    batch = BatchHttpRequest(
        callback=lambda rid, resp, exc: got.update({rid: exc or resp}),
        batch_uri=tls_twin.url + "/batch/drive/v3",
    )
    batch.add(drive.files().create(body={"name": "b1"}, fields="name"), request_id="one")
    batch.add(drive.about().get(fields="user(emailAddress)"), request_id="two")
    batch.execute()
    assert got == {"one": {"name": "b1"}, "two": {"user": {"emailAddress": "alice@example.com"}}}
