"""Trajectories: one scenario, one seed, one tenant per twin, one trace.

A trajectory's id is `<scenario>~<run seed>~<index>`. Everything else derives from it: its seed
(inputs), its tenant name in every twin (so the twins mint the same ids and credentials and toss
the same fault coins on a replay), hence `dtu run --replay ID` replays it exactly.

Life of a trajectory: make its tenants (deleting a leftover of the same name first), load the
starting state, install the app in them (Slack manifest, Okta event hook, `POST {app}/installs`),
load the fault profile for the tenant, run the steps, poll the checks until each holds or its
deadline passes, then read the trace from the twins (journal and deliveries of the tenant) and
drop the tenants.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import math
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import inputs as inputs_mod
from harness import universes
from harness.actions import CHECKS, STEPS, CheckResult
from harness.http import HttpError
from harness.judge import MODES, JudgeError, LlmJudge
from harness.model import Check, Scenario, Step
from harness.template import TemplateError, render
from harness.universe import ControlError, InfraError, Universe

_READ_OP = re.compile(
    r"(?i)(^|[._])(list|get|info|members|history|lookup|lookupbyemail|search|read|export|test|"
    r"conversations$)|search|^get|^list"
)


def trajectory_id(scenario: str, run_seed: int, index: int, profile: str | None = None) -> str:
    """`<scenario>~<seed>~<index>`, or `<scenario>@<profile>~<seed>~<index>` in a run over
    several fault profiles (the same trajectory under another profile is another trajectory)."""
    head = f"{scenario}@{profile}" if profile else scenario
    return f"{head}~{run_seed}~{index}"


def parse_id(tid: str) -> tuple[str, int, int]:
    """(scenario, seed, index); the scenario part keeps its `@profile`, see split_profile."""
    try:
        scenario, seed, index = tid.rsplit("~", 2)
        return scenario, int(seed), int(index)
    except ValueError:
        raise ValueError(f"a trajectory id is <scenario>[@<profile>]~<seed>~<index>, not {tid!r}") from None


def split_profile(head: str) -> tuple[str, str | None]:
    """`scenario@profile` -> (scenario, profile); `scenario` -> (scenario, None)."""
    scenario, sep, profile = head.partition("@")
    return scenario, (profile if sep else None)


@dataclass(frozen=True)
class Profile:
    """A fault profile a run applies to every trajectory's tenants (docs/faults.md). `name`
    labels the trajectories run under it (`none`: no faults, a baseline to compare with)."""

    name: str
    rules: dict[str, Any] | None = None
    file: str | None = None


def tenant_name(tid: str) -> str:
    return "h" + hashlib.sha256(tid.encode()).hexdigest()[:20]


def seed_of(tid: str) -> int:
    return int(hashlib.sha256(("seed:" + tid).encode()).hexdigest()[:12], 16)


class StepFailed(Exception):
    """A step that could not do what the person wanted (the SDK's error, an HTTP error...)."""


@dataclass
class Trajectory:
    """What steps and checks work with: tenants, credentials, inputs, saved results."""

    id: str
    scenario: Scenario
    seed: int
    universe: Universe
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)  # twin -> {tenant, credentials}
    inputs: dict[str, Any] = field(default_factory=dict)
    personas: dict[str, dict[str, Any]] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)  # what the harness itself asked of twins
    faults: dict[str, Any] | None = None  # the run's fault profile for this trajectory
    touched: float = 0.0  # perf_counter() of the harness's last request to a twin's API

    @property
    def tenant(self) -> str:
        return tenant_name(self.id)

    def creds(self, twin: str) -> dict[str, Any]:
        try:
            creds: dict[str, Any] = self.tenants[twin]["credentials"]
        except KeyError:
            raise InfraError(
                f"scenario {self.scenario.id} has no {twin} tenant (add {twin} to `twins:`)"
            ) from None
        return creds

    def scope(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "personas": self.personas,
            "vars": self.vars,
            "trajectory": {"id": self.id, "seed": self.seed, "tenant": self.tenant},
            "credentials": {t: v["credentials"] for t, v in self.tenants.items()},
        }

    def email_of(self, who: str) -> str:
        """A persona name, or an email as is."""
        if who in self.personas:
            email = self.personas[who].get("email")
            if not email:
                raise StepFailed(f"persona {who!r} has no email")
            return str(email)
        return who

    async def state(self, twin: str, collection: str, **filters: Any) -> list[dict[str, Any]]:
        return await self.universe.state(twin, collection, self.tenants[twin]["tenant"], **filters)

    async def control(
        self, twin: str, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        p = {"tenant": self.tenants[twin]["tenant"], **(params or {})}
        return await self.universe.control(twin, method, path, params=p, json=json)

    def note(self, twin: str, what: str, **detail: Any) -> None:
        self.calls.append({"twin": twin, "what": what, **detail})


@dataclass
class Outcome:
    """One step or check in the trace."""

    id: str
    action: str
    ok: bool
    started_ms: float
    duration_ms: float
    detail: str = ""
    error: str | None = None
    attempts: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "ok": self.ok,
            "started_ms": round(self.started_ms, 1),
            "duration_ms": round(self.duration_ms, 1),
            "detail": self.detail,
            "error": self.error,
            "attempts": self.attempts,
        }


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 400 else text[:400] + "..."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


