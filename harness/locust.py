"""The scenario runner as a locust User: `locust -f harness/locust.py` runs trajectories.

    locust -f harness/locust.py --headless -u 16 -r 16 \\
        --dtu-scenarios scenarios/ --dtu-trajectories 50 --dtu-app-url http://127.0.0.1:8088 \\
        --dtu-twins slack=http://127.0.0.1:7103,okta=http://127.0.0.1:7101,jira=http://127.0.0.1:7102 \\
        --dtu-report dtu-report --dtu-min-satisfaction 0.95

Each locust task is one trajectory (the same Runner as `dtu run`); it is reported to locust as a
request event (type `trajectory`, name the scenario, response time its duration, a failure when
unsatisfied, with its cause), so locust's statistics, charts and web UI show trajectories.

Distributed (`--master` / `--worker`): the master hands every worker a slot of the plan (worker
k of W runs the trajectories k, k+W, ...: no trajectory twice, ids as in `dtu run`), and each
worker sends every trace it finishes to the master (`dtu_trace` messages). The master sums them
into one report (report.json, junit.xml, report.html, traces.jsonl) with satisfaction and its
interval over all workers, and quits when the plan is done (with the web UI: stops, and the UI
stays; `--dtu-trajectories 0`: no end, stop with `--run-time` or the web UI). The exit code follows `dtu run`: 0, 1 below
`--dtu-min-satisfaction`, 2 when nothing ran or the twins or the app are unreachable.

The options of `dtu run` that make sense under locust are there too: the LLM judge
(`--dtu-judge llm|both --dtu-judge-url URL --dtu-judge-model NAME [--dtu-judge-key-env VAR]
[--dtu-judge-timeout S]`), replays (`--dtu-replays N`: once the plan is done, the master picks
up to N trajectories as `dtu run` does and has the workers run them again; every worker sends
the fingerprint of each trajectory it ran, so the master compares without the full traces),
`--dtu-keep-tenants` and `--dtu-admin-token`. Too many infrastructure or judge errors in a row
stop the campaign, as in `dtu run`; trajectories the judge could not judge make the exit code 2.

Locust runs on gevent; the harness on asyncio. Each locust process runs one asyncio loop in a
greenlet (gevent's monkey-patched selectors make it cooperative) and every user's task hands
its trajectory to that loop and waits for it without blocking the other greenlets. Twins and
the app are reached by URL (`--dtu-twins`, `DTU_<TWIN>_URL`; `--dtu-app-url`, `DTU_APP_URL`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import gevent.event
import gevent.lock
from locust import User, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from harness import model, report
from harness.campaign import CampaignResult, compare_replay, pick_for_replay
from harness.judge import MODES, LlmJudge
from harness.runner import Profile, Runner, fingerprint
from harness.steps import SDKS, warm
from harness.universe import InfraError, Universe

# the vendors' SDKs now, before locust starts its greenlets: imported on first use, the okta
# SDK alone would block a worker for seconds (its heartbeats, and every trajectory in flight)
warm(set(SDKS))

log = logging.getLogger("dtu.locust")
TWIN_ENV = {"slack": "DTU_SLACK_URL", "okta": "DTU_OKTA_URL", "jira": "DTU_JIRA_URL"}


class Unsatisfied(Exception):
    """A trajectory that did not satisfy its user (locust shows it as a failure, by cause)."""


# -- options -----------------------------------------------------------------------------------


def _options(parser: Any) -> None:
    group = parser  # locust's own parser: its arguments show in the web UI
    group.add_argument(
        "--dtu-scenarios", default="scenarios", help="scenario files or directories, comma-separated"
    )
    group.add_argument(
        "--dtu-trajectories",
        type=int,
        default=10,
        help="trajectories per scenario and fault profile for the whole campaign (0: no end)",
    )
    group.add_argument("--dtu-seed", type=int, default=0, help="run seed (trajectory ids derive from it)")
    group.add_argument("--dtu-faults", default="", help="fault profiles, comma-separated (`none`: no faults)")
    group.add_argument("--dtu-app-url", default="", help="the app under test (or DTU_APP_URL)")
    group.add_argument("--dtu-twins", default="", help="slack=URL,okta=URL,jira=URL (or DTU_<TWIN>_URL)")
    group.add_argument("--dtu-report", default="", include_in_web_ui=False, help="report directory (master)")
    group.add_argument("--dtu-min-satisfaction", type=float, default=None, help="exit 1 below this (0..1)")
    group.add_argument(
        "--dtu-replays",
        type=int,
        default=0,
        help="replay up to N trajectories once the plan is done (flakiness)",
    )
    group.add_argument(
        "--dtu-judge",
        choices=MODES,
        default="checks",
        help="who judges: the scenario's checks, an LLM reading the story and the trace, or both",
    )
    group.add_argument(
        "--dtu-judge-url", default="", help="OpenAI-compatible endpoint for --dtu-judge llm|both"
    )
    group.add_argument("--dtu-judge-model", default="", help="the model name sent to --dtu-judge-url")
    group.add_argument(
        "--dtu-judge-key-env",
        default="OPENAI_API_KEY",
        include_in_web_ui=False,
        help="environment variable holding the endpoint's API key, if it needs one",
    )
    group.add_argument("--dtu-judge-timeout", type=float, default=60.0, help="seconds per judge call")
    group.add_argument(
        "--dtu-keep-tenants", action="store_true", default=False, help="do not delete trajectory tenants"
    )
    group.add_argument(
        "--dtu-admin-token",
        default="",
        include_in_web_ui=False,
        help="control-plane token (or DTU_ADMIN_TOKEN)",
    )


def _opts(env: Environment) -> Any:
    return env.parsed_options


def _split(text: str) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _twin_urls(env: Environment) -> dict[str, str]:
    urls = {t: os.environ[v] for t, v in TWIN_ENV.items() if os.environ.get(v)}
    for pair in _split(_opts(env).dtu_twins):
        name, _, url = pair.partition("=")
        urls[name.strip()] = url.strip()
    return urls


# -- the plan ----------------------------------------------------------------------------------


class Plan:
    """The campaign's trajectories in `dtu run`'s order (index-major, then profile, then
    scenario); a worker takes every W-th from its slot."""

    def __init__(self, scenarios: list[model.Scenario], profiles: list[Profile], per: int, seed: int) -> None:
        self.scenarios = scenarios
        self.arms: list[Profile | None] = list(profiles) or [None]
        self.per = per
        self.seed = seed
        self.tag = len(self.arms) > 1

    @property
    def total(self) -> int | None:
        return self.per * len(self.scenarios) * len(self.arms) if self.per > 0 else None

    def item(self, j: int) -> tuple[model.Scenario, int, int, Profile | None]:
        s, a = len(self.scenarios), len(self.arms)
        return self.scenarios[j % s], self.seed, j // (s * a), self.arms[(j // s) % a]

    def share(self, slot: int, workers: int) -> Iterator[tuple[model.Scenario, int, int, Profile | None]]:
        j = slot
        while self.total is None or j < self.total:
            yield self.item(j)
            j += workers


def _load_plan(env: Environment) -> Plan:
    from harness.cli import load_profiles

    o = _opts(env)
    if o.dtu_judge != "checks" and not (o.dtu_judge_url and o.dtu_judge_model):
        raise SystemExit(f"--dtu-judge {o.dtu_judge} needs --dtu-judge-url and --dtu-judge-model")
    if o.dtu_replays < 0:
        raise SystemExit("--dtu-replays is 0 or more")
    scenarios = model.load_all(_split(o.dtu_scenarios))
    if not scenarios:
        raise model.ScenarioError(o.dtu_scenarios, [(None, "no scenario files found")])
    return Plan(scenarios, load_profiles(_split(o.dtu_faults)), o.dtu_trajectories, o.dtu_seed)


# -- asyncio inside gevent ---------------------------------------------------------------------


class Loop:
    """One asyncio loop per locust process, run in a greenlet; `call` runs a coroutine on it
    from any greenlet and waits cooperatively."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, make: Callable[[], Any]) -> Any:
        done: gevent.event.AsyncResult = gevent.event.AsyncResult()

        def finished(t: asyncio.Task[Any]) -> None:
            if t.cancelled():
                done.set_exception(asyncio.CancelledError())
            elif t.exception() is not None:
                done.set_exception(t.exception())  # type: ignore[arg-type]
            else:
                done.set(t.result())

        def start() -> None:
            self.loop.create_task(make()).add_done_callback(finished)

        self.loop.call_soon_threadsafe(start)
        return done.get()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.greenlet.join(timeout=5)


