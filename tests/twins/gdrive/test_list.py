"""files.list: the `q` language, orderBy, paging; a Hypothesis check against a reference evaluator."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twins.gdrive.conftest import error_of

FOLDER = "application/vnd.google-apps.folder"


def _names(drive: Any, **kw: Any) -> list[str]:
    out: list[str] = []
    token = kw.pop("pageToken", None)
    while True:
        page = drive.files().list(fields="nextPageToken,files(name)", pageToken=token, **kw).execute()
        out.extend(f["name"] for f in page["files"])
        token = page.get("nextPageToken")
        if not token:
            return out


@pytest.fixture
def tree(drive: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    ids["Reports"] = drive.files().create(body={"name": "Reports", "mimeType": FOLDER}).execute()["id"]
    for name, mime, extra in (
        ("Quarterly Report", "text/plain", {"parents": [ids["Reports"]], "starred": True}),
        ("report-draft", "text/plain", {"parents": [ids["Reports"]], "properties": {"stage": "draft"}}),
        ("Budget 2024", "text/csv", {"description": "money"}),
        ("notes", "text/markdown", {"appProperties": {"app": "x"}}),
    ):
        ids[name] = drive.files().create(body={"name": name, "mimeType": mime, **extra}).execute()["id"]
    drive.files().update(fileId=ids["notes"], body={"trashed": True}).execute()
    return ids


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("name = 'notes'", {"notes"}),
        ("name contains 'report'", {"Quarterly Report", "report-draft", "Reports"}),
        ("name contains 'port'", set()),
        ("mimeType = 'application/vnd.google-apps.folder'", {"Reports"}),
        ("mimeType contains 'text/'", {"Quarterly Report", "report-draft", "Budget 2024", "notes"}),
        ("starred = true", {"Quarterly Report"}),
        ("trashed = true", {"notes"}),
        ("not trashed and mimeType != 'text/plain'", {"Reports", "Budget 2024"}),
        ("properties has { key='stage' and value='draft' }", {"report-draft"}),
        ("appProperties has { key='app' and value='x' }", {"notes"}),
        ("fullText contains 'money'", {"Budget 2024"}),
        ("(name = 'notes' or name = 'Budget 2024') and trashed = false", {"Budget 2024"}),
        ("'alice@example.com' in owners and name = 'notes'", {"notes"}),
        ("'bob@example.com' in readers", set()),
        (
            "modifiedTime > '2000-01-01T00:00:00' and createdTime < '2999-01-01'",
            {"Reports", "Quarterly Report", "report-draft", "Budget 2024", "notes"},
        ),
        ("name = 'it\\'s'", set()),
    ],
)
def test_query(drive: Any, tree: dict[str, str], q: str, expected: set[str]) -> None:
    assert set(_names(drive, q=q)) == expected


def test_in_parents(drive: Any, tree: dict[str, str]) -> None:
    assert set(_names(drive, q=f"'{tree['Reports']}' in parents")) == {"Quarterly Report", "report-draft"}
    assert set(_names(drive, q="'root' in parents")) == {"Reports", "Budget 2024", "notes"}


@pytest.mark.parametrize(
    "q",
    [
        "name = ",
        "name = notes",
        "nme = 'x'",
        "name ~ 'x'",
        "(name = 'a'",
        "name = 'a' and",
        "modifiedTime > 'yesterday'",
        "starred = maybe",
        "'x' in nowhere",
        "fullText = 'a'",
        "name = 'unterminated",
    ],
)
def test_invalid_query_is_400(drive: Any, q: str) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(q=q).execute()
    assert info.value.resp.status == 400
    assert error_of(info.value)["errors"][0] == {
        "message": "Invalid Value",
        "domain": "global",
        "reason": "invalid",
        "location": "q",
        "locationType": "parameter",
    }


def test_order_by(drive: Any, tree: dict[str, str]) -> None:
    names = _names(drive, q="trashed = false", orderBy="folder,name desc")
    assert names == ["Reports", "report-draft", "Quarterly Report", "Budget 2024"]
    assert _names(drive, q="trashed = false", orderBy="createdTime")[0] == "Reports"


def test_invalid_order_by_is_400(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(orderBy="size").execute()
    assert info.value.resp.status == 400


def test_paging_visits_each_file_once(drive: Any) -> None:
    for i in range(7):
        drive.files().create(body={"name": f"f{i}"}).execute()
    first = drive.files().list(pageSize=3, orderBy="name").execute()
    assert len(first["files"]) == 3 and "nextPageToken" in first
    drive.files().create(body={"name": "a-late-one"}).execute()  # sorts before the cursor: not repeated
    names = [f["name"] for f in first["files"]] + _names(
        drive, pageSize=3, orderBy="name", pageToken=first["nextPageToken"]
    )
    assert len(names) == len(set(names))
    assert {f"f{i}" for i in range(7)} <= set(names)


def test_page_token_bound_to_its_query(drive: Any) -> None:
    for i in range(3):
        drive.files().create(body={"name": f"p{i}"}).execute()
    token = drive.files().list(pageSize=1).execute()["nextPageToken"]
    with pytest.raises(HttpError) as info:
        drive.files().list(pageSize=1, pageToken=token, q="starred = true").execute()
    assert error_of(info.value)["errors"][0]["location"] == "pageToken"


def test_page_size_out_of_range(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(pageSize=1001).execute()
    assert info.value.resp.status == 400


def test_corpora_drive_needs_drive_id(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(corpora="drive", includeItemsFromAllDrives=True, supportsAllDrives=True).execute()
    assert info.value.resp.status == 400


def test_gspread_style_listing(drive: Any) -> None:
    drive.files().create(
        body={"name": "Sheet A", "mimeType": "application/vnd.google-apps.spreadsheet"}
    ).execute()
    page = (
        drive.files()
        .list(
            q="mimeType='application/vnd.google-apps.spreadsheet' and name = 'Sheet A'",
            supportsAllDrives=True,
            includeItemsFromAllDrives=True,
            fields="kind,nextPageToken,files(id,name,createdTime,modifiedTime)",
        )
        .execute()
    )
    assert page["kind"] == "drive#fileList"
    assert [f["name"] for f in page["files"]] == ["Sheet A"]
    assert set(page["files"][0]) == {"id", "name", "createdTime", "modifiedTime"}


# -- Hypothesis: random queries over a fixed tree agree with a reference evaluator ----------------

FILES = [  # name, mime, starred, trashed
    ("alpha beta", "text/plain", True, False),
    ("Alpha", "text/csv", False, False),
    ("gamma", "text/plain", False, True),
    ("beta gamma delta", "image/png", True, True),
    ("delta", "text/csv", False, False),
    ("epsilon", "image/png", True, False),
]
WORDS = ["alpha", "beta", "gamma", "delta", "eps", "Alpha", "zeta"]
MIMES = ["text/plain", "text/csv", "image/png", "text", "image"]


def _leaf() -> Any:
    return st.one_of(
        st.tuples(st.just("name ="), st.sampled_from([f[0] for f in FILES] + ["nope"])),
        st.tuples(st.just("name contains"), st.sampled_from(WORDS)),
        st.tuples(st.just("mimeType ="), st.sampled_from(MIMES)),
        st.tuples(st.just("mimeType contains"), st.sampled_from(MIMES)),
        st.tuples(st.just("starred ="), st.booleans()),
        st.tuples(st.just("trashed ="), st.booleans()),
    )


queries = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner), st.tuples(st.sampled_from(["and", "or"]), inner, inner)
    ),
    max_leaves=6,
)


def _text(q: Any) -> str:
    if q[0] == "not":
        return f"not ({_text(q[1])})"
    if q[0] in ("and", "or"):
        return f"({_text(q[1])}) {q[0]} ({_text(q[2])})"
    if isinstance(q[1], bool):
        return f"{q[0]} {str(q[1]).lower()}"
    return f"{q[0]} '{q[1]}'"


def _ref(q: Any, f: tuple[str, str, bool, bool]) -> bool:
    name, mime, starred, trashed = f
    op = q[0]
    if op == "not":
        return not _ref(q[1], f)
    if op == "and":
        return _ref(q[1], f) and _ref(q[2], f)
    if op == "or":
        return _ref(q[1], f) or _ref(q[2], f)
    if op == "name =":
        return name == q[1]
    if op == "name contains":  # prefix of the name or of any word in it, any case
        return any(w.lower().startswith(q[1].lower()) for w in name.split())
    if op == "mimeType =":
        return mime == q[1]
    if op == "mimeType contains":
        return q[1] in mime
    if op == "starred =":
        return starred == q[1]
    return trashed == q[1]


@pytest.fixture
def fixed_tree(drive: Any) -> Any:
    for name, mime, starred, trashed in FILES:
        fid = drive.files().create(body={"name": name, "mimeType": mime, "starred": starred}).execute()["id"]
        if trashed:
            drive.files().update(fileId=fid, body={"trashed": True}).execute()
    return drive


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=queries, page_size=st.integers(min_value=1, max_value=4), by_name=st.booleans())
def test_random_queries_match_reference(fixed_tree: Any, q: Any, page_size: int, by_name: bool) -> None:
    """With `orderBy=name` (all matches sorted, then paged) and without (creation order, read
    in slices until a page is full): the same files, each once, in the order asked for."""
    matching = [f[0] for f in FILES if _ref(q, f)]
    order = {"orderBy": "name"} if by_name else {}
    got = _names(fixed_tree, q=_text(q), pageSize=page_size, **order)
    assert len(got) == len(set(got)), "a page repeated a file"
    assert got == (sorted(matching, key=str.lower) if by_name else matching)


def test_name_contains_agrees_with_python_case_folding(drive: Any) -> None:
    """`name contains` is narrowed in SQL first: names whose lower case gains an ASCII letter
    (U+0130, the Kelvin sign), LIKE's wildcards and non-ASCII needles must still match."""
    for name in ("\u0130stanbul", "\u212a9 unit", "50% off", "a_b", "Ärger", "plain"):
        drive.files().create(body={"name": name}).execute()
    assert set(_names(drive, q="name contains 'i'")) == {"\u0130stanbul"}
    assert set(_names(drive, q="name contains 'k9'")) == {"\u212a9 unit"}
    assert set(_names(drive, q="name contains '50%'")) == {"50% off"}
    assert set(_names(drive, q="name contains 'a_'")) == {"a_b"}
    assert set(_names(drive, q="name contains 'a%'")) == set()
    assert set(_names(drive, q="name contains 'är'")) == {"Ärger"}
    assert set(_names(drive, q="name contains 'PLA' and trashed = false")) == {"plain"}


