"""The seeded fault engine: reproducible decisions, per-tenant counters, windows, budgets,
first-match semantics and delay distributions. Pure (no sockets), on a frozen clock."""

from __future__ import annotations

import math
import statistics
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dtu.clock import ClockRegistry
from dtu.faults.engine import Decision, FaultEngine, delay_seconds
from dtu.faults.model import Delay, parse_profile

T0 = 1_700_000_000.0
OPS = ["chat.postMessage", "conversations.history", "users.list"]


def _engine(
    *rules: dict[str, Any], seed: int = 0, tenant: str | None = None
) -> tuple[FaultEngine, ClockRegistry]:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    engine = FaultEngine("slack", clocks)
    engine.set(parse_profile({"seed": seed, "rules": list(rules)}), tenant)
    return engine, clocks


def _call(
    engine: FaultEngine, tenant: str | None = "t1", operation: str = "chat.postMessage", method: str = "POST"
) -> Decision | None:
    return engine.decide(operation=operation, method=method, path=f"/api/{operation}", tenant=tenant)


def _key(d: Decision | None) -> tuple[str, int, float] | None:
    return (d.rule_id, d.ordinal, d.delay_s) if d else None


_rules = st.lists(
    st.fixed_dictionaries(
        {
            "operation": st.sampled_from([*OPS, "chat.*", None]),
            "probability": st.floats(0.0, 1.0),
            "kind": st.sampled_from(["drop", "rate_limit", "delay"]),
        }
    ),
    min_size=1,
    max_size=4,
)


def _profile_rules(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules = []
    for i, spec in enumerate(specs):
        action: dict[str, Any] = {"kind": spec["kind"]}
        if spec["kind"] == "delay":
            action.update(distribution="lognormal", median_ms=100, p99_ms=1000)
        match = {"operation": spec["operation"]} if spec["operation"] else {}
        rules.append({"id": f"r{i}", "match": match, "probability": spec["probability"], "action": action})
    return rules


# -- determinism --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    specs=_rules,
    calls=st.lists(st.tuples(st.sampled_from(["t1", "t2", "t3"]), st.sampled_from(OPS)), max_size=60),
)
def test_same_seed_and_calls_give_the_same_decisions(
    seed: int, specs: list[dict[str, Any]], calls: list[tuple[str, str]]
) -> None:
    rules = _profile_rules(specs)
    runs = []
    for _ in range(2):
        engine, _ = _engine(*rules, seed=seed)
        runs.append([_key(_call(engine, tenant, op)) for tenant, op in calls])
    assert runs[0] == runs[1]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    specs=_rules,
    mine=st.lists(st.sampled_from(OPS), max_size=40),
    others=st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["t2", "t3"]), st.sampled_from(OPS)), max_size=40
    ),
)
def test_other_tenants_do_not_change_a_tenants_decisions(
    seed: int, specs: list[dict[str, Any]], mine: list[str], others: list[tuple[int, str, str]]
) -> None:
    """Each trajectory runs in its own tenant; its faults must not depend on the others'."""
    rules = _profile_rules(specs)
    alone, _ = _engine(*rules, seed=seed)
    expected = [_key(_call(alone, "t1", op)) for op in mine]

    mixed, _ = _engine(*rules, seed=seed)
    got = []
    for i, op in enumerate([*mine, ""]):
        for at, tenant, other_op in others:
            if at == i:
                _call(mixed, tenant, other_op)
        if op:
            got.append(_key(_call(mixed, "t1", op)))
    assert got == expected


def test_a_different_seed_gives_different_decisions() -> None:
    rule = {"id": "coin", "probability": 0.5, "action": {"kind": "drop"}}
    runs = []
    for seed in (1, 2):
        engine, _ = _engine(rule, seed=seed)
        runs.append([_call(engine) is not None for _ in range(200)])
    assert runs[0] != runs[1]


def test_reloading_a_profile_restarts_its_counters() -> None:
    rule = {"id": "coin", "probability": 0.5, "action": {"kind": "drop"}}
    engine, _ = _engine(rule, seed=9)
    first = [_key(_call(engine)) for _ in range(50)]
    engine.set(parse_profile({"seed": 9, "rules": [rule]}))
    assert [_key(_call(engine)) for _ in range(50)] == first


