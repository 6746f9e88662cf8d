"""One HTTP request straight into an ASGI app, no sockets: what the in-process profilers
(profile_hot.py, profile_okta.py, profile_jira.py) drive a twin with."""

from __future__ import annotations

import asyncio
from typing import Any


def http_scope(
    method: str, path: str, query: str, headers: list[tuple[bytes, bytes]], port: int
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", port),
        "state": {},
    }


async def asgi_call(
    app: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    *,
    port: int,
    query: str = "",
    body: bytes = b"",
) -> tuple[int, bytes]:
    """(status, body) of one request; the request body is sent whole, then the client waits."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status = [0]
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(http_scope(method, path, query, headers, port), receive, send)
    return status[0], b"".join(chunks)
