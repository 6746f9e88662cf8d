"""`dtu run SCENARIOS...`: run trajectories, report satisfaction, gate CI on it.

    dtu run scenarios/ --trajectories 50 --concurrency 16 --min-satisfaction 0.95 --report out/
    dtu run scenarios/ --faults fault_profiles/slack-rate-limited.yaml --app-env ONBOARDING_RESILIENT=0
    dtu run scenarios/ --replay onboarding-happy-path~0~17

Twins: started in-process (one thread each, in-memory SQLite) unless given with
`--twin slack=http://127.0.0.1:7103` or `DTU_SLACK_URL` (likewise okta, jira). The app:
`--app-url URL` (running), `--app-cmd "python -m examples.onboarding"` (started with the twins'
URLs and the default credentials in its environment, and a free `PORT`), or by default the
example onboarding app in-process.

Exit codes: 0 at or above `--min-satisfaction`; 1 below it; 2 for bad scenarios or options, an
unreachable app or twin, or a run aborted (a partial report is still written).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness import aio, model, report
from harness.campaign import CampaignResult, Progress, run_campaign
from harness.judge import MODES, LlmJudge
from harness.runner import Profile, Runner, parse_id, split_profile
from harness.universe import InfraError, Universe

TWIN_ENV = {"slack": "DTU_SLACK_URL", "okta": "DTU_OKTA_URL", "jira": "DTU_JIRA_URL"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run scenario trajectories and report satisfaction")
    p.add_argument("scenarios", nargs="+", help="scenario files or directories")
    p.add_argument("--app-url", help="the app under test, already running")
    p.add_argument(
        "--app-cmd", help="a command that starts the app (gets SLACK_API_URL, OKTA_ORG_URL, JIRA_URL, PORT)"
    )
    p.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for the app (--app-cmd or the in-process example), e.g. ONBOARDING_RESILIENT=0",
    )
    p.add_argument(
        "--trajectories", "-n", type=int, default=10, help="trajectories per scenario (default 10)"
    )
    p.add_argument("--concurrency", "-c", type=int, default=8, help="trajectories at a time (default 8)")
    p.add_argument(
        "--faults",
        action="append",
        default=[],
        metavar="FILE",
        help="a fault profile (YAML/JSON) applied to every trajectory's tenants; repeat it to run "
        "the plan under each profile (`none`: without faults) and compare",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="run seed: trajectory ids, inputs and tenants derive from it"
    )
    p.add_argument("--min-satisfaction", type=float, default=None, help="exit 1 below this (0..1)")
    p.add_argument("--report", default="dtu-report", help="report directory (default ./dtu-report)")
    p.add_argument("--replay", action="append", default=[], metavar="ID", help="run only this trajectory id")
    p.add_argument("--replays", type=int, default=0, help="replay up to N trajectories to detect flakiness")
    p.add_argument("--twin", action="append", default=[], metavar="NAME=URL", help="use a running twin")
    p.add_argument("--admin-token", help="control-plane token for twins that are not on loopback")
    p.add_argument("--keep-tenants", action="store_true", help="do not delete trajectory tenants afterwards")
    p.add_argument(
        "--judge",
        choices=MODES,
        default="checks",
        help="who says a trajectory satisfied its user: the scenario's checks (default), an LLM "
        "reading the story and the trace (llm), or both must agree (both)",
    )
    p.add_argument(
        "--judge-url", help="OpenAI-compatible endpoint for --judge llm (base URL or .../chat/completions)"
    )
    p.add_argument("--judge-model", help="the model name sent to --judge-url")
    p.add_argument(
        "--judge-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="environment variable holding the endpoint's API key, if it needs one (default OPENAI_API_KEY)",
    )
    p.add_argument("--judge-timeout", type=float, default=60.0, help="seconds per judge call (default 60)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    p.set_defaults(fn=cmd_run)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"dtu run: {what} is KEY=VALUE, not {item!r}")
        out[key] = value
    return out


@contextlib.contextmanager
def _twins(needed: list[str], given: dict[str, str]) -> Iterator[dict[str, str]]:
    """URLs for the needed twins: given ones, else in-process TwinServers (stopped after)."""
    from dtu.settings import TwinSettings
    from dtu.testing.server import TwinServer

    urls = {t: u for t, u in given.items()}
    for twin, env in TWIN_ENV.items():
        if twin not in urls and os.environ.get(env):
            urls[twin] = os.environ[env]
    started: list[TwinServer] = []
    try:
        for twin in needed:
            if twin not in urls:
                server = TwinServer(twin, TwinSettings()).start()
                started.append(server)
                urls[twin] = server.url
        yield urls
    finally:
        for server in started:
            server.stop()


def _app_env(urls: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """The default credentials (CONTRACT.md section 4) and the twins' base URLs."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-dtu-bot-token",
        "SLACK_SIGNING_SECRET": "dtu-signing-secret",
        "OKTA_API_TOKEN": "dtu-okta-token",
        "JIRA_EMAIL": "admin@example.com",
        "JIRA_API_TOKEN": "dtu-jira-token",
        "JIRA_PROJECT": "DEMO",
    }
    if "slack" in urls:
        env["SLACK_API_URL"] = urls["slack"].rstrip("/") + "/api/"
    if "okta" in urls:
        env["OKTA_ORG_URL"] = urls["okta"]
    if "jira" in urls:
        env["JIRA_URL"] = urls["jira"]
    env.update(extra)
    return env