# -- probability and budget ---------------------------------------------------------------------------


def test_probability_is_close_to_the_nominal_rate() -> None:
    engine, _ = _engine({"id": "quarter", "probability": 0.25, "action": {"kind": "drop"}}, seed=1234)
    fired = sum(_call(engine, tenant=f"t{i % 7}") is not None for i in range(20_000))
    assert abs(fired / 20_000 - 0.25) < 0.015


def test_probability_zero_never_fires_and_one_always_does() -> None:
    engine, _ = _engine(
        {"id": "never", "probability": 0.0, "match": {"operation": "users.list"}, "action": {"kind": "drop"}},
        {"id": "always", "action": {"kind": "outage"}},
    )
    assert {_call(engine, operation="users.list").rule_id for _ in range(100)} == {"always"}  # type: ignore[union-attr]


def test_budget_caps_the_fires_per_tenant() -> None:
    engine, _ = _engine({"id": "three", "budget": {"max_fires": 3}, "action": {"kind": "drop"}})
    assert [_call(engine, "t1") is not None for _ in range(6)] == [True] * 3 + [False] * 3
    assert [_call(engine, "t2") is not None for _ in range(4)] == [True] * 3 + [False]


def test_budget_counts_fires_not_calls() -> None:
    engine, _ = _engine(
        {"id": "b", "probability": 0.3, "budget": {"max_fires": 5}, "action": {"kind": "drop"}}
    )
    fired = [_call(engine) for _ in range(500)]
    hits = [d for d in fired if d is not None]
    assert len(hits) == 5
    assert hits[-1].ordinal > 5  # coin tosses lost in between did not use the budget