class Runner:
    """Runs trajectories against a universe and the app in it."""

    def __init__(
        self,
        universe: Universe,
        *,
        faults: dict[str, Any] | None = None,
        keep_tenants: bool = False,
        install: bool = True,
        settle_s: float = 0.25,
        settle_max_s: float = 5.0,
        judge: LlmJudge | None = None,
        judge_mode: str = "checks",
    ) -> None:
        if judge_mode not in MODES or (judge_mode != "checks" and judge is None):
            raise ValueError(f"judge mode {judge_mode!r}: one of {MODES}, and llm/both need a judge")
        self.judge = judge
        self.judge_mode = judge_mode
        self.universe = universe
        self.settle_s = settle_s
        self.settle_max_s = settle_max_s
        self.faults = faults
        self.profile_name = (faults or {}).get("name") if faults else None
        self.keep_tenants = keep_tenants
        self.install = install
        self._manifest: dict[str, Any] | bool | None = False

    # -- one trajectory --------------------------------------------------------------------

    async def run(
        self,
        scenario: Scenario,
        run_seed: int,
        index: int,
        profile: Profile | None = None,
        *,
        tag: bool = False,
    ) -> dict[str, Any]:
        """Run one trajectory and return its trace (never raises but for cancellation).
        `profile` replaces the runner's fault profile; `tag` puts its name in the id (a run
        over several profiles)."""
        tid = trajectory_id(scenario.id, run_seed, index, profile.name if profile and tag else None)
        traj = Trajectory(id=tid, scenario=scenario, seed=seed_of(tid), universe=self.universe)
        traj.faults = profile.rules if profile is not None else self.faults
        t0 = time.perf_counter()
        trace: dict[str, Any] = {
            "id": tid,
            "scenario": scenario.id,
            "index": index,
            "run_seed": run_seed,
            "profile": profile.name if profile is not None else self.profile_name,
            "seed": traj.seed,
            "tenant": traj.tenant,
            "twins": scenario.used_twins(),
            "satisfied": False,
            "error": None,
            "phase": "setup",
            "inputs": {},
            "steps": [],
            "checks": [],
            "journal": {},
            "deliveries": {},
            "faults": [],
            "harness_calls": [],
            "started_at": time.time(),
        }
        try:
            await asyncio.wait_for(self._body(traj, trace, t0), timeout=scenario.timeout_s)
        except TimeoutError:
            trace["error"] = f"trajectory timed out after {scenario.timeout_s:g}s in {trace['phase']}"
            trace["error_kind"] = "timeout"
        except InfraError as exc:
            trace["error"] = str(exc)
            trace["error_kind"] = "infrastructure"
        except (ControlError, TemplateError) as exc:
            trace["error"] = str(exc)
            trace["error_kind"] = "scenario"
        except Exception as exc:  # a bug in a python: hook or in the harness: keep running the others
            trace["error"] = _error_text(exc)
            trace["error_kind"] = "harness"
            trace["traceback"] = traceback.format_exc(limit=6)
        trace["inputs"] = traj.inputs
        trace["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        with contextlib.suppress(InfraError, ControlError, HttpError):
            await self._collect(traj, trace)
        trace["harness_calls"] = traj.calls
        judged = trace.get("error_kind") not in ("infrastructure", "harness", "scenario")
        if self.judge is not None and self.judge_mode != "checks" and judged:
            await self._judge(traj, trace)
        if not self.keep_tenants:
            await self._drop(traj)
        trace["cause"] = cause_of(trace)
        return trace

    async def _body(self, traj: Trajectory, trace: dict[str, Any], t0: float) -> None:
        scenario = traj.scenario
        traj.inputs = inputs_mod.draw(scenario.inputs, traj.seed, traj.scope())
        traj.personas = {name: render(p, traj.scope()) for name, p in scenario.personas.items()}
        for persona in traj.personas.values():
            if isinstance(persona.get("email"), str):
                persona.setdefault("slack_id", universes.slack_user_id(persona["email"]))
        trace["inputs"] = traj.inputs
        await self._make_tenants(traj)
        if self.install and self.universe.app_url:
            trace["phase"] = "install"
            await self._install(traj)
        trace["phase"] = "faults"
        await self._load_faults(traj)
        trace["phase"] = "steps"
        failed = False
        for step in scenario.steps:
            outcome = await self._step(traj, step, t0)
            trace["steps"].append(outcome.as_dict())
            if not outcome.ok and not step.optional:
                failed = True
                break
        trace["phase"] = "checks"
        if not failed:
            results = await asyncio.gather(*(self._check(traj, c, t0) for c in scenario.checks))
            trace["checks"] = [r.as_dict() for r in results]
            trace["satisfied"] = all(r.ok for r in results)
        trace["phase"] = "done"

    async def _make_tenants(self, traj: Trajectory) -> None:
        """A tenant in every twin the scenario touches (all at once), with its starting state."""
        twins = traj.scenario.used_twins()
        created: dict[str, dict[str, Any]] = {}
        seeded = await asyncio.gather(
            *(self._make_tenant(traj, twin, created) for twin in twins), return_exceptions=True
        )
        for twin in twins:  # every tenant made is dropped at the end, whatever else failed
            if twin in created:
                traj.tenants[twin] = created[twin]
        for twin, got in zip(twins, seeded, strict=True):
            if isinstance(got, BaseException):
                raise got
            if got is not None:
                traj.note(twin, "seed", created=got)

    async def _make_tenant(self, traj: Trajectory, twin: str, created: dict[str, dict[str, Any]]) -> Any:
        """Make the twin's tenant (recorded in `created` at once), then load its seed."""
        name = traj.tenant
        state = traj.scenario.state.get(twin)  # type: ignore[call-overload]
        fixture = universes.fixture_for(traj.scenario, twin, state)
        body: dict[str, Any] = {"tenant": name}
        if fixture is not None:
            body["fixture"] = render(fixture, traj.scope())
        try:
            made: dict[str, Any] = await self.universe.control(twin, "POST", "/tenants", json=body)
        except ControlError as exc:
            if " 409 " not in str(exc) or "exists" not in str(exc):
                raise
            await self.universe.control(twin, "DELETE", f"/tenants/{name}")
            made = await self.universe.control(twin, "POST", "/tenants", json=body)
        created[twin] = made
        if state is None or not state.seed:
            return None
        seed = universes.complete_seed(twin, render(state.seed, traj.scope()), traj.tenant)
        answer = await self.universe.control(
            twin, "POST", "/seed", params={"tenant": made["tenant"]}, json=seed
        )
        if twin == "slack":
            universes.remember_seeded(traj.cache, seed)
        if twin == "slack" and seed.get("tokens"):
            tokens = made["credentials"].setdefault("user_tokens", {})
            emails = {u["id"]: u.get("email") for u in seed.get("users", [])}
            for tok in seed["tokens"]:
                if emails.get(tok.get("user")):
                    tokens[emails[tok["user"]]] = tok["token"]
        return answer.get("created") if isinstance(answer, dict) else None

    async def _install(self, traj: Trajectory) -> None:
        """Install the app in this trajectory's tenants, the way each vendor has apps installed."""
        app = (self.universe.app_url or "").rstrip("/")
        http = self.universe.http
        creds = {t: v["credentials"] for t, v in traj.tenants.items()}
        body: dict[str, Any] = {"install": traj.tenant}
        if "slack" in creds:
            body["slack"] = {
                k: creds["slack"].get(k) for k in ("team_id", "bot_token", "signing_secret", "app_id")
            }
        if "okta" in creds:
            body["okta"] = {"api_token": creds["okta"].get("api_token"), "hook_secret": "hook-" + traj.tenant}
        if "jira" in creds:
            body["jira"] = {k: creds["jira"].get(k) for k in ("email", "api_token", "project")}
        try:
            resp = await http.post(app + "/installs", json=body)
        except HttpError as exc:
            raise InfraError(f"the app at {app} is unreachable: {exc!r}") from None
        if resp.status_code >= 300:
            raise InfraError(f"the app refused the install: {resp.status_code} {resp.text[:200]}")
        answer = resp.json() if resp.content else {}
        traj.note("app", "install", status=resp.status_code)
        if "slack" in creds:
            manifest = await self._app_manifest(app)
            if manifest is not None:
                r = await http.post(
                    self.universe.url("slack") + "/api/apps.manifest.update",
                    headers={"Authorization": f"Bearer {creds['slack']['config_token']}"},
                    json={"app_id": creds["slack"]["app_id"], "manifest": manifest},
                )
                data = r.json()
                if not data.get("ok"):
                    raise InfraError(f"apps.manifest.update refused the app's manifest: {data}")
                traj.note("slack", "apps.manifest.update", ok=True)
        if "okta" in creds and answer.get("okta_hook_url"):
            await self._okta_hook(
                traj,
                app + answer["okta_hook_url"],
                answer.get("hook_events") or [],
                body["okta"]["hook_secret"],
            )
        traj.touched = time.perf_counter()

    async def _app_manifest(self, app: str) -> dict[str, Any] | None:
        if self._manifest is False:
            try:
                r = await self.universe.http.get(app + "/manifest", params={"url": app})
                self._manifest = r.json() if r.status_code == 200 else None
            except (HttpError, ValueError):
                self._manifest = None
        return self._manifest if isinstance(self._manifest, dict) else None

    async def _okta_hook(self, traj: Trajectory, uri: str, events: list[str], secret: str) -> None:
        base = self.universe.url("okta")
        headers = {"Authorization": f"SSWS {traj.creds('okta')['api_token']}", "Accept": "application/json"}
        hook = {
            "name": "app under test",
            "events": {"type": "EVENT_TYPE", "items": events},
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": uri,
                    "authScheme": {"type": "HEADER", "key": "Authorization", "value": secret},
                },
            },
        }
        http = self.universe.http
        r = await http.post(base + "/api/v1/eventHooks", json=hook, headers=headers)
        if r.status_code >= 300:
            raise InfraError(f"okta refused the app's event hook: {r.status_code} {r.text[:200]}")
        hook_id = r.json()["id"]
        v = await http.post(f"{base}/api/v1/eventHooks/{hook_id}/lifecycle/verify", headers=headers)
        if v.status_code >= 300:
            raise InfraError(f"the app did not verify its Okta event hook: {v.status_code} {v.text[:200]}")
        traj.note("okta", "eventHooks.create+verify", hook=hook_id)

    async def _load_faults(self, traj: Trajectory) -> None:
        rules = list((traj.scenario.faults or {}).get("rules") or []) + list(
            (traj.faults or {}).get("rules") or []
        )
        if not rules:
            return
        base = {**(traj.faults or {}), **(traj.scenario.faults or {})}
        for twin in traj.tenants:
            mine = [r for r in rules if (r.get("match") or {}).get("twin") in (None, twin)]
            if mine:
                profile = {
                    "version": 1,
                    "name": base.get("name", "harness"),
                    "seed": base.get("seed", 0),
                    "rules": mine,
                }
                await traj.control(twin, "PUT", "/faults", json=profile)

    async def _step(self, traj: Trajectory, step: Step, t0: float) -> Outcome:
        action = STEPS[step.action]
        start = time.perf_counter()
        error: str | None = None
        result: Any = None
        attempt = 0
        for attempt in range(1, step.attempts + 1):
            try:
                args = action.args.model_validate(
                    render(step.args if step.args is not None else {}, traj.scope())
                )
                result = await action.fn(traj, args)
                error = None
                break
            except (InfraError, TemplateError):
                raise
            except Exception as exc:
                error = _error_text(exc)
                if attempt < step.attempts:
                    await asyncio.sleep(step.wait_s)
        traj.touched = time.perf_counter()
        if error is None and step.save:
            traj.vars[step.save] = result
        traj.vars.setdefault("steps", {})[step.id] = result
        return Outcome(
            step.id,
            step.action,
            error is None,
            (start - t0) * 1000,
            (time.perf_counter() - start) * 1000,
            detail=_short(result) if error is None else "",
            error=error,
            attempts=attempt,
        )

    async def _check(self, traj: Trajectory, check: Check, t0: float) -> Outcome:
        """Poll until the check holds (for hold_s, if asked) or its deadline passes. Polls back
        off from every_s to 0.5 s; once the check holds, the next poll is the one that ends
        its hold_s (a poll in between could only cost a request)."""
        action = CHECKS[check.action]
        start = time.perf_counter()
        deadline = start + check.within_s
        held_since: float | None = None
        last = CheckResult(False, "never evaluated")
        error: str | None = None
        polls = 0
        try:  # the arguments cannot change once the steps are done: rendered and validated once
            args = action.args.model_validate(
                render(check.args if check.args is not None else {}, traj.scope())
            )
        except TemplateError:
            raise
        except Exception as exc:
            return Outcome(
                check.id,
                check.action,
                False,
                (start - t0) * 1000,
                0.0,
                "error while checking",
                _error_text(exc),
            )
        while True:
            polls += 1
            try:
                last = await action.fn(traj, args)
                error = None
            except (InfraError, TemplateError):
                raise
            except Exception as exc:
                last, error = CheckResult(False, "error while checking"), _error_text(exc)
            now = time.perf_counter()
            if action.api:
                traj.touched = now
            if last.ok:
                held_since = held_since if held_since is not None else now
                if now - held_since >= check.hold_s:
                    break
            else:
                held_since = None
            # the deadline is for coming true; once true, it gets hold_s to prove it stays so
            if now >= deadline and (held_since is None or now >= deadline + check.hold_s):
                break
            if held_since is not None:
                await asyncio.sleep(max(held_since + check.hold_s - now, 0.001))
            else:
                await asyncio.sleep(
                    min(check.every_s * (1.5 ** min(polls, 6)), 0.5, max(deadline - now, 0.001))
                )
        ok = last.ok and (held_since is not None and time.perf_counter() - held_since >= check.hold_s)
        detail = last.detail if ok or last.ok else f"not within {check.within_s:g}s: {last.detail}"
        if last.ok and not ok:
            detail = f"held, but not for {check.hold_s:g}s: {last.detail}"
        return Outcome(
            check.id,
            check.action,
            ok,
            (start - t0) * 1000,
            (time.perf_counter() - start) * 1000,
            detail=detail,
            error=error,
            attempts=polls,
        )

    async def _collect(self, traj: Trajectory, trace: dict[str, Any]) -> None:
        """Read the tenant's journal and deliveries once the app has settled: no request to
        any twin and no delivery for `settle_s` (at most `settle_max_s`), since a trace cut
        while the app is still working would differ from its replay.

        One request per twin and read (`/journal?deliveries=true`, which says how long the
        tenant has been quiet), and usually one read: it waits first until `settle_s` has
        passed since the harness's own last API request (which the twins journal too), and
        reads again, past the last entry seen, only while a twin has been quiet for less.
        A twin that does not say (an older one) is read in two calls, and counts as quiet
        when nothing changed since the previous read."""
        twins = list(traj.tenants)
        journals: dict[str, list[Any]] = {twin: [] for twin in twins}
        seen_dl: dict[str, list[Any]] = {twin: [] for twin in twins}
        last: dict[str, int] = dict.fromkeys(twins, 0)
        combined: dict[str, bool] = dict.fromkeys(twins, True)

        async def read(twin: str) -> tuple[list[Any], list[Any], float | None]:
            """(new entries, deliveries, seconds quiet or None when the twin does not say)"""
            params = {"tenant": traj.tenants[twin]["tenant"], "since": last[twin], "limit": 5000}
            if combined[twin]:
                got = await self.universe.control(
                    twin, "GET", "/journal", params={**params, "deliveries": "true"}
                )
                if isinstance(got, dict) and "idle_s" in got:
                    idle = got["idle_s"]
                    return (
                        list(got.get("entries") or []),
                        list(got.get("deliveries") or []),
                        math.inf if idle is None else float(idle),
                    )
                combined[twin] = False
            else:
                got = await self.universe.control(twin, "GET", "/journal", params=params)
            dl = await self.universe.control(twin, "GET", "/deliveries", params={"tenant": params["tenant"]})
            entries = got.get("entries", []) if isinstance(got, dict) else got
            return list(entries), list(dl.get("deliveries", [])), None

        def shape(items: list[Any]) -> list[tuple[Any, ...]]:
            return [(d.get("id"), d.get("state"), len(d.get("attempts") or [])) for d in items]

        deadline = time.perf_counter() + self.settle_max_s
        wait = self.settle_s - (time.perf_counter() - traj.touched)
        if self.settle_s > 0 and wait > 0:
            await asyncio.sleep(min(wait, self.settle_max_s))
        previous: float | None = None
        while True:
            started = time.perf_counter()
            quiet = math.inf
            for twin, (entries, dl, idle) in zip(
                twins, await asyncio.gather(*(read(t) for t in twins)), strict=True
            ):
                journals[twin].extend(entries)
                if entries:
                    last[twin] = max(last[twin], *(int(e.get("seq") or 0) for e in entries))
                if idle is None:  # the twin does not say: quiet since the previous read, if unchanged
                    same = previous is not None and not entries and shape(dl) == shape(seen_dl[twin])
                    busy = any(d.get("state") == "pending" for d in dl)
                    idle = started - previous if same and not busy and previous is not None else 0.0
                seen_dl[twin] = dl
                quiet = min(quiet, idle)
            now = time.perf_counter()
            if quiet >= self.settle_s or now >= deadline or self.settle_s <= 0:
                break
            previous = started
            await asyncio.sleep(max(min(self.settle_s - quiet, deadline - now), 0.01))
        got = [(twin, journals[twin], seen_dl[twin]) for twin in twins]
        for twin, entries, deliveries in got:
            trace["journal"][twin] = entries
            trace["deliveries"][twin] = deliveries
            for e in entries:
                if e.get("fault"):
                    trace["faults"].append(
                        {
                            "twin": twin,
                            "on": "request",
                            "operation": e.get("operation"),
                            "seq": e.get("seq"),
                            **_fault(e["fault"]),
                        }
                    )
            for d in deliveries:
                if d.get("fault"):
                    trace["faults"].append(
                        {
                            "twin": twin,
                            "on": "delivery",
                            "kind": d.get("kind"),
                            "id": d.get("id"),
                            **_fault(d["fault"]),
                        }
                    )

    async def _judge(self, traj: Trajectory, trace: dict[str, Any]) -> None:
        """Ask the LLM judge; `llm` takes its verdict, `both` needs the checks and the verdict.
        A judge that cannot answer leaves the trajectory unjudged (not unsatisfied)."""
        assert self.judge is not None
        trace["checks_satisfied"] = trace["satisfied"]
        about = self.judge.describe()
        try:
            verdict = await self.judge.judge(traj.scenario.story, trace)
        except JudgeError as exc:
            trace["judge"] = {**about, "verdict": None, "reason": None, "error": str(exc)}
            trace["satisfied"] = False
            trace["unjudged"] = True
            trace["error"] = str(exc)
            trace["error_kind"] = "judge"
            return
        trace["judge"] = {
            **about,
            "verdict": "satisfied" if verdict.satisfied else "unsatisfied",
            "reason": verdict.reason,
            "error": None,
        }
        if self.judge_mode == "llm":
            trace["satisfied"] = verdict.satisfied
        else:
            trace["satisfied"] = bool(trace["checks_satisfied"]) and verdict.satisfied

    async def _drop_named(self, tenant: str, twins: list[str]) -> None:
        """Drop a tenant left behind (e.g. by --keep-tenants) in these twins."""
        for twin in twins:
            with contextlib.suppress(InfraError, ControlError):
                await self.universe.control(twin, "DELETE", f"/tenants/{tenant}")

    async def _drop(self, traj: Trajectory) -> None:
        async def drop(twin: str, tenant: str) -> None:
            with contextlib.suppress(InfraError, ControlError):
                await self.universe.control(twin, "DELETE", f"/tenants/{tenant}")

        async def forget() -> None:
            if self.install and self.universe.app_url:
                with contextlib.suppress(HttpError):
                    await self.universe.http.delete(
                        self.universe.app_url.rstrip("/") + f"/installs/{traj.tenant}"
                    )

        await asyncio.gather(forget(), *(drop(t, made["tenant"]) for t, made in traj.tenants.items()))


