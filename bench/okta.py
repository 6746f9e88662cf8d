"""The Okta twin's benchmark: user create, user list with `search`, and token issuance
(client_credentials) over real HTTP, beside the same two baselines as the Slack benchmark.

    python bench/okta.py            # ~2 min: baselines, SQLite memory/file, PostgreSQL
    python bench/okta.py --quick    # < 1 min: baselines, SQLite memory and file, short loads

The method is bench/run.py's (its servers, pinning, CPU accounting and machine notes are reused
from it): one uvicorn worker per server pinned to one core, wrk pinned to another, every answer
checked. The requests are the ones the okta SDK and an OAuth client send:

- `users.create`: `POST /api/v1/users?activate=true` with `Authorization: SSWS <token>` and a
  JSON user (profile + password), a new login on every request (so every answer is a real create,
  HTTP 200 with `"status":"ACTIVE"`);
- `users.search`: `GET /api/v1/users?search=profile.department eq "Engineering"&limit=20` on an
  org holding `--users` users (half of them in Engineering), measured before the creates;
- `token.client_credentials`: `POST /oauth2/v1/token` (form, HTTP Basic client auth) for
  `okta.users.read` on the org server: an RS256-signed access token each time.

The baselines (bench/baselines.py, unchanged) get requests of the same method, headers and body
at their own two paths (POST -> /api/chat.postMessage, GET -> /api/conversations.history) and
answer fixed JSON: they show what uvicorn alone (raw ASGI) and a bare FastAPI endpoint cost for
such a request. The section is written to bench/results/okta.section.md and spliced into
bench/RESULTS.md below the Slack results (bench/run.py keeps it when it rewrites the file); raw
figures go to bench/results/okta.json. Nothing here asserts on time.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: servers, pinning, CPU accounting, backends, machine)

TOKEN = "dtu-okta-token"
SERVICE = ("dtu-service-app", "dtu-service-secret")
SECTION = BENCH / "results" / "okta.section.md"
BEGIN, END = "<!-- okta:begin -->", "<!-- okta:end -->"

# wrk script: one request shape from the environment; `{n}` in the body becomes a fresh number
# on every request (unique logins); each answer must have the expected status and contain the
# expected text. Summary line as bench/load.lua prints it, so run.py's parser reads it.
LUA = r"""
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local template = os.getenv("BENCH_BODY") or ""
local prefix = os.getenv("BENCH_PREFIX") or "r"
local want_status = tonumber(os.getenv("BENCH_STATUS") or "200")
local want_text = os.getenv("BENCH_EXPECT") or ""
wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
wrk.headers["Accept"] = "application/json"
wrk.headers["User-Agent"] = "okta-sdk-python/3 bench"
local templated = string.find(template, "{n}", 1, true) ~= nil
if template ~= "" then wrk.body = template end
local counter = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) good = 0; bad = 0; sample = "" end
function request()
  if templated then
    counter = counter + 1
    local body = string.gsub(template, "{n}", prefix .. "x" .. counter)
    return wrk.format(nil, nil, nil, body)
  end
  return wrk.format()
end
function response(status, headers, body)
  if status == want_status and string.find(body, want_text, 1, true) then
    good = good + 1
  else
    bad = bad + 1
    if sample == "" then sample = tostring(status) .. " " .. string.sub(body or "", 1, 160) end
  end
end
function done(summary, latency, requests)
  local g, b, first = 0, 0, ""
  for _, t in ipairs(threads) do
    g = g + t:get("good"); b = b + t:get("bad")
    local s = t:get("sample")
    if first == "" and s ~= nil then first = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"good":%d,"bad":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, g, b, e.connect, e.read, e.write, e.status,
    e.timeout))
  if first ~= "" then io.write("BENCH_SAMPLE " .. first:gsub("\n", " ") .. "\n") end
end
"""


@dataclass(frozen=True)
class Shape:
    """One request as the okta SDK / an OAuth client sends it, and what a good answer holds."""

    call: str
    method: str
    path: str
    body: str
    ctype: str
    auth: str
    status: int
    expect: str


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{SERVICE[0]}:{SERVICE[1]}".encode()).decode()


def shapes(limit: int) -> list[Shape]:
    user = json.dumps(
        {
            "profile": {
                "firstName": "Bench",
                "lastName": "User",
                "email": "b{n}@example.com",
                "login": "b{n}@example.com",
                "department": "Load",
            },
            "credentials": {"password": {"value": "Bench-Passw0rd-1"}},
        }
    )
    search = quote('profile.department eq "Engineering"')
    return [
        Shape(
            "users.search",
            "GET",
            f"/api/v1/users?search={search}&limit={limit}",
            "",
            "application/json",
            f"SSWS {TOKEN}",
            200,
            '"id":"00u',
        ),
        Shape(
            "token.client_credentials",
            "POST",
            "/oauth2/v1/token",
            urlencode({"grant_type": "client_credentials", "scope": "okta.users.read"}),
            "application/x-www-form-urlencoded",
            _basic(),
            200,
            '"access_token"',
        ),
        Shape(
            "users.create",
            "POST",
            "/api/v1/users?activate=true",
            user,
            "application/json",
            f"SSWS {TOKEN}",
            200,
            '"status":"ACTIVE"',
        ),
    ]


def baseline_of(shape: Shape) -> Shape:
    """The same request at a baseline's path; a good baseline answer is its fixed 200 JSON."""
    path = "/api/chat.postMessage" if shape.method == "POST" else "/api/conversations.history"
    return Shape(shape.call, shape.method, path, shape.body, shape.ctype, shape.auth, 200, '"ok":true')


