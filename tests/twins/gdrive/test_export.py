"""files.export of Docs and Sheets content kept in the Workspace store (twins/_workspace/content.py,
where the Sheets and Docs twins write): the content is written here through that store API,
then exported through Drive with google-api-python-client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from googleapiclient.errors import HttpError

from dtu.context import TwinContext
from dtu.testing.plugin import Tenant
from tests.twins.gdrive.conftest import error_of
from twins._workspace import content

SHEET = "application/vnd.google-apps.spreadsheet"
DOC = "application/vnd.google-apps.document"
T = TypeVar("T")


@pytest.fixture
def write(gdrive_tenant: Tenant) -> Callable[[Callable[[TwinContext], T]], T]:
    """Run a store-API call in one unit of work of the tenant (what a Sheets/Docs twin does)."""

    def run(fn: Callable[[TwinContext], T]) -> T:
        result: T = gdrive_tenant.twin.runtime.unit_sync(gdrive_tenant.tenant, fn)
        return result

    return run


def _export(drive: Any, fid: str, mime: str) -> bytes:
    data: bytes = drive.files().export(fileId=fid, mimeType=mime).execute()
    return data


def test_a_spreadsheet_exports_its_first_sheet_as_csv_and_tsv(drive: Any, write: Any) -> None:
    fid = drive.files().create(body={"name": "Stock", "mimeType": SHEET}).execute()["id"]
    rows = [["name", "qty"], ["apple", 3], ["pear, green", 1.5], [True, None, 'say "hi"']]
    write(
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=0, row=0, column=0, values=rows, user="alice@example.com"
        )
    )
    second = write(lambda ctx: content.add_sheet(ctx, fid, title="Other", user="alice@example.com"))
    write(
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=second, row=0, column=0, values=[["x"]], user="a@example.com"
        )
    )
    assert (
        _export(drive, fid, "text/csv")
        == b'name,qty,\r\napple,3,\r\n"pear, green",1.5,\r\nTRUE,,"say ""hi"""'
    )
    assert _export(drive, fid, "text/tab-separated-values").split(b"\r\n")[2] == b"pear, green\t1.5\t"


def test_cells_left_blank_and_overwritten(drive: Any, write: Any) -> None:
    fid = drive.files().create(body={"name": "Sparse", "mimeType": SHEET}).execute()["id"]
    write(
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=0, row=2, column=1, values=[["b3", "c3"]], user="alice@example.com"
        )
    )
    assert _export(drive, fid, "text/csv") == b",,\r\n,,\r\n,b3,c3"
    write(
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=0, row=2, column=1, values=[["", "C3"]], user="alice@example.com"
        )
    )
    assert _export(drive, fid, "text/csv") == b",,\r\n,,\r\n,,C3"


def test_a_content_write_is_a_write_to_the_drive_file(drive: Any, write: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "Tracked", "mimeType": SHEET}).execute()["id"]
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "writer", "emailAddress": "bob@example.com"}
    ).execute()
    before = drive.files().get(fileId=fid, fields="version,modifiedTime").execute()
    token = drive.changes().getStartPageToken().execute()["startPageToken"]
    write(
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=0, row=0, column=0, values=[[1]], user="bob@example.com"
        )
    )
    after = (
        drive.files().get(fileId=fid, fields="version,modifiedTime,lastModifyingUser(emailAddress)").execute()
    )
    assert int(after["version"]) > int(before["version"])
    assert after["modifiedTime"] >= before["modifiedTime"]
    assert after["lastModifyingUser"] == {"emailAddress": "bob@example.com"}
    changes = drive.changes().list(pageToken=token, fields="changes(fileId)").execute()["changes"]
    assert [c["fileId"] for c in changes] == [fid]
    assert _export(bob, fid, "text/csv") == b"1"