def _fault(f: Any) -> dict[str, Any]:
    if isinstance(f, dict):
        return {
            "rule": f.get("rule") or f.get("id"),
            "action": f.get("kind") or f.get("action"),
            **{k: v for k, v in f.items() if k not in ("rule", "id", "kind", "action")},
        }
    return {"rule": str(f), "action": None}


def cause_of(trace: dict[str, Any]) -> str | None:
    """Why a trajectory was not satisfied, as a grouping key: what failed, and the faults seen."""
    if trace["satisfied"]:
        return None
    rules = sorted({str(f.get("rule")) for f in trace["faults"]})
    suffix = f" [faults: {', '.join(rules)}]" if rules else ""
    if trace.get("error"):
        return f"{trace.get('error_kind', 'error')}: {_scrub(trace['error'])[:160]}{suffix}"
    for s in trace["steps"]:
        if not s["ok"]:
            return f"step {s['id']} failed: {_scrub(s['error'] or '')[:140]}{suffix}"
    failed = [c["id"] for c in trace["checks"] if not c["ok"]]
    judge = trace.get("judge") or {}
    if judge.get("verdict") == "unsatisfied":
        return f"{judge.get('name', 'llm')} judge: unsatisfied{suffix}" + (
            f" (checks {', '.join(failed)} failed too)" if failed else ""
        )
    return f"check {', '.join(failed)} failed{suffix}"