def wrk(
    port: int, shape: Shape, conns: int, seconds: float, cpu: str | None, script: Path, prefix: str
) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_METHOD": shape.method,
        "BENCH_BODY": shape.body,
        "BENCH_CTYPE": shape.ctype,
        "BENCH_AUTH": shape.auth,
        "BENCH_STATUS": str(shape.status),
        "BENCH_EXPECT": shape.expect,
        "BENCH_PREFIX": prefix,
    }
    argv = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{shape.path}",
    ]
    out = subprocess.run(run.pinned(cpu, argv), env=env, capture_output=True, text=True, check=True).stdout
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


class Runner:
    def __init__(self, res: run.Results, script: Path) -> None:
        self.res, self.script, self.n = res, script, 0

    def measure(self, at: tuple[int, int], server: str, backend: str, shape: Shape) -> None:
        """bench/run.py's `measure`, with this script's request shapes and answer checks."""
        s = self.res.settings
        port, pid = at

        def go(conns: int, seconds: float) -> dict[str, Any]:
            self.n += 1
            # A barrier: requests still in flight from the previous load (wrk stops waiting, the
            # server does not) are answered before this load starts.
            run.request(port, "GET", "/_dtu/health", auth=False)
            return wrk(port, shape, conns, seconds, s.client_cpu, self.script, f"r{self.n}")

        if s.warmup > 0:
            go(s.conns[0], s.warmup)
        for conns in s.conns:
            cpu0 = run.cpu_seconds(pid)
            raw = go(conns, s.duration)
            cpu = run.cpu_seconds(pid) - cpu0
            load = run.load_from_wrk(raw, cpu, server, backend, shape.call, conns)
            self.res.loads.append(load)
            flag = f"  {load.errors} errors, e.g. {load.sample}" if load.errors else ""
            print(
                f"  {server:<9} {backend:<14} {shape.call:<25} c={conns:<3} {load.rps:8.0f} rps  "
                f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms  server CPU {load.cpu_pct:3.0f}%  "
                f"{load.per_cpu_s:7.0f} req/CPU-s{flag}",
                flush=True,
            )


