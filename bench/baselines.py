"""The two yardsticks the twin is measured against, served by the same uvicorn in the same run.

`raw_app` is a bare ASGI callable: what uvicorn + httptools cost with no framework at all.
`fastapi_app` is the smallest honest FastAPI service: one `async def` endpoint per method that
returns a fixed dict (FastAPI routing, serialization and `JSONResponse`, nothing else). Both
answer `/api/chat.postMessage` (POST) and `/api/conversations.history` (GET) with fixed JSON of
about the size of the twin's answers, so the load generator sends them the very requests it
sends the twin. For transfer throughput (bench/gdrive.py) both also answer
`GET /bench/media/<bytes>` with a fixed body of that many bytes and accept any body at
`POST /bench/upload` (read in full, answered with its size).

    uvicorn --app-dir bench baselines:raw_app
    uvicorn --app-dir bench baselines:fastapi_app
"""

from __future__ import annotations

import functools
import json
from typing import Any

from fastapi import FastAPI, Request, Response

POST_ANSWER: dict[str, Any] = {
    "ok": True,
    "channel": "C0DTUGENRL",
    "ts": "1700000000.000100",
    "message": {
        "type": "message",
        "user": "U0DTUBOT01",
        "bot_id": "B0DTUBOT01",
        "app_id": "A0DTUAPP01",
        "text": "hello from the benchmark",
        "ts": "1700000000.000100",
        "team": "T0DTUTEAM1",
    },
}
HISTORY_ANSWER: dict[str, Any] = {
    "ok": True,
    "messages": [
        {
            "type": "message",
            "user": "U0DTUALICE",
            "text": "hello from the benchmark",
            "ts": "1700000000.000100",
            "team": "T0DTUTEAM1",
        },
    ],
    "has_more": False,
    "pin_count": 0,
    "channel_actions_ts": None,
    "channel_actions_count": 0,
}

_RAW_BODIES = {
    "/api/chat.postMessage": json.dumps(POST_ANSWER, separators=(",", ":")).encode(),
    "/api/conversations.history": json.dumps(HISTORY_ANSWER, separators=(",", ":")).encode(),
}
_NOT_FOUND = b'{"ok":false,"error":"unknown_method"}'
MEDIA_PREFIX = "/bench/media/"
MAX_MEDIA_BYTES = 256 * 1024 * 1024


@functools.lru_cache(maxsize=8)
def media(size: int) -> bytes:
    """The fixed download body of `size` bytes (built once per size)."""
    return b"x" * size


def _media_size(path: str) -> int | None:
    tail = path[len(MEDIA_PREFIX) :] if path.startswith(MEDIA_PREFIX) else ""
    return int(tail) if tail.isdigit() and int(tail) <= MAX_MEDIA_BYTES else None


def _upload_answer(size: int) -> bytes:
    return b'{"ok":true,"size":%d}' % size


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Drain the request body, answer fixed bytes. No routing beyond a dict lookup."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more, received = True, 0
    while more:
        message = await receive()
        received += len(message.get("body", b""))
        more = message.get("more_body", False)
    path = scope["path"]
    size = _media_size(path)
    ctype = b"application/json; charset=utf-8"
    if size is not None:
        body, ctype = media(size), b"application/octet-stream"
    elif path == "/bench/upload":
        body = _upload_answer(received)
    else:
        body = _RAW_BODIES.get(path, _NOT_FOUND)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", ctype),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


fastapi_app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@fastapi_app.post("/api/chat.postMessage")
async def post_message() -> dict[str, Any]:
    return POST_ANSWER


@fastapi_app.get("/api/conversations.history")
async def history() -> dict[str, Any]:
    return HISTORY_ANSWER


@fastapi_app.get(MEDIA_PREFIX + "{size}")
async def download(size: int) -> Response:
    if size > MAX_MEDIA_BYTES:
        return Response(_NOT_FOUND, status_code=404, media_type="application/json")
    return Response(media(size), media_type="application/octet-stream")


@fastapi_app.post("/bench/upload")
async def upload(request: Request) -> dict[str, Any]:
    return {"ok": True, "size": len(await request.body())}
