"""The request and response of a twin's hot path (`TwinSpec.direct`), straight on ASGI.

Starlette's `Request` builds a `Headers`, a `URL` and a `QueryParams` object on first access
and its `Response` a header list through several layers: about 20 us of a call that costs ~150 us
in all. A direct app reads the few things it needs from the scope instead, and answers with one
`send_bytes`; anything rarer (multipart forms) still goes through Starlette.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send


class RawRequest:
    """What a hot path reads of a request. Duck-compatible with the parts of Starlette's
    `Request` that twins' helpers use (`scope`, `method`, `headers.get`, `body()`, `app`)."""

    __slots__ = ("_body", "headers", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        # Header names arrive lowercased (ASGI); the first of repeated headers wins, as in Starlette.
        self.headers: dict[str, str] = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope.get("headers", ()))
        }
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def app(self) -> Any:
        return self.scope["app"]

    @property
    def scheme(self) -> str:
        scheme: str = self.scope.get("scheme", "http")
        return scheme

    def query(self) -> dict[str, str]:
        """The query string's arguments; the last of a repeated name wins (as `dict(QueryParams)`)."""
        raw: bytes = self.scope.get("query_string", b"")
        return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}

    async def body(self) -> bytes:
        if self._body is None:
            chunks: list[bytes] = []
            while True:
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            self._body = b"".join(chunks)
        return self._body

    async def form(self) -> FormData:
        """Multipart and form parsing stay Starlette's (rare on a hot path)."""
        return await Request(self.scope, self.receive).form()


def raw_headers(
    content_type: str, length: int, extra: Iterable[tuple[str, str]] = ()
) -> list[tuple[bytes, bytes]]:
    out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
    out.append((b"content-length", str(length).encode()))
    out.append((b"content-type", content_type.encode("latin-1")))
    return out


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: str, extra: Iterable[tuple[str, str]] = ()
) -> None:
    """A whole response in two messages, as Starlette's `Response` sends it."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": raw_headers(content_type, len(body), extra),
        }
    )
    await send({"type": "http.response.body", "body": body})
