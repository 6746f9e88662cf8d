"""gspread's Drive-only calls against the twin (spreadsheets themselves need the Sheets twin):
listing spreadsheets, exporting, sharing, unsharing and deleting them through Drive v3."""

from __future__ import annotations

from typing import Any

import gspread
import pytest
import requests

from dtu.testing.plugin import Tenant
from twins._workspace import content

SHEET = "application/vnd.google-apps.spreadsheet"


class TwinSession(requests.Session):
    """gspread hard-codes Google's hosts: send them to the twin, with the bearer set."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__()
        self.base = base
        self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        text = url.decode() if isinstance(url, bytes) else url
        for host in ("https://www.googleapis.com", "https://sheets.googleapis.com"):
            if text.startswith(host):
                text = self.base + text[len(host) :]
        return super().request(method, text, *args, **kwargs)


@pytest.fixture
def gc(gdrive_tenant: Tenant) -> gspread.Client:
    return gspread.Client(auth=None, session=TwinSession(gdrive_tenant.url, gdrive_tenant.access_token))  # type: ignore[arg-type]


def _sheet(drive: Any, name: str) -> str:
    fid: str = drive.files().create(body={"name": name, "mimeType": SHEET}).execute()["id"]
    return fid


def test_list_spreadsheet_files(gc: gspread.Client, drive: Any) -> None:
    budget = _sheet(drive, "Budget")
    plan = _sheet(drive, "Plan")
    drive.files().create(body={"name": "Budget"}).execute()  # not a spreadsheet
    files = gc.list_spreadsheet_files()
    assert sorted(f["id"] for f in files) == sorted([budget, plan])
    assert set(files[0]) == {"id", "name", "createdTime", "modifiedTime"}
    assert [f["id"] for f in gc.list_spreadsheet_files(title="Budget")] == [budget]


def test_permissions(gc: gspread.Client, drive: Any, bob: Any) -> None:
    fid = _sheet(drive, "Shared")
    gc.insert_permission(fid, "bob@example.com", perm_type="user", role="writer", notify=False)
    perms = gc.list_permissions(fid)
    bobs = [p for p in perms if p.get("emailAddress") == "bob@example.com"]
    assert len(bobs) == 1 and bobs[0]["role"] == "writer"
    assert bob.files().get(fileId=fid, fields="capabilities(canEdit)").execute() == {
        "capabilities": {"canEdit": True}
    }
    gc.remove_permission(fid, str(bobs[0]["id"]))
    assert [p for p in gc.list_permissions(fid) if p.get("emailAddress") == "bob@example.com"] == []


def test_export_csv(gc: gspread.Client, drive: Any, gdrive_tenant: Tenant) -> None:
    fid = _sheet(drive, "Numbers")
    assert gc.export(fid, gspread.utils.ExportFormat.CSV) == b""  # a new sheet is empty
    gdrive_tenant.twin.runtime.unit_sync(  # what the Sheets twin's values.update writes
        gdrive_tenant.tenant,
        lambda ctx: content.write_values(
            ctx, fid, sheet_id=0, row=0, column=0, values=[["a1", "B2"], [1, 2.5]], user="alice@example.com"
        ),
    )
    assert gc.export(fid, gspread.utils.ExportFormat.CSV) == b"a1,B2\r\n1,2.5"


def test_del_spreadsheet_and_errors(gc: gspread.Client, drive: Any) -> None:
    fid = _sheet(drive, "Doomed")
    gc.del_spreadsheet(fid)
    assert gc.list_spreadsheet_files() == []
    with pytest.raises(gspread.exceptions.APIError) as info:
        gc.del_spreadsheet(fid)
    assert info.value.code == 404
