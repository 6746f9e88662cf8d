"""`fields` partial responses: every method's default field set; Hypothesis selectors (top-level
names, `a/b` paths, `a(b,c)` sub-selections, `*`, on objects and on lists) answer exactly what
the selector keeps of the full (`*`) answer; names the schema does not have, and broken syntax,
are Drive's 400 `invalidParameter` on `fields`, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twins.gdrive.conftest import error_of

FILE_FIELDS = [
    "kind",
    "id",
    "name",
    "mimeType",
    "description",
    "starred",
    "trashed",
    "parents",
    "properties",
    "version",
    "createdTime",
    "modifiedTime",
    "size",
    "md5Checksum",
    "ownedByMe",
    "webViewLink",
    "spaces",
]
NESTED = {
    "capabilities": ["canEdit", "canShare", "canDelete", "canComment"],
    "owners": ["emailAddress", "displayName", "kind", "me"],
    "permissions": ["id", "role", "type", "emailAddress"],
    "lastModifyingUser": ["emailAddress", "permissionId"],
}
LIST_FIELDS = ["kind", "incompleteSearch", "nextPageToken"]


@st.composite
def file_selector(draw: Any) -> str:
    """One comma list of file field selections, in every syntax Drive takes."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["name", "path", "sub", "star", "whole"]))
        if kind == "name":
            parts.append(draw(st.sampled_from(FILE_FIELDS)))
        elif kind == "whole":
            parts.append(draw(st.sampled_from(sorted(NESTED))))
        elif kind == "star":
            parts.append("*")
        else:
            parent = draw(st.sampled_from(sorted(NESTED)))
            kids = draw(st.lists(st.sampled_from(NESTED[parent]), min_size=1, max_size=3, unique=True))
            parts.append(f"{parent}/{kids[0]}" if kind == "path" else f"{parent}({','.join(kids)})")
    return ",".join(parts)


def _tree(text: str) -> dict[str, Any]:
    """The reference reading of a selector: name -> sub-tree (None: the whole value)."""
    out: dict[str, Any] = {}
    depth, start = 0, 0
    items = []
    for i, ch in enumerate(text + ","):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    for item in items:
        if "(" in item:
            head, inner = item.split("(", 1)
            sub: Any = _tree(inner[:-1])
        else:
            head, sub = item, None
        path = head.split("/")
        for name in reversed(path[1:]):
            sub = {name: sub}
        key = path[0]
        if key in out and (out[key] is None or sub is None):
            out[key] = None
        elif key in out:
            out[key] = {**out[key], **sub}
        else:
            out[key] = sub
    return out


def _keep(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_keep(v, tree) for v in value]
    if "*" in tree:
        return value
    return {k: _keep(value[k], sub) for k, sub in tree.items() if k in value}


@pytest.fixture
def shared_file(drive: Any) -> str:
    folder = (
        drive.files()
        .create(body={"name": "box", "mimeType": "application/vnd.google-apps.folder"})
        .execute()["id"]
    )
    fid: str = (
        drive.files()
        .create(body={"name": "f.txt", "parents": [folder], "description": "d", "properties": {"k": "v"}})
        .execute()["id"]
    )
    drive.permissions().create(
        fileId=fid, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    return fid


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(selector=file_selector())
def test_files_get_keeps_exactly_what_the_selector_names(drive: Any, shared_file: str, selector: str) -> None:
    full = drive.files().get(fileId=shared_file, fields="*").execute()
    got = drive.files().get(fileId=shared_file, fields=selector).execute()
    assert got == _keep(full, _tree(selector))


@SETTINGS
@given(
    selector=file_selector(),
    top=st.lists(st.sampled_from(LIST_FIELDS), max_size=2, unique=True),
    path=st.one_of(st.none(), st.sampled_from([*FILE_FIELDS, "capabilities/canEdit", "owners/emailAddress"])),
)
def test_files_list_applies_the_selector_to_every_file(
    drive: Any, shared_file: str, selector: str, top: list[str], path: str | None
) -> None:
    files = f"files({selector})" if path is None else f"files/{path}"
    text = ",".join([*top, files])
    full = drive.files().list(fields="*", pageSize=1).execute()
    got = drive.files().list(fields=text, pageSize=1).execute()
    assert got == _keep(full, _tree(text))


def test_default_field_sets(drive: Any, shared_file: str) -> None:
    assert set(drive.files().get(fileId=shared_file).execute()) == {"kind", "id", "name", "mimeType"}
    copied = drive.files().copy(fileId=shared_file, body={}).execute()
    assert set(copied) == {"kind", "id", "name", "mimeType"}
    assert set(drive.files().update(fileId=shared_file, body={"starred": True}).execute()) == {
        "kind",
        "id",
        "name",
        "mimeType",
    }
    listed = drive.files().list(pageSize=1).execute()
    assert set(listed) == {"kind", "incompleteSearch", "nextPageToken", "files"}
    assert set(listed["files"][0]) == {"kind", "id", "name", "mimeType"}
    perms = drive.permissions().list(fileId=shared_file).execute()
    assert set(perms) == {"kind", "permissions"}
    assert all(set(p) == {"kind", "id", "type", "role"} for p in perms["permissions"])
    token = drive.changes().getStartPageToken().execute()
    assert set(token) == {"kind", "startPageToken"}


@pytest.mark.parametrize(
    ("selector", "named"),
    [
        ("id,bogus", "bogus"),
        ("capabilities/canFly", "capabilities/canFly"),
        ("owners(nope)", "owners/nope"),
        ("name(first)", "name/first"),
    ],
)
def test_unknown_names_are_400(drive: Any, shared_file: str, selector: str, named: str) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().get(fileId=shared_file, fields=selector).execute()
    assert info.value.resp.status == 400
    assert error_of(info.value) == {
        "code": 400,
        "message": f"Invalid field selection {named}",
        "errors": [
            {
                "message": f"Invalid field selection {named}",
                "domain": "global",
                "reason": "invalidParameter",
                "location": "fields",
                "locationType": "parameter",
            }
        ],
    }


@pytest.mark.parametrize("selector", ["id,(", "files(id", "id,,name", "a//b", ")"])
def test_broken_syntax_is_400_and_writes_nothing(drive: Any, selector: str) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().create(body={"name": "ghost"}, fields=selector).execute()
    assert info.value.resp.status == 400
    assert error_of(info.value)["errors"][0]["reason"] == "invalidParameter"
    assert drive.files().list(q="name = 'ghost'").execute()["files"] == []


def test_list_selectors_are_checked_against_the_list_schema(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(fields="files(id),bogus").execute()
    assert error_of(info.value)["message"] == "Invalid field selection bogus"
    with pytest.raises(HttpError) as nested:
        drive.files().list(fields="files(id,bogus)").execute()
    assert error_of(nested.value)["message"] == "Invalid field selection files/bogus"
