"""The Okta twin's share of a harness trajectory, in process: CPU per call, no sockets to the twin.

The demo campaign (bench/harness_throughput.py) sends the Okta twin the same few requests in
every trajectory that touches it. This drives exactly those, as the harness, the okta SDK and
the example app send them (headers and bodies copied from a traced run), through the app's
ASGI callable; the event hook receiver (the app) runs in another process so that its CPU is not
counted, while the twin's own delivery work (its aiohttp client) is, as in `dtu serve`. CPU is
the process's (FastAPI runs the control plane's sync endpoints in worker threads).

- onboarding (onboarding-happy-path): POST /_dtu/tenants, POST /api/v1/eventHooks, POST
  .../lifecycle/verify (a GET handshake to the app), POST /api/v1/users?activate=true (an event
  hook delivery follows), GET /api/v1/users/{id} (the app, on the event), GET /_dtu/journal x2,
  GET /_dtu/deliveries, DELETE /_dtu/tenants/{t};
- offboarding (offboarding-deactivate): the same, but POST /api/v1/users?activate=false, POST
  .../lifecycle/deactivate (a delivery follows), GET /_dtu/state/users, and no getUser.

A campaign of the three demo scenarios runs one of each per three trajectories (mention-help
does not touch Okta), so the Okta CPU per trajectory is (onboarding + offboarding) / 3.

    python bench/profile_okta.py                       # 300 of each: CPU per call (mean, median)
    python bench/profile_okta.py --n 100 --profile getUser   # cProfile (CPU) of one call, or `all`
    python bench/profile_okta.py --sql                 # each call's Core statements (Prepared
                                                       # ones run on the cursor and are not seen)
    python bench/profile_okta.py --control-first       # /_dtu routes first (for older trees)
    PYTHONPATH=/tmp/before python /tmp/before/bench/profile_okta.py --json   # another tree

Nothing here asserts on time. Figures: 3 runs of 80 of each per tree, alternated with the
tree before this work (the same core), SQLite in memory, a machine shared with other work (load
5.5-7); CPU us per call, the median of the runs' means:

| call | before | after |
|---|---:|---:|
| POST /_dtu/tenants (default fixture) | 12,500 | 2,600 |
| createEventHook | 3,570 | 940 |
| verifyEventHook (with its GET to the app) | 4,940 | 1,720 |
| createUser, activate=true / false | 8,390 / 7,340 | 1,450 / 1,270 |
| the event hook delivery that follows (activate / deactivate) | 940 / 990 | 890 / 920 |
| getUser (the app, on the event) | 2,210 | 660 |
| deactivateUser | 4,400 | 760 |
| GET /_dtu/journal, /_dtu/deliveries (core; Okta's routes now after them) | 1,000, 980 | 445, 448 |
| GET /_dtu/state/users, DELETE /_dtu/tenants (core; same) | 2,040, 1,320 | 1,520, 810 |
| Okta CPU per demo trajectory | 25.7 ms | 7.4 ms |

Over HTTP (bench/harness_throughput.py -n 40 -c 12, twins of this tree against the same tree
with the old Okta twin, alternated twice, load 7-9): Okta 27.8 and 32.9 ms of CPU per
trajectory before, 10.4 and 12.0 after (Slack, unchanged, 29.7-32.7 and 26.8-31.8).
`--control-first` reorders the routes as `create_app` now does, for trees from before it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import orjson
import uvicorn
from asgi_call import asgi_call  # bench/asgi_call.py
from sqlalchemy import event

from dtu.settings import TwinSettings
from twins.okta.app import create_app

SDK = [
    (b"user-agent", b"OpenAPI-Generator/1.0.0/python"),
    (b"accept", b"application/json"),
]
HARNESS = [
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"user-agent", b"Python/3.11 aiohttp"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The app's hook endpoint: answers the verification challenge, 200 to events."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body"):
            break
    headers = dict(scope["headers"])
    challenge = headers.get(b"x-okta-verification-challenge")
    body = orjson.dumps({"verification": challenge.decode()}) if challenge else b"{}"
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def receiver() -> Iterator[str]:
    """The hook receiver in its own process (its CPU is the app's, not the twin's)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Driver:
    """Calls the twin's ASGI app in process; records CPU (this process: FastAPI runs sync endpoints in worker threads) per call name."""

    def __init__(self, app: Any, rt: Any, receiver: str, profile: str | None) -> None:
        self.app = app
        self.rt = rt
        self.receiver = receiver
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.profile_name = profile
        self.profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall
        self.statements: list[str] | None = None
        self.sql: dict[str, list[str]] = {}
        self.seq = 0

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes = b"",
        headers: list[tuple[bytes, bytes]],
        expect: int = 200,
    ) -> Any:
        hdrs = [(b"host", b"127.0.0.1:7101"), *headers]
        if body or method == "POST":
            hdrs.append((b"content-length", str(len(body)).encode()))
        statements: list[str] = []
        self.statements = statements
        profiling = self.profiler is not None and self.profile_name in (name, "all")
        c0 = time.process_time()
        if profiling:
            assert self.profiler is not None
            self.profiler.enable()
        status, out = await asgi_call(self.app, method, path, hdrs, port=7101, query=query, body=body)
        if profiling:
            assert self.profiler is not None
            self.profiler.disable()
        self.cpu[name].append(time.process_time() - c0)
        self.statements = None
        self.sql.setdefault(name, statements)
        if status != expect:
            raise RuntimeError(f"{name}: {status} {out[:300]!r}")
        return orjson.loads(out) if out else None

    async def settle(self, name: str, tenant: str) -> None:
        """Wait for the tenant's queued deliveries; their CPU (this process: FastAPI runs sync endpoints in worker threads) counts as `name`."""
        c0 = time.process_time()
        engine = self.rt.deliveries
        for _ in range(20_000):
            if (
                not any(d.tenant == tenant and d.state == "pending" for d in engine._log)
                and not engine._inflight
            ):
                break
            await asyncio.sleep(0.0002)
        else:
            raise RuntimeError(f"{name}: the delivery did not finish")
        self.cpu[name].append(time.process_time() - c0)
        bad = [d for d in engine._log if d.tenant == tenant and d.state != "delivered"]
        if bad:
            raise RuntimeError(f"{name}: {bad[0].as_dict()}")

    async def trajectory(self, kind: str) -> None:
        self.seq += 1
        tenant = f"h{kind[:3]}{self.seq:017x}"
        made = await self.call(
            "POST /_dtu/tenants",
            "POST",
            "/_dtu/tenants",
            body=orjson.dumps({"tenant": tenant}),
            headers=[(b"content-type", b"application/json"), *HARNESS],
            expect=201,
        )
        token = made["credentials"]["api_token"]
        harness_auth = [(b"authorization", f"SSWS {token}".encode()), (b"accept", b"application/json")]
        sdk = [*SDK, (b"authorization", f"SSWS{token}".encode())]
        hook = {
            "name": "app under test",
            "events": {
                "type": "EVENT_TYPE",
                "items": ["user.lifecycle.activate", "user.lifecycle.deactivate", "user.lifecycle.suspend"],
            },
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": f"{self.receiver}/okta/hooks/{tenant}",
                    "authScheme": {"type": "HEADER", "key": "Authorization", "value": "hook-" + tenant},
                },
            },
        }
        created = await self.call(
            "createEventHook",
            "POST",
            "/api/v1/eventHooks",
            body=orjson.dumps(hook),
            headers=[*harness_auth, (b"content-type", b"application/json")],
        )
        await self.call(
            "verifyEventHook",
            "POST",
            f"/api/v1/eventHooks/{created['id']}/lifecycle/verify",
            headers=[*harness_auth, (b"content-type", b"application/octet-stream")],
        )
        email = f"new.hire{self.seq}@example.com"
        profile: dict[str, Any] = {
            "email": email,
            "firstName": "New",
            "lastName": f"Hire{self.seq}",
            "login": email,
        }
        if kind == "onboarding":
            profile.update(department="Engineering", manager="carol@example.com")
        user = await self.call(
            f"createUser (activate={'true' if kind == 'onboarding' else 'false'})",
            "POST",
            "/api/v1/users",
            query="activate=true" if kind == "onboarding" else "activate=false",
            body=json.dumps({"profile": profile}).encode(),
            headers=[*sdk, (b"content-type", b"application/json")],
        )
        if kind == "onboarding":
            await self.settle("event hook delivery (activate)", tenant)
            await self.call("getUser", "GET", f"/api/v1/users/{user['id']}", headers=sdk)
        else:
            await self.call(
                "deactivateUser",
                "POST",
                f"/api/v1/users/{user['id']}/lifecycle/deactivate",
                headers=[*sdk, (b"content-type", b"application/octet-stream")],
            )
            await self.settle("event hook delivery (deactivate)", tenant)
            await self.call(
                "GET /_dtu/state/users",
                "GET",
                "/_dtu/state/users",
                query=f"tenant={tenant}&limit=10000&login_lower={email}",
                headers=HARNESS,
            )
        journal = await self.call(
            "GET /_dtu/journal",
            "GET",
            "/_dtu/journal",
            query=f"tenant={tenant}&since=0&limit=5000",
            headers=HARNESS,
        )
        since = journal["entries"][-1]["seq"] if journal["entries"] else 0
        await self.call(
            "GET /_dtu/deliveries", "GET", "/_dtu/deliveries", query=f"tenant={tenant}", headers=HARNESS
        )
        await self.call(
            "GET /_dtu/journal",
            "GET",
            "/_dtu/journal",
            query=f"tenant={tenant}&since={since}&limit=5000",
            headers=HARNESS,
        )
        await self.call("DELETE /_dtu/tenants", "DELETE", f"/_dtu/tenants/{tenant}", headers=HARNESS)


