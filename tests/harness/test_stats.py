"""Satisfaction math: the Wilson interval against published values, percentiles, grouping."""

from __future__ import annotations

import pytest

from harness.stats import percentile, rate, summarize, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (0, 10, 0.0, 0.2775),  # the rule-of-three regime: the interval does not collapse at 0%
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),  # Wilson interval for 81/263 (Newcombe 1998, table I)
        (1, 20, 0.0089, 0.2361),
        (950, 1000, 0.9347, 0.9619),  # by hand: centre 0.94830, half-width 0.01359
    ],
)
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-4) and got[1] == pytest.approx(hi, abs=1e-4)


def test_wilson_no_data_and_bad_input() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_rate_and_percentile() -> None:
    assert rate(9, 10)["satisfaction"] == 0.9 and rate(0, 0)["satisfaction"] is None
    assert (
        percentile([5, 1, 4, 2, 3], 50) == 3
        and percentile([1.0] * 3, 99) == 1.0
        and percentile([], 50) == 0.0
    )


def _trace(tid: str, ok: bool, cause: str | None = None, ms: float = 10.0) -> dict[str, object]:
    return {
        "id": tid,
        "scenario": tid.split("~")[0],
        "satisfied": ok,
        "cause": cause,
        "duration_ms": ms,
        "faults": [],
        "checks": [{"id": "c", "ok": ok}],
        "steps": [],
        "error": None,
    }


def test_summarize_groups_causes_with_one_example() -> None:
    traces = [
        _trace("a~0~0", True),
        _trace("a~0~1", False, "check c failed", 50),
        _trace("a~0~2", False, "check c failed"),
        _trace("b~0~0", False, "step s failed", 99),
    ]
    s = summarize(traces)  # type: ignore[arg-type]
    assert s["overall"]["satisfied"] == 1 and s["overall"]["total"] == 4
    assert [(c["scenario"], c["count"], c["example"]) for c in s["causes"]] == [
        ("a", 2, "a~0~1"),
        ("b", 1, "b~0~0"),
    ]
    assert s["slowest"][0]["id"] == "b~0~0"
    assert {x["id"]: x["checks"]["c"] for x in s["scenarios"]}["a"] == {"passed": 1, "evaluated": 3}
