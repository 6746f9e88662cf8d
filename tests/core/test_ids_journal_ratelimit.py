"""Deterministic ids, the request journal and the fixed-window rate limiter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dtu.db import Store
from dtu.ids import Ids, encode, stable_hash
from dtu.journal import Journal
from dtu.ratelimit import Limit, RateLimiter

# -- Ids ---------------------------------------------------------------------------------------------


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store.open("sqlite://", [])
    yield s
    s.dispose()


def _mint(store: Store, seed: int, tenant: str, fn: Callable[[Ids], Any]) -> Any:
    return store.run_sync(lambda conn: fn(Ids(conn, seed=seed, tenant=tenant)))


def _three_users(ids: Ids) -> list[str]:
    return [ids.token("user", prefix="U", length=11) for _ in range(3)]


def test_same_seed_tenant_and_kind_give_the_same_ids() -> None:
    runs = []
    for _ in range(2):
        s = Store.open("sqlite://", [])
        runs.append(_mint(s, 7, "t1", _three_users))
        s.dispose()
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 3


def test_ids_differ_across_tenants_seeds_and_kinds(store: Store) -> None:
    a = _mint(store, 7, "t1", _three_users)
    b = _mint(store, 7, "t2", _three_users)
    c = _mint(store, 8, "t3", _three_users)
    d = _mint(store, 7, "t1", lambda ids: [ids.token("channel", prefix="U", length=11) for _ in range(3)])
    assert not set(a) & set(b) and not set(a) & set(c) and not set(a) & set(d)


def test_sequences_are_per_tenant_and_kind(store: Store) -> None:
    assert _mint(store, 0, "t1", lambda ids: [ids.next("user"), ids.next("user"), ids.next("channel")]) == [
        1,
        2,
        1,
    ]
    assert _mint(store, 0, "t2", lambda ids: ids.next("user")) == 1
    assert _mint(store, 0, "t1", lambda ids: (ids.peek("user"), ids.peek("nothing"))) == (2, 0)


def test_counters_persist_across_units_of_work(store: Store) -> None:
    first = _mint(store, 0, "t1", lambda ids: ids.token("user", prefix="U"))
    second = _mint(store, 0, "t1", lambda ids: ids.token("user", prefix="U"))
    assert first != second
    assert _mint(store, 0, "t1", lambda ids: ids.peek("user")) == 2


def test_a_rolled_back_unit_of_work_rewinds_its_ids(store: Store) -> None:
    minted: list[str] = []

    def fail(conn: Any) -> None:
        minted.append(Ids(conn, seed=0, tenant="t1").token("user", prefix="U"))
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        store.run_sync(fail)
    assert _mint(store, 0, "t1", lambda ids: ids.token("user", prefix="U")) == minted[0]


def test_token_shape(store: Store) -> None:
    token = _mint(store, 0, "t1", lambda ids: ids.token("file", prefix="F", length=11))
    assert len(token) == 11 and token.startswith("F") and token.isalnum() and token.upper() == token
    hexed = _mint(store, 0, "t1", lambda ids: ids.hex("secret", 32))
    assert len(hexed) == 32 and int(hexed, 16) >= 0


def test_encode_and_stable_hash() -> None:
    assert encode(b"\x00", 4) == "0000"
    assert encode((35).to_bytes(1, "big"), 2) == "Z0"
    assert stable_hash("a", 1, None) == stable_hash("a", 1, None)
    assert stable_hash("a", 1) != stable_hash("a", 2)
    assert 0 <= stable_hash("x") < 2**64


# -- Journal -----------------------------------------------------------------------------------------


def _record(
    j: Journal, tenant: str | None, operation: str, status: int = 200, fault: dict[str, Any] | None = None
) -> None:
    j.record(
        time=1.0,
        tenant=tenant,
        operation=operation,
        method="POST",
        path=f"/api/{operation}",
        status=status,
        latency_ms=1.23456,
        fault=fault,
    )


def test_journal_entries_and_filters() -> None:
    j = Journal("slack")
    _record(j, "t1", "chat.postMessage")
    _record(j, "t2", "users.list", fault={"rule": "r", "kind": "drop", "ordinal": 1})
    _record(j, "t1", "users.list", status=429)
    entries = j.query()
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0] == {
        "seq": 1,
        "time": 1.0,
        "twin": "slack",
        "tenant": "t1",
        "operation": "chat.postMessage",
        "method": "POST",
        "path": "/api/chat.postMessage",
        "status": 200,
        "latency_ms": 1.235,
        "fault": None,
    }
    assert [e["seq"] for e in j.query(tenant="t1")] == [1, 3]
    assert [e["seq"] for e in j.query(since=1)] == [2, 3]
    assert [e["seq"] for e in j.query(operation="users.list")] == [2, 3]
    assert [e["seq"] for e in j.query(limit=2)] == [2, 3]  # the newest
    assert j.query(tenant="t2")[0]["fault"] == {"rule": "r", "kind": "drop", "ordinal": 1}


def test_journal_is_bounded_and_seq_keeps_growing() -> None:
    j = Journal("slack", maxlen=5)
    for i in range(12):
        _record(j, "t1", f"op{i}")
    assert [e["seq"] for e in j.query()] == [8, 9, 10, 11, 12]


def test_journal_clear() -> None:
    j = Journal("slack")
    _record(j, "t1", "a")
    _record(j, "t2", "b")
    j.clear("t1")
    assert [e["tenant"] for e in j.query()] == ["t2"]
    j.clear()
    assert j.query() == []
    _record(j, "t1", "c")
    assert j.query()[0]["seq"] == 3  # a poller's `since` never goes stale


def test_journal_tenant_reads_past_a_cursor_combine_filters() -> None:
    j = Journal("slack")
    for i in range(6):
        _record(j, "t1" if i % 2 == 0 else "t2", "users.list" if i < 3 else "chat.postMessage")
    assert [e["seq"] for e in j.query(tenant="t1", since=1)] == [3, 5]
    assert [e["seq"] for e in j.query(tenant="t1", since=1, operation="chat.postMessage")] == [5]
    assert [e["seq"] for e in j.query(tenant="t2", limit=2)] == [4, 6]  # the newest two
    assert [e["seq"] for e in j.query(tenant="t2", limit=0)] == [2, 4, 6]  # 0: all
    assert j.query(tenant="t1", since=5) == [] and j.query(tenant="nobody") == []
    assert [e["seq"] for e in j.query(since=4)] == [5, 6]


def test_journal_bound_counts_live_entries_across_clears() -> None:
    """Entries of a cleared tenant free their room at once: the newest `maxlen` entries that
    were not cleared are kept, whatever order tenants were cleared in."""
    j = Journal("slack", maxlen=4)
    for tenant in ("a", "a", "b", "a"):
        _record(j, tenant, "op")
    j.clear("a")
    for _ in range(3):
        _record(j, "c", "op")
    assert [(e["tenant"], e["seq"]) for e in j.query()] == [("b", 3), ("c", 5), ("c", 6), ("c", 7)]
    _record(j, "c", "op")  # the oldest live entry goes: b's
    assert [e["seq"] for e in j.query()] == [5, 6, 7, 8] and j.query(tenant="b") == []
    assert [e["seq"] for e in j.query(tenant="c", since=6)] == [7, 8]


def test_journal_many_tenants_recorded_and_dropped_stay_bounded() -> None:
    """What a long harness campaign does: tenants come, make requests and are dropped, while a
    long-lived tenant stays; the log never holds more than its bound plus a compaction's
    worth of dropped entries, and the survivor's entries are all there."""
    j = Journal("slack", maxlen=50)
    _record(j, "default", "auth.test")
    for n in range(3000):
        for _ in range(3):
            _record(j, f"h{n}", "chat.postMessage")
        assert len(j.query(tenant=f"h{n}")) == 3
        j.clear(f"h{n}")
    assert [e["operation"] for e in j.query()] == ["auth.test"]
    assert len(j._all) <= 50 + 1024


