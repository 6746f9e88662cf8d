"""Opaque keyset cursors: they round-trip, refuse tampering and changed filters, and pages
built with `after_key` cover every row exactly once, in order."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import Connection

from dtu.pagination import (
    CursorError,
    after_key,
    clamp,
    decode_cursor,
    encode_cursor,
    google_page,
    jira_page,
    okta_link_header,
    slack_metadata,
)

_keys = st.lists(
    st.one_of(
        st.integers(-(2**53), 2**53), st.text(max_size=20), st.floats(allow_nan=False, allow_infinity=False)
    ),
    min_size=1,
    max_size=3,
)


@given(key=_keys, filters=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
def test_round_trip(key: list[Any], filters: dict[str, str]) -> None:
    cursor = encode_cursor(key, filters=filters)
    assert decode_cursor(cursor, filters=filters) == key


def test_cursor_looks_like_slacks() -> None:
    cursor = encode_cursor(["1700000000.000100"])
    assert base64.b64decode(cursor).startswith(b"next:")


def test_empty_cursor_means_first_page() -> None:
    assert decode_cursor(None) is None
    assert decode_cursor("") is None


@pytest.mark.parametrize(
    "bad",
    [
        "not base64 at all!",
        base64.b64encode(b"next:{not json").decode(),
        base64.b64encode(b'next:["not", "a pair", 3]').decode(),
        base64.b64encode(b'next:[{"a": 1}, ""]').decode(),
        base64.b64encode(b"next").decode(),
        "é",
    ],
)
def test_garbage_is_refused(bad: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(bad)


def _reencode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_tampered_cursor_is_refused() -> None:
    filters = {"channel": "C1"}
    cursor = encode_cursor([42], filters=filters)
    raw = base64.b64decode(cursor)
    key, fh = orjson.loads(raw.partition(b":")[2])
    assert decode_cursor(_reencode(raw), filters=filters) == [42]
    for forged in (
        b"next:" + orjson.dumps([key, "0" * len(fh)]),  # another filter hash
        b"next:" + orjson.dumps([key, fh, "extra"]),  # another shape
        b"next:" + orjson.dumps([42, fh]),  # a key that is not a list
        b"prev:" + raw.partition(b":")[2],  # another kind
        raw[:-3],  # cut short
    ):
        with pytest.raises(CursorError):
            decode_cursor(_reencode(forged), filters=filters)
    with pytest.raises(CursorError):
        decode_cursor(cursor[:-2], filters=filters)  # not even base64 any more


def test_cursor_for_other_filters_is_refused() -> None:
    cursor = encode_cursor(["U1"], filters={"channel": "C1", "limit": 10})
    with pytest.raises(CursorError):
        decode_cursor(cursor, filters={"channel": "C2", "limit": 10})
    with pytest.raises(CursorError):
        decode_cursor(cursor)


def test_filters_none_values_do_not_count() -> None:
    cursor = encode_cursor(["U1"], filters={"channel": "C1", "oldest": None})
    assert decode_cursor(cursor, filters={"channel": "C1"}) == ["U1"]


def test_cursor_kind_must_match() -> None:
    cursor = encode_cursor([1], kind="dXNlcjpVMDYx")
    with pytest.raises(CursorError):
        decode_cursor(cursor)
    assert decode_cursor(cursor, kind="dXNlcjpVMDYx") == [1]


# -- after_key against a real table ---------------------------------------------------------------------

_meta = MetaData()
_rows = Table("rows", _meta, Column("a", Integer, primary_key=True), Column("b", String(8), primary_key=True))


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    eng = create_engine("sqlite://")
    _meta.create_all(eng)
    yield eng
    eng.dispose()


def _pages(conn: Connection, size: int, descending: bool) -> list[tuple[int, str]]:
    cols = [_rows.c.a, _rows.c.b]
    order = [c.desc() for c in cols] if descending else cols
    out: list[tuple[int, str]] = []
    cursor = ""
    for _ in range(1000):
        key = decode_cursor(cursor, filters={"size": size})
        page = conn.execute(
            select(_rows).where(after_key(cols, key, descending=descending)).order_by(*order).limit(size + 1)
        ).all()
        out.extend((r.a, r.b) for r in page[:size])
        if len(page) <= size:
            return out
        cursor = encode_cursor([page[size - 1].a, page[size - 1].b], filters={"size": size})
    raise AssertionError("pagination did not end")


@settings(max_examples=30, deadline=None)
@given(
    rows=st.sets(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b", "c", "d"])), max_size=24),
    size=st.integers(1, 7),
    descending=st.booleans(),
)
def test_pages_cover_every_row_once_in_order(
    engine: Any, rows: set[tuple[int, str]], size: int, descending: bool
) -> None:
    with engine.begin() as conn:
        conn.execute(_rows.delete())
        if rows:
            conn.execute(insert(_rows), [{"a": a, "b": b} for a, b in rows])
        assert _pages(conn, size, descending) == sorted(rows, reverse=descending)


def test_rows_written_between_pages_are_neither_skipped_nor_repeated(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(_rows.delete())
        conn.execute(insert(_rows), [{"a": i, "b": "x"} for i in range(0, 10, 2)])
        cols = [_rows.c.a, _rows.c.b]
        first = conn.execute(select(_rows).order_by(*cols).limit(2)).all()
        conn.execute(insert(_rows), [{"a": 1, "b": "x"}, {"a": 5, "b": "x"}])  # one before, one after
        rest = conn.execute(
            select(_rows).where(after_key(cols, [first[-1].a, first[-1].b])).order_by(*cols)
        ).all()
        assert [r.a for r in first] == [0, 2]
        assert [r.a for r in rest] == [4, 5, 6, 8]


def test_key_of_the_wrong_length_matches_nothing(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(_rows.delete())
        conn.execute(insert(_rows), [{"a": 1, "b": "x"}])
        assert conn.execute(select(_rows).where(after_key([_rows.c.a, _rows.c.b], [0]))).all() == []
        assert len(conn.execute(select(_rows).where(after_key([_rows.c.a], None))).all()) == 1


# -- limits and wire styles -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 100), (0, 100), (-5, 100), (1, 1), (50, 50), (5000, 1000)]
)
def test_clamp(value: int | None, expected: int) -> None:
    assert clamp(value, default=100, maximum=1000) == expected


def test_wire_styles() -> None:
    assert slack_metadata(None) == {"response_metadata": {"next_cursor": ""}}
    assert slack_metadata("abc") == {"response_metadata": {"next_cursor": "abc"}}
    assert google_page([1], None, key="files") == {"files": [1]}
    assert google_page([1], "t", key="files") == {"files": [1], "nextPageToken": "t"}
    page = jira_page([1, 2], start_at=0, max_results=2, total=3)
    assert page == {"startAt": 0, "maxResults": 2, "total": 3, "isLast": False, "values": [1, 2]}
    link = okta_link_header("http://x", "/api/v1/users", {"limit": 2, "after": "old"}, "next1")
    assert (
        link
        == '<http://x/api/v1/users?limit=2>; rel="self", <http://x/api/v1/users?limit=2&after=next1>; rel="next"'
    )
    assert 'rel="next"' not in okta_link_header("http://x", "/u", {}, None)