def _wait_healthy(url: str, proc: subprocess.Popen[bytes] | None, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise InfraError(f"the app command exited with {proc.returncode} before answering {url}/health")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise InfraError(f"the app did not answer {url}/health within {timeout_s:g}s")


@contextlib.contextmanager
def _app(args: argparse.Namespace, urls: dict[str, str]) -> Iterator[str]:
    extra = _pairs(args.app_env, "--app-env")
    if args.app_url:
        yield args.app_url.rstrip("/")
        return
    if args.app_cmd:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, **_app_env(urls, extra), "PORT": str(port), "APP_URL": url}
        proc = subprocess.Popen(shlex.split(args.app_cmd), env=env)
        try:
            _wait_healthy(url, proc, 90)  # importing the SDKs takes a while on a busy machine
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        return
    from harness.inproc import InProcessApp

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # examples/ lives in the repository, not in the installed package
    try:
        from examples.onboarding.app import Settings, create_app
    except ImportError:
        raise InfraError(
            "no --app-url or --app-cmd, and the example app is not importable (run from the repository root)"
        ) from None
    saved = {k: os.environ.get(k) for k in _app_env(urls, extra)}
    os.environ.update(_app_env(urls, extra))
    try:
        server = InProcessApp(create_app(Settings.from_env())).start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield server.url
    finally:
        server.stop()


