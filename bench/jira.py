"""The Jira twin's benchmark: issue create, JQL search over 10,000 and 100,000 issues, and one
issue get, over real HTTP, beside the raw ASGI and bare FastAPI baselines of the same run; then
the JQL evaluation itself, in process, with and without the SQL pushdown.

    python bench/jira.py            # baselines, SQLite memory/file, PostgreSQL (~6 min)
    python bench/jira.py --quick    # SQLite memory only, 2 s loads, 10k and 30k issues (~2 min)

The method is bench/run.py's and bench/okta.py's (their servers, pinning, CPU accounting, wrk
script and answer checks are reused): one uvicorn worker pinned to one core, wrk pinned to
another, every answer checked (status and a fragment of the body). The requests are the ones
pycontribs `jira` and atlassian-python-api send, with HTTP Basic `admin@example.com:<token>`:

- `issue.create`: `POST /rest/api/2/issue` `{"fields": {"project": {"key": "DEMO"}, "summary":
  ..., "issuetype": {"name": "Task"}}}`, 201 with the new key (run last: it grows the site);
- `search.jql`: `GET /rest/api/3/search/jql?jql=...&maxResults=50&fields=summary,status,assignee`
  with the common predicates (project, status, assignee, labels, a created range, ORDER BY
  created DESC): evaluated by the database (pushdown);
- `search.text`: `project = DEMO AND summary ~ needle ORDER BY key`: text search, which the
  evaluator decides in Python over the database's LIKE pre-filter (1 issue in 100 matches);
- `issue.get`: `GET /rest/api/2/issue/DEMO-<n>` (all fields, as `JIRA.issue()` asks).

Issues are seeded through the fixture path (`POST /_dtu/seed`, 5,000 a request), first 10,000,
measured, then up to 100,000 (`--sizes`), measured again. The baselines get requests of the same
method, headers and body at their own two paths and answer fixed JSON.

`--ab` (on by default; `--no-ab` skips it) times `search.find` in one process on SQLite in memory
at each size, interleaving the code as it is with the same code with the pushdown turned off
(every visible issue built into a view and evaluated in Python: how every search ran before the
pushdown), so a busy machine slows both alike. The section goes to bench/results/jira.section.md
and into bench/RESULTS.md (bench/run.py keeps it); raw figures to bench/results/jira.json.
Nothing here asserts on time.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import okta  # noqa: E402  (bench/okta.py: wrk script, Shape, Runner)
import run  # noqa: E402  (bench/run.py: servers, pinning, CPU accounting, backends, machine)

EMAIL, TOKEN = "admin@example.com", "dtu-jira-token"
AUTH = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
ALICE, BOB = "5f0c1e8a2b7d3c0012a0a11c", "5f0c1e8a2b7d3c0012a0b0b0"
SECTION = BENCH / "results" / "jira.section.md"
BEGIN, END = "<!-- jira:begin -->", "<!-- jira:end -->"
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
LABELS = [["backend"], ["frontend", "ux"], [], ["ops"]]
DAY = 86400.0
JQL = (
    f'project = DEMO AND status = "To Do" AND assignee = {ALICE} AND labels = backend '
    "AND created >= -30d ORDER BY created DESC"
)
TEXT = "project = DEMO AND summary ~ needle ORDER BY key"


def issue_spec(i: int) -> dict[str, Any]:
    """The i-th seeded issue: types, priorities, labels and assignees spread evenly; one in a
    hundred has the word `needle` in its summary."""
    spec: dict[str, Any] = {
        "project": {"key": "DEMO"},
        "summary": f"seeded issue {i} " + ("needle in a haystack" if i % 100 == 7 else "of the backlog"),
        "issuetype": {"name": ["Task", "Bug", "Story"][i % 3]},
        "priority": {"name": PRIORITIES[i % 5]},
        "labels": LABELS[i % 4],
    }
    if i % 3:
        spec["assignee"] = {"accountId": ALICE if i % 3 == 1 else BOB}
    return spec


def shapes(get_key: str) -> list[okta.Shape]:
    def search(call: str, jql: str, expect: str) -> okta.Shape:
        path = f"/rest/api/3/search/jql?jql={quote(jql)}&maxResults=50&fields=summary,status,assignee"
        return okta.Shape(call, "GET", path, "", "application/json", AUTH, 200, expect)

    create = json.dumps(
        {"fields": {"project": {"key": "DEMO"}, "summary": "bench {n}", "issuetype": {"name": "Task"}}}
    )
    return [
        search("search.jql", JQL, '"issues":[{"expand"'),
        search("search.text", TEXT, '"issues":[{"expand"'),
        okta.Shape(
            "issue.get",
            "GET",
            f"/rest/api/2/issue/{get_key}",
            "",
            "application/json",
            AUTH,
            200,
            '"key":"DEMO-',
        ),
        okta.Shape(
            "issue.create", "POST", "/rest/api/2/issue", create, "application/json", AUTH, 201, '"key":"DEMO-'
        ),
    ]


def _call(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, auth: bool = False
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = AUTH
    conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def seed(port: int, start: int, stop: int, chunk: int = 5000) -> float:
    """Issues start..stop-1 through `POST /_dtu/seed`; the seconds it took."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    try:
        if start == 0:
            status, body = _call(conn, "POST", "/_dtu/reset")
            if status != 200:
                raise RuntimeError(f"reset failed: {status} {body[:200]!r}")
        for lo in range(start, stop, chunk):
            specs = [issue_spec(i) for i in range(lo, min(stop, lo + chunk))]
            status, body = _call(conn, "POST", "/_dtu/seed", {"issues": specs})
            if status != 200:
                raise RuntimeError(f"seed failed: {status} {body[:300]!r}")
        # every search shape must find something, or the load would only measure empty pages
        for jql in (JQL, TEXT):
            status, body = _call(conn, "GET", f"/rest/api/3/search/jql?jql={quote(jql)}&fields=id", auth=True)
            if status != 200 or b'"id"' not in body:
                raise RuntimeError(f"{jql!r} finds nothing: {status} {body[:200]!r}")
    finally:
        conn.close()
    return time.perf_counter() - t0


