"""The Jira twin's share of a demo trajectory, in process: CPU per call, SQL per call, profiles.

`bench/harness_throughput.py` runs the demo scenarios over HTTP; a Jira trajectory (onboarding
or offboarding; mention-help makes no Jira call) makes these calls to the Jira twin (counted from
a logged run, November 2026), which this script replays through the app's ASGI callable (the
whole middleware and routing stack, no sockets), as the harness, the example app (pycontribs
`jira`) and the control plane send them:

| call | per Jira trajectory | who |
|---|---:|---|
| `POST /_dtu/tenants` (default fixture) / `DELETE /_dtu/tenants/{t}` | 1 / 1 | harness |
| `GET /rest/api/2/search?jql=...&maxResults=100&fields=summary,status,assignee` | 2 | harness check, polled |
| `POST /rest/api/2/issue` | 1 | app |
| `GET /rest/api/2/user/search?query=carol@...&maxResults=1` | 0.5 | app (onboarding) |
| `GET /rest/api/2/search?jql=... AND statusCategory != Done&fields=*all&maxResults=20` | 0.5 | app (offboarding) |
| `GET /rest/api/2/field` | ~0.05 | app (once per client) |
| `GET /_dtu/journal?tenant=...&deliveries=true` | 1 | harness, reading the trace |
| `GET /rest/api/2/issue/{key}` | 0 (measured) | pycontribs `create_issue` reads the issue back unless the app passes `prefetch=False`, as it does now |
| `GET /_dtu/deliveries?tenant=...` | 0 (measured) | the harness's trace read before `journal?deliveries=true` |

    python bench/profile_jira.py                      # CPU per call, N rounds, and per trajectory
    python bench/profile_jira.py --call search.check --profile cprofile
    python bench/profile_jira.py --sql                # the statements of each call
    python bench/profile_jira.py --ab /tmp/before     # interleave with another tree (subprocesses)

CPU is `time.process_time()` around each call (the control plane's sync endpoints run in
the thread pool). Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from asgi_call import asgi_call  # bench/asgi_call.py

# Per Jira trajectory (onboarding and offboarding alternate); mention-help makes no Jira call.
WEIGHTS = {
    "tenant.create": 1.0,
    "tenant.delete": 1.0,
    "user.search": 0.5,
    "issue.create": 1.0,
    "issue.get": 0.0,
    "field.list": 0.05,
    "search.app": 0.5,
    "search.check": 2.0,
    "journal": 1.0,
    "deliveries": 0.0,
}
JIRA_SHARE = 2 / 3  # of the demo's trajectories, those that touch Jira


class Driver:
    """Calls the app's ASGI callable; checks each status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.auth = b""

    def login(self, email: str, token: str) -> None:
        self.auth = b"Basic " + base64.b64encode(f"{email}:{token}".encode())

    async def call(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        *,
        want: int = 200,
        auth: bool = True,
    ) -> bytes:
        headers = [
            (b"host", b"127.0.0.1:7102"),
            (b"user-agent", b"python-requests/2.32.3"),
            (b"accept-encoding", b"gzip, deflate"),
            (b"accept", b"application/json,*.*;q=0.9"),
            (b"connection", b"keep-alive"),
            (b"cache-control", b"no-cache"),
            (b"content-type", b"application/json"),
            (b"x-atlassian-token", b"no-check"),
        ]
        if auth and self.auth:
            headers.append((b"authorization", self.auth))
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        status, out = await asgi_call(self.app, method, path, headers, port=7102, query=query, body=body)
        if status != want:
            raise RuntimeError(f"{method} {path}?{query}: {status} {out[:300].decode(errors='replace')}")
        return out


