"""The delivery engine over real HTTP: the vendor's retry schedule, and which failures it retries."""

from __future__ import annotations

import asyncio

import pytest

from dtu.clock import ClockRegistry
from dtu.delivery import Delivery, DeliveryEngine
from dtu.faults.engine import FaultEngine
from dtu.testing.receiver import Receiver


def _google_retries(status: int | None) -> bool:
    return status is None or status >= 500


async def _deliver(receiver: Receiver, retry_on: object) -> Delivery:
    clocks = ClockRegistry()
    engine = DeliveryEngine("test", clocks, FaultEngine("test", clocks), retry_scale=0.0)
    await engine.start()
    try:
        delivery = engine.enqueue(
            Delivery(
                tenant="t1",
                kind="push",
                target=receiver.url,
                body=b"{}",
                retry_after_s=[1, 1, 1],
                retry_on=retry_on,  # type: ignore[arg-type]
            )
        )
        for _ in range(300):
            if delivery.state != "pending":
                break
            await asyncio.sleep(0.01)
        await engine.drain()
        return delivery
    finally:
        await engine.stop()


@pytest.mark.parametrize(
    ("status", "retry_on", "attempts"),
    [
        (500, None, 4),  # by default every failure is retried, on the whole schedule
        (404, None, 4),
        (500, _google_retries, 4),
        (404, _google_retries, 1),  # Google does not retry a 4xx
    ],
)
def test_which_failures_are_retried(status: int, retry_on: object, attempts: int) -> None:
    with Receiver(status=status) as receiver:
        delivery = asyncio.run(_deliver(receiver, retry_on))
        assert delivery.state == "failed"
        assert [a.status for a in delivery.attempts] == [status] * attempts
        assert len(receiver.requests) == attempts


def test_a_success_is_not_retried() -> None:
    with Receiver(status=200) as receiver:
        delivery = asyncio.run(_deliver(receiver, _google_retries))
        assert delivery.state == "delivered" and len(delivery.attempts) == 1
        assert len(receiver.requests) == 1


def test_the_log_by_tenant_keeps_its_bound_and_forgets_a_dropped_tenant() -> None:
    clocks = ClockRegistry()
    engine = DeliveryEngine("test", clocks, FaultEngine("test", clocks), keep=5)
    for i in range(8):  # never started: nothing is sent, the log is what is tested
        engine.enqueue(Delivery(tenant=f"t{i % 2}", kind="k", target="http://127.0.0.1:9/", body=b"{}"))
    assert [d["id"] for d in engine.query()] == [f"dlv-{n}" for n in range(4, 9)]  # the last 5
    assert [d["id"] for d in engine.query(tenant="t0")] == ["dlv-5", "dlv-7"]
    assert [d["id"] for d in engine.query(tenant="t1")] == ["dlv-4", "dlv-6", "dlv-8"]
    engine.clear("t1")
    assert [d["id"] for d in engine.query()] == ["dlv-5", "dlv-7"]
    assert engine.query(tenant="t1") == []