def _load_faults(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SystemExit(f"dtu run: cannot read fault profile {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise SystemExit(f"dtu run: {path} is not a fault profile (version, name, rules)")
    return data


def load_profiles(paths: list[str]) -> list[Profile]:
    """The run's fault profiles: files, or `none` (no faults). Named by their `name` (else the
    file's stem); the names must differ, as they label the trajectories."""
    profiles: list[Profile] = []
    for path in paths:
        if path.strip().lower() == "none":
            profiles.append(Profile("none"))
            continue
        data = _load_faults(path)
        assert data is not None
        name = str(data.get("name") or Path(path).stem)
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", name):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or Path(path).stem
        profiles.append(Profile(name, data, path))
    names = [p.name for p in profiles]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SystemExit(f"dtu run: two fault profiles are named {', '.join(dup)}: rename one (`name:`)")
    return profiles


def _progress_printer(quiet: bool) -> Any:
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(p: Progress) -> None:
        if quiet:
            return
        now = time.monotonic()
        if tty:
            if now - last[0] > 0.1 or p.done == p.total:
                sys.stderr.write("\r" + p.line())
                sys.stderr.flush()
                last[0] = now
        elif now - last[0] > 2 or p.done == p.total:
            sys.stderr.write(p.line() + "\n")
            last[0] = now

    return show


def execute(args: argparse.Namespace) -> tuple[int, dict[str, Any] | None]:
    """Run as the options say; (exit code, report)."""
    try:
        scenarios = model.load_all(args.scenarios)
    except model.ScenarioError as exc:
        print(f"dtu run: bad scenario\n{exc}", file=sys.stderr)
        return 2, None
    if not scenarios:
        print("dtu run: no scenario files found", file=sys.stderr)
        return 2, None
    for tid in args.replay:
        try:
            parse_id(tid)
        except ValueError as exc:
            print(f"dtu run: {exc}", file=sys.stderr)
            return 2, None
    try:
        profiles = load_profiles(args.faults)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2, None
    if args.replay:
        wanted = {split_profile(parse_id(t)[0]) for t in args.replay}
        named = {p.name for p in profiles}
        for sid, pname in sorted(wanted, key=str):
            if pname is not None and pname not in named:
                print(
                    f"dtu run: --replay {sid}@{pname}~...: give the fault profile {pname!r} with --faults",
                    file=sys.stderr,
                )
                return 2, None
            if pname is None and len(profiles) > 1:
                print(
                    "dtu run: --replay with several --faults needs ids that name their profile",
                    file=sys.stderr,
                )
                return 2, None
        scenarios = [s for s in scenarios if s.id in {w[0] for w in wanted}] or scenarios
    if args.judge != "checks" and not (args.judge_url and args.judge_model):
        print(f"dtu run: --judge {args.judge} needs --judge-url and --judge-model", file=sys.stderr)
        return 2, None
    needed = sorted({t for s in scenarios for t in s.used_twins()})
    given = _pairs(args.twin, "--twin")
    run_info: dict[str, Any] = {
        "seed": args.seed,
        "trajectories_per_scenario": args.trajectories,
        "concurrency": args.concurrency,
        "faults": ", ".join(p.name for p in profiles) or None,
        "faults_file": args.faults[0] if len(args.faults) == 1 else None,
        "fault_profiles": [{"name": p.name, "file": p.file} for p in profiles],
        "min_satisfaction": args.min_satisfaction,
        "replay": args.replay or None,
        "scenario_files": [s.path for s in scenarios],
        "app_env": _pairs(args.app_env, "--app-env"),
        "judge": {"mode": args.judge, "url": args.judge_url, "model": args.judge_model}
        if args.judge != "checks"
        else {"mode": "checks"},
    }
    result: CampaignResult | None = None
    error: str | None = None
    with _twins(needed, given) as urls:
        run_info["twins"] = urls
        try:
            with _app(args, urls) as app_url:
                run_info["app_url"] = app_url
                result = aio.run(_campaign(args, scenarios, urls, app_url, profiles))
        except InfraError as exc:
            error = str(exc)
        except KeyboardInterrupt:
            error = "interrupted"
    if result is None:
        result = CampaignResult(
            [],
            [],
            error or "no trajectories ran",
            time.time(),
            0.0,
            args.trajectories * len(scenarios) * max(1, len(profiles)),
        )
    elif error and not result.aborted:
        result.aborted = error
    built = report.build(result, scenarios, run_info)
    paths = report.write_all(built, result.traces, args.report)
    _print_summary(built, paths, args)
    if result.aborted or error:
        print(f"dtu run: {result.aborted or error}", file=sys.stderr)
        return 2, built
    if built["unjudged"]:
        first = built["judge_errors"][0]["error"] if built["judge_errors"] else ""
        print(
            f"dtu run: {built['unjudged']} trajectories could not be judged ({first}): no verdict to gate on",
            file=sys.stderr,
        )
        return 2, built
    sat = built["overall"]["satisfaction"]
    if args.min_satisfaction is not None and (sat is None or sat < args.min_satisfaction):
        print(
            f"dtu run: satisfaction {0 if sat is None else sat:.3f} is below --min-satisfaction "
            f"{args.min_satisfaction}",
            file=sys.stderr,
        )
        return 1, built
    return 0, built


async def _campaign(
    args: argparse.Namespace,
    scenarios: list[model.Scenario],
    urls: dict[str, str],
    app_url: str,
    profiles: list[Profile],
) -> CampaignResult:
    from concurrent.futures import ThreadPoolExecutor

    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=max(8, args.concurrency * 2))
    )
    universe = Universe(urls, app_url=app_url, admin_token=args.admin_token)
    try:
        await universe.app_health()
        for twin in urls:
            await universe.health(twin)
        judge = None
        if args.judge != "checks":
            judge = LlmJudge(
                args.judge_url,
                args.judge_model,
                api_key=os.environ.get(args.judge_key_env) or None,
                timeout_s=args.judge_timeout,
                http=universe.http,
            )
        runner = Runner(universe, keep_tenants=args.keep_tenants, judge=judge, judge_mode=args.judge)
        result = await run_campaign(
            runner,
            scenarios,
            trajectories=args.trajectories,
            concurrency=args.concurrency,
            seed=args.seed,
            replays=args.replays,
            only=args.replay or None,
            on_progress=_progress_printer(args.quiet),
            profiles=profiles or None,
        )
        if not args.quiet and sys.stderr.isatty():
            sys.stderr.write("\n")
        return result
    finally:
        await universe.aclose()


