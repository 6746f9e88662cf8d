"""The Slack twin's benchmark: throughput and p99 over real HTTP, beside two baselines.

    python bench/run.py            # full run (~4 min): baselines, SQLite memory/file, PostgreSQL
    python bench/run.py --quick    # < 1 min: baselines, SQLite memory and file, short loads

Every server is one uvicorn worker (uvloop or `--loop asyncio`, httptools, no access log) pinned to one core;
wrk runs pinned to another core and checks that every answer is a 200 with `"ok":true`
(bench/load.lua). The requests are the ones slack_sdk sends: `chat.postMessage` is a JSON
POST with `Authorization: Bearer`, `conversations.history` a GET with a query string. The
baselines (bench/baselines.py) are measured in the same run with the same requests: a raw
ASGI app and a bare FastAPI endpoint, both answering fixed JSON. Then reset and new-tenant
times are taken over HTTP, sequentially. The table is printed and written to bench/RESULTS.md
(and the raw figures to bench/results/latest.json; `--compare FILE` adds a before/after table).
Nothing here asserts on time: the targets are reported, never enforced.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TOKEN = "xoxb-dtu-bot-token"
CHANNEL = "C0DTUGENRL"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGETS = {"chat.postMessage": 1 / 3, "conversations.history": 1 / 2}
# uvicorn's --loop for every server (`--loop asyncio`: see bench/PROFILE.md on p99 under overload).
EVENT_LOOP = ["uvloop"]


@dataclass(frozen=True)
class Shape:
    """One request, as slack_sdk's WebClient sends it."""

    call: str
    method: str
    path: str
    body: str
    ctype: str


def shapes(history_limit: int) -> list[Shape]:
    write = Shape(
        "chat.postMessage",
        "POST",
        "/api/chat.postMessage",
        json.dumps({"channel": CHANNEL, "text": "hello from the benchmark"}),
        "application/json;charset=utf-8",
    )
    read = Shape(
        "conversations.history",
        "GET",
        f"/api/conversations.history?channel={CHANNEL}&limit={history_limit}",
        "",
        "application/x-www-form-urlencoded",
    )
    return [write, read]


@dataclass
class Load:
    server: str
    backend: str
    call: str
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    cpu_pct: float = 0.0
    per_cpu_s: float = 0.0
    sample: str = ""


@dataclass
class AdminTiming:
    backend: str
    operation: str
    n: int
    median_ms: float
    p99_ms: float
    max_ms: float
    note: str = ""


@dataclass
class Settings:
    duration: int
    warmup: int
    conns: list[int]
    history_limit: int
    history_size: int
    admin_n: int
    server_cpu: str | None
    client_cpu: str | None
    backends: list[str]
    loop: str = "uvloop"


@dataclass
class Results:
    started: str
    settings: Settings
    machine: dict[str, Any]
    loads: list[Load] = field(default_factory=list)
    admin: list[AdminTiming] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cpu: str | None, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if cpu is not None else argv