def test_ordinal_is_the_rules_nth_matching_call() -> None:
    engine, _ = _engine(
        {"id": "posts", "match": {"operation": "chat.postMessage"}, "action": {"kind": "drop"}}
    )
    _call(engine, operation="users.list")
    assert [_call(engine).ordinal for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
    assert _call(engine, "t2").ordinal == 1  # type: ignore[union-attr]


# -- windows ------------------------------------------------------------------------------------------


def test_after_calls_then_for_s_window() -> None:
    engine, clocks = _engine(
        {"id": "w", "when": {"after_calls": 20, "for_s": 30}, "action": {"kind": "rate_limit"}}
    )
    assert [_call(engine) for _ in range(20)] == [None] * 20
    assert _call(engine) is not None  # the 21st opens the window
    clocks.set(advance_s=29.9)
    assert _call(engine) is not None
    clocks.set(advance_s=0.1)
    assert [_call(engine) for _ in range(10)] == [None] * 10


def test_after_calls_window_is_per_tenant() -> None:
    engine, clocks = _engine({"id": "w", "when": {"after_calls": 2, "for_s": 10}, "action": {"kind": "drop"}})
    assert [_call(engine, "t1") is not None for _ in range(3)] == [False, False, True]
    clocks.set(advance_s=20)
    assert [_call(engine, "t1") is not None for _ in range(2)] == [False, False]  # t1's window closed
    assert [_call(engine, "t2") is not None for _ in range(3)] == [False, False, True]  # t2's opens now


def test_after_calls_without_for_s_stays_open() -> None:
    engine, clocks = _engine({"id": "w", "when": {"after_calls": 1}, "action": {"kind": "drop"}})
    assert _call(engine) is None
    clocks.set(advance_s=10_000)
    assert all(_call(engine) is not None for _ in range(5))


def test_at_s_window_counts_from_profile_load() -> None:
    engine, clocks = _engine({"id": "w", "when": {"at_s": 10, "for_s": 30}, "action": {"kind": "outage"}})
    assert _call(engine) is None
    clocks.set(advance_s=9.99)
    assert _call(engine) is None
    clocks.set(advance_s=0.01)
    assert _call(engine) is not None
    clocks.set(advance_s=29.99)
    assert _call(engine) is not None
    clocks.set(advance_s=0.01)
    assert _call(engine) is None


def test_at_s_without_for_s_never_closes() -> None:
    engine, clocks = _engine({"id": "w", "when": {"at_s": 5}, "action": {"kind": "outage"}})
    assert _call(engine) is None
    clocks.set(advance_s=5)
    assert _call(engine) is not None
    clocks.set(advance_s=86_400)
    assert _call(engine) is not None


def test_at_s_follows_a_tenants_own_clock() -> None:
    engine, clocks = _engine(
        {"id": "w", "when": {"at_s": 10, "for_s": 30}, "action": {"kind": "outage"}}, tenant="t1"
    )
    clocks.set("t1", advance_s=15)
    assert _call(engine, "t1") is not None
    assert _call(engine, "t2") is None  # no profile for t2 at all


def test_twin_wide_at_s_counts_from_load_on_each_tenants_clock() -> None:
    """A tenant whose clock was moved before the profile loaded still meets the window."""
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    clocks.set("ahead", advance_s=3600)
    clocks.set("behind", freeze=True, at=T0 - 86_400)
    engine = FaultEngine("slack", clocks)
    engine.set(
        parse_profile(
            {"rules": [{"id": "w", "when": {"at_s": 10, "for_s": 30}, "action": {"kind": "outage"}}]}
        )
    )
    assert [_call(engine, t) for t in ("ahead", "behind", "plain")] == [None] * 3
    clocks.set(advance_s=10)  # moves "ahead" and "plain"; "behind" is frozen on its own
    assert [_call(engine, t) is not None for t in ("ahead", "behind", "plain")] == [True, False, True]
    clocks.set("behind", advance_s=10)
    assert _call(engine, "behind") is not None


# -- matching and first-match -------------------------------------------------------------------------


def test_first_matching_rule_decides() -> None:
    engine, _ = _engine(
        {"id": "posts", "match": {"operation": "chat.postMessage"}, "action": {"kind": "rate_limit"}},
        {"id": "chat", "match": {"operation": "chat.*"}, "action": {"kind": "error", "status": 500}},
        {"id": "all", "action": {"kind": "outage"}},
    )
    assert _call(engine).rule_id == "posts"  # type: ignore[union-attr]
    assert _call(engine, operation="chat.update").rule_id == "chat"  # type: ignore[union-attr]
    assert _call(engine, operation="users.list").rule_id == "all"  # type: ignore[union-attr]


def test_a_rule_that_does_not_fire_lets_the_next_one_decide() -> None:
    engine, _ = _engine(
        {"id": "once", "budget": {"max_fires": 1}, "action": {"kind": "rate_limit"}},
        {"id": "later", "when": {"after_calls": 100}, "action": {"kind": "drop"}},
        {"id": "fallback", "action": {"kind": "outage"}},
    )
    assert [_call(engine).rule_id for _ in range(3)] == ["once", "fallback", "fallback"]  # type: ignore[union-attr]


def test_a_rule_that_fired_stops_the_evaluation() -> None:
    """Later rules are not even counted when an earlier one fired (their ordinals stay put)."""
    engine, _ = _engine(
        {"id": "first", "budget": {"max_fires": 2}, "action": {"kind": "rate_limit"}},
        {"id": "second", "action": {"kind": "outage"}},
    )
    _call(engine)
    _call(engine)
    assert _call(engine).ordinal == 1  # type: ignore[union-attr]


def test_match_fields() -> None:
    engine, _ = _engine(
        {"id": "get", "match": {"method": "get"}, "action": {"kind": "drop"}},
        {"id": "path", "match": {"path": "/api/users.*"}, "action": {"kind": "outage"}},
        {"id": "tenant", "match": {"tenant": "t9"}, "action": {"kind": "rate_limit"}},
        {"id": "other-twin", "match": {"twin": "okta"}, "action": {"kind": "malformed"}},
    )
    assert _call(engine, method="GET").rule_id == "get"  # type: ignore[union-attr]
    assert _call(engine, operation="users.info").rule_id == "path"  # type: ignore[union-attr]
    assert _call(engine, "t9").rule_id == "tenant"  # type: ignore[union-attr]
    assert _call(engine, "t1") is None


def test_request_rules_and_delivery_rules_never_cross() -> None:
    engine, _ = _engine(
        {"id": "req", "action": {"kind": "outage"}},
        {"id": "dlv", "match": {"delivery": "events"}, "action": {"kind": "duplicate"}},
    )
    d = engine.decide(operation="message", method="POST", path="/hook", tenant="t1", delivery="events")
    assert d is not None and d.rule_id == "dlv"
    assert (
        engine.decide(operation="x", method="POST", path="/hook", tenant="t1", delivery="interactivity")
        is None
    )
    assert _call(engine).rule_id == "req"  # type: ignore[union-attr]


def test_tenant_profile_overrides_the_twin_profile() -> None:
    engine, _ = _engine({"id": "twin-wide", "action": {"kind": "outage"}})
    engine.set(parse_profile({"rules": [{"id": "mine", "action": {"kind": "drop"}}]}), "t1")
    assert _call(engine, "t1").rule_id == "mine"  # type: ignore[union-attr]
    assert _call(engine, "t2").rule_id == "twin-wide"  # type: ignore[union-attr]
    engine.set(None, "t1")
    assert _call(engine, "t1").rule_id == "twin-wide"  # type: ignore[union-attr]


def test_drop_tenant_forgets_its_counters() -> None:
    engine, _ = _engine({"id": "b", "budget": {"max_fires": 1}, "action": {"kind": "drop"}})
    assert _call(engine, "t1") is not None and _call(engine, "t1") is None
    engine.drop_tenant("t1")
    assert _call(engine, "t1") is not None


def test_no_profile_no_decision() -> None:
    engine = FaultEngine("slack", ClockRegistry())
    assert not engine.active and _call(engine) is None
    engine.set(parse_profile({"rules": []}))
    assert engine.active and _call(engine) is None
    engine.clear()
    assert not engine.active


def test_describe_is_what_the_journal_records() -> None:
    engine, _ = _engine({"id": "x", "action": {"kind": "rate_limit"}})
    assert _call(engine).describe() == {"rule": "x", "kind": "rate_limit", "ordinal": 1}  # type: ignore[union-attr]


# -- delays -------------------------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_lognormal_delay_has_the_asked_median_and_p99() -> None:
    action = Delay(kind="delay", distribution="lognormal", median_ms=150, p99_ms=1500)
    samples = [delay_seconds(action, seed) * 1000 for seed in range(20_000)]
    assert 140 < statistics.median(samples) < 160
    assert 1300 < _quantile(samples, 0.99) < 1700
    assert min(samples) > 0


def test_engine_delays_are_drawn_per_call_and_reproducibly() -> None:
    rule = {
        "id": "slow",
        "action": {"kind": "delay", "distribution": "lognormal", "median_ms": 150, "p99_ms": 1500},
    }
    engine, _ = _engine(rule, seed=5)
    delays = [_call(engine).delay_s for _ in range(4000)]  # type: ignore[union-attr]
    assert len(set(delays)) == len(delays)
    assert 0.135 < statistics.median(delays) < 0.165
    again, _ = _engine(rule, seed=5)
    assert [_call(again).delay_s for _ in range(4000)] == delays  # type: ignore[union-attr]


def test_fixed_and_uniform_delays() -> None:
    assert delay_seconds(Delay(kind="delay", ms=250), 1) == 0.25
    uniform = Delay(kind="delay", distribution="uniform", min_ms=100, max_ms=200)
    samples = [delay_seconds(uniform, s) for s in range(2000)]
    assert min(samples) >= 0.1 and max(samples) <= 0.2
    assert math.isclose(statistics.mean(samples), 0.15, abs_tol=0.005)


def test_non_delay_decisions_carry_no_delay() -> None:
    engine, _ = _engine({"id": "x", "action": {"kind": "timeout", "s": 2}})
    d = _call(engine)
    assert d is not None and d.kind == "timeout" and d.delay_s == 0.0 and d.action.s == 2
