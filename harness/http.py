"""The harness's HTTP client: its own requests (the control plane, the checks, the steps that
speak raw HTTP, the app's install) on a small keep-alive HTTP/1.1 client, and one pooled
aiohttp session for the vendors' SDKs that take a session (slack_sdk, okta).

Why its own client: nearly all of the harness's CPU goes into sending requests and reading
answers. httpx/httpcore spent most of it in pool bookkeeping (each request scanned every pooled
connection); aiohttp spends about 0.4 ms of CPU per request in its request and response
machinery. A plain asyncio protocol writing the request in one buffer and parsing the answer
with httptools (uvicorn's parser, installed with it) does the same for about a third of that
(bench/harness_throughput.py). It speaks plain HTTP/1.1 to the twins and the app; anything
else (https, say a hosted LLM judge) goes through aiohttp.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

try:
    import httptools
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    httptools = None  # type: ignore[assignment]

KEEPALIVE_S = 1.5
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class HttpError(Exception):
    """No answer: connection refused or reset, timeout, bad URL."""


class ServerDisconnectedError(ConnectionError):
    """The server closed the connection before answering."""


class Headers(dict[str, str]):
    """Response headers, looked up case-insensitively (stored lower-case)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)


@dataclass
class Response:
    """What the harness reads of an answer (the body is read in full)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str = ""

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return orjson.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")


def _query(params: Mapping[str, Any]) -> str:
    """`urlencode` of the non-None parameters, without quoting what needs none (most of
    the harness's: tenant names, numbers, ids)."""
    out = []
    for k, v in params.items():
        if v is None:
            continue
        text = _param(v)
        out.append(
            (k if _SAFE.fullmatch(k) else urllib.parse.quote_plus(k))
            + "="
            + (text if _SAFE.fullmatch(text) else urllib.parse.quote_plus(text))
        )
    return "&".join(out)


@functools.lru_cache(maxsize=4096)
def _split(url: str) -> tuple[str, int, str, str] | None:
    """(host, port, netloc, request target) of a plain-HTTP URL; None for anything else."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    target = urllib.parse.quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + parts.query
    return parts.hostname, parts.port or 80, parts.netloc, target


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: one request at a time, the answer parsed by
    httptools as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self.idle_since = 0.0
        self.got_bytes = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.headers_done = False
        self.keep_alive = True
        self.got_bytes = False
        self._name = ""

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing was asked: the connection cannot be trusted any more
            self._fail(ConnectionError("unexpected data on an idle connection"))
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # never asked for
            self._fail(ConnectionError("the server upgraded the connection"))
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"unreadable answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is None or self.waiter.done():
            return
        delimited = "content-length" in self.headers or "chunked" in self.headers.get("transfer-encoding", "")
        if self.headers_done and not delimited:  # a body that ends with the connection
            self.keep_alive = False
            self.on_message_complete()
        else:
            self._fail(exc or ServerDisconnectedError("the server closed the connection without an answer"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        old = self.headers.get(key)
        self.headers[key] = text if old is None else f"{old}, {text}"

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer: the real one follows
            self._reset()
            return
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self.status, Headers(self.headers), b"".join(self.body)))

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    def _expire(self) -> None:
        self._fail(TimeoutError())

    async def exchange(self, request: bytes, timeout_s: float) -> Response:
        """Send the request and wait for the answer (TimeoutError after timeout_s)."""
        assert self.transport is not None
        self._reset()
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        timer = loop.call_later(timeout_s, self._expire)
        self.transport.write(request)
        try:
            return await self.waiter
        finally:
            timer.cancel()
            self.waiter = None


class Http:
    """The harness's HTTP client. Plain-HTTP requests go through a pool of keep-alive
    connections per host; `session` (aiohttp, opened lazily on the loop that first uses it)
    is for SDK clients that take one, and for anything but plain HTTP."""

    def __init__(
        self, *, timeout_s: float = 30.0, headers: Mapping[str, str] | None = None, limit: int = 256
    ) -> None:
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session (SDK clients take it so that they reuse its connections)."""
        if self._session is None or self._session.closed:
            # keep-alive well under the servers' (uvicorn: 5 s), so that a pooled connection is
            # not reused at the moment the server closes it (the SDKs sharing the pool do not
            # retry that); busy connections are reused long before this
            connector = aiohttp.TCPConnector(
                limit=self.limit, keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=None
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                json_serialize=lambda o: orjson.dumps(o).decode(),
                headers=self.headers,
            )
        return self._session

    @property
    def fresh_session(self) -> aiohttp.ClientSession:
        """A session that opens a new connection for every request, for SDKs that neither
        retry a request sent on a pooled connection the server just closed nor survive it
        (the okta SDK crashes with an AttributeError): what they do by default, without
        building a session per request."""
        if self._fresh is None or self._fresh.closed:
            self._fresh = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, force_close=True, ttl_dns_cache=None),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
        return self._fresh

    async def aclose(self) -> None:
        for session in (self._session, self._fresh):
            if session is not None and not session.closed:
                await session.close()
        for conns in self._idle.values():
            for conn in conns:
                if conn.transport is not None:
                    conn.transport.close()
        self._idle.clear()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; HttpError when there is no answer. An idempotent request sent on a
        pooled connection that the server had just closed is sent again on a new one."""
        method = method.upper()
        hdrs = dict(headers or {})
        if auth is not None:
            hdrs["Authorization"] = basic_auth(*auth)
        body = b""
        if json is not None:
            body = orjson.dumps(json)
            hdrs.setdefault("Content-Type", "application/json")
        query = _query(params) if params else ""
        base = _split(url)
        if base is None or httptools is None or method == "HEAD":
            return await self._aiohttp(method, url, query, body, hdrs, timeout)
        host, port, netloc, target = base
        if query:
            target += ("&" if "?" in target else "?") + query
        head = f"{method} {target} HTTP/1.1\r\nHost: {netloc}\r\n{self._extra}"
        for k, v in hdrs.items():
            head += f"{k}: {v}\r\n"
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Length: {len(body)}\r\n"
        raw = head.encode("latin-1") + b"\r\n" + body
        limit = timeout if timeout is not None else self.timeout_s
        deadline = time.monotonic() + limit
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        try:
            async with self._slots:
                for attempt in (1, 2):
                    conn, reused = await self._connect(host, port, deadline - time.monotonic())
                    try:
                        resp = await conn.exchange(raw, max(deadline - time.monotonic(), 0.001))
                    except (ConnectionError, OSError) as exc:
                        if isinstance(exc, TimeoutError):
                            raise
                        conn.closed = True
                        if attempt == 1 and reused and not conn.got_bytes and method in IDEMPOTENT:
                            continue  # the server had closed the pooled connection: a new one
                        raise HttpError(f"{method} {url}: {exc!r}") from None
                    except BaseException:
                        conn.closed = True
                        if conn.transport is not None:
                            conn.transport.abort()
                        raise
                    self._release(host, port, conn)
                    resp.url = f"http://{netloc}{target}"
                    return resp
        except TimeoutError:
            raise HttpError(f"{method} {url}: no answer within {limit:g}s") from None
        except OSError as exc:  # refused, unreachable
            raise HttpError(f"{method} {url}: {exc!r}") from None
        raise AssertionError("unreachable")

    async def _connect(self, host: str, port: int, timeout_s: float) -> tuple[_Connection, bool]:
        """An idle pooled connection (newest first; those idle too long are closed), else a
        new one."""
        idle = self._idle.get((host, port))
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE_S:
                return conn, True
            if conn.transport is not None:
                conn.transport.close()
        loop = asyncio.get_running_loop()
        _, proto = await asyncio.wait_for(
            loop.create_connection(_Connection, host, port), max(timeout_s, 0.001)
        )
        return proto, False

    def _release(self, host: str, port: int, conn: _Connection) -> None:
        if conn.closed or not conn.keep_alive:
            if conn.transport is not None:
                conn.transport.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault((host, port), []).append(conn)

    async def _aiohttp(
        self, method: str, url: str, query: str, body: bytes, hdrs: dict[str, str], timeout: float | None
    ) -> Response:
        """Anything but plain HTTP (https: a hosted judge) through aiohttp."""
        if query:
            url += ("&" if "?" in url else "?") + query
        kw: dict[str, Any] = {"data": body or None, "headers": hdrs}
        if timeout is not None:
            kw["timeout"] = aiohttp.ClientTimeout(total=timeout)
        for attempt in (1, 2):
            try:
                async with self.session.request(method, url, **kw) as resp:
                    content = await resp.read()
                    headers = Headers({k.lower(): v for k, v in resp.headers.items()})
                    return Response(resp.status, headers, content, str(resp.url))
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if attempt == 2 or method not in IDEMPOTENT:
                    raise HttpError(f"{method} {url}: {exc!r}") from None
            except TimeoutError:
                raise HttpError(f"{method} {url}: no answer within {timeout or self.timeout_s:g}s") from None
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                raise HttpError(f"{method} {url}: {exc!r}") from None
        raise AssertionError("unreachable")

    async def get(self, url: str, **kw: Any) -> Response:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> Response:
        return await self.request("POST", url, **kw)

    async def put(self, url: str, **kw: Any) -> Response:
        return await self.request("PUT", url, **kw)

    async def delete(self, url: str, **kw: Any) -> Response:
        return await self.request("DELETE", url, **kw)