@contextlib.contextmanager
def server(
    target: str,
    *,
    cpu: str | None,
    env: dict[str, str] | None = None,
    app_dir: str | None = None,
    ready_path: str,
    logdir: Path,
) -> Iterator[tuple[int, int]]:
    """One uvicorn worker serving `target`, pinned to `cpu`; yields its port and pid."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        EVENT_LOOP[0],
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if app_dir:
        argv += ["--app-dir", app_dir]
    log = (logdir / f"{target.replace(':', '_')}-{port}.log").open("w")
    proc = subprocess.Popen(
        pinned(cpu, argv), cwd=REPO, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{target} exited; see {log.name}:\n{Path(log.name).read_text()[-2000:]}")
            try:
                status, _ = request(port, "GET", ready_path, auth=False)
                if status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not start")
            time.sleep(0.1)
        yield port, proc.pid  # taskset execs uvicorn: same pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    auth: bool = True,
    ctype: str = "application/json;charset=utf-8",
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": ctype}
    if auth:
        headers["Authorization"] = f"Bearer {TOKEN}"
    try:
        c.request(method, path, body=body, headers=headers)
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        if own:
            c.close()


# -- load ------------------------------------------------------------------------------------


def wrk(port: int, shape: Shape, conns: int, seconds: float, cpu: str | None) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_METHOD": shape.method,
        "BENCH_BODY": shape.body,
        "BENCH_CTYPE": shape.ctype,
        "BENCH_TOKEN": TOKEN,
    }
    argv = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "load.lua"),
        f"http://127.0.0.1:{port}{shape.path}",
    ]
    out = subprocess.run(pinned(cpu, argv), env=env, capture_output=True, text=True, check=True).stdout
    summary: dict[str, Any] | None = None
    sample = ""
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            summary = json.loads(line[len("BENCH_JSON ") :])
        elif line.startswith("BENCH_SAMPLE "):
            sample = line[len("BENCH_SAMPLE ") :]
    if summary is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    summary["sample"] = sample
    return summary


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc; 0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_from_wrk(raw: dict[str, Any], cpu: float, server: str, backend: str, call: str, conns: int) -> Load:
    """One load's figures from wrk's report (bench/load.lua) and the server's CPU seconds."""
    seconds = raw["duration_us"] / 1e6
    errors = raw["bad"] + sum(raw[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    return Load(
        server,
        backend,
        call,
        conns,
        rps=raw["good"] / seconds,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        requests=raw["requests"],
        errors=errors,
        cpu_pct=100 * cpu / seconds,
        per_cpu_s=raw["good"] / cpu if cpu else 0.0,
        sample=raw["sample"],
    )


def measure(res: Results, server_at: tuple[int, int], server_name: str, backend: str, shape: Shape) -> None:
    s = res.settings
    port, pid = server_at
    if s.warmup > 0:
        wrk(port, shape, s.conns[0], s.warmup, s.client_cpu)
    for conns in s.conns:
        cpu0 = cpu_seconds(pid)
        raw = wrk(port, shape, conns, s.duration, s.client_cpu)
        load = load_from_wrk(raw, cpu_seconds(pid) - cpu0, server_name, backend, shape.call, conns)
        res.loads.append(load)
        flag = f"  {load.errors} errors, e.g. {load.sample}" if load.errors else ""
        print(
            f"  {server_name:<12} {backend:<14} {shape.call:<22} c={conns:<3} {load.rps:8.0f} rps  "
            f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms  server CPU {load.cpu_pct:3.0f}%  "
            f"{load.per_cpu_s:7.0f} req/CPU-s{flag}",
            flush=True,
        )


# -- the twin --------------------------------------------------------------------------------


def prepare_twin(port: int, history_size: int) -> None:
    """Back to the default fixture, then `history_size` messages in #general for the reads."""
    status, body = request(port, "POST", "/_dtu/reset", auth=False)
    if status != 200:
        raise RuntimeError(f"reset failed: {status} {body[:200]!r}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for i in range(history_size):
            payload = json.dumps({"channel": CHANNEL, "text": f"history message {i}"}).encode()
            status, body = request(port, "POST", "/api/chat.postMessage", payload, conn=conn)
            if status != 200 or b'"ok":true' not in body:
                raise RuntimeError(f"chat.postMessage failed: {status} {body[:200]!r}")
    finally:
        conn.close()


def timed(port: int, method: str, path: str, n: int, *, expect: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out: list[float] = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            status, body = request(port, method, path, auth=False, conn=conn)
            out.append((time.perf_counter() - t0) * 1000)
            if status != expect:
                raise RuntimeError(f"{method} {path}: {status} {body[:200]!r}")
    finally:
        conn.close()
    return out


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def admin_timings(res: Results, port: int, backend: str) -> None:
    """New tenant, per-tenant reset and whole-twin reset, each N times in a row."""
    n = res.settings.admin_n

    def add(op: str, values: list[float], note: str = "") -> None:
        t = AdminTiming(backend, op, len(values), statistics.median(values), p99(values), max(values), note)
        res.admin.append(t)
        print(
            f"  {'twin':<12} {backend:<14} {op:<34} n={t.n:<3} median {t.median_ms:7.2f} ms  "
            f"p99 {t.p99_ms:7.2f} ms  {note}",
            flush=True,
        )

    first_reset = timed(port, "POST", "/_dtu/reset", 1, expect=200)
    add(
        "POST /_dtu/reset (after the loads)",
        first_reset,
        "first reset: wipes every message the write loads left",
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    created: list[float] = []
    tenant = ""
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            status, body = request(port, "POST", "/_dtu/tenants", b"", auth=False, conn=conn)
            created.append((time.perf_counter() - t0) * 1000)
            if status != 201:
                raise RuntimeError(f"POST /_dtu/tenants: {status} {body[:200]!r}")
            tenant = json.loads(body)["tenant"]
    finally:
        conn.close()
    add("POST /_dtu/tenants", created, "new tenant from the default fixture")
    add(
        "POST /_dtu/reset?tenant=<one>",
        timed(port, "POST", f"/_dtu/reset?tenant={tenant}", n, expect=200),
        f"one tenant among {n + 1}",
    )
    add(
        "POST /_dtu/reset",
        timed(port, "POST", "/_dtu/reset", n, expect=200),
        f"whole twin (the first of these drops {n} tenants)",
    )


@contextlib.contextmanager
def backend_url(backend: str, tmp: Path) -> Iterator[str | None]:
    """The DB URL for a backend (a fresh PostgreSQL database, dropped afterwards); None = skip."""
    if backend == "sqlite-memory":
        yield "sqlite://"
    elif backend == "sqlite-file":
        yield f"sqlite:///{tmp / 'bench.sqlite'}"
    elif backend == "postgresql":
        try:
            import psycopg
        except ImportError:
            yield None
            return
        name = f"dtu_bench_{os.getpid()}"
        try:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as c:
                c.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as exc:
            print(f"  postgresql unavailable ({str(exc).strip()[:100]}): skipped", flush=True)
            yield None
            return
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        raise ValueError(backend)


# -- machine and report ----------------------------------------------------------------------


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in ("uvicorn", "uvloop", "httptools", "fastapi", "starlette", "sqlalchemy", "psycopg", "orjson"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_before": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "wrk": wrk_version.strip(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def load_of(res: Results, server: str, backend: str, call: str, conns: int) -> Load | None:
    for load in res.loads:
        if (load.server, load.backend, load.call, load.conns) == (server, backend, call, conns):
            return load
    return None


def report(res: Results, compare: dict[str, Any] | None, command: str) -> str:
    s = res.settings
    m = res.machine
    lines = [
        "# Slack twin benchmark results",
        "",
        f"Generated by `{command}` on {res.started}. Written by bench/run.py; see bench/README.md "
        "for the method and bench/PROFILE.md for where the time goes.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores; {m['platform']}; Python {m['python']}",
        f"- Servers pinned to core {s.server_cpu}, wrk pinned to core {s.client_cpu}; one uvicorn worker "
        f"({s.loop}, httptools, access log off)",
        "- " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; {m['wrk']}",
        f"- Commit {m['commit']}",
        f"- Load average (1 min) before / after the run: {m.get('load_before', '?')} / {m.get('load_after', '?')} "
        "(anything well above 0 before the run means other processes shared the cores)",
        "",
        "## Settings",
        "",
        f"- {s.duration:g} s per load after a {s.warmup:g} s warm-up, {', '.join(map(str, s.conns))} "
        "concurrent connections (wrk, closed loop, one thread)",
        f'- chat.postMessage: JSON body `{{"channel": "{CHANNEL}", "text": ...}}`, bot token in '
        '`Authorization`; every answer must be HTTP 200 with `"ok":true`',
        f"- conversations.history: `GET ?channel={CHANNEL}&limit={s.history_limit}` on a channel holding "
        f"{s.history_size} messages (measured before the write loads)",
        f"- reset / new tenant: {s.admin_n} sequential calls each over HTTP",
        "",
        "## Throughput and latency",
        "",
        "`server CPU` is the CPU time the server process used over the load's wall time; `req/CPU-s` is "
        "answered requests per CPU-second of the server, a figure that other processes on the machine "
        "disturb much less than req/s.",
        "",
        "| server | backend | call | conns | req/s | p50 ms | p99 ms | errors | server CPU | req/CPU-s "
        "| req/s vs bare FastAPI |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for load in res.loads:
        base = load_of(res, "fastapi", "-", load.call, load.conns)
        ratio = f"{load.rps / base.rps:.2f}x" if base else "-"
        lines.append(
            f"| {load.server} | {load.backend} | {load.call} | {load.conns} | {load.rps:,.0f} | "
            f"{load.p50_ms:.2f} | {load.p99_ms:.2f} | {load.errors} | {load.cpu_pct:.0f}% | "
            f"{load.per_cpu_s:,.0f} | {ratio} |"
        )
    lines += [
        "",
        "## Targets (one worker, ratio to the bare FastAPI endpoint, same call and concurrency)",
        "",
        "The verdict is on req/s; the req/CPU-s ratio is shown beside it as a cross-check.",
        "",
        "| backend | call | conns | twin req/s | FastAPI req/s | ratio | ratio of req/CPU-s | target | met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts: list[bool] = []
    for load in res.loads:
        if load.server != "twin":
            continue
        base = load_of(res, "fastapi", "-", load.call, load.conns)
        if base is None or not base.rps:
            continue
        rate_ratio = load.rps / base.rps
        cpu_ratio = f"{load.per_cpu_s / base.per_cpu_s:.2f}" if base.per_cpu_s else "-"
        target = TARGETS[load.call]
        met = rate_ratio >= target and load.errors == 0
        verdicts.append(met)
        lines.append(
            f"| {load.backend} | {load.call} | {load.conns} | {load.rps:,.0f} | {base.rps:,.0f} | "
            f"{rate_ratio:.2f} | {cpu_ratio} | {target:.2f} | {'yes' if met else '**no**'} |"
        )
    lines += ["", f"Targets met: {sum(verdicts)} of {len(verdicts)}.", ""]
    lines += [
        "## Reset and new tenant",
        "",
        "| backend | operation | n | median ms | p99 ms | max ms | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for t in res.admin:
        lines.append(
            f"| {t.backend} | `{t.operation}` | {t.n} | {t.median_ms:.2f} | {t.p99_ms:.2f} | "
            f"{t.max_ms:.2f} | {t.note} |"
        )
    if compare is not None:
        lines += [
            "",
            f"## Before / after (before: {compare.get('label') or compare['started']})",
            "",
            "Two runs, at two times: the baselines' code is the same in both, so their change is the "
            "machine's (other processes on the cores), and a twin's change is only worth what it "
            "exceeds theirs by. bench/PROFILE.md has interleaved A/B figures that do not have this "
            "problem.",
            "",
            "| server | backend | call | conns | before req/s | after req/s | change | change of req/CPU-s "
            "| before p99 ms | after p99 ms |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        before = {(x["server"], x["backend"], x["call"], x["conns"]): x for x in compare["loads"]}
        for load in res.loads:
            b = before.get((load.server, load.backend, load.call, load.conns))
            if b is None:
                continue
            cpu_change = (
                f"{load.per_cpu_s / b['per_cpu_s']:.2f}x" if b.get("per_cpu_s") and load.per_cpu_s else "-"
            )
            lines.append(
                f"| {load.server} | {load.backend} | {load.call} | {load.conns} | {b['rps']:,.0f} | "
                f"{load.rps:,.0f} | {load.rps / b['rps']:.2f}x | {cpu_change} | {b['p99_ms']:.2f} | "
                f"{load.p99_ms:.2f} |"
            )
        before_admin = {(x["backend"], x["operation"]): x for x in compare.get("admin", [])}
        rows = [
            (t, before_admin[(t.backend, t.operation)])
            for t in res.admin
            if (t.backend, t.operation) in before_admin
        ]
        if rows:
            lines += [
                "",
                "| backend | operation | before median ms | after median ms |",
                "|---|---|---:|---:|",
            ]
            lines += [
                f"| {t.backend} | `{t.operation}` | {b['median_ms']:.2f} | {t.median_ms:.2f} |"
                for t, b in rows
            ]
    if res.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in res.notes]
    return "\n".join(lines) + "\n"


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short loads, SQLite only (< 1 minute)")
    parser.add_argument("--duration", type=int, help="whole seconds per load (default 8, quick 2)")
    parser.add_argument("--backends", help="comma list of sqlite-memory,sqlite-file,postgresql")
    parser.add_argument("--history-limit", type=int, default=20, help="conversations.history page size")
    parser.add_argument("--history-size", type=int, default=200, help="messages in the channel for reads")
    parser.add_argument(
        "--admin-n", type=int, help="calls per reset / new-tenant timing (default 30, quick 10)"
    )
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    parser.add_argument("--compare", type=Path, help="a previous results JSON for a before/after table")
    parser.add_argument("--label", help="a name for this run in later comparisons")
    parser.add_argument("--json-out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    parser.add_argument("--render", type=Path, help="no run: write RESULTS.md from a results JSON")
    parser.add_argument(
        "--loop", choices=["uvloop", "asyncio"], default="uvloop", help="uvicorn's event loop"
    )
    args = parser.parse_args()

    if args.render:
        return render(args.render, args.compare, args.no_write)
    EVENT_LOOP[0] = args.loop
    if not wrk_installed():
        return 2
    server_cpu, client_cpu = placement(args)
    backends = backends_of(args)
    settings = Settings(
        duration=args.duration or (2 if args.quick else 8),
        warmup=1,
        conns=[16, 64],
        history_limit=args.history_limit,
        history_size=args.history_size,
        admin_n=args.admin_n or (10 if args.quick else 30),
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        backends=backends,
        loop=args.loop,
    )
    res = Results(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), settings=settings, machine=machine()
    )
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtu-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for name, target in (("raw-asgi", "baselines:raw_app"), ("fastapi", "baselines:fastapi_app")):
            with server(
                target,
                cpu=settings.server_cpu,
                app_dir=str(BENCH),
                ready_path="/api/conversations.history",
                logdir=tmp,
            ) as at:
                for shape in shapes(args.history_limit):
                    measure(res, at, name, "-", shape)
        for backend in backends:
            with backend_url(backend, tmp) as url:
                if url is None:
                    res.notes.append(f"{backend}: skipped (not available)")
                    continue
                env = {"DTU_SLACK_DB_URL": url}
                with server(
                    "twins.slack.app:app",
                    cpu=settings.server_cpu,
                    env=env,
                    ready_path="/_dtu/health",
                    logdir=tmp,
                ) as at:
                    prepare_twin(at[0], args.history_size)
                    write, read = shapes(args.history_limit)
                    measure(res, at, "twin", backend, read)
                    measure(res, at, "twin", backend, write)
                    admin_timings(res, at[0], backend)
    elapsed = time.monotonic() - t_start
    res.machine["load_after"] = load_average()
    res.notes.append(f"The whole run took {elapsed:.0f} s.")
    if res.settings.client_cpu is None:
        res.notes.append("Fewer than 2 cores (or no taskset): server and wrk were not pinned.")
    payload = {"label": args.label, "command": command, **asdict(res)}
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(payload, indent=1) + "\n")
    compare = json.loads(args.compare.read_text()) if args.compare else None
    text = report(res, compare, command)
    print()
    print(text)
    if not args.no_write:
        write_results(text)
    return 0


# -- shared by the per-twin benches (okta.py, jira.py, gdrive.py) -----------------------------


def twin_bench_parser(doc: str | None, twin: str, conns: str = "16,64") -> argparse.ArgumentParser:
    """The options every per-twin bench takes (each adds its own)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short loads, SQLite only")
    parser.add_argument("--duration", type=int, help="whole seconds per load (default 5, quick 2)")
    parser.add_argument("--backends", help="comma list of sqlite-memory,sqlite-file,postgresql")
    parser.add_argument("--conns", default=conns, help="comma list of concurrent connections")
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    parser.add_argument("--json-out", type=Path, default=BENCH / "results" / f"{twin}.json")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    return parser


def twin_bench_settings(
    args: argparse.Namespace, *, page: int, corpus: int, backends: list[str] | None = None
) -> Settings:
    """A per-twin bench's settings from its options (`page`, `corpus`: its read shape)."""
    server_cpu, client_cpu = placement(args)
    return Settings(
        duration=args.duration or (2 if args.quick else 5),
        warmup=1,
        conns=[int(c) for c in args.conns.split(",")],
        history_limit=page,
        history_size=corpus,
        admin_n=0,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        backends=backends or backends_of(args),
    )


def wrk_installed() -> bool:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return False
    return True


def placement(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The cores for the servers and for wrk (`--server-cpu`, `--client-cpu`), or none where
    `taskset` is missing or there is one core."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return None, None
    return args.server_cpu, args.client_cpu


def backends_of(args: argparse.Namespace) -> list[str]:
    """`--backends`, or SQLite only with `--quick`, or all three."""
    if args.backends:
        return str(args.backends).split(",")
    return ["sqlite-memory", "sqlite-file"] if args.quick else ["sqlite-memory", "sqlite-file", "postgresql"]


def splice_section(results: Path, begin: str, end: str, text: str) -> None:
    """Put a twin's section (between its `begin` and `end` markers) into RESULTS.md, replacing
    an older one and leaving the rest as it is."""
    current = results.read_text() if results.exists() else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head.rstrip("\n") + rest.split(end, 1)[1]
    current = current.rstrip("\n")
    results.write_text((current + "\n\n" if current else "") + text)


def notes_and_end(res: Results, lines: list[str], end: str) -> str:
    """A section's closing: its notes, then the end marker."""
    if res.notes:
        lines = [*lines, "", "Notes:", ""] + [f"- {n}" for n in res.notes]
    return "\n".join([*lines, "", end]) + "\n"


def write_results(text: str) -> None:
    # Other twins' sections (bench/<twin>.py writes bench/results/<twin>.section.md) stay below.
    extra = "".join("\n" + p.read_text() for p in sorted((BENCH / "results").glob("*.section.md")))
    (BENCH / "RESULTS.md").write_text(text + extra)


def render(path: Path, compare_path: Path | None, no_write: bool) -> int:
    """RESULTS.md again from a run's JSON (after a change to the report, without a new run)."""
    data = json.loads(path.read_text())
    res = Results(
        started=data["started"],
        settings=Settings(**data["settings"]),
        machine=data["machine"],
        loads=[Load(**x) for x in data["loads"]],
        admin=[AdminTiming(**x) for x in data["admin"]],
        notes=data["notes"],
    )
    compare = json.loads(compare_path.read_text()) if compare_path else None
    command = data.get("command") or "python bench/run.py"
    text = report(res, compare, command)
    print(text)
    if not no_write:
        write_results(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
