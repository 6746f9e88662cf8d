"""The shipped fault profiles (fault_profiles/*.yaml) load, fit the Slack twin, do what their
comments say, and the committed JSON schema is the one the model exports.

Regenerate the schema after changing dtu/faults/model.py:
    DTU_WRITE_SCHEMA=1 python -m pytest tests/core/test_profiles.py -k schema
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dtu.clock import ClockRegistry
from dtu.faults.engine import FaultEngine
from dtu.faults.model import FaultProfile, load_profile_text, validate_against
from dtu.runtime import TwinRuntime
from dtu.settings import TwinSettings
from twins.slack import TWIN

PROFILES_DIR = Path(__file__).resolve().parents[2] / "fault_profiles"
PROFILES = sorted(PROFILES_DIR.glob("*.yaml"))
EXPECTED = {
    "flaky-network",
    "slack-rate-limited",
    "outage-window",
    "slow-everything",
    "real-limits",
    "stale-reads",
}


def _schema_text() -> str:
    return json.dumps(FaultProfile.model_json_schema(), indent=2, sort_keys=True) + "\n"


def test_committed_schema_is_current() -> None:
    path = PROFILES_DIR / "schema.json"
    if os.environ.get("DTU_WRITE_SCHEMA"):
        path.write_text(_schema_text())
    assert path.read_text() == _schema_text(), (
        "fault_profiles/schema.json is stale: rerun this test with DTU_WRITE_SCHEMA=1"
    )


def test_the_expected_profiles_ship() -> None:
    assert {p.stem for p in PROFILES} >= EXPECTED


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_profile_loads_and_fits_the_slack_twin(path: Path) -> None:
    text = path.read_text()
    assert text.lstrip().startswith("#"), "a shipped profile starts with a comment saying what it does"
    profile = load_profile_text(text)
    assert profile.name == path.stem
    assert profile.rules
    validate_against(
        profile,
        twin="slack",
        operations=set(TWIN.operations),
        points=set(TWIN.fault_points),
        deliveries=set(TWIN.deliveries),
    )


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_profile_loads_as_dtu_up_faults(path: Path) -> None:
    """`dtu up --faults FILE` goes through TwinSettings.faults_file and the runtime's checks."""
    rt = TwinRuntime(TWIN, TwinSettings(faults_file=str(path)))
    try:
        active = rt.faults.get()
        assert active is not None and active.name == path.stem
    finally:
        rt.store.dispose()


def _engine(name: str) -> tuple[FaultEngine, ClockRegistry]:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=1_000_000.0)
    engine = FaultEngine("slack", clocks)
    engine.set(load_profile_text((PROFILES_DIR / f"{name}.yaml").read_text()))
    return engine, clocks


def _post(engine: FaultEngine, tenant: str = "t1", operation: str = "chat.postMessage") -> str | None:
    d = engine.decide(operation=operation, method="POST", path=f"/api/{operation}", tenant=tenant)
    return d.kind if d else None


def test_slack_rate_limited_spares_the_first_20_posts_and_fires_at_most_10_times() -> None:
    engine, _ = _engine("slack-rate-limited")
    assert [_post(engine) for _ in range(20)] == [None] * 20
    window = [_post(engine) for _ in range(200)]
    assert window.count("rate_limit") == 10  # the budget, well inside the 30 s window
    assert set(window) == {None, "rate_limit"}
    assert _post(engine, operation="conversations.history") is None


def test_slack_rate_limited_window_closes_after_30_s() -> None:
    engine, clocks = _engine("slack-rate-limited")
    for _ in range(20):
        _post(engine)
    _post(engine)  # the 21st call opens the window
    clocks.set(advance_s=30)
    assert [_post(engine) for _ in range(100)] == [None] * 100


def test_slack_rate_limited_duplicates_events() -> None:
    engine, _ = _engine("slack-rate-limited")
    d = engine.decide(
        operation="message", method="POST", path="/slack/events", tenant="t1", delivery="events"
    )
    assert d is not None and d.kind == "duplicate" and d.action.copies == 1


def test_outage_window_is_10_to_40_s_after_load() -> None:
    engine, clocks = _engine("outage-window")
    assert _post(engine) is None
    clocks.set(advance_s=9.9)
    assert _post(engine) is None
    clocks.set(advance_s=0.1)
    assert _post(engine) == "outage"
    assert _post(engine, operation="users.list") == "outage"
    clocks.set(advance_s=29.9)
    assert _post(engine) == "outage"
    clocks.set(advance_s=0.1)
    assert _post(engine) is None


def test_flaky_network_fails_rarely_but_does_fail() -> None:
    engine, _ = _engine("flaky-network")
    kinds = [_post(engine, tenant="t1") for _ in range(5000)]
    faulted = [k for k in kinds if k is not None]
    assert 0.04 < len(faulted) / len(kinds) < 0.10  # ~1% + 0.5% + 5% + 0.5%
    assert set(faulted) == {"drop", "timeout", "delay", "malformed"}


def test_slow_everything_delays_requests_and_deliveries() -> None:
    engine, _ = _engine("slow-everything")
    req = engine.decide(operation="users.list", method="GET", path="/api/users.list", tenant="t1")
    dlv = engine.decide(operation="message", method="POST", path="/x", tenant="t1", delivery="events")
    assert req is not None and req.kind == "delay" and req.delay_s > 0
    assert dlv is not None and dlv.kind == "delay" and dlv.delay_s > 0


@pytest.mark.parametrize(("name", "kind"), [("real-limits", "real_limits"), ("stale-reads", "stale_reads")])
def test_every_call_meets_the_profile(name: str, kind: str) -> None:
    engine, _ = _engine(name)
    assert {
        _post(engine, tenant=f"t{i % 3}", operation=op)
        for i, op in enumerate(["chat.postMessage", "conversations.history", "users.list"] * 5)
    } == {kind}