def _call(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read()


def prepare_twin(port: int, users: int) -> None:
    """Back to the default org, then `users` more users (every other one in Engineering)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        status, body = _call(conn, "POST", "/_dtu/reset")
        if status != 200:
            raise RuntimeError(f"reset failed: {status} {body[:200]!r}")
        headers = {"Authorization": f"SSWS {TOKEN}", "Content-Type": "application/json"}
        for i in range(users):
            user = {
                "profile": {
                    "firstName": "Seed",
                    "lastName": f"User{i}",
                    "email": f"seed{i}@example.com",
                    "login": f"seed{i}@example.com",
                    "department": "Engineering" if i % 2 == 0 else "Sales",
                },
                "credentials": {"password": {"value": "Seed-Passw0rd-1"}},
            }
            status, body = _call(
                conn, "POST", "/api/v1/users?activate=true", json.dumps(user).encode(), headers
            )
            if status != 200:
                raise RuntimeError(f"create user failed: {status} {body[:200]!r}")
        # The org's first token makes its signing key (a pure-Python prime search, about a second,
        # then cached per process): done here so that the token loads measure issuance only.
        t0 = time.perf_counter()
        form = urlencode({"grant_type": "client_credentials", "scope": "okta.users.read"}).encode()
        status, body = _call(
            conn,
            "POST",
            "/oauth2/v1/token",
            form,
            {"Authorization": _basic(), "Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise RuntimeError(f"token failed: {status} {body[:200]!r}")
        print(
            f"  first token (makes the signing key): {(time.perf_counter() - t0) * 1000:.0f} ms", flush=True
        )
    finally:
        conn.close()


def comparison(res: run.Results, before_path: Path) -> list[str]:
    """Lines comparing this run's twin loads with an earlier run's (its raw JSON): what a change
    did, both runs' load averages beside them (a busy machine moves both)."""
    before = json.loads(before_path.read_text())
    old = {(x["backend"], x["call"], x["conns"]): x for x in before["loads"] if x["server"] == "twin"}
    lines = [
        "",
        f"Against the earlier run in `{before_path.relative_to(BENCH.parent)}` ({before['started']}, "
        f"load average {before['machine'].get('load_before', '?')} / {before['machine'].get('load_after', '?')}):",
        "",
        "| backend | call | conns | req/s before | req/s now | CPU ms/request before | CPU ms/request now |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for load in res.loads:
        prev = old.get((load.backend, load.call, load.conns))
        if load.server != "twin" or prev is None:
            continue
        ms_before = 1000 / prev["per_cpu_s"] if prev["per_cpu_s"] else float("nan")
        ms_now = 1000 / load.per_cpu_s if load.per_cpu_s else float("nan")
        lines.append(
            f"| {load.backend} | {load.call} | {load.conns} | {prev['rps']:,.0f} | {load.rps:,.0f} | "
            f"{ms_before:.1f} | {ms_now:.1f} |"
        )
    return lines


def section(res: run.Results, users: int, limit: int, command: str, compare: Path | None = None) -> str:
    s, m = res.settings, res.machine
    lines = [
        BEGIN,
        "",
        "# Okta twin benchmark results",
        "",
        f"Generated by `{command}` on {res.started}, written by bench/okta.py (method in its docstring; "
        "machine notes as in the Slack section above: same servers, pinning and baselines).",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores; Python {m['python']}; commit {m['commit']}",
        f"- Servers pinned to core {s.server_cpu}, wrk to core {s.client_cpu}; {s.duration:g} s per load after a "
        f"{s.warmup:g} s warm-up; {', '.join(map(str, s.conns))} connections",
        f'- users.search: `search=profile.department eq "Engineering"&limit={limit}` over {users + 3} users '
        f"({users // 2 + users % 2 + 2} match); users.create: a new login per request, `activate=true` with a "
        "password; token.client_credentials: org server, `okta.users.read`, HTTP Basic client auth",
        f"- Load average (1 min) before / after: {m.get('load_before', '?')} / {m.get('load_after', '?')} "
        "(well above 0 means other processes shared the cores and the figures are not comparable)",
        "- Baselines answer fixed JSON to the same method, headers and body at their own paths "
        "(bench/baselines.py)",
        "",
        "| server | backend | call | conns | req/s | p50 ms | p99 ms | errors | server CPU | req/CPU-s "
        "| req/s vs bare FastAPI |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for load in res.loads:
        base = run.load_of(res, "fastapi", "-", load.call, load.conns)
        ratio = f"{load.rps / base.rps:.2f}x" if base and base.rps else "-"
        lines.append(
            f"| {load.server} | {load.backend} | {load.call} | {load.conns} | {load.rps:,.0f} | "
            f"{load.p50_ms:.2f} | {load.p99_ms:.2f} | {load.errors} | {load.cpu_pct:.0f}% | "
            f"{load.per_cpu_s:,.0f} | {ratio} |"
        )
    if compare is not None:
        lines += comparison(res, compare)
    return run.notes_and_end(res, lines, END)


def splice(results: Path, text: str) -> None:
    run.splice_section(results, BEGIN, END, text)


def main() -> int:
    parser = run.twin_bench_parser(__doc__, "okta")
    parser.add_argument("--users", type=int, default=200, help="extra users in the org for the search loads")
    parser.add_argument("--limit", type=int, default=20, help="page size of the search")
    parser.add_argument(
        "--compare", type=Path, help="an earlier run's raw JSON: add a before/now table of the twin's loads"
    )
    args = parser.parse_args()
    if not run.wrk_installed():
        return 2
    settings = run.twin_bench_settings(args, page=args.limit, corpus=args.users)
    res = run.Results(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        settings=settings,
        machine=run.machine(),
    )
    command = "python bench/okta.py " + " ".join(sys.argv[1:])
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtu-bench-okta-") as tmpdir:
        tmp = Path(tmpdir)
        script = tmp / "okta.lua"
        script.write_text(LUA)
        runner = Runner(res, script)
        for name, target in (("raw-asgi", "baselines:raw_app"), ("fastapi", "baselines:fastapi_app")):
            with run.server(
                target,
                cpu=settings.server_cpu,
                app_dir=str(BENCH),
                ready_path="/api/conversations.history",
                logdir=tmp,
            ) as at:
                for shape in shapes(args.limit):
                    runner.measure(at, name, "-", baseline_of(shape))
        for backend in settings.backends:
            with run.backend_url(backend, tmp) as url:
                if url is None:
                    res.notes.append(f"{backend}: skipped (not available)")
                    continue
                with run.server(
                    "twins.okta.app:app",
                    cpu=settings.server_cpu,
                    env={"DTU_OKTA_DB_URL": url},
                    ready_path="/_dtu/health",
                    logdir=tmp,
                ) as at:
                    prepare_twin(at[0], args.users)
                    for shape in shapes(args.limit):  # search first: the creates grow the org
                        runner.measure(at, "twin", backend, shape)
    res.machine["load_after"] = run.load_average()
    res.notes.append(f"The whole run took {time.monotonic() - t0:.0f} s.")
    if settings.client_cpu is None:
        res.notes.append("Fewer than 2 cores (or no taskset): server and wrk were not pinned.")
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(asdict(res), indent=1) + "\n")
    text = section(res, args.users, args.limit, command, args.compare.resolve() if args.compare else None)
    print()
    print(text)
    if not args.no_write:
        SECTION.write_text(text)
        splice(BENCH / "RESULTS.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
