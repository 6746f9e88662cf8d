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