ORDER = [
    "POST /_dtu/tenants",
    "createEventHook",
    "verifyEventHook",
    "createUser (activate=true)",
    "event hook delivery (activate)",
    "getUser",
    "createUser (activate=false)",
    "deactivateUser",
    "event hook delivery (deactivate)",
    "GET /_dtu/state/users",
    "GET /_dtu/journal",
    "GET /_dtu/deliveries",
    "DELETE /_dtu/tenants",
]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    app = create_app(TwinSettings(db_url=args.db, cache=not args.no_cache))
    rt = app.state.dtu
    if args.control_first:
        # A proposal for dtu/app.py, measured here: the control plane's routes ahead of the
        # twin's, so that a /_dtu request is not matched against Okta's 136 routes first.
        routes = app.router.routes
        control = [
            r
            for r in routes
            if str(getattr(getattr(r, "original_router", None), "prefix", "")).startswith("/_dtu")
        ]
        routes[:] = [routes[0], *control, *(r for r in routes[1:] if r not in control)]
    with receiver() as url:
        return await _run(args, app, rt, url)


async def _run(args: argparse.Namespace, app: Any, rt: Any, url: str) -> dict[str, Any]:
    driver = Driver(app, rt, url, args.profile)

    @event.listens_for(rt.store.engine, "before_cursor_execute")
    def _count(_conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if driver.statements is not None:
            driver.statements.append(statement)

    async with app.router.lifespan_context(app):
        for _ in range(args.warmup):
            await driver.trajectory("onboarding")
            await driver.trajectory("offboarding")
        driver.cpu.clear()
        driver.sql.clear()
        if driver.profiler is not None:
            driver.profiler = cProfile.Profile(time.process_time)
        for _ in range(args.n):
            await driver.trajectory("onboarding")
            await driver.trajectory("offboarding")
    per_call = {
        name: {
            "mean_us": round(statistics.fmean(v) * 1e6),
            "median_us": round(statistics.median(v) * 1e6),
            "per_trajectory": len(v) / args.n,
            "sql": len(driver.sql.get(name, [])),
        }
        for name, v in driver.cpu.items()
    }
    onboarding_us = sum(
        v["mean_us"] * (2 if k == "GET /_dtu/journal" else 1)
        for k, v in per_call.items()
        if "false" not in k and "deactivate" not in k and "state/users" not in k
    )
    total_us = sum(sum(v) for v in driver.cpu.values()) / args.n * 1e6
    result = {
        "per_call": per_call,
        "onboarding_us": onboarding_us,
        "offboarding_us": round(total_us - onboarding_us),
        "okta_cpu_ms_per_demo_trajectory": round(total_us / 3 / 1000, 2),
    }
    if args.sql:
        for name in ORDER:
            if name in driver.sql:
                print(f"\n== {name}: {len(driver.sql[name])} statements")
                for stmt, n in Counter(" ".join(s.split())[:140] for s in driver.sql[name]).most_common():
                    print(f"  {n} x {stmt}")
    if driver.profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(driver.profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)  # the hook receiver's process
    parser.add_argument("--db", default="sqlite://")
    parser.add_argument("--n", type=int, default=300, help="trajectories of each kind measured")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--no-cache", action="store_true", help="TwinSettings(cache=False)")
    parser.add_argument(
        "--control-first", action="store_true", help="proposal: /_dtu routes ahead of the twin's"
    )
    parser.add_argument("--profile", help="cProfile this call (a name from the table, or all)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true", help="print each call's statements")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args()
    if args.receiver:
        uvicorn.run(
            _receiver_app, host="127.0.0.1", port=args.receiver, log_level="warning", access_log=False
        )
        return
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'call':<36} {'mean us':>8} {'median':>8} {'per traj':>8} {'SQL':>4}")
    for name in ORDER:
        v = result["per_call"].get(name)
        if v:
            print(
                f"{name:<36} {v['mean_us']:>8} {v['median_us']:>8} {v['per_trajectory']:>8.0f} {v['sql']:>4}"
            )
    print(
        f"onboarding {result['onboarding_us'] / 1000:.2f} ms, offboarding {result['offboarding_us'] / 1000:.2f} ms "
        f"of CPU; Okta CPU per demo trajectory (of three scenarios): "
        f"{result['okta_cpu_ms_per_demo_trajectory']:.2f} ms"
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
    sys.exit(0)
