"""Profile the twin's hot paths in process: the whole ASGI stack, no sockets, no load generator.

Drives `chat.postMessage` (JSON body) and `conversations.history` (GET) exactly as slack_sdk
sends them through the app's ASGI callable, counts the SQL statements each call executes
(`before_cursor_execute`), and profiles the loop with cProfile (default) or pyinstrument.

    python bench/profile_hot.py                       # both calls, SQL counts + cProfile top 30
    python bench/profile_hot.py --call write --n 3000 --profiler pyinstrument
    python bench/profile_hot.py --db sqlite:////tmp/p.sqlite --sql   # print each statement once
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import time
from collections import Counter
from typing import Any

from asgi_call import asgi_call  # bench/asgi_call.py
from sqlalchemy import event

from dtu.settings import TwinSettings
from twins.slack.app import create_app

TOKEN = "xoxb-dtu-bot-token"
CHANNEL = "C0DTUGENRL"
POST_BODY = json.dumps({"channel": CHANNEL, "text": "hello from the benchmark"}).encode()


class Driver:
    """Calls the ASGI app directly; checks every answer is `"ok":true`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        ctype: str = "application/x-www-form-urlencoded",
    ) -> bytes:
        headers = [
            (b"host", b"127.0.0.1:7103"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"content-type", ctype.encode()),
            (b"user-agent", b"Python/3.11 slackclient/3 bench"),
        ]
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        _, out = await asgi_call(self.app, method, path, headers, port=7103, query=query, body=body)
        if b'"ok":true' not in out:
            raise RuntimeError(out[:300].decode(errors="replace"))
        return out

    async def write(self) -> bytes:
        return await self.call(
            "POST", "/api/chat.postMessage", body=POST_BODY, ctype="application/json;charset=utf-8"
        )

    async def read(self, limit: int) -> bytes:
        return await self.call("GET", "/api/conversations.history", query=f"channel={CHANNEL}&limit={limit}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite://")
    parser.add_argument("--call", choices=["write", "read", "both"], default="both")
    parser.add_argument("--n", type=int, default=2000, help="calls per profiled loop")
    parser.add_argument("--limit", type=int, default=20, help="conversations.history page size")
    parser.add_argument("--history", type=int, default=200, help="messages in the channel before reads")
    parser.add_argument("--profiler", choices=["cprofile", "pyinstrument", "none"], default="cprofile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="print the statements of one call")
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    app = create_app(TwinSettings(db_url=args.db))
    rt = app.state.dtu
    driver = Driver(app)
    statements: list[str] = []

    in_driver = [0.0, 0.0]  # CPU seconds inside cursor.execute, start of the current one

    @event.listens_for(rt.store.engine, "before_cursor_execute")
    def _count(_conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)
        in_driver[1] = time.thread_time()

    @event.listens_for(rt.store.engine, "after_cursor_execute")
    def _time(*_a: Any) -> None:
        in_driver[0] += time.thread_time() - in_driver[1]

    for _ in range(args.history):
        await driver.write()
    calls = ["write", "read"] if args.call == "both" else [args.call]
    for call in calls:
        fn = driver.write if call == "write" else (lambda: driver.read(args.limit))
        for _ in range(50):  # warm caches (compiled statements, token cache)
            await fn()
        statements.clear()
        await fn()
        per_call = len(statements)
        print(f"\n== {call}: {per_call} SQL statements per call")
        for stmt, n in Counter(" ".join(s.split())[:150] for s in statements).most_common():
            print(f"  {n} x {stmt}" if args.sql else f"  {n} x {stmt[:110]}")
        started = time.perf_counter()
        if args.profiler == "cprofile":
            prof = cProfile.Profile(time.thread_time)  # CPU, not waits
            prof.enable()
            for _ in range(args.n):
                await fn()
            prof.disable()
        elif args.profiler == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            for _ in range(args.n):
                await fn()
            profiler.stop()
        else:
            lat: list[float] = []
            cpu: list[float] = []
            in_driver[0] = 0.0
            for _ in range(args.n):
                t0, c0 = time.perf_counter(), time.thread_time()
                await fn()
                cpu.append((time.thread_time() - c0) * 1e6)
                lat.append((time.perf_counter() - t0) * 1e6)
            lat.sort()
            print(
                f"== {call}: per call p50 {lat[len(lat) // 2]:.0f} us, p99 {lat[int(len(lat) * 0.99)]:.0f} us, "
                f"max {lat[-1]:.0f} us; CPU time per call: mean {sum(cpu) / len(cpu):.0f} us "
                "(the figure to compare on a busy machine)"
            )
            print(
                f"== {call}: of which in the DB driver's cursor.execute: {in_driver[0] / args.n * 1e6:.0f} us "
                f"for {per_call} statements"
            )
        elapsed = time.perf_counter() - started
        print(
            f"== {call}: {args.n} calls in {elapsed:.2f}s = {args.n / elapsed:.0f} calls/s in process"
            + (" (under the profiler)" if args.profiler != "none" else "")
        )
        if args.profiler == "cprofile":
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
        elif args.profiler == "pyinstrument":
            print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