def _scrub(text: str) -> str:
    """An error message without what differs between trajectories (emails, ids, numbers), so
    that the same failure groups under one cause."""
    text = text.removeprefix("StepFailed: ")
    text = re.sub(r"[\w.+-]+@[\w-]+\.[\w.]+", "<email>", text)
    text = re.sub(r"\b(h[0-9a-f]{20}|[A-Z][A-Z0-9]{8,}|[0-9a-zA-Z]{20,})\b", "<id>", text)
    return re.sub(r"\b\d+(\.\d+)?\b", "<n>", text)


def fingerprint(trace: dict[str, Any]) -> dict[str, Any]:
    """What a replay must reproduce: inputs, step and check outcomes, the writes each twin saw
    (operation, status, fault), deliveries and faults. Reads are left out: how often a check or
    the app polled depends on timing, not on the trajectory."""
    writes: dict[str, list[Any]] = {}
    for twin, entries in sorted(trace["journal"].items()):
        writes[twin] = sorted(
            (
                str(e.get("operation")),
                e.get("status"),
                str(
                    (e.get("fault") or {}).get("rule") if isinstance(e.get("fault"), dict) else e.get("fault")
                ),
            )
            for e in entries
            if e.get("operation") and not _READ_OP.search(str(e.get("operation")))
        )
    deliveries = {
        twin: sorted(
            (
                str(d.get("kind")),
                str((d.get("payload") or {}).get("type") if isinstance(d.get("payload"), dict) else ""),
                str(d.get("state")),
            )
            for d in items
        )
        for twin, items in sorted(trace["deliveries"].items())
    }
    return {
        "inputs": trace["inputs"],
        "satisfied": trace["satisfied"],
        "error_kind": trace.get("error_kind"),
        "steps": [(s["id"], s["ok"]) for s in trace["steps"]],
        "checks": [(c["id"], c["ok"]) for c in trace["checks"]],
        "writes": writes,
        "deliveries": deliveries,
        "faults": sorted((f["twin"], f["on"], str(f.get("rule"))) for f in trace["faults"]),
    }


async def maybe_await(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result