# -- in-process A/B: the pushdown against the evaluator alone --------------------------------


@dataclass
class AB:
    size: int
    query: str
    pushdown_ms: float
    python_ms: float
    total: int


def ab(sizes: list[int], rounds: int) -> list[AB]:
    """`search.find` on SQLite in memory, with and without the pushdown, interleaved."""
    from sqlalchemy import true

    from dtu.runtime import TwinRuntime
    from dtu.settings import TwinSettings
    from twins.jira import TWIN
    from twins.jira.service import common, pushdown, search

    real_plan = pushdown.plan

    def python_only(*args: Any, **kwargs: Any) -> pushdown.Plan:
        return pushdown.Plan(true(), False, None)

    rt = TwinRuntime(TWIN, TwinSettings(db_url="sqlite://"))
    out: list[AB] = []
    have = 0
    for size in sizes:
        for lo in range(have, size, 5000):
            rt.seed({"issues": [issue_spec(i) for i in range(lo, min(size, lo + 5000))]})
        have = size
        for query in (JQL, TEXT, "project = DEMO ORDER BY created DESC"):
            times: dict[bool, list[float]] = {True: [], False: []}
            total = 0
            for _ in range(rounds):
                for on in (True, False):
                    pushdown.plan = real_plan if on else python_only  # type: ignore[assignment]

                    def fn(ctx: Any, query: str = query) -> int:
                        ctx.principal = common.Principal(
                            ctx.tenant, "5f0c1e8a2b7d3c0012a0ad01", EMAIL, True, "3"
                        )
                        return search.find(ctx, query, offset=0, limit=50)[1] or 0

                    t0 = time.perf_counter()
                    total = rt.unit_sync("default", fn)
                    times[on].append((time.perf_counter() - t0) * 1000)
            pushdown.plan = real_plan  # type: ignore[assignment]
            row = AB(size, query, statistics.median(times[True]), statistics.median(times[False]), total)
            out.append(row)
            print(
                f"  ab {size:>7} issues  pushdown {row.pushdown_ms:9.1f} ms  python {row.python_ms:9.1f} ms  "
                f"({row.total} match)  {query}",
                flush=True,
            )
    return out


# -- report -----------------------------------------------------------------------------------


@dataclass
class Extra:
    seeds: list[dict[str, Any]] = field(default_factory=list)
    ab: list[AB] = field(default_factory=list)


