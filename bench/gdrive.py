"""The Google Drive twin's benchmark: files.create, files.get and files.list with `q` over a
My Drive of 10,000 files (and, with `--big`, listing over 100,000), and upload/download
throughput in MB/s, over real HTTP, beside the same two baselines as the Slack and Okta benchmarks.

    python bench/gdrive.py                  # ~5 min: baselines, SQLite memory/file, PostgreSQL
    python bench/gdrive.py --quick          # ~1 min: baselines, SQLite memory and file, short loads
    python bench/gdrive.py --big 100000     # adds get/list over 100,000 files (SQLite memory)

The method is bench/run.py's (servers, pinning, CPU accounting, backends, machine notes) and
the wrk script and answer checks are bench/okta.py's. The requests are the ones
google-api-python-client sends (`Authorization: Bearer ya29.dtu-google-token`, alice, `alt=json`):

- `files.get`: `GET /drive/v3/files/<id>?fields=id,name,mimeType,parents,modifiedTime&alt=json`
  for one file of the corpus;
- `files.list q=parents`: `q='<folder>' in parents and trashed = false`, `pageSize=100`,
  `fields=nextPageToken,files(id,name)`: one folder's 100 files (of --files in 100 folders);
- `files.list q=name`: `q=name contains 'report' and mimeType = 'text/plain'`, `pageSize=100`,
  same fields: the first page of a search across the whole corpus (a quarter of it matches);
- `files.create`: `POST /drive/v3/files?fields=id&alt=json`, JSON `{"name", "parents"}`, a new
  name each time (into a folder of its own, so the creates do not grow the listed folders).
- transfers, for each of `--transfer-sizes` (MiB; 1 and 16) at `--transfer-conns` connections:
  `files.get alt=media`: `GET /drive/v3/files/<id>?alt=media` of a file of that size (uploaded
  first), the answer must be exactly that many bytes; `files.create upload`:
  `POST /upload/drive/v3/files?uploadType=multipart&fields=id` with a `multipart/related` body
  (JSON metadata part, then an application/octet-stream part of that size), as MediaFileUpload
  sends it. The baselines answer `GET /bench/media/<bytes>` with that many bytes and read the
  same multipart body in full at `POST /bench/upload`. MB/s is answered requests x size / 10^6
  per second; the twin is reset after the uploads (they are kept in its store).

Every answer must be HTTP 200 and hold the expected text; anything else is an error. The corpus
is loaded through `POST /_dtu/seed` (a fixture of folders and files) after a reset. The section
goes to bench/results/gdrive.section.md and into bench/RESULTS.md (bench/run.py keeps it when it
rewrites the file); raw figures to bench/results/gdrive.json; `--compare FILE` (an earlier
gdrive.json) adds a before/after table. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import okta  # noqa: E402  (bench/okta.py: the wrk script, request shapes, the measuring runner)
import run  # noqa: E402  (bench/run.py: servers, pinning, CPU accounting, backends, machine)

TOKEN = "ya29.dtu-google-token"
SECTION = BENCH / "results" / "gdrive.section.md"
BEGIN, END = "<!-- gdrive:begin -->", "<!-- gdrive:end -->"
FOLDERS = 100
MIB = 1024 * 1024
BOUNDARY = "===============dtu-bench=="
TRANSFER = re.compile(r" (\d+) MiB$")
# okta.LUA, able to send a body too large for an environment variable (`BENCH_BODY=@file`) and
# to check an answer's exact length (`BENCH_EXPECT=#bytes`); other shapes run as in okta.py.
LUA = (
    okta.LUA.replace(
        'local template = os.getenv("BENCH_BODY") or ""\n',
        'local template = os.getenv("BENCH_BODY") or ""\n'
        'if string.sub(template, 1, 1) == "@" then\n'
        '  local f = assert(io.open(string.sub(template, 2), "rb")); template = f:read("*a"); f:close()\n'
        "end\n",
    )
    .replace(
        'local want_text = os.getenv("BENCH_EXPECT") or ""\n',
        'local want_text = os.getenv("BENCH_EXPECT") or ""\n'
        "local want_len = nil\n"
        'if string.sub(want_text, 1, 1) == "#" then want_len = tonumber(string.sub(want_text, 2)); want_text = "" end\n',
    )
    .replace(
        "if status == want_status and string.find(body, want_text, 1, true) then",
        "if status == want_status and (want_len == nil or #body == want_len) and string.find(body, want_text, 1, true) then",
    )
    # a fixed request (no `{n}`) is formatted once: a 16 MiB body is not copied per request
    .replace("  return wrk.format()\n", "  fixed = fixed or wrk.format()\n  return fixed\n")
)
assert LUA.count("want_len") == 4 and "io.open" in LUA and "fixed = fixed" in LUA, (
    "okta.LUA changed: update gdrive.LUA"
)
FOLDER_MIME = "application/vnd.google-apps.folder"


def folder_id(i: int | str) -> str:
    """Fixed ids (Drive's shape: 33 characters) so that the requests can name them."""
    return f"1benchfolder{i:>08}".ljust(33, "x")


def file_id(i: int) -> str:
    return f"1benchfile{i:08d}".ljust(33, "x")


def corpus(files: int) -> list[dict[str, Any]]:
    """`files` files in 100 folders: a quarter are 'report NNNNN' in text/plain, the rest are
    'notes'/'draft'/'budget' in text/plain or text/csv; every tenth starred."""
    out: list[dict[str, Any]] = [
        {"id": folder_id(i), "name": f"Folder {i:03d}", "mimeType": FOLDER_MIME} for i in range(FOLDERS)
    ]
    out.append({"id": folder_id("inbox"), "name": "Inbox", "mimeType": FOLDER_MIME})
    for i in range(files):
        kind = ("report", "notes", "draft", "budget")[i % 4]
        out.append(
            {
                "id": file_id(i),
                "name": f"{kind} {i:06d}",
                "mimeType": "text/csv" if kind == "budget" else "text/plain",
                "parents": [folder_id(i % FOLDERS)],
                "starred": i % 10 == 0,
            }
        )
    return out


def shapes(files: int) -> list[okta.Shape]:
    auth = f"Bearer {TOKEN}"
    listing = "&pageSize=100&fields=" + quote("nextPageToken,files(id,name)") + "&alt=json"
    by_parent = quote(f"'{folder_id(7)}' in parents and trashed = false")
    by_name = quote("name contains 'report' and mimeType = 'text/plain'")
    get_fields = quote("id,name,mimeType,parents,modifiedTime")
    create = json.dumps({"name": "new {n}", "parents": [folder_id("inbox")]})
    ctype = "application/json"
    return [
        okta.Shape(
            "files.get",
            "GET",
            f"/drive/v3/files/{file_id(min(4321, files - 1))}?fields={get_fields}&alt=json",
            "",
            ctype,
            auth,
            200,
            '"id":"',
        ),
        okta.Shape(
            "files.list q=parents",
            "GET",
            f"/drive/v3/files?q={by_parent}{listing}",
            "",
            ctype,
            auth,
            200,
            '"files":[{',
        ),
        okta.Shape(
            "files.list q=name",
            "GET",
            f"/drive/v3/files?q={by_name}{listing}",
            "",
            ctype,
            auth,
            200,
            '"files":[{',
        ),
        okta.Shape(
            "files.create", "POST", "/drive/v3/files?fields=id&alt=json", create, ctype, auth, 200, '"id":"'
        ),
    ]


def payload(size: int) -> bytes:
    """A body of `size` bytes (no `{n}` in it, so wrk sends it as it is)."""
    line = b"dtu bench payload 0123456789abcdef\n"
    return (line * (size // len(line) + 1))[:size]


def multipart(size: int) -> bytes:
    """A multipart/related upload as google-api-python-client builds it: metadata, then media."""
    meta = json.dumps({"name": f"upload {size // MIB} MiB"})  # into My Drive: a reset keeps it
    head = (
        f"--{BOUNDARY}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{meta}\r\n"
        f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + payload(size) + f"\r\n--{BOUNDARY}--\r\n".encode()


def transfer_shapes(sizes: list[int], tmp: Path, media_ids: dict[int, str] | None) -> list[okta.Shape]:
    """Download and upload shapes for each size: the twin's when `media_ids` (size -> file id of
    that size) is given, else the baselines'. Upload bodies are written once to `tmp`."""
    auth = f"Bearer {TOKEN}"
    ctype = f'multipart/related; boundary="{BOUNDARY}"'
    downloads: list[okta.Shape] = []
    uploads: list[okta.Shape] = []
    for mib in sizes:
        size = mib * MIB
        body = tmp / f"upload-{mib}.bin"
        if not body.exists():
            body.write_bytes(multipart(size))
        get = f"/drive/v3/files/{media_ids[size]}?alt=media" if media_ids else f"/bench/media/{size}"
        put = (
            "/upload/drive/v3/files?uploadType=multipart&fields=id&alt=json" if media_ids else "/bench/upload"
        )
        expect = '"id":"' if media_ids else '"ok":true'
        downloads.append(
            okta.Shape(f"files.get alt=media {mib} MiB", "GET", get, "", ctype, auth, 200, f"#{size}")
        )
        uploads.append(
            okta.Shape(f"files.create upload {mib} MiB", "POST", put, f"@{body}", ctype, auth, 200, expect)
        )
    out = downloads + uploads  # downloads first: the twin is reset after each upload load
    return out


def upload_media(port: int, sizes: list[int]) -> dict[int, str]:
    """One file of each size, uploaded through the twin's multipart upload: size -> file id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    ids: dict[int, str] = {}
    try:
        for mib in sizes:
            status, answer = okta._call(
                conn,
                "POST",
                "/upload/drive/v3/files?uploadType=multipart&fields=id,size&alt=json",
                multipart(mib * MIB),
                {
                    "Authorization": f"Bearer {TOKEN}",
                    "Content-Type": f'multipart/related; boundary="{BOUNDARY}"',
                },
            )
            made = json.loads(answer) if status == 200 else {}
            if made.get("size") != str(mib * MIB):
                raise RuntimeError(f"upload of {mib} MiB failed: {status} {answer[:300]!r}")
            ids[mib * MIB] = made["id"]
        return ids
    finally:
        conn.close()


@contextmanager
def transfer_conns(res: run.Results, conns: list[int]) -> Iterator[None]:
    """okta.Runner measures at the settings' connection counts: the transfer ones for a while."""
    before = res.settings.conns
    res.settings.conns = conns
    try:
        yield
    finally:
        res.settings.conns = before


def reset(port: int) -> None:
    status, answer = run.request(port, "POST", "/_dtu/reset", auth=False)
    if status != 200:
        raise RuntimeError(f"reset failed: {status} {answer[:200]!r}")


def prepare_twin(port: int, files: int) -> float:
    """Back to the default customer, then the corpus (in slices of 5,000); answers the seconds
    the load took."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("POST", "/_dtu/reset")
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"reset failed: {resp.status} {resp.read()[:200]!r}")
        resp.read()
        items = corpus(files)
        t0 = time.perf_counter()
        for at in range(0, len(items), 5000):
            body = json.dumps({"files": items[at : at + 5000]}).encode()
            conn.request("POST", "/_dtu/seed", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            answer = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"seed failed: {resp.status} {answer[:300]!r}")
        return time.perf_counter() - t0
    finally:
        conn.close()


def section(res: run.Results, args: argparse.Namespace, command: str, compare: dict[str, Any] | None) -> str:
    s, m = res.settings, res.machine
    lines = [
        BEGIN,
        "",
        "# Google Drive twin benchmark results",
        "",
        f"Generated by `{command}` on {res.started}, written by bench/gdrive.py (method in its docstring; "
        "same servers, pinning and baselines as the Slack section).",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores; Python {m['python']}; commit {m['commit']}",
        f"- Servers pinned to core {s.server_cpu}, wrk to core {s.client_cpu}; {s.duration:g} s per load after a "
        f"{s.warmup:g} s warm-up; {', '.join(map(str, s.conns))} connections",
        f"- Corpus: {args.files:,} files in {FOLDERS} folders of alice's My Drive (backend rows `NN files` "
        "say otherwise); files.list pages of 100; creates go into a folder of their own",
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
        if TRANSFER.search(load.call):
            continue
        base = run.load_of(res, "fastapi", "-", load.call, load.conns)
        ratio = f"{load.rps / base.rps:.3f}x" if base and base.rps else "-"
        lines.append(
            f"| {load.server} | {load.backend} | {load.call} | {load.conns} | {load.rps:,.0f} | "
            f"{load.p50_ms:.2f} | {load.p99_ms:.2f} | {load.errors} | {load.cpu_pct:.0f}% | "
            f"{load.per_cpu_s:,.0f} | {ratio} |"
        )
    lines += transfer_table(res)
    if compare:
        before = {(x["backend"], x["call"], x["conns"]): x for x in compare["loads"] if x["server"] == "twin"}
        lines += [
            "",
            f"## Before / after (before: {compare['started']}, {compare.get('label', '')})",
            "",
            "Speed-up is on req/CPU-s (answered requests per CPU-second of the server), which other "
            "processes on the machine disturb much less than req/s.",
            "",
            "| backend | call | conns | req/s before | req/s after | req/CPU-s before | req/CPU-s after "
            "| p99 ms before | p99 ms after | speed-up |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for load in res.loads:
            old = before.get((load.backend, load.call, load.conns))
            if load.server != "twin" or old is None:
                continue
            speedup = f"{load.per_cpu_s / old['per_cpu_s']:.0f}x" if old["per_cpu_s"] else "-"
            lines.append(
                f"| {load.backend} | {load.call} | {load.conns} | {old['rps']:,.1f} | {load.rps:,.0f} | "
                f"{old['per_cpu_s']:,.1f} | {load.per_cpu_s:,.0f} | {old['p99_ms']:.0f} | {load.p99_ms:.0f} | "
                f"{speedup} |"
            )
    return run.notes_and_end(res, lines, END)


def transfer_table(res: run.Results) -> list[str]:
    """Upload/download throughput: MB/s (10^6 bytes) of bodies answered or accepted in full."""
    rows = [x for x in res.loads if TRANSFER.search(x.call)]
    if not rows:
        return []
    lines = [
        "",
        "## Upload and download throughput",
        "",
        "`files.get alt=media` downloads a file of the size shown; `files.create upload` is a "
        "multipart upload (metadata + media) of that size. The baselines answer / read the same "
        "number of bytes (bench/baselines.py `/bench/media/<bytes>`, `/bench/upload`). MB = 10^6 bytes.",
        "",
        "| server | backend | call | conns | MB/s | req/s | p50 ms | p99 ms | errors | server CPU "
        "| MB per CPU-s | MB/s vs bare FastAPI |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for load in rows:
        m = TRANSFER.search(load.call)
        mb = int(m.group(1)) * MIB / 1e6 if m else 0.0
        base = run.load_of(res, "fastapi", "-", load.call, load.conns)
        ratio = f"{load.rps / base.rps:.3f}x" if base and base.rps else "-"
        lines.append(
            f"| {load.server} | {load.backend} | {load.call} | {load.conns} | {load.rps * mb:,.1f} | "
            f"{load.rps:,.1f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {load.cpu_pct:.0f}% | "
            f"{load.per_cpu_s * mb:,.1f} | {ratio} |"
        )
    return lines


def splice(results: Path, text: str) -> None:
    run.splice_section(results, BEGIN, END, text)


def render(args: argparse.Namespace) -> int:
    """The section again from a run's JSON (after a change to the report)."""
    data = json.loads(args.render.read_text())
    res = run.Results(
        started=data["started"],
        settings=run.Settings(**data["settings"]),
        machine=data["machine"],
        loads=[run.Load(**x) for x in data["loads"]],
        notes=data["notes"],
    )
    args.files = res.settings.history_size
    compare = json.loads(args.compare.read_text()) if args.compare else None
    text = section(res, args, data.get("command") or "python bench/gdrive.py", compare)
    print(text)
    if not args.no_write:
        SECTION.write_text(text)
        splice(BENCH / "RESULTS.md", text)
    return 0


def main() -> int:
    parser = run.twin_bench_parser(__doc__, "gdrive")
    parser.add_argument("--files", type=int, default=10_000, help="files in the corpus")
    parser.add_argument(
        "--big", type=int, default=0, help="also get/list over this many files (SQLite memory)"
    )
    parser.add_argument("--transfer-sizes", default="1,16", help="comma list of MiB for up/downloads")
    parser.add_argument("--transfer-conns", default="1,4", help="connections for up/downloads")
    parser.add_argument("--label", default="", help="a note kept in the JSON (for --compare)")
    parser.add_argument("--compare", type=Path, help="an earlier gdrive.json: adds a before/after table")
    parser.add_argument(
        "--render", type=Path, help="write the section again from a gdrive.json, running nothing"
    )
    args = parser.parse_args()
    if args.render:
        return render(args)
    if not run.wrk_installed():
        return 2
    settings = run.twin_bench_settings(args, page=100, corpus=args.files)
    res = run.Results(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        settings=settings,
        machine=run.machine(),
    )
    command = "python bench/gdrive.py " + " ".join(sys.argv[1:])
    compare = json.loads(args.compare.read_text()) if args.compare else None
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dtu-bench-gdrive-") as tmpdir:
        tmp = Path(tmpdir)
        script = tmp / "gdrive.lua"
        script.write_text(LUA)
        runner = okta.Runner(res, script)
        sizes = [int(x) for x in args.transfer_sizes.split(",") if x]
        tconns = [int(c) for c in args.transfer_conns.split(",")]
        for name, target in (("raw-asgi", "baselines:raw_app"), ("fastapi", "baselines:fastapi_app")):
            with run.server(
                target,
                cpu=settings.server_cpu,
                app_dir=str(BENCH),
                ready_path="/api/conversations.history",
                logdir=tmp,
            ) as at:
                for shape in shapes(args.files):
                    runner.measure(at, name, "-", okta.baseline_of(shape))
                with transfer_conns(res, tconns):
                    for shape in transfer_shapes(sizes, tmp, None):
                        runner.measure(at, name, "-", shape)
        passes = [(backend, args.files, True) for backend in settings.backends]
        if args.big:
            passes.append(("sqlite-memory", args.big, False))
        for backend, files, creates in passes:
            with run.backend_url(backend, tmp) as url:
                if url is None:
                    res.notes.append(f"{backend}: skipped (not available)")
                    continue
                with run.server(
                    "twins.gdrive.app:app",
                    cpu=settings.server_cpu,
                    env={"DTU_GDRIVE_DB_URL": url},
                    ready_path="/_dtu/health",
                    logdir=tmp,
                ) as at:
                    took = prepare_twin(at[0], files)
                    label = backend if files == args.files else f"{backend} {files:,} files"
                    res.notes.append(f"{label}: the corpus loaded through /_dtu/seed in {took:.0f} s")
                    print(f"  {label}: corpus of {files:,} files loaded in {took:.0f} s", flush=True)
                    for shape in shapes(files):  # reads first: the creates grow the corpus
                        if shape.call == "files.create" and not creates:
                            continue
                        runner.measure(at, "twin", label, shape)
                    if not creates or not sizes:
                        continue
                    with transfer_conns(res, tconns):
                        for shape in transfer_shapes(sizes, tmp, upload_media(at[0], sizes)):
                            runner.measure(at, "twin", label, shape)
                            if "upload" in shape.call:
                                reset(at[0])  # drop the uploads (and the corpus: measured already)
    res.machine["load_after"] = run.load_average()
    res.notes.append(f"The whole run took {time.monotonic() - t0:.0f} s.")
    if settings.client_cpu is None:
        res.notes.append("Fewer than 2 cores (or no taskset): server and wrk were not pinned.")
    data = asdict(res)
    data["label"] = args.label
    data["command"] = command
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(data, indent=1) + "\n")
    text = section(res, args, command, compare)
    print()
    print(text)
    if not args.no_write:
        SECTION.write_text(text)
        splice(BENCH / "RESULTS.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
