"""Google's HTTP batch endpoint (`POST /batch/<api>/<version>`), for every Google twin.

https://developers.google.com/workspace/drive/api/guides/performance#batch-requests . The body
is `multipart/mixed`; each part is `Content-Type: application/http` with an optional
`Content-ID` and holds one whole HTTP request (request line, headers, body). The outer
request's headers, except the `Content-*` ones, apply to every inner request unless the inner
request sets the same header. Each inner request runs as if it had come alone: through the
twin's own app, so it is authenticated, counted against quotas, journaled and open to faults
one by one (Google counts a batch of n calls as n requests). The answer is `200` and
`multipart/mixed`, one `application/http` part per inner request in the same order, with
`Content-ID: <response-ID>` for a request part that had `Content-ID: <ID>`; an inner error is
that part's status and error body, never the batch's.

Parts past the API's limit (Drive: 100) are answered `403` `forbidden`, "Exceeds allowed inner
batch requests soft limit. Please retry.", as Drive answers them; a body with no parts is `400`
"Invalid multipart request with 0 mime parts.". Inner requests outside the API's own service
path get the API's 404 (batches do not cross APIs, and media uploads have their own path), and
`alt=media` downloads are refused: Drive does not batch media.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from dtu.errors import RequestFacts, TwinError
from dtu.runtime import TwinRuntime
from twins._workspace.errors import GoogleError

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


@dataclass
class Part:
    """One part of a batch: its MIME headers (lower-cased names) and its payload."""

    headers: dict[str, str]
    payload: bytes


@dataclass
class Inner:
    """An inner HTTP request, as its part spells it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """(head, rest) at the first blank line, CRLF or bare LF (googleapiclient writes LF)."""
    crlf, lf = data.find(b"\r\n\r\n"), data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return data[:crlf], data[crlf + 4 :]
    if lf >= 0:
        return data[:lf], data[lf + 2 :]
    return data, b""


def _header_lines(head: bytes) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and out:  # a folded header goes on
            name, value = out[-1]
            out[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep:
            out.append((name.strip(), value.strip()))
    return out


def parts(body: bytes, content_type: str) -> list[Part]:
    """The parts of a `multipart/mixed` body (none if it is not one)."""
    if not content_type.lower().startswith("multipart/"):
        return []
    m = _BOUNDARY.search(content_type)
    if not m:
        return []
    delimiter = b"--" + (m.group(1) or m.group(2)).encode("latin-1")
    out: list[Part] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, payload = _split_head(chunk)
        out.append(Part({k.lower(): v for k, v in _header_lines(head)}, payload))
    return out


def inner_request(payload: bytes) -> Inner | None:
    """The request an `application/http` part holds (None if its request line is not one)."""
    head, body = _split_head(payload)
    first, _, rest = head.partition(b"\n")
    words = first.decode("latin-1").strip().split()
    if len(words) not in (2, 3) or not words[0].isalpha():
        return None
    headers = _header_lines(rest)
    length = next((v for k, v in headers if k.lower() == "content-length"), None)
    if length is not None and length.isdigit():
        body = body[: int(length)]
    return Inner(words[0].upper(), words[1], headers, body)


def _merged(outer: Iterable[tuple[bytes, bytes]], inner: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The inner request's headers, plus the outer request's that it does not set itself
    (the outer `Content-*` headers describe the batch, never an inner request)."""
    own = {k.lower() for k, _ in inner}
    out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in inner]
    for key, value in outer:
        name = key.decode("latin-1").lower()
        if name.startswith("content-") or name in own:
            continue
        out.append((name.encode("latin-1"), value))
    return out


async def _run(request: Request, inner: Inner) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run one inner request through the twin's whole app (middleware included)."""
    url = urlsplit(inner.target)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": request.scope.get("asgi", {"version": "3.0"}),
        "http_version": "1.1",
        "method": inner.method,
        "scheme": request.url.scheme,
        "path": unquote(url.path),
        "raw_path": url.path.encode("latin-1"),
        "query_string": url.query.encode("latin-1"),
        "root_path": "",
        "headers": _merged(request.headers.raw, inner.headers),
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
        "state": {},
    }
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": inner.body, "more_body": False}

    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)
    return status, headers, b"".join(chunks)


def _error(
    runtime: TwinRuntime, err: TwinError, inner: Inner | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    facts = RequestFacts(
        runtime.spec.name, inner.method if inner else "POST", inner.target if inner else "", None, None
    )
    rendered = runtime.spec.error_adapter.render(err, facts)
    return rendered.status_code, list(rendered.raw_headers), bytes(rendered.body)


def _part(content_id: str | None, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    out = [b"Content-Type: application/http"]
    if content_id:
        cid = content_id.strip()
        cid = cid[1:-1] if cid.startswith("<") and cid.endswith(">") else cid
        out.append(f"Content-ID: <response-{cid}>".encode("latin-1"))
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    out += [b"", f"HTTP/1.1 {status} {reason}".encode("latin-1")]
    out += [k.title() + b": " + v for k, v in headers if k.lower() != b"content-length"]
    out += [f"Content-Length: {len(body)}".encode("latin-1"), b""]
    return b"\r\n".join(out) + b"\r\n" + body


def _boundary(parts: list[bytes]) -> str:
    """Google's style (`batch_` and base64url), derived from the answer so that a replay gets the
    same bytes; never a string that occurs in a part."""
    salt = 0
    while True:
        digest = hashlib.sha256(b"".join(parts) + str(salt).encode()).digest()[:15]
        boundary = "batch_" + base64.urlsafe_b64encode(digest).decode()
        if not any(boundary.encode() in p for p in parts):
            return boundary
        salt += 1


async def answer(request: Request, *, service_path: str, limit: int) -> Response:
    """Answer a batch request whose inner requests go to `service_path` (e.g. `/drive/v3/`)."""
    runtime: TwinRuntime = request.app.state.dtu
    found = parts(await request.body(), request.headers.get("content-type", ""))
    if not found:
        raise GoogleError("Invalid multipart request with 0 mime parts.", status=400, reason="badRequest")
    out: list[bytes] = []
    for index, part in enumerate(found):
        inner = inner_request(part.payload)
        if index >= limit:
            result = _error(
                runtime,
                GoogleError(
                    "Exceeds allowed inner batch requests soft limit. Please retry.",
                    status=403,
                    reason="forbidden",
                ),
                inner,
            )
        elif inner is None:
            result = _error(
                runtime, GoogleError("Invalid HTTP request in a batch part.", reason="badRequest"), None
            )
        elif not urlsplit(inner.target).path.startswith(service_path):
            result = _error(runtime, GoogleError("Not Found", status=404, reason="notFound"), inner)
        elif re.search(r"(?:^|&)alt=media(?:&|$)", urlsplit(inner.target).query):
            result = _error(
                runtime,
                GoogleError(
                    "Media download is not supported in batch requests.",
                    status=400,
                    reason="badRequest",
                    location="alt",
                    location_type="parameter",
                ),
                inner,
            )
        else:
            result = await _run(request, inner)
        out.append(_part(part.headers.get("content-id"), *result))
    boundary = _boundary(out)
    delimiter = b"--" + boundary.encode("latin-1")
    body = b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in out) + delimiter + b"--\r\n"
    return Response(body, media_type=f"multipart/mixed; boundary={boundary}")