# -- per process state -------------------------------------------------------------------------


class Campaign:
    """What a locust process knows: its share of the plan, its runner, and (master or local)
    the traces of the whole campaign."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.lock = gevent.lock.Semaphore()
        self.loop: Loop | None = None
        self.universe: Universe | None = None
        self.runner: Runner | None = None
        self.plan: Plan | None = None
        self.slot, self.workers = 0, 1
        self.items: Iterator[tuple[model.Scenario, int, int, Profile | None]] | None = None
        self.error: str | None = None
        self.sent_causes: set[str | None] = set()
        self.error_sent = False
        self.code = 0
        # the sum of the campaign (master or local runner)
        self.traces: dict[str, dict[str, Any]] = {}
        self.examples: dict[str, dict[str, Any]] = {}
        self.fingerprints: dict[str, Any] = {}  # id -> fingerprint (with --dtu-replays)
        self.flaky: list[dict[str, Any]] = []
        self.replayed: dict[str, dict[str, Any]] = {}  # master: what the workers sent back
        self.replays_expected = 0
        self.replays_done = gevent.event.Event()
        self.streak = 0  # infrastructure or judge errors in a row (this process)
        self.started_at = time.time()
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.reported = False

    def reset(self) -> None:
        self.traces.clear()
        self.examples.clear()
        self.fingerprints.clear()
        self.flaky = []
        self.replayed.clear()
        self.streak = 0
        self.items = None
        self.error = None
        self.reported = False
        self.started_at, self.t0 = time.time(), time.perf_counter()
        self.last = self.t0

    # -- running (local and workers) -------------------------------------------------------

    def next_item(self) -> tuple[model.Scenario, int, int, Profile | None] | None:
        with self.lock:
            if self.runner is None and self.error is None:
                self._start()
            if self.error is not None:
                return None
            if self.items is None:
                assert self.plan is not None
                self.items = self.plan.share(self.slot, self.workers)
            return next(self.items, None)

    def _start(self) -> None:
        """The plan, a loop, the universe (checked: the app and every twin answer)."""
        try:
            self.plan = self.plan or _load_plan(self.env)
        except (model.ScenarioError, SystemExit) as exc:
            self.error = f"bad scenarios or options: {exc}"
            return
        app = _opts(self.env).dtu_app_url or os.environ.get("DTU_APP_URL", "")
        urls = _twin_urls(self.env)
        needed = {t for s in self.plan.scenarios for t in s.used_twins()}
        missing = sorted(needed - set(urls))
        if missing:
            self.error = f"no URL for the {', '.join(missing)} twin (--dtu-twins or DTU_<TWIN>_URL)"
            return
        self.loop = self.loop or Loop()

        o = _opts(self.env)
        token = o.dtu_admin_token or os.environ.get("DTU_ADMIN_TOKEN") or None

        async def connect() -> Runner:
            universe = Universe(urls, app_url=app or None, admin_token=token)
            self.universe = universe
            await universe.app_health()
            for twin in needed:
                await universe.health(twin)
            judge = None
            if o.dtu_judge != "checks":
                judge = LlmJudge(
                    o.dtu_judge_url,
                    o.dtu_judge_model,
                    api_key=os.environ.get(o.dtu_judge_key_env) or None,
                    timeout_s=o.dtu_judge_timeout,
                    http=universe.http,
                )
            return Runner(universe, keep_tenants=o.dtu_keep_tenants, judge=judge, judge_mode=o.dtu_judge)

        try:
            self.runner = self.loop.call(connect)
        except InfraError as exc:
            self.error = str(exc)

    def run(self, item: tuple[model.Scenario, int, int, Profile | None]) -> dict[str, Any]:
        assert self.loop is not None and self.runner is not None and self.plan is not None
        scenario, seed, index, profile = item
        runner, tag = self.runner, self.plan.tag
        return dict(self.loop.call(lambda: runner.run(scenario, seed, index, profile, tag=tag)))

    def count_errors(self, trace: dict[str, Any]) -> None:
        """Too many infrastructure or judge errors in a row (a twin, the app or the judge is
        gone) stop the campaign, as `dtu run` does; what finished is still reported."""
        kind = trace.get("error_kind")
        if kind not in ("infrastructure", "judge"):
            self.streak = 0
            return
        self.streak += 1
        limit = max(10, 2 * int(getattr(_opts(self.env), "num_users", None) or 1))
        if self.streak >= limit and self.error is None:
            what = "judge" if kind == "judge" else "infrastructure"
            self.error = f"stopped after {self.streak} {what} errors in a row; last: {trace['error']}"

    def replay_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run these trajectories again (workers and local runs): their outcome, cause and
        fingerprint, for the master to compare with the first run's."""
        with self.lock:
            if self.runner is None and self.error is None:
                self._start()
        if self.runner is None or self.plan is None or self.loop is None:
            return []
        runner, plan = self.runner, self.plan
        by_id = {sc.id: sc for sc in plan.scenarios}
        arms = {a.name: a for a in plan.arms if a is not None}
        limit = max(1, int(getattr(_opts(self.env), "num_users", None) or 1))

        async def again_all() -> list[dict[str, Any]]:
            sem = asyncio.Semaphore(limit)

            async def again(it: dict[str, Any]) -> dict[str, Any]:
                async with sem:
                    profile = arms.get(it.get("profile") or "") if plan.tag or arms else None
                    second = await runner.run(
                        by_id[it["scenario"]], it["run_seed"], it["index"], profile, tag=plan.tag
                    )
                return {
                    "id": it["id"],
                    "satisfied": second["satisfied"],
                    "cause": second["cause"],
                    "fingerprint": _plain(fingerprint(second)),
                }

            return list(await asyncio.gather(*(again(it) for it in items if it["scenario"] in by_id)))

        result: list[dict[str, Any]] = self.loop.call(again_all)
        return result

    def replay(self) -> None:
        """Once the plan is done (master or local): pick trajectories as `dtu run` does, have
        them run again (by the workers, shared out), and keep what disagrees in `flaky`."""
        o = _opts(self.env)
        if not o.dtu_replays or self.error is not None or self.plan is None:
            return
        traces = sorted(
            self.traces.values(), key=lambda t: (t["scenario"], t.get("profile") or "", t["index"])
        )
        picked = [t for t in pick_for_replay(traces, o.dtu_replays) if t["id"] in self.fingerprints]
        if not picked:
            return
        items = [
            {
                "id": t["id"],
                "scenario": t["scenario"],
                "run_seed": t["run_seed"],
                "index": t["index"],
                "profile": t.get("profile"),
            }
            for t in picked
        ]
        runner = self.env.runner
        if isinstance(runner, MasterRunner):
            workers = sorted(c.id for c in runner.clients.values() if c.state != "missing")
            if not workers:
                return
            self.replayed.clear()
            self.replays_done.clear()
            self.replays_expected = len(items)
            for k, client_id in enumerate(workers):
                share = items[k :: len(workers)]
                if share:
                    runner.send_message("dtu_replay", {"items": share}, client_id)
            longest = max(sc.timeout_s for sc in self.plan.scenarios)
            self.replays_done.wait(timeout=longest * len(items) + 30)
            results = dict(self.replayed)
        else:
            results = {r["id"]: r for r in self.replay_items(items)}
        self.flaky = [
            compare_replay(t, self.fingerprints[t["id"]], results[t["id"]], results[t["id"]]["fingerprint"])
            for t in picked
            if t["id"] in results
        ]
        log.info(
            "dtu: %d trajectories replayed, %d disagree",
            len(self.flaky),
            sum(not f["agree"] for f in self.flaky),
        )

    def took_replays(self, results: list[dict[str, Any]]) -> None:
        """The master: a worker's replays are back."""
        for r in results:
            self.replayed[r["id"]] = r
        if len(self.replayed) >= self.replays_expected:
            self.replays_done.set()

    # -- summing (master and local) --------------------------------------------------------

    def add(self, data: dict[str, Any]) -> None:
        trace = data["trace"]
        self.traces[trace["id"]] = trace
        if data.get("full") is not None:
            self.examples.setdefault(trace["id"], data["full"])
        if data.get("fingerprint") is not None:
            self.fingerprints[trace["id"]] = data["fingerprint"]
        self.last = time.perf_counter()
        total = self.plan.total if self.plan else None
        if total is not None and len(self.traces) == total and self.env.runner is not None:
            log.info("dtu: the plan's %d trajectories are done", total)
            gevent.spawn(self._finish, total)

    def _finish(self, total: int) -> None:
        """Quit once locust's own statistics have every trajectory too (workers report them
        every few seconds, apart from the traces), at most 10 s later."""
        runner = self.env.runner
        assert runner is not None
        deadline = time.monotonic() + 10
        while runner.stats.total.num_requests < total and time.monotonic() < deadline:
            gevent.sleep(0.1)
        self.replay()
        if getattr(_opts(self.env), "csv_prefix", None):
            gevent.sleep(1.2)  # locust rewrites its --csv files every second, and not on quitting
        if getattr(_opts(self.env), "headless", False):
            runner.quit()
        else:  # the web UI stays, with the run's figures (and the report written)
            runner.stop()

    def write(self) -> int:
        """The report of what the campaign ran; the exit code `dtu run` would give."""
        if self.reported:
            return self.code
        self.reported = True
        plan = self.plan
        if plan is None:
            with contextlib.suppress(model.ScenarioError, SystemExit):
                plan = _load_plan(self.env)
        scenarios = plan.scenarios if plan else []
        traces = sorted(
            self.traces.values(), key=lambda t: (t["scenario"], t.get("profile") or "", t["index"])
        )
        for t in traces:
            full = self.examples.get(t["id"])
            if full is not None:
                t.update({k: full[k] for k in ("journal", "deliveries", "harness_calls") if k in full})
        duration = max(self.last - self.t0, 1e-9) if traces else 0.0
        aborted = self.error or (None if traces else "no trajectories ran")
        planned = plan.total if plan and plan.total is not None else len(traces)
        # the traces a worker sent in full first: a cause's example is its first trace
        ordered = sorted(traces, key=lambda t: t["id"] not in self.examples)
        result = CampaignResult(ordered, list(self.flaky), aborted, self.started_at, duration, planned)
        o = _opts(self.env)
        run = {
            "runner": "locust",
            "workers": self.workers_seen(),
            "seed": o.dtu_seed,
            "trajectories_per_scenario": o.dtu_trajectories,
            "concurrency": o.num_users,
            "faults": ", ".join(p.name for p in plan.arms if p) if plan else None,
            "fault_profiles": [{"name": p.name, "file": p.file} for p in plan.arms if p] if plan else [],
            "min_satisfaction": o.dtu_min_satisfaction,
            "scenario_files": [s.path for s in scenarios],
            "twins": _twin_urls(self.env),
            "app_url": o.dtu_app_url or os.environ.get("DTU_APP_URL"),
            "replays": o.dtu_replays,
            "judge": {"mode": o.dtu_judge, "url": o.dtu_judge_url, "model": o.dtu_judge_model}
            if o.dtu_judge != "checks"
            else {"mode": "checks"},
        }
        built = report.build(result, scenarios, run)
        if o.dtu_report:
            report.write_all(built, traces, o.dtu_report)
        o_all = built["overall"]
        sat = o_all["satisfaction"]
        log.info(
            "dtu: satisfaction %s (%d/%d, 95%% CI %.1f-%.1f%%) over %d worker(s)",
            "-" if sat is None else f"{sat * 100:.1f}%",
            o_all["satisfied"],
            o_all["total"],
            o_all["ci95"][0] * 100,
            o_all["ci95"][1] * 100,
            run["workers"],
        )
        gate = o.dtu_min_satisfaction
        if aborted:
            log.error("dtu: %s", aborted)
            self.code = 2
        elif built["unjudged"]:
            first = built["judge_errors"][0]["error"] if built["judge_errors"] else ""
            log.error(
                "dtu: %d trajectories could not be judged (%s): no verdict to gate on",
                built["unjudged"],
                first,
            )
            self.code = 2
        elif gate is not None and (sat is None or sat < gate):
            log.error("dtu: satisfaction %.3f is below --dtu-min-satisfaction %s", sat or 0, gate)
            self.code = 1
        else:
            self.code = 0
        return self.code

    def workers_seen(self) -> int:
        return len({t.get("worker") for t in self.traces.values()}) or 1

    def close(self) -> None:
        if self.loop is not None and self.universe is not None:
            universe = self.universe
            with contextlib.suppress(Exception):
                self.loop.call(universe.aclose)
        if self.loop is not None:
            self.loop.stop()


