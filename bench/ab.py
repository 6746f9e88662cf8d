"""What-if measurements: the hot calls under changes proposed for files the benchmark does not own.

Each variant is applied in this process only (a monkeypatch or a reordered route table) and
the variants run interleaved, round after round, in one process, so a busy machine slows
them alike; the figure is CPU time per call (`time.thread_time`), in process (no sockets).
The bare FastAPI endpoint of bench/baselines.py is measured the same way, as the yardstick.

    python bench/ab.py                  # 6 rounds x 300 calls per variant and call
    python bench/ab.py --rounds 10 --n 500

Variants (see bench/PROFILE.md for the reasoning):
  current             the code as it is
  routes-first        the twin's routers ahead of the control plane's (dtu/app.py)
  events-prebuilt     events._subscribers with a statement built once (twins/slack/events.py)
  principal-cache     token -> Principal cached across calls (needs invalidation: not safe as is)
  all                 the three together
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from baselines import fastapi_app  # bench/ is on sys.path when run as `python bench/ab.py`
from profile_hot import Driver
from sqlalchemy import Connection, Row, bindparam, select

from dtu.context import TwinContext
from dtu.settings import TwinSettings
from twins.slack import dependencies, events
from twins.slack.app import create_app

_SUBSCRIBERS = select(events.APP).where(
    events.APP.c.tenant_id == bindparam("tenant"), events.APP.c.request_url.is_not(None)
)


def _prebuilt_subscribers(ctx: TwinContext, subscription: str) -> list[Row[Any]]:
    rows = ctx.conn.execute(_SUBSCRIBERS, {"tenant": ctx.tenant}).all()
    return [r for r in rows if subscription in (r.bot_events or [])]


def routes_first(app: Any) -> Any:
    """The same app with the `/api/{method}` router matched before the control plane's."""
    routes = app.router.routes

    def serves_api(route: Any) -> bool:
        inner = getattr(getattr(route, "original_router", None), "routes", ())
        return getattr(route, "path", None) == "/api/{method}" or any(serves_api(r) for r in inner)

    api = [r for r in routes if serves_api(r)]
    assert api, "no /api/{method} route to move"
    for r in api:
        routes.remove(r)
    routes[0:0] = api
    return app


@contextmanager
def patched(events_prebuilt: bool, principal_cache: bool) -> Iterator[None]:
    saved_subscribers = events._subscribers
    saved_lookup = dependencies.lookup_principal
    cache: dict[str, dependencies.Principal] = {}

    def cached_lookup(conn: Connection, token: str) -> dependencies.Principal:
        principal = cache.get(token)
        if principal is None:
            principal = cache[token] = saved_lookup(conn, token)
        return principal

    if events_prebuilt:
        events._subscribers = _prebuilt_subscribers  # type: ignore[assignment]
    if principal_cache:
        dependencies.lookup_principal = cached_lookup  # type: ignore[assignment]
    try:
        yield
    finally:
        events._subscribers = saved_subscribers  # type: ignore[assignment]
        dependencies.lookup_principal = saved_lookup  # type: ignore[assignment]


async def cpu_per_call(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    c0 = time.thread_time()
    for _ in range(n):
        await fn()
    return (time.thread_time() - c0) / n * 1e6


async def calls_per_call(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    """Python function calls per call (cProfile): deterministic, whatever else the machine runs."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        await fn()
    prof.disable()
    return pstats.Stats(prof).total_calls / n  # type: ignore[attr-defined, no-any-return]


async def run(args: argparse.Namespace) -> None:
    plain = create_app(TwinSettings(db_url=args.db))
    reordered = routes_first(create_app(TwinSettings(db_url=args.db)))
    variants: dict[str, tuple[Any, bool, bool]] = {
        "current": (plain, False, False),
        "routes-first": (reordered, False, False),
        "events-prebuilt": (plain, True, False),
        "principal-cache": (plain, False, True),
        "all": (reordered, True, True),
    }
    base = Driver(fastapi_app)
    drivers = {app: Driver(app) for app in (plain, reordered)}
    for d in drivers.values():
        for _ in range(args.history):
            await d.write()
    # api.test (no token, an empty unit of work) and auth.test (token lookup, scopes) are the
    # twin's floor: what any method costs before it does anything. The bare FastAPI figure
    # beside them is its GET endpoint's.
    calls: dict[str, Callable[[Driver], Callable[[], Awaitable[Any]]]] = {
        "chat.postMessage": lambda d: d.write,
        "conversations.history": lambda d: lambda: d.read(args.limit),
        "api.test": lambda d: (
            (lambda: d.read(args.limit)) if d is base else (lambda: d.call("GET", "/api/api.test"))
        ),
        "auth.test": lambda d: (
            (lambda: d.read(args.limit)) if d is base else (lambda: d.call("GET", "/api/auth.test"))
        ),
    }
    results: dict[tuple[str, str], list[float]] = {}
    counts: dict[tuple[str, str], float] = {}
    for call, make in calls.items():
        counts[("bare FastAPI", call)] = await calls_per_call(make(base), 100)
        for name, (app, ev, pc) in variants.items():
            with patched(ev, pc):
                fn = make(drivers[app])
                await fn()
                counts[(name, call)] = await calls_per_call(fn, 100)
    for _ in range(args.rounds):
        for call, make in calls.items():
            results.setdefault(("bare FastAPI", call), []).append(await cpu_per_call(make(base), args.n))
            for name, (app, ev, pc) in variants.items():
                with patched(ev, pc):
                    fn = make(drivers[app])
                    await fn()
                    results.setdefault((name, call), []).append(await cpu_per_call(fn, args.n))
    print(f"CPU us per call, in process, median of {args.rounds} interleaved rounds of {args.n} calls")
    print(f"(conversations.history limit={args.limit} on {args.history}+ messages; {args.db})\n")
    print(
        f"{'variant':<18} {'call':<22} {'us/call':>8} {'vs current':>11} {'FastAPI/twin':>13} "
        f"{'py calls/call':>14}"
    )
    for call in calls:
        current = statistics.median(results[("current", call)])
        fastapi = statistics.median(results[("bare FastAPI", call)])
        for name in ["bare FastAPI", *variants]:
            us = statistics.median(results[(name, call)])
            print(
                f"{name:<18} {call:<22} {us:8.0f} {us / current:10.2f}x {fastapi / us:12.2f} "
                f"{counts[(name, call)]:14.0f}"
            )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite://")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--history", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
