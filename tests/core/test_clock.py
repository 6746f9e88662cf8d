"""ClockRegistry: the twin clock, frozen, advanced, per tenant, thawed; never backwards unless
asked to jump with `at`."""

from __future__ import annotations

import time

import pytest

from dtu.clock import ClockRegistry

T0 = 1_700_000_000.0


def test_running_clock_follows_real_time() -> None:
    clocks = ClockRegistry()
    assert clocks.now() == pytest.approx(time.time(), abs=0.5)
    assert clocks.describe() == {
        "now": pytest.approx(time.time(), abs=0.5),
        "frozen": False,
        "offset_s": 0.0,
        "tenant": None,
    }


def test_freeze_stops_the_clock() -> None:
    clocks = ClockRegistry()
    described = clocks.set(freeze=True)
    first = clocks.now()
    time.sleep(0.01)
    assert clocks.now() == first == described["now"]
    assert described["frozen"] is True


def test_freeze_at_a_time_and_advance_exactly() -> None:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    assert clocks.now() == T0
    clocks.set(advance_s=90.5)
    assert clocks.now() == T0 + 90.5
    assert clocks.set(at=T0 - 10)["now"] == T0 - 10  # `at` may jump anywhere, and stays frozen
    assert clocks.describe()["frozen"] is True


def test_advance_a_running_clock() -> None:
    clocks = ClockRegistry()
    clocks.set(advance_s=3600)
    assert clocks.now() == pytest.approx(time.time() + 3600, abs=0.5)
    assert clocks.describe()["offset_s"] == pytest.approx(3600, abs=0.01)
    assert clocks.describe()["frozen"] is False


def test_at_on_a_running_clock_keeps_it_running() -> None:
    clocks = ClockRegistry()
    clocks.set(at=T0)
    first = clocks.now()
    assert first == pytest.approx(T0, abs=0.1)
    time.sleep(0.02)
    assert clocks.now() > first


def test_thaw_resumes_from_the_frozen_instant() -> None:
    """Thawing must not send the clock back to real time: token expiry and scheduled
    messages assume time never runs backwards."""
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=time.time() + 7200)
    frozen = clocks.now()
    described = clocks.set(freeze=False)
    assert described["frozen"] is False
    assert frozen <= clocks.now() < frozen + 1
    time.sleep(0.02)
    assert clocks.now() > frozen


def test_tenant_offset_leaves_the_twin_and_other_tenants_alone() -> None:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    clocks.set("t1", advance_s=100)
    assert clocks.now("t1") == T0 + 100
    assert clocks.now() == T0
    assert clocks.now("t2") == T0
    assert clocks.describe("t1")["tenant"] == "t1"
    assert clocks.describe("t2")["tenant"] is None


def test_tenant_offset_rides_on_the_twin_clock() -> None:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    clocks.set("t1", advance_s=100)
    clocks.set(advance_s=50)
    assert clocks.now("t1") == T0 + 150


def test_tenant_freeze_is_its_own() -> None:
    clocks = ClockRegistry()
    clocks.set("t1", freeze=True, at=T0)
    assert clocks.now("t1") == T0
    assert clocks.now() == pytest.approx(time.time(), abs=0.5)
    clocks.set(advance_s=1000)  # the twin moves; a frozen tenant does not
    assert clocks.now("t1") == T0
    clocks.set("t1", freeze=False)
    assert clocks.now("t1") == pytest.approx(T0, abs=0.5)


def test_for_tenant_view() -> None:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    view = clocks.for_tenant("t1")
    clocks.set("t1", advance_s=5)
    assert view.now() == T0 + 5


def test_drop_tenant_and_reset() -> None:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    clocks.set("t1", advance_s=5)
    clocks.drop_tenant("t1")
    assert clocks.now("t1") == T0
    clocks.reset()
    assert clocks.describe()["frozen"] is False
    assert clocks.now() == pytest.approx(time.time(), abs=0.5)


def test_export_and_load_round_trip() -> None:
    clocks = ClockRegistry()
    clocks.set(freeze=True, at=T0)
    clocks.set("t1", advance_s=7)
    saved = clocks.export()
    clocks.reset()
    clocks.load(saved)
    assert clocks.now() == T0 and clocks.now("t1") == T0 + 7