class Trajectory:
    """One Jira trajectory's calls, in the order the campaign makes them."""

    def __init__(self, driver: Driver, n: int) -> None:
        self.d = driver
        self.n = n
        self.tenant = f"h{n:019x}"
        self.email = f"person.number{n}@example.com"
        self.key = ""

    def calls(self, onboarding: bool) -> list[tuple[str, Any]]:
        d, t = self.d, self.tenant
        check_jql = (
            f'project = DEMO AND labels = onboarding AND summary ~ "\\"{self.email}\\""'
            if onboarding
            else f'labels = offboarding AND summary ~ "\\"{self.email}\\""'
        )
        check_q = urlencode({"jql": check_jql, "maxResults": 100, "fields": "summary,status,assignee"})
        app_q = urlencode(
            {
                "jql": f'project = DEMO AND labels = onboarding AND summary ~ "\\"{self.email}\\"" '
                "AND statusCategory != Done",
                "startAt": 0,
                "validateQuery": "True",
                "fields": "*all",
                "maxResults": 20,
            }
        )
        label = "onboarding" if onboarding else "offboarding"
        fields: dict[str, Any] = {
            "project": {"key": "DEMO"},
            "issuetype": {"name": "Task"},
            "summary": f"{label.title()} Person {self.n} <{self.email}>",
            "description": f"Person {self.n} ({self.email}) is {label}.",
            "labels": [label],
        }
        if onboarding:
            fields["assignee"] = {"accountId": "5f0c1e8a2b7d3c0012a0ca40"}
        create_body = json.dumps({"fields": fields}).encode()

        async def tenant_create() -> None:
            out = await d.call("POST", "/_dtu/tenants", body=json.dumps({"tenant": t}).encode(), want=201)
            creds = json.loads(out)["credentials"]
            d.login(creds["email"], creds["api_token"])

        async def issue_create() -> None:
            self.key = json.loads(await d.call("POST", "/rest/api/2/issue", body=create_body, want=201))[
                "key"
            ]

        out: list[tuple[str, Any]] = [
            ("tenant.create", tenant_create),
            ("search.check", lambda: d.call("GET", "/rest/api/2/search", check_q)),
        ]
        if onboarding:
            user_q = "query=carol%40example.com&includeActive=True&includeInactive=False&maxResults=1"
            out.append(("user.search", lambda: d.call("GET", "/rest/api/2/user/search", user_q)))
        else:
            out.append(("field.list", lambda: d.call("GET", "/rest/api/2/field")))
            out.append(("search.app", lambda: d.call("GET", "/rest/api/2/search", app_q)))
        out += [
            ("issue.create", issue_create),
            ("issue.get", lambda: d.call("GET", f"/rest/api/2/issue/{self.key}")),
            ("search.check", lambda: d.call("GET", "/rest/api/2/search", check_q)),
            ("deliveries", lambda: d.call("GET", "/_dtu/deliveries", f"tenant={t}", auth=False)),
            (
                "journal",
                lambda: d.call(
                    "GET", "/_dtu/journal", f"tenant={t}&since=0&limit=5000&deliveries=true", auth=False
                ),
            ),
            ("tenant.delete", lambda: d.call("DELETE", f"/_dtu/tenants/{t}", auth=False)),
        ]
        return out


async def measure(app: Any, rounds: int, warm: int, live: int) -> dict[str, list[float]]:
    """CPU microseconds of each call, over `rounds` trajectories (after `warm` unmeasured ones).
    `live` trajectories run interleaved, one call at a time each in turn, as a campaign with that
    concurrency interleaves them: other tenants are made and dropped between a trajectory's
    calls (which is what per-tenant caches must survive)."""
    cpu: dict[str, list[float]] = defaultdict(list)
    total = warm + rounds
    started = 0
    running: list[tuple[int, list[tuple[str, Any]]]] = []
    while started < total or running:
        while len(running) < max(1, live) and started < total:
            traj = Trajectory(Driver(app), started)
            running.append((started, traj.calls(onboarding=started % 2 == 0)))
            started += 1
        n, calls = running.pop(0)
        name, fn = calls.pop(0)
        c0 = time.process_time()
        await fn()
        if n >= warm:
            cpu[name].append((time.process_time() - c0) * 1e6)
        if calls:
            running.append((n, calls))
    return cpu


