"""`dtu.sql.Prepared` gives what SQLAlchemy gives, and `dtu.cache` never serves a value that a
committed write has made stale: on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import JSON, String, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from dtu.cache import TenantCache
from dtu.db import Base, Store, TenantScoped, table
from dtu.sql import Prepared


class Item(TenantScoped, Base):
    __tablename__ = "dtutest_item"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    done: Mapped[bool] = mapped_column(default=False)
    size: Mapped[float] = mapped_column(default=0.0)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


ITEM = table(Item)
_BY_ID = select(ITEM).where(ITEM.c.tenant_id == bindparam("tenant"), ITEM.c.id == bindparam("id"))
_INSERT = Prepared(insert(ITEM), columns=[c.name for c in ITEM.columns])
_RENAME = Prepared(
    update(ITEM)
    .where(ITEM.c.tenant_id == bindparam("tenant"), ITEM.c.id == bindparam("id"))
    .values(name=bindparam("new_name"))
)

VALUES: list[dict[str, Any]] = [
    {"id": "a", "name": "plain", "done": True, "size": 1.5, "data": {"k": [1, "two", None, True]}},
    {"id": "b", "name": None, "done": False, "size": 0.0, "data": None},
    {"id": "c", "name": "ünïcode ✓", "done": False, "size": -2.0, "data": {"big": 2**70, "f": 0.1}},
    {"id": "d", "name": "", "done": True, "size": 1e300, "data": [[], {}, "", 0]},
]


@pytest.fixture
def store(dtu_db_url: str | None) -> Iterator[Store]:
    s = Store.open(dtu_db_url or "sqlite://", [ITEM], twin="dtutest")
    s.run_sync(lambda conn: conn.execute(ITEM.delete()))
    yield s
    s.run_sync(lambda conn: conn.execute(ITEM.delete()))
    s.dispose()


def test_prepared_reads_and_writes_what_core_does(store: Store) -> None:
    for v in VALUES:
        store.run_sync(lambda conn, v=v: _INSERT.execute(conn, {"tenant_id": "t1", **v}))
    store.run_sync(lambda conn: conn.execute(insert(ITEM).values(tenant_id="t2", **VALUES[0])))
    prepared = Prepared(_BY_ID)
    for v in VALUES:
        params = {"tenant": "t1", "id": v["id"]}
        core = store.run_sync(lambda conn, p=params: conn.execute(_BY_ID, p).first())
        fast = store.run_sync(lambda conn, p=params: prepared.first(conn, p))
        assert tuple(fast) == tuple(core)
        assert fast._asdict() == dict(core._mapping)
        assert fast.data == v["data"] and fast.done is v["done"]
    everything = Prepared(select(ITEM).where(ITEM.c.tenant_id == bindparam("tenant")).order_by(ITEM.c.id))
    rows = store.run_sync(lambda conn: everything.all(conn, {"tenant": "t1"}))
    assert [r.id for r in rows] == ["a", "b", "c", "d"]
    assert store.run_sync(lambda conn: prepared.first(conn, {"tenant": "t1", "id": "zz"})) is None
    n = store.run_sync(lambda conn: _RENAME.execute(conn, {"tenant": "t1", "id": "a", "new_name": "x"}))
    assert n == 1
    assert store.run_sync(lambda conn: prepared.first(conn, {"tenant": "t2", "id": "a"})).name == "plain"


def test_prepared_statement_joins_the_unit_of_work(store: Store) -> None:
    """A Prepared write rolls back with the transaction it ran in."""

    def fail(conn: Any) -> None:
        _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[0]})
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.run_sync(fail)
    assert store.run_sync(lambda conn: conn.execute(select(ITEM)).all()) == []


def test_prepared_refuses_expanding_parameters(store: Store) -> None:
    stmt = Prepared(select(ITEM).where(ITEM.c.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        store.run_sync(lambda conn: stmt.all(conn, {"ids": ["a"]}))


def _cached_name(store: Store, cache: TenantCache[Any, Any], tenant: str, item: str) -> Any:
    def read(conn: Any) -> Any:
        store.note_tenant(conn, tenant)
        row = conn.execute(_BY_ID, {"tenant": tenant, "id": item}).first()
        return tenant, None if row is None else row.name

    return store.run_sync(lambda conn: cache.get((tenant, item), lambda: read(conn)))


def _write(store: Store, tenant: str, fn: Any) -> Any:
    def work(conn: Any) -> Any:
        store.note_tenant(conn, tenant)
        return fn(conn)

    return store.run_sync(work)


def test_cache_follows_every_kind_of_write(store: Store) -> None:
    cache: TenantCache[Any, Any] = TenantCache(store.versions, [ITEM.name])
    _write(store, "t1", lambda conn: _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[0]}))
    assert _cached_name(store, cache, "t1", "a") == "plain"
    # a Core update
    _write(store, "t1", lambda conn: conn.execute(update(ITEM).values(name="core")))
    assert _cached_name(store, cache, "t1", "a") == "core"
    # a Prepared update
    _write(store, "t1", lambda conn: _RENAME.execute(conn, {"tenant": "t1", "id": "a", "new_name": "fast"}))
    assert _cached_name(store, cache, "t1", "a") == "fast"
    # a write whose tenant is unknown (the control plane's wipe) drops everything
    store.run_sync(lambda conn: store.wipe(conn, "t1"))
    assert _cached_name(store, cache, "t1", "a") is None
    # another tenant's write leaves t1's entry valid, and it is still right
    _write(store, "t1", lambda conn: _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[1]}))
    assert _cached_name(store, cache, "t1", "b") is None  # VALUES[1] has no name
    _write(store, "t2", lambda conn: _INSERT.execute(conn, {"tenant_id": "t2", **VALUES[0]}))
    assert _cached_name(store, cache, "t2", "a") == "plain"
    assert _cached_name(store, cache, "t1", "b") is None


def test_value_read_inside_a_rolled_back_write_is_not_kept(store: Store) -> None:
    cache: TenantCache[Any, Any] = TenantCache(store.versions, [ITEM.name])
    _write(store, "t1", lambda conn: _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[0]}))

    def rename_read_then_fail(conn: Any) -> None:
        store.note_tenant(conn, "t1")
        _RENAME.execute(conn, {"tenant": "t1", "id": "a", "new_name": "uncommitted"})
        seen = cache.get(
            ("t1", "a"), lambda: ("t1", conn.execute(_BY_ID, {"tenant": "t1", "id": "a"}).first().name)
        )
        assert seen == "uncommitted"
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        store.run_sync(rename_read_then_fail)
    assert _cached_name(store, cache, "t1", "a") == "plain"


def test_reader_racing_a_writer_keeps_no_stale_value(store: Store) -> None:
    """A reader that loads while a writer's transaction is open, and caches after it commits,
    must not keep the old value (PostgreSQL runs units in parallel threads)."""
    if store.is_sqlite:
        pytest.skip("SQLite runs one unit at a time")
    cache: TenantCache[Any, Any] = TenantCache(store.versions, [ITEM.name])
    _write(store, "t1", lambda conn: _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[0]}))
    written = threading.Event()
    read = threading.Event()

    def writer(conn: Any) -> None:
        store.note_tenant(conn, "t1")
        _RENAME.execute(conn, {"tenant": "t1", "id": "a", "new_name": "new"})
        written.set()
        assert read.wait(5)

    def reader() -> None:
        assert written.wait(5)
        _cached_name(store, cache, "t1", "a")  # sees "plain": the rename is not committed
        read.set()

    thread = threading.Thread(target=reader)
    thread.start()
    store.run_sync(writer)
    thread.join(5)
    assert _cached_name(store, cache, "t1", "a") == "new"


def test_disabled_cache_always_loads(store: Store) -> None:
    cache: TenantCache[Any, Any] = TenantCache(store.versions, [ITEM.name], enabled=False)
    loads = []
    for _ in range(3):
        cache.get("k", lambda: loads.append(1) or ("t1", "v"))
    assert len(loads) == 3


def test_a_driver_error_is_sqlalchemys(store: Store) -> None:
    """`Prepared` raises what `conn.execute` would: SQLAlchemy's IntegrityError, which the
    control plane turns into a 409, not the driver's own class (a 500)."""
    _write(store, "t1", lambda conn: _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[0]}))
    with pytest.raises(IntegrityError):
        _write(store, "t1", lambda conn: _INSERT.execute(conn, {"tenant_id": "t1", **VALUES[0]}))
    assert store.run_sync(lambda conn: conn.execute(select(ITEM)).all())  # the first row is still there