CAMPAIGN: Campaign | None = None


def _campaign(env: Environment) -> Campaign:
    global CAMPAIGN
    if CAMPAIGN is None or CAMPAIGN.env is not env:
        CAMPAIGN = Campaign(env)
    return CAMPAIGN


def _plain(value: Any) -> Any:
    """As it arrives through a locust message (tuples become lists), so that a fingerprint
    made here compares with one that came from a worker."""
    return json.loads(json.dumps(value, default=str))


def slim(trace: dict[str, Any]) -> dict[str, Any]:
    """A trace without its journal, deliveries and harness calls (the master's copy)."""
    out = {k: v for k, v in trace.items() if k not in ("journal", "deliveries", "harness_calls", "traceback")}
    out.update(journal={}, deliveries={}, harness_calls=[])
    return out


# -- locust wiring -----------------------------------------------------------------------------


def _init(environment: Environment, **_kw: Any) -> None:
    runner = environment.runner
    if runner is None:
        return
    camp = _campaign(environment)
    if not isinstance(runner, WorkerRunner):  # master or local: sums the campaign
        runner.register_message("dtu_trace", lambda msg, **_: camp.add(msg.data))

        def failed(msg: Any, **_: Any) -> None:  # a worker cannot run: the campaign cannot either
            camp.error = camp.error or str(msg.data["error"])
            if environment.runner is not None:
                gevent.spawn_later(0.1, environment.runner.quit)

        runner.register_message("dtu_error", failed)
        runner.register_message("dtu_replayed", lambda msg, **_: camp.took_replays(msg.data["results"]))
    if isinstance(runner, WorkerRunner):

        def plan(msg: Any, **_: Any) -> None:
            camp.slot, camp.workers = int(msg.data["slot"]), int(msg.data["workers"])
            camp.items = None

        def replay(msg: Any, **_: Any) -> None:  # off the message loop: replays take a while
            def go() -> None:
                results = camp.replay_items(msg.data["items"])
                worker = environment.runner
                if isinstance(worker, WorkerRunner):
                    worker.send_message("dtu_replayed", {"results": results})

            gevent.spawn(go)

        runner.register_message("dtu_plan", plan)
        runner.register_message("dtu_replay", replay)


