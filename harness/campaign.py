"""A campaign: N trajectories of each scenario, C at a time, then replays to find flakiness.

Trajectories are interleaved across scenarios (round-robin), so a run stopped early (Ctrl-C,
a dead twin, the app gone) still reports on every scenario. Too many infrastructure errors in
a row (a twin or the app died) abort the campaign: what finished is still reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.model import Scenario
from harness.runner import Profile, Runner, fingerprint, parse_id, split_profile


@dataclass
class Progress:
    total: int
    done: int = 0
    satisfied: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        sat = f"{100 * self.satisfied / self.done:5.1f}%" if self.done else "  -  "
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  satisfied {sat}  "
            f"{self.rate:5.1f} traj/s"
        )


@dataclass
class CampaignResult:
    traces: list[dict[str, Any]]
    flaky: list[dict[str, Any]]
    aborted: str | None
    started_at: float
    duration_s: float
    planned: int


async def run_campaign(
    runner: Runner,
    scenarios: list[Scenario],
    *,
    trajectories: int,
    concurrency: int,
    seed: int,
    replays: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
    only: list[str] | None = None,
    max_infra_errors: int = 0,
    profiles: list[Profile] | None = None,
) -> CampaignResult:
    """Run the plan (or the trajectory ids in `only`) and `replays` replays. With several
    `profiles`, every trajectory of the plan runs under each (its id says which); with one, it
    replaces the runner's fault profile."""
    by_id = {s.id: s for s in scenarios}
    arms: list[Profile | None] = list(profiles) if profiles else [None]
    tag = len(arms) > 1
    by_name = {p.name: p for p in arms if p is not None}
    plan: list[tuple[Scenario, int, int, Profile | None]] = []
    if only:
        for tid in only:
            head, run_seed, index = parse_id(tid)
            sid, pname = split_profile(head)
            if sid not in by_id:
                raise ValueError(f"trajectory {tid}: no scenario {sid!r} among those given")
            if pname is not None and pname not in by_name:
                raise ValueError(f"trajectory {tid}: no fault profile {pname!r} among those given")
            if pname is None and tag:
                raise ValueError(f"trajectory {tid}: several fault profiles given, the id names none")
            plan.append((by_id[sid], run_seed, index, by_name[pname] if pname else arms[0]))
        tag = any(split_profile(parse_id(t)[0])[1] for t in only)
    else:
        plan = [(s, seed, i, p) for i in range(trajectories) for p in arms for s in scenarios]
    from harness.steps import warm

    warm({step.action for s, *_ in plan for step in s.steps})
    progress = Progress(total=len(plan))
    traces: list[dict[str, Any]] = []
    aborted: str | None = None
    limit = max_infra_errors or max(10, 2 * concurrency)
    streak = 0
    started_at, t0 = time.time(), time.perf_counter()
    queue: asyncio.Queue[tuple[Scenario, int, int, Profile | None]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    stop = asyncio.Event()

    async def worker() -> None:
        nonlocal streak, aborted
        while not stop.is_set():
            try:
                scenario, run_seed, index, profile = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            trace = await runner.run(scenario, run_seed, index, profile, tag=tag)
            traces.append(trace)
            progress.done += 1
            progress.satisfied += 1 if trace["satisfied"] else 0
            if trace.get("error_kind") in ("infrastructure", "judge"):  # a twin, the app or the judge is gone
                streak += 1
                if streak >= limit and not stop.is_set():
                    what = "judge" if trace.get("error_kind") == "judge" else "infrastructure"
                    aborted = f"stopped after {streak} {what} errors in a row; last: {trace['error']}"
                    stop.set()
            else:
                streak = 0
            if on_progress is not None:
                on_progress(progress)

    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    interrupted = asyncio.Event()

    def interrupt() -> None:  # Ctrl-C: stop now, report what finished
        interrupted.set()
        for w in workers:
            w.cancel()

    loop = asyncio.get_running_loop()
    handled = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
        handled = True
    try:
        await asyncio.gather(*workers)
    except asyncio.CancelledError:
        if not interrupted.is_set():
            raise
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)
    if interrupted.is_set():
        aborted = aborted or f"interrupted (Ctrl-C) after {len(traces)} of {len(plan)} trajectories"
        await asyncio.gather(*workers, return_exceptions=True)
    flaky: list[dict[str, Any]] = []
    if replays and not aborted:
        flaky = await find_flaky(runner, by_id, traces, replays, concurrency, by_name, tag)
    traces.sort(key=lambda t: (t["scenario"], t.get("profile") or "", t["index"]))
    return CampaignResult(traces, flaky, aborted, started_at, time.perf_counter() - t0, len(plan))


def pick_for_replay(traces: list[dict[str, Any]], replays: int) -> list[dict[str, Any]]:
    """Up to `replays` trajectories worth replaying: the unsatisfied first, one per cause (not
    those the infrastructure or the judge failed), then one satisfied per scenario and profile."""
    picked: list[dict[str, Any]] = []
    seen_causes: set[str] = set()
    for t in traces:
        if (
            not t["satisfied"]
            and t["cause"] not in seen_causes
            and t.get("error_kind") not in ("infrastructure", "judge")
        ):
            seen_causes.add(t["cause"])
            picked.append(t)
    scenarios_seen: set[tuple[str, str | None]] = set()
    for t in traces:
        if t["satisfied"] and (t["scenario"], t.get("profile")) not in scenarios_seen:
            scenarios_seen.add((t["scenario"], t.get("profile")))
            picked.append(t)
    return picked[:replays]


def compare_replay(
    first: dict[str, Any], first_fp: dict[str, Any], second: dict[str, Any], second_fp: dict[str, Any]
) -> dict[str, Any]:
    """A replay's entry in the report: did it agree with the first run, and is its fingerprint
    identical (a fingerprint that went through JSON compares with one that did too)."""
    diff = sorted(k for k in first_fp if first_fp[k] != second_fp.get(k))
    return {
        "id": first["id"],
        "scenario": first["scenario"],
        "first": first["satisfied"],
        "replay": second["satisfied"],
        "agree": first["satisfied"] == second["satisfied"],
        "identical": not diff,
        "differs_in": diff,
        "replay_cause": second["cause"],
    }


async def find_flaky(
    runner: Runner,
    by_id: dict[str, Scenario],
    traces: list[dict[str, Any]],
    replays: int,
    concurrency: int,
    profiles: dict[str, Profile] | None = None,
    tag: bool = False,
) -> list[dict[str, Any]]:
    """Replay up to `replays` trajectories (see pick_for_replay) with the same seed and tenant;
    a replay whose outcome or fingerprint differs is flaky."""
    sem = asyncio.Semaphore(max(1, concurrency))

    async def again(t: dict[str, Any]) -> dict[str, Any]:
        async with sem:
            profile = (profiles or {}).get(t.get("profile") or "")
            second = await runner.run(by_id[t["scenario"]], t["run_seed"], t["index"], profile, tag=tag)
        return compare_replay(t, fingerprint(t), second, fingerprint(second))

    return list(await asyncio.gather(*(again(t) for t in pick_for_replay(traces, replays))))