def test_a_document_exports_as_text_html_and_markdown(drive: Any, write: Any) -> None:
    fid = drive.files().create(body={"name": "Memo <1>", "mimeType": DOC}).execute()["id"]
    doc = content.document_content(
        [
            ("Plan", "TITLE"),
            ("Goals", "HEADING_1"),
            ("Ship it & <test> it", "NORMAL_TEXT"),
            ("one\ntwo", "NORMAL_TEXT"),
        ]
    )
    doc["body"]["content"][3]["paragraph"]["elements"][0]["textRun"]["textStyle"] = {"bold": True}
    write(lambda ctx: content.put_document(ctx, fid, doc, user="alice@example.com"))
    text = _export(drive, fid, "text/plain")
    assert text == "\ufeffPlan\r\nGoals\r\nShip it & <test> it\r\none\r\ntwo".encode()
    page = _export(drive, fid, "text/html").decode()
    assert page.startswith('<html><head><meta content="text/html; charset=UTF-8" http-equiv="content-type">')
    assert "<title>Memo &lt;1&gt;</title>" in page
    assert '<p class="title"><span>Plan</span></p><h1><span>Goals</span></h1>' in page
    assert '<p><span style="font-weight:700">Ship it &amp; &lt;test&gt; it</span></p>' in page
    assert "<p><span>one<br>two</span></p>" in page
    assert (
        _export(drive, fid, "text/markdown")
        == b"# Plan\n\n# Goals\n\n**Ship it & <test> it**\n\none  \ntwo\n"
    )


def test_new_files_export_empty_content(drive: Any) -> None:
    sheet = drive.files().create(body={"name": "s", "mimeType": SHEET}).execute()["id"]
    doc = drive.files().create(body={"name": "d", "mimeType": DOC}).execute()["id"]
    assert _export(drive, sheet, "text/csv") == b""
    assert _export(drive, doc, "text/plain") == "\ufeff".encode()


def test_a_copy_has_the_content_and_the_original_keeps_it(
    gdrive_tenant: Tenant, drive: Any, write: Any
) -> None:
    fid = drive.files().create(body={"name": "orig", "mimeType": SHEET}).execute()["id"]
    write(
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=0, row=0, column=0, values=[["a", "b"]], user="alice@example.com"
        )
    )
    copy = drive.files().copy(fileId=fid, body={"name": "copy"}).execute()["id"]
    write(
        lambda ctx: content.write_values(
            ctx, copy, sheet_id=0, row=0, column=0, values=[["z"]], user="alice@example.com"
        )
    )
    assert _export(drive, fid, "text/csv") == b"a,b"
    assert _export(drive, copy, "text/csv") == b"z,b"
    drive.files().delete(fileId=copy).execute()
    cells = gdrive_tenant.twin.state("cells", tenant=gdrive_tenant.tenant)
    assert {c["file_id"] for c in cells} == {fid}


@pytest.mark.parametrize(
    ("mime", "export_as", "status", "reason"),
    [
        (SHEET, "application/pdf", 400, "badRequest"),
        (DOC, "text/csv", 400, "badRequest"),
        ("text/plain", "text/plain", 403, "fileNotExportable"),
    ],
)
def test_export_errors(drive: Any, mime: str, export_as: str, status: int, reason: str) -> None:
    fid = drive.files().create(body={"name": "x", "mimeType": mime}).execute()["id"]
    with pytest.raises(HttpError) as info:
        drive.files().export(fileId=fid, mimeType=export_as).execute()
    assert info.value.resp.status == status
    assert error_of(info.value)["errors"][0]["reason"] == reason


def test_strangers_cannot_export(drive: Any, carol: Any, write: Any) -> None:
    fid = drive.files().create(body={"name": "private", "mimeType": DOC}).execute()["id"]
    with pytest.raises(HttpError) as info:
        carol.files().export(fileId=fid, mimeType="text/plain").execute()
    assert info.value.resp.status == 404


def test_the_store_api_refuses_a_file_of_another_kind(drive: Any, write: Any) -> None:
    fid = drive.files().create(body={"name": "doc", "mimeType": DOC}).execute()["id"]
    with pytest.raises(KeyError):
        write(
            lambda ctx: content.write_values(
                ctx, fid, sheet_id=0, row=0, column=0, values=[[1]], user="a@example.com"
            )
        )
    assert _export(drive, fid, "text/plain") == "\ufeff".encode()  # nothing was written