def _print_summary(built: dict[str, Any], paths: dict[str, Path], args: argparse.Namespace) -> None:
    o = built["overall"]
    run = built["run"]
    sat = o["satisfaction"]
    print(
        f"\nsatisfaction {'-' if sat is None else f'{sat * 100:.1f}%'} ({o['satisfied']}/{o['total']}, "
        f"95% CI {o['ci95'][0] * 100:.1f}-{o['ci95'][1] * 100:.1f}%) in {run['duration_s']:.1f}s, "
        f"{run.get('throughput_per_hour') or 0:.0f} trajectories/hour"
    )
    for s in built["scenarios"]:
        print(
            f"  {s['id']:<40} {s['satisfied']:>5}/{s['total']:<5} {(s['satisfaction'] or 0) * 100:5.1f}%  "
            f"[{s['ci95'][0] * 100:.0f}-{s['ci95'][1] * 100:.0f}%]  p50 {s['latency_ms']['p50']:.0f}ms"
        )
    if built["unjudged"]:
        print(f"not judged ({built['unjudged']}, counted in no rate):")
        for e in built["judge_errors"][:5]:
            print(f"  {e['count']:>4}x {e['scenario']}: {e['error']}")
    if len(built["profiles"]) > 1:
        print("under each fault profile:")
        for p in built["profiles"]:
            print(
                f"  {p['name']:<40} {p['satisfied']:>5}/{p['total']:<5} {(p['satisfaction'] or 0) * 100:5.1f}%  "
                f"[{p['ci95'][0] * 100:.0f}-{p['ci95'][1] * 100:.0f}%]"
            )
    if built["causes"]:
        print("failures by cause:")
        for c in built["causes"][:10]:
            under = f" (under {c['profile']})" if len(built["profiles"]) > 1 and c.get("profile") else ""
            print(
                f"  {c['count']:>4}x {c['scenario']}{under}: {c['cause']}\n"
                f"        e.g. dtu run ... --replay {c['example']}"
            )
    for f in built["flaky"]:
        if not f["identical"]:
            print(
                f"  replay of {f['id']} differs in {', '.join(f['differs_in'])}"
                + ("" if f["agree"] else " (FLAKY: outcome changed)")
            )
    print(f"reports: {paths['html']}  {paths['json']}  {paths['junit']}")


def cmd_run(args: argparse.Namespace) -> int:
    code, _ = execute(args)
    return code