def test_corpora_user_lists_link_shared_files_only_once_opened(drive: Any, bob: Any) -> None:
    link = drive.files().create(body={"name": "by link"}).execute()["id"]
    drive.permissions().create(fileId=link, body={"type": "anyone", "role": "reader"}).execute()
    found = drive.files().create(body={"name": "domain findable"}).execute()["id"]
    drive.permissions().create(
        fileId=found,
        body={"type": "domain", "role": "reader", "domain": "example.com", "allowFileDiscovery": True},
    ).execute()
    direct = drive.files().create(body={"name": "shared with bob"}).execute()["id"]
    drive.permissions().create(
        fileId=direct, body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"}
    ).execute()
    assert _names(bob) == ["shared with bob"]  # corpora=user: shared directly with him
    assert set(_names(bob, corpora="domain")) == {"shared with bob", "domain findable"}
    assert bob.files().get(fileId=link, fields="name").execute() == {"name": "by link"}  # he may open it
    bob.files().get_media(fileId=link).execute()  # ...and once he has, it is his to list
    assert _names(bob) == ["by link", "shared with bob"]
    assert _names(bob, q="sharedWithMe") == ["shared with bob"]  # "Shared with me": direct sharing only


def test_me_in_owners_writers_readers(drive: Any, bob: Any) -> None:
    mine = drive.files().create(body={"name": "alice's"}).execute()["id"]
    theirs = bob.files().create(body={"name": "bob's"}).execute()["id"]
    bob.permissions().create(
        fileId=theirs, body={"type": "user", "role": "writer", "emailAddress": "alice@example.com"}
    ).execute()
    assert _names(drive, q="'me' in owners") == ["alice's"]
    assert set(_names(drive, q="'me' in writers")) == {"alice's", "bob's"}
    assert _names(bob, q="'me' in owners") == ["bob's"]
    assert _names(drive, q="not 'me' in owners") == ["bob's"]
    assert mine


def test_full_text_cannot_be_ordered(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(q="fullText contains 'x'", orderBy="name").execute()
    assert error_of(info.value)["errors"][0] == {
        "message": "Sorting is not supported for queries with fullText terms. Results are always in descending "
        "relevance order.",
        "domain": "global",
        "reason": "badRequest",
        "location": "orderBy",
        "locationType": "parameter",
    }


def test_spaces(drive: Any, tree: dict[str, str]) -> None:
    assert set(_names(drive, spaces="drive", q="trashed = false")) == {
        "Reports",
        "Quarterly Report",
        "report-draft",
        "Budget 2024",
    }
    assert _names(drive, spaces="appDataFolder") == []  # no app data kept
    with pytest.raises(HttpError) as info:
        drive.files().list(spaces="nowhere").execute()
    assert error_of(info.value)["errors"][0]["location"] == "spaces"


def test_share_without_notification_email(drive: Any, bob: Any) -> None:
    fid = drive.files().create(body={"name": "quiet share"}).execute()["id"]
    drive.permissions().create(
        fileId=fid,
        body={"type": "user", "role": "reader", "emailAddress": "bob@example.com"},
        sendNotificationEmail=False,
    ).execute()
    assert _names(bob) == ["quiet share"]