def summary(cpu: dict[str, list[float]]) -> dict[str, float]:
    """Median CPU us per call, and the weighted Jira CPU per trajectory (ms)."""
    out = {name: sorted(v)[len(v) // 2] for name, v in cpu.items()}
    per_traj = sum(out.get(k, 0.0) * w for k, w in WEIGHTS.items()) / 1000
    out["per_jira_trajectory_ms"] = per_traj
    out["per_demo_trajectory_ms"] = per_traj * JIRA_SHARE
    return out


def core_patches() -> None:
    """The core changes this bench proposes (bench/PROFILE.md, Jira), applied in process so
    their gain can be measured before anyone makes them:

    1. `Store.wipe(conn, tenant)` notes the tenant first: deleting one tenant then drops that
       tenant's cached values only, instead of bumping the epoch (every cache of every tenant);
    2. `TwinRuntime._forget(tenant)` forgets the credentials of that tenant only, instead of
       every tenant's (each call after another tenant's deletion looked its token up again);
    3. the control plane's routes are matched before the twin's (a `/_dtu` request no longer
       tries the 183 Jira routes first; no path of a twin overlaps `/_dtu`). The core does this
       itself since 9104699, and the patch then changes nothing.
    """
    from dtu.db import Store
    from dtu.runtime import TwinRuntime

    wipe = Store.wipe

    def wipe_noting(self: Store, conn: Any, tenant: str | None = None) -> None:
        if tenant is not None:
            Store.note_tenant(conn, tenant)
        wipe(self, conn, tenant)

    forget = TwinRuntime._forget

    def forget_one(self: TwinRuntime, tenant: str | None) -> None:
        kept = {k: v for k, v in self._tenant_of.items() if v != tenant} if tenant is not None else {}
        forget(self, tenant)
        self._tenant_of.update(kept)

    Store.wipe = wipe_noting  # type: ignore[method-assign]
    TwinRuntime._forget = forget_one  # type: ignore[method-assign]


def control_first(app: Any) -> None:
    """Patch 3 of `core_patches`: the control plane's router before the twin's."""
    routes = app.router.routes
    control = [
        r for r in routes if "/_dtu" in str(getattr(getattr(r, "original_router", None), "routes", ""))
    ]
    for r in control:
        routes.remove(r)
    routes[0:0] = control
    app.router._routes_version += 1


def make_app(db: str, core: bool = False) -> Any:
    from dtu.settings import TwinSettings
    from twins.jira.app import create_app

    if core:
        core_patches()
    app = create_app(TwinSettings(db_url=db))
    if core:
        control_first(app)
    return app


async def show_sql(app: Any) -> None:
    """Every statement, including `Prepared` ones that run on the driver's cursor (SQLite's
    trace callback sees them all)."""
    statements: list[str] = []
    rt = app.state.dtu

    def ensure_traced() -> None:
        conn = rt.store._conn  # the store's one SQLite connection
        if conn is not None:
            conn.connection.dbapi_connection.set_trace_callback(statements.append)

    driver = Driver(app)
    for i in range(4):
        traj = Trajectory(driver, i)
        for name, fn in traj.calls(onboarding=i % 2 == 0):
            ensure_traced()
            statements.clear()
            await fn()
            if i >= 2:
                shown = [s for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
                print(f"\n== {name}{' (onboarding)' if i % 2 == 0 else ''}: {len(shown)} statements")
                for stmt, n in Counter(" ".join(s.split())[:160] for s in shown).most_common():
                    print(f"  {n} x {stmt}")


async def profile(app: Any, call: str, rounds: int, top: int) -> None:
    driver = Driver(app)
    prof = cProfile.Profile()
    for i in range(rounds + 5):
        traj = Trajectory(driver, i)
        for name, fn in traj.calls(onboarding=i % 2 == 0):
            if name == call and i >= 5:
                prof.enable()
                await fn()
                prof.disable()
            else:
                await fn()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def ab(tree: str, rounds: int, repeats: int, live: int, extra: list[str]) -> None:
    """This tree and `tree`, alternately, each in its own process: CPU per call."""
    here = str(Path(__file__).resolve().parent.parent)
    arms = {"before": tree, "after": here}
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(repeats):
        for arm, root in arms.items():
            env = {**os.environ, "PYTHONPATH": root}
            cmd = [sys.executable, __file__, "--json", "--rounds", str(rounds), "--live", str(live), *extra]
            out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=True)
            results[arm].append(json.loads(out.stdout.strip().splitlines()[-1]))
    names = list(results["after"][0])
    print(f"{'call':<26}{'before us':>12}{'after us':>12}{'x':>7}   (median of {repeats} runs of medians)")
    for name in names:
        b = sorted(r.get(name, 0.0) for r in results["before"])[repeats // 2]
        a = sorted(r.get(name, 0.0) for r in results["after"])[repeats // 2]
        print(f"{name:<26}{b:>12.0f}{a:>12.0f}{(b / a if a else 0):>7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite://")
    ap.add_argument("--rounds", type=int, default=200, help="measured trajectories")
    ap.add_argument("--warm", type=int, default=20)
    ap.add_argument(
        "--live", type=int, default=8, help="trajectories interleaved (the campaign's concurrency)"
    )
    ap.add_argument("--call", help="with --profile: the call to profile")
    ap.add_argument("--profile", choices=["cprofile"], help="profile one call")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--sql", action="store_true", help="print each call's statements")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    ap.add_argument("--ab", metavar="TREE", help="interleave with another source tree")
    ap.add_argument("--core", action="store_true", help="apply the proposed core changes (core_patches)")
    ap.add_argument("--repeats", type=int, default=5, help="with --ab: runs per arm")
    args = ap.parse_args()
    if args.ab:
        ab(args.ab, args.rounds, args.repeats, args.live, ["--core"] if args.core else [])
        return
    app = make_app(args.db, args.core)
    if args.sql:
        asyncio.run(show_sql(app))
        return
    if args.profile:
        asyncio.run(profile(app, args.call or "search.check", args.rounds, args.top))
        return
    result = summary(asyncio.run(measure(app, args.rounds, args.warm, args.live)))
    if args.json:
        print(json.dumps(result))
        return
    for name, value in result.items():
        unit = "ms" if name.endswith("_ms") else "us CPU (median)"
        print(f"{name:<26}{value:>10.1f} {unit}")


if __name__ == "__main__":
    main()
