"""HTTP endpoints for tests that play the app side of webhooks and Events API deliveries.

`Receiver` is a tiny threaded HTTP server that records every request and answers with a
configurable status, body and delay (or a function of the request). By default it answers
Slack's `url_verification` handshake with the challenge, so that a plain receiver can be
registered as an app's request URL:

    with Receiver() as hook:
        config.apps_manifest_update(app_id=..., manifest={... "request_url": hook.url ...})
        hook.set(status=500)                     # make the app fail, to see retries
        first = hook.wait_for(lambda r: r.event_type == "message")

`AppServer` serves any ASGI or WSGI application (a Bolt app behind its adapter, a FastAPI
app...) on 127.0.0.1 and a free port, in a background thread.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import uvicorn


@dataclass
class Received:
    """One request as the receiver saw it (header names lowercased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body as a dict ({} when the body is not a JSON object)."""
        try:
            data = self.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def event_type(self) -> str | None:
        """`event.type` of an Events API `event_callback`, else the payload's `type`."""
        data = self.payload
        event = data.get("event")
        if isinstance(event, dict):
            return event.get("type")
        kind = data.get("type")
        return kind if isinstance(kind, str) else None

    @property
    def is_event(self) -> bool:
        """An Events API `event_callback` (not a url_verification handshake)."""
        return self.payload.get("type") == "event_callback"

    @property
    def retry_num(self) -> int | None:
        value = self.headers.get("x-slack-retry-num")
        return int(value) if value is not None else None


Responder = Callable[[Received], "tuple[int, bytes] | None"]


class Receiver:
    """Records requests; answers url_verification, then `respond(request)` or the set status/body."""

    def __init__(
        self,
        *,
        status: int = 200,
        body: bytes | str = b"",
        delay_s: float = 0.0,
        respond: Responder | None = None,
        echo_challenge: bool = True,
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.headers = dict(headers or {})
        self.body = body.encode() if isinstance(body, str) else body
        self.delay_s = delay_s
        self.respond = respond
        self.echo_challenge = echo_challenge
        self.content_type = content_type
        self._requests: list[Received] = []
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> Receiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="dtu-receiver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set(
        self,
        *,
        status: int | None = None,
        body: bytes | str | None = None,
        delay_s: float | None = None,
        respond: Responder | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Change how the next requests are answered."""
        if headers is not None:
            self.headers = dict(headers)
        if status is not None:
            self.status = status
        if body is not None:
            self.body = body.encode() if isinstance(body, str) else body
        if delay_s is not None:
            self.delay_s = delay_s
        if respond is not None:
            self.respond = respond

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def wait_for(
        self, predicate: Callable[[Received], bool] | None = None, *, count: int = 1, timeout_s: float = 5.0
    ) -> list[Received]:
        """The matching requests once there are at least `count` of them (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                found = [r for r in self._requests if predicate is None or predicate(r)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} matching request(s) within {timeout_s}s, "
                        f"got {len(found)} (of {len(self._requests)} received)"
                    )
                self._lock.wait(left)

    def _record(self, received: Received) -> tuple[int, bytes, str]:
        with self._lock:
            self._requests.append(received)
            self._lock.notify_all()
        if self.echo_challenge and received.payload.get("type") == "url_verification":
            return (
                200,
                json.dumps({"challenge": received.payload.get("challenge")}).encode(),
                "application/json",
            )
        if self.respond is not None:
            answer = self.respond(received)
            if answer is not None:
                return answer[0], answer[1], self.content_type
        if self.delay_s:
            time.sleep(self.delay_s)
        return self.status, self.body, self.content_type

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                received = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.time(),
                )
                status, payload, ctype = receiver._record(received)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in receiver.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class AppServer:
    """An ASGI (uvicorn) or WSGI (threaded wsgiref) app on 127.0.0.1 and a free port."""

    def __init__(self, app: Any, *, wsgi: bool = False, host: str = "127.0.0.1") -> None:
        self.app = app
        self.wsgi = wsgi
        self.host = host
        self.port = 0
        self._thread: threading.Thread | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._wsgi_server: WSGIServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> AppServer:
        if self.wsgi:
            server = make_server(
                self.host, 0, self.app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
            )
            self._wsgi_server = server
            self.port = server.server_address[1]
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="dtu-wsgi-app", daemon=True
            )
            self._thread.start()
            return self
        config = uvicorn.Config(
            self.app, host=self.host, port=0, log_level="warning", lifespan="off", access_log=False
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, name="dtu-asgi-app", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._uvicorn.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app server did not start")
            time.sleep(0.01)
        self.port = self._uvicorn.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._wsgi_server is not None:
            self._wsgi_server.shutdown()
            self._wsgi_server.server_close()
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