def section(res: run.Results, extra: Extra, command: str) -> str:
    s, m = res.settings, res.machine
    lines = [
        BEGIN,
        "",
        "# Jira twin benchmark results",
        "",
        f"Generated by `{command}` on {res.started}, written by bench/jira.py (method in its docstring; "
        "same servers, pinning and baselines as the Slack section).",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores; Python {m['python']}; commit {m['commit']}",
        f"- Servers pinned to core {s.server_cpu}, wrk to core {s.client_cpu}; {s.duration:g} s per load after a "
        f"{s.warmup:g} s warm-up; {', '.join(map(str, s.conns))} connections",
        f"- search.jql: `{JQL}`; search.text: `{TEXT}`; both `maxResults=50&fields=summary,status,assignee`",
        "- The `call` column names the number of issues on the site when it was measured (`@10k`, `@100k`)",
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
        base = run.load_of(res, "fastapi", "-", load.call.split("@")[0], load.conns)
        ratio = f"{load.rps / base.rps:.3f}x" if base and base.rps else "-"
        lines.append(
            f"| {load.server} | {load.backend} | {load.call} | {load.conns} | {load.rps:,.1f} | "
            f"{load.p50_ms:.2f} | {load.p99_ms:.2f} | {load.errors} | {load.cpu_pct:.0f}% | "
            f"{load.per_cpu_s:,.1f} | {ratio} |"
        )
    if extra.seeds:
        lines += ["", "Seeding through `POST /_dtu/seed` (5,000 issues a request):", ""]
        lines += ["| backend | issues | seconds | issues/s |", "|---|---:|---:|---:|"]
        for sd in extra.seeds:
            lines.append(
                f"| {sd['backend']} | {sd['from']:,} -> {sd['to']:,} | {sd['s']:.1f} | "
                f"{(sd['to'] - sd['from']) / sd['s']:,.0f} |"
            )
    if extra.ab:
        lines += [
            "",
            "JQL evaluation in process (`search.find`, first page of 50 and the total; SQLite in memory; "
            "median of interleaved rounds): with the pushdown, and with it turned off (every visible issue "
            "built into a view and evaluated in Python, as every search ran before it):",
            "",
            "| issues | query | matches | pushdown ms | Python only ms | speed-up |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for row in extra.ab:
            lines.append(
                f"| {row.size:,} | `{row.query}` | {row.total:,} | {row.pushdown_ms:.1f} | {row.python_ms:.1f} | "
                f"{row.python_ms / row.pushdown_ms:.1f}x |"
            )
    return run.notes_and_end(res, lines, END)


def splice(results: Path, text: str) -> None:
    run.splice_section(results, BEGIN, END, text)


def main() -> int:
    parser = run.twin_bench_parser(__doc__, "jira", conns="16")
    parser.add_argument("--sizes", help="comma list of site sizes to measure at (default 10000,100000)")
    parser.add_argument("--ab-rounds", type=int, default=3, help="rounds of the in-process A/B")
    parser.add_argument("--no-ab", action="store_true", help="skip the in-process A/B")
    args = parser.parse_args()
    if not run.wrk_installed():
        return 2
    sizes = [int(x) for x in (args.sizes or ("10000,30000" if args.quick else "10000,100000")).split(",")]
    backends = str(args.backends).split(",") if args.backends else ["sqlite-memory"] if args.quick else None
    settings = run.twin_bench_settings(args, page=50, corpus=sizes[-1], backends=backends)
    res = run.Results(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        settings=settings,
        machine=run.machine(),
    )
    extra = Extra()
    command = "python bench/jira.py " + " ".join(sys.argv[1:])
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtu-bench-jira-") as tmpdir:
        tmp = Path(tmpdir)
        script = tmp / "jira.lua"
        script.write_text(okta.LUA)
        runner = okta.Runner(res, script)
        for name, target in (("raw-asgi", "baselines:raw_app"), ("fastapi", "baselines:fastapi_app")):
            with run.server(
                target,
                cpu=settings.server_cpu,
                app_dir=str(BENCH),
                ready_path="/api/conversations.history",
                logdir=tmp,
            ) as at:
                for shape in shapes("DEMO-5"):
                    runner.measure(at, name, "-", okta.baseline_of(shape))
        for backend in settings.backends:
            with run.backend_url(backend, tmp) as url:
                if url is None:
                    res.notes.append(f"{backend}: skipped (not available)")
                    continue
                with run.server(
                    "twins.jira.app:app",
                    cpu=settings.server_cpu,
                    env={"DTU_JIRA_DB_URL": url},
                    ready_path="/_dtu/health",
                    logdir=tmp,
                ) as at:
                    have = 0
                    for size in sizes:
                        took = seed(at[0], have, size)
                        extra.seeds.append({"backend": backend, "from": have, "to": size, "s": took})
                        print(f"  {backend}: seeded {have:,} -> {size:,} issues in {took:.1f} s", flush=True)
                        have = size
                        label = f"@{size // 1000}k"
                        for shape in shapes(f"DEMO-{size // 2}"):
                            if shape.call == "issue.create" and size != sizes[-1]:
                                continue  # creates grow the site: only at the last size
                            runner.measure(
                                at,
                                "twin",
                                backend,
                                okta.Shape(**{**asdict(shape), "call": shape.call + label}),
                            )
    if not args.no_ab:
        extra.ab = ab(sizes, args.ab_rounds)
    res.machine["load_after"] = run.load_average()
    res.notes.append(f"The whole run took {time.monotonic() - t0:.0f} s.")
    if settings.client_cpu is None:
        res.notes.append("Fewer than 2 cores (or no taskset): server and wrk were not pinned.")
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(
        json.dumps({**asdict(res), "seeds": extra.seeds, "ab": [asdict(a) for a in extra.ab]}, indent=1)
        + "\n"
    )
    text = section(res, extra, command)
    print()
    print(text)
    if not args.no_write:
        SECTION.write_text(text)
        splice(BENCH / "RESULTS.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