def test_journal_idle_is_per_tenant() -> None:
    j = Journal("slack")
    assert j.idle_s("t1") is None and j.idle_s() is None
    _record(j, "t1", "op")
    idle = j.idle_s("t1")
    assert idle is not None and idle >= 0
    assert j.idle_s("t2") is None and j.idle_s() is not None
    j.clear("t1")
    assert j.idle_s("t1") is None


# -- RateLimiter -------------------------------------------------------------------------------------

TIER3 = Limit("tier:conversations.history", 50, 60.0)


def test_limit_then_refuse_with_retry_after() -> None:
    limiter = RateLimiter()
    now = 6000.0  # the start of a window
    verdicts = [limiter.hit("t1", TIER3, now + i * 0.1) for i in range(51)]
    assert all(v.allowed for v in verdicts[:50])
    assert [v.remaining for v in verdicts[:3]] == [49, 48, 47]
    refused = verdicts[50]
    assert not refused.allowed and refused.remaining == 0
    assert refused.reset_at == 6060.0
    assert refused.retry_after_s == 55  # ceil(6060 - 6005)


def test_a_new_window_starts_afresh() -> None:
    limiter = RateLimiter()
    for _ in range(50):
        limiter.hit("t1", TIER3, 6010.0)
    assert not limiter.hit("t1", TIER3, 6059.9).allowed
    assert limiter.hit("t1", TIER3, 6060.0).allowed


def test_retry_after_is_at_least_one_second() -> None:
    limiter = RateLimiter()
    limit = Limit("k", 1, 60.0)
    limiter.hit("t1", limit, 6059.5)
    assert limiter.hit("t1", limit, 6059.9).retry_after_s == 1


def test_limits_are_per_tenant_and_per_key() -> None:
    limiter = RateLimiter()
    one = Limit("a", 1, 60.0)
    assert limiter.hit("t1", one, 6000.0).allowed
    assert not limiter.hit("t1", one, 6000.0).allowed
    assert limiter.hit("t2", one, 6000.0).allowed
    assert limiter.hit("t1", Limit("b", 1, 60.0), 6000.0).allowed


def test_a_full_window_stays_full_until_the_next() -> None:
    limiter = RateLimiter()
    two = Limit("a", 2, 60.0)
    for _ in range(10):
        limiter.hit("t1", two, 6000.0)
    assert limiter.peek("t1", two, 6000.0).remaining == 0
    assert limiter.hit("t1", two, 6060.0).remaining == 1


def test_peek_does_not_count_and_clear_forgets() -> None:
    limiter = RateLimiter()
    one = Limit("a", 1, 60.0)
    assert limiter.peek("t1", one, 6000.0).remaining == 1
    assert limiter.peek("t1", one, 6000.0).remaining == 1
    limiter.hit("t1", one, 6000.0)
    limiter.hit("t2", one, 6000.0)
    limiter.clear("t1")
    assert limiter.hit("t1", one, 6000.0).allowed
    assert not limiter.hit("t2", one, 6000.0).allowed
    limiter.clear()
    assert limiter.hit("t2", one, 6000.0).allowed