def _test_start(environment: Environment, **_kw: Any) -> None:
    camp = _campaign(environment)
    runner = environment.runner
    camp.reset()
    if isinstance(runner, MasterRunner):
        with contextlib.suppress(model.ScenarioError, SystemExit):
            camp.plan = _load_plan(environment)  # to know when the plan is done
        workers = sorted(c.id for c in runner.clients.values() if c.state != "missing")
        for slot, client_id in enumerate(workers):  # sent before the spawn messages
            runner.send_message("dtu_plan", {"slot": slot, "workers": len(workers)}, client_id)
        camp.workers = len(workers)


def _test_stop(environment: Environment, **_kw: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        _campaign(environment).write()


def _quitting(environment: Environment, **_kw: Any) -> None:
    camp = _campaign(environment)
    if not isinstance(environment.runner, WorkerRunner):
        environment.process_exit_code = camp.write()
    else:  # a worker's unsatisfied trajectories are the master's to judge
        environment.process_exit_code = 2 if camp.error else 0
    camp.close()


class ScenarioUser(User):
    """A simulated user: each task runs one trajectory of the campaign's plan."""

    abstract = False

    def wait_time(self) -> float:
        return 0.0

    @task
    def trajectory(self) -> None:
        camp = _campaign(self.environment)
        item = camp.next_item()
        if item is None:
            if camp.error is not None:
                self._fail_once(camp)
            raise StopUser()
        scenario, _, _, profile = item
        name = (
            f"{scenario.id}@{profile.name}"
            if profile is not None and camp.plan and camp.plan.tag
            else scenario.id
        )
        start = time.perf_counter()
        try:
            trace = camp.run(item)
        except Exception as exc:  # the harness failed (not the app): locust shows it as an error
            self.environment.events.request.fire(
                request_type="trajectory",
                name=name,
                response_time=(time.perf_counter() - start) * 1000,
                response_length=0,
                exception=exc,
                context={},
            )
            return
        trace["worker"] = camp.slot
        camp.count_errors(trace)
        self.environment.events.request.fire(
            request_type="trajectory",
            name=name,
            response_time=trace["duration_ms"],
            response_length=sum(len(v) for v in trace["journal"].values()),
            exception=None if trace["satisfied"] else Unsatisfied(trace["cause"]),
            context={"trajectory": trace["id"], "satisfied": trace["satisfied"]},
        )
        first = not trace["satisfied"] and trace["cause"] not in camp.sent_causes
        camp.sent_causes.add(trace["cause"])
        data: dict[str, Any] = {
            "trace": slim(trace),
            "full": trace if first else None,
        }  # one example per cause
        if _opts(self.environment).dtu_replays:  # what a replay must reproduce, without the journals
            data["fingerprint"] = _plain(fingerprint(trace))
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message("dtu_trace", data)
        else:
            camp.add(data)

    def _fail_once(self, camp: Campaign) -> None:
        with camp.lock:
            if camp.error_sent:
                return
            camp.error_sent = True
        log.error("dtu: %s", camp.error)
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message("dtu_error", {"error": camp.error})
        elif runner is not None:
            gevent.spawn_later(0.1, runner.quit)


# registered by calls, not decorators: locust's hooks are untyped
_events: Any = events
_events.init_command_line_parser.add_listener(_options)
_events.init.add_listener(_init)
_events.test_start.add_listener(_test_start)
_events.test_stop.add_listener(_test_stop)
_events.quitting.add_listener(_quitting)
