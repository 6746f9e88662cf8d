"""The harness's HTTP client: no answer is an HttpError (never a hang), and a request sent on
a pooled connection that the server has just closed is sent again on a new one."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from harness.http import Http, HttpError, basic_auth


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP/1.1 server that answers each connection's first request with keep-alive, then
    closes the connection without answering the second (as a server ending an idle one does)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    served: list[int] = []
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            served.append(1)
            body = b'{"ok": true}'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            conn.recv(65536)  # the next request on this connection: closed unanswered

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", served
    stop.set()
    thread.join(timeout=5)
    sock.close()


def test_a_closed_pooled_connection_is_retried_for_idempotent_requests(
    closing_server: tuple[str, list[int]],
) -> None:
    url, served = closing_server

    async def go() -> tuple[int, int, str]:
        http = Http(timeout_s=5)
        try:
            first = await http.get(url + "/a", params={"n": 1, "flag": True})
            second = await http.get(url + "/b")  # the pooled connection is closed under it
            try:  # not idempotent, and it was sent: not sent again
                await http.post(url + "/c", json={"x": 1})
                post = "answered"
            except HttpError as exc:
                post = str(exc)
            return first.status_code, second.status_code, post
        finally:
            await http.aclose()

    first, second, post = asyncio.run(go())
    assert (first, second) == (200, 200) and len(served) == 2  # the second GET: sent twice
    assert post.startswith(f"POST {url}/c: ServerDisconnectedError")


def test_no_answer_is_an_http_error() -> None:
    async def go() -> str:
        http = Http(timeout_s=2)
        try:
            await http.get("http://127.0.0.1:9/nothing")
        except HttpError as exc:
            return str(exc)
        finally:
            await http.aclose()
        return "answered"

    assert asyncio.run(go()).startswith("GET http://127.0.0.1:9/nothing: ")
    assert basic_auth("a@example.com", "t") == "Basic YUBleGFtcGxlLmNvbTp0"


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[bytes]]]:
    """An HTTP/1.1 server that answers by path with hand-written responses (chunked, delimited
    by the connection's end, an interim 100, none at all) and records every request."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    seen: list[bytes] = []
    stop = threading.Event()
    answers = {
        b"/chunked": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n',
        b"/until-close": b"HTTP/1.1 200 OK\r\nX-Custom: one\r\nX-Custom: two\r\nConnection: close\r\n\r\nall of it",
        b"/interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    }

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(h.split(b":")[1])
                        for h in head.split(b"\r\n")
                        if h.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(data) < length:
                    data += conn.recv(65536)
                body, data = data[:length], data[length:]
                seen.append(head + b"\r\n\r\n" + body)
                path = head.split(b" ")[1].split(b"?")[0]
                if path == b"/silent":
                    stop.wait(5)
                    return
                conn.sendall(answers[path])
                if path == b"/until-close":
                    return

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", seen
    stop.set()
    thread.join(timeout=5)
    sock.close()


def test_answers_are_read_whatever_their_framing(raw_server: tuple[str, list[bytes]]) -> None:
    url, seen = raw_server

    async def go() -> list[tuple[int, bytes, str | None]]:
        http = Http(timeout_s=5, headers={"X-DTU-Admin-Token": "t0k"})
        try:
            chunked = await http.get(url + "/chunked", params={"tenant": "h1", "q": 'a b&"c"', "none": None})
            closing = await http.post(url + "/until-close", json={"x": [1, 2]}, auth=("a@example.com", "t"))
            interim = await http.put(url + "/interim")
            return [
                (chunked.status_code, chunked.content, str(chunked.json())),
                (closing.status_code, closing.content, closing.headers.get("x-custom")),
                (interim.status_code, interim.content, interim.headers.get("Content-Length")),
            ]
        finally:
            await http.aclose()

    assert asyncio.run(go()) == [
        (200, b'{"a": 1}', "{'a': 1}"),
        (200, b"all of it", "one, two"),  # ended by the connection, headers looked up in any case
        (201, b"ok", "2"),
    ]
    get, post, put = seen
    assert get.startswith(b"GET /chunked?tenant=h1&q=a+b%26%22c%22 HTTP/1.1\r\n")
    assert b"\r\nX-DTU-Admin-Token: t0k\r\n" in get and b"Content-Length" not in get
    assert b"\r\nContent-Type: application/json\r\n" in post and post.endswith(b'\r\n\r\n{"x":[1,2]}')
    assert b"\r\nAuthorization: Basic YUBleGFtcGxlLmNvbTp0\r\n" in post
    assert b"\r\nContent-Length: 0\r\n" in put


def test_a_server_that_never_answers_is_an_http_error_after_the_timeout(
    raw_server: tuple[str, list[bytes]],
) -> None:
    url, seen = raw_server

    async def go() -> str:
        http = Http(timeout_s=5)
        try:
            await http.get(url + "/silent", timeout=0.3)
        except HttpError as exc:
            return str(exc)
        finally:
            await http.aclose()
        return "answered"

    assert asyncio.run(go()) == f"GET {url}/silent: no answer within 0.3s" and len(seen) == 1
