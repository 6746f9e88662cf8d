"""The `dtu` command: `dtu up` (the universe), `dtu serve TWIN` (one twin), `dtu twins`, and
`dtu run SCENARIOS...` (the scenario harness, in harness/cli.py).

    dtu up                          # every twin built so far, default ports, SQLite files in ./.dtu
    dtu up --twins slack --db postgresql+psycopg://postgres@127.0.0.1/dtu
    dtu serve slack --port 7103 --faults fault_profiles/slack-rate-limited.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import os
import signal
import sys
from pathlib import Path
from typing import Any

from dtu import __version__
from dtu.settings import TwinSettings

DEFAULT_PORTS = {"okta": 7101, "jira": 7102, "slack": 7103, "gdrive": 7104, "gsheets": 7105, "gdocs": 7106}
ALL_TWINS = tuple(DEFAULT_PORTS)
# The stdlib event loop, not uvloop: at 64 connections uvloop served some requests seconds late
# (p99 0.7-1.7 s against 80-100 ms on asyncio, same throughput; bench/PROFILE.md). `dtu up`
# runs its servers under asyncio.run, which is the same loop.
EVENT_LOOP = "asyncio"
# The three Google twins are front doors over one Workspace store: one database file.
_DB_FILE = {"gdrive": "google", "gsheets": "google", "gdocs": "google"}


def available_twins() -> list[str]:
    """The twins that exist in this installation (more land over time)."""
    return [t for t in ALL_TWINS if importlib.util.find_spec(f"twins.{t}") is not None]


def _credentials(twin: str, base: str) -> list[str]:
    """The default credentials of CONTRACT.md section 4, as lines to print."""
    lines = {
        "slack": [
            f"Web API base_url  {base}/api/",
            "bot token         xoxb-dtu-bot-token",
            "user token        xoxp-dtu-user-token (alice)",
            "signing secret    dtu-signing-secret",
            "app config token  xoxe-dtu-config-token",
        ],
        "okta": [
            f"org URL           {base}",
            "API token         SSWS dtu-okta-token",
            "OIDC client       dtu-web-app / dtu-web-secret",
            "user              alice@example.com / Dtu-Passw0rd!",
        ],
        "jira": [
            f"site              {base}",
            "user              admin@example.com / API token dtu-jira-token",
        ],
    }
    return lines.get(
        twin, [f"base URL          {base}", "OAuth bearer      ya29.dtu-google-token (alice@example.com)"]
    )


def _settings(args: argparse.Namespace, twin: str) -> TwinSettings:
    db = args.db
    if db is None:
        data = Path(args.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        db = f"sqlite:///{(data / (_DB_FILE.get(twin, twin) + '.sqlite')).resolve()}"
    return TwinSettings.from_env(
        twin,
        db_url=db,
        seed=args.seed,
        public_url=getattr(args, "public_url", None),
        admin_token=args.admin_token,
        faults_file=args.faults,
        fixture_file=args.universe,
        units_in_threads=True if args.units_in_threads else None,
    )


def _check_twins(names: list[str]) -> list[str]:
    have = available_twins()
    unknown = [n for n in names if n not in ALL_TWINS]
    if unknown:
        raise SystemExit(f"dtu: no twin named {', '.join(unknown)} (twins: {', '.join(ALL_TWINS)})")
    missing = [n for n in names if n not in have]
    if missing:
        raise SystemExit(f"dtu: {', '.join(missing)} not built yet (available: {', '.join(have)})")
    return names


async def _serve_many(servers: list[Any]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for s in servers:
        s.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    waiter.cancel()


def cmd_up(args: argparse.Namespace) -> int:
    import uvicorn

    names = _check_twins(args.twins.split(",")) if args.twins else available_twins()
    servers = []
    print(f"DTU {__version__}: starting {', '.join(names)}")
    for twin in names:
        app = importlib.import_module(f"twins.{twin}.app").create_app(_settings(args, twin))
        port = DEFAULT_PORTS[twin]
        config = uvicorn.Config(
            app, host=args.host, port=port, log_level=args.log_level, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # one handler for all
        servers.append(server)
        base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{port}"
        print(f"\n  {twin:<8} {base}   (control plane {base}/_dtu/health)")
        for line in _credentials(twin, base):
            print(f"           {line}")
    print("\nCtrl-C stops the universe.", flush=True)
    asyncio.run(_serve_many(servers))
    print("stopped.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    twin = _check_twins([args.twin])[0]
    port = args.port or DEFAULT_PORTS[twin]
    settings = _settings(args, twin)
    if args.workers > 1:
        if settings.db_url in ("sqlite://", "sqlite:///:memory:"):
            raise SystemExit(
                "dtu: --workers > 1 needs a database the workers share (a SQLite file or PostgreSQL)"
            )
        # Workers build the app from the environment (uvicorn imports the factory in each),
        # and share the database: no process may trust its own read caches.
        settings.cache = False
        settings.workers = args.workers
        for field, value in vars(settings).items():
            if value is not None:
                os.environ[f"DTU_{twin.upper()}_{field.upper()}"] = str(value)
        uvicorn.run(
            f"twins.{twin}.app:create_app",
            factory=True,
            host=args.host,
            port=port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=False,
            loop=EVENT_LOOP,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
        )
        return 0
    app = importlib.import_module(f"twins.{twin}.app").create_app(settings)
    base = f"{'https' if args.ssl_certfile else 'http'}://{args.host}:{port}"
    print(f"DTU {__version__}: {twin} at {base}")
    for line in _credentials(twin, base):
        print(f"  {line}")
    sys.stdout.flush()
    uvicorn.run(
        app,
        host=args.host,
        port=port,
        log_level=args.log_level,
        access_log=False,
        loop=EVENT_LOOP,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    return 0


def cmd_twins(_args: argparse.Namespace) -> int:
    have = set(available_twins())
    for twin in ALL_TWINS:
        print(f"{twin:<8} port {DEFAULT_PORTS[twin]}  {'available' if twin in have else 'not built yet'}")
    return 0


def cmd_google_credentials(args: argparse.Namespace) -> int:
    """Write the default Workspace customer's service-account key file, its token_uri at a twin."""
    import json

    if importlib.util.find_spec("twins.gdrive") is None:
        raise SystemExit("dtu: the Google twins are not built yet")
    seed = importlib.import_module("twins.gdrive.seed")
    info = seed.default_key_file(args.url.rstrip("/") + "/token")
    text = json.dumps(info, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out} ({info['client_email']}, token_uri {info['token_uri']})")
    else:
        sys.stdout.write(text)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database URL (default: SQLite files under --data-dir)")
    p.add_argument("--data-dir", default=".dtu", help="where the default SQLite files live (default .dtu)")
    p.add_argument("--faults", help="a fault profile (YAML or JSON) to load at start")
    p.add_argument("--universe", help="a fixture file replacing the default people and objects")
    p.add_argument("--seed", type=int, default=0, help="seed for ids and randomness")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--admin-token", help="let non-loopback callers use /_dtu with this bearer token")
    p.add_argument("--public-url", help="the URL clients reach the twin at, for URLs it hands out")
    p.add_argument(
        "--units-in-threads",
        action="store_true",
        help="PostgreSQL: run units of work in worker threads, not on the event loop (docs/architecture.md)",
    )
    p.add_argument("--log-level", default="warning")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dtu", description="The Digital Twin Universe")
    parser.add_argument("--version", action="version", version=f"dtu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the twins (all built so far, or --twins)")
    up.add_argument("--twins", help="comma-separated twin names (default: all available)")
    _common(up)
    up.set_defaults(fn=cmd_up)
    serve = sub.add_parser("serve", help="run one twin")
    serve.add_argument("twin", choices=ALL_TWINS)
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--ssl-certfile",
        help="serve HTTPS with this certificate (PEM): clients that insist on https, such as "
        "googleapiclient's uploads through api_endpoint",
    )
    serve.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    _common(serve)
    serve.set_defaults(fn=cmd_serve)
    twins = sub.add_parser("twins", help="list the twins and whether they are built")
    twins.set_defaults(fn=cmd_twins)
    from harness.cli import add_parser as add_run_parser  # `dtu run`: the scenario harness

    add_run_parser(sub)
    gcreds = sub.add_parser(
        "google-credentials",
        help="write a service-account key file for the Google twins (token_uri at the twin)",
    )
    gcreds.add_argument("--out", help="the key file to write (default: standard output)")
    gcreds.add_argument(
        "--url",
        default=f"http://127.0.0.1:{DEFAULT_PORTS['gdrive']}",
        help="the Google twin whose /token the key file names (default the gdrive twin)",
    )
    gcreds.set_defaults(fn=cmd_google_credentials)
    args = parser.parse_args(argv)
    result: int = args.fn(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
