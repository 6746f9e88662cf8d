"""An ASGI app (the example app under test) served in a background thread of this process,
with its lifespan run, so that it closes what it opened (its HTTP connection pool) on stop."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class InProcessApp:
    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> InProcessApp:
        config = uvicorn.Config(
            self.app, host=self.host, port=0, log_level="warning", lifespan="on", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="dtu-app-under-test", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> InProcessApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
