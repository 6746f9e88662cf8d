"""`dtu serve` as a user starts it: a real process, reached over HTTP(S) by an official client."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient

from dtu.testing.tls import self_signed_certificate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def https_slack(tmp_path: Path) -> Iterator[tuple[str, ssl.SSLContext]]:
    cert, key = self_signed_certificate(tmp_path)
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "dtu.cli", "serve", "slack", "--port", str(port), "--db", "sqlite://"),
            *("--ssl-certfile", str(cert), "--ssl-keyfile", str(key)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/_dtu/health", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "dtu serve did not answer over HTTPS"
            time.sleep(0.1)
        yield url, trust
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_over_https_with_a_certificate(https_slack: tuple[str, ssl.SSLContext]) -> None:
    url, trust = https_slack
    client = WebClient(token="xoxb-dtu-bot-token", base_url=url + "/api/", ssl=trust)
    assert client.auth_test()["ok"] is True
    # Plain HTTP on the same port is refused: the server speaks TLS only.
    with pytest.raises(httpx.HTTPError):
        httpx.get(url.replace("https", "http") + "/_dtu/health", timeout=2)
