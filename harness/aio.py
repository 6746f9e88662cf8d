"""How the harness runs its event loop: on uvloop when it is installed (it comes with
`uvicorn[standard]`), else on asyncio's own.

Why: nearly all of the harness's CPU is spent sending requests and reading answers, and
uvloop's transports and scheduling do that for a fraction of the default loop's Python-level
work (bench/harness_throughput.py). Under locust the harness keeps asyncio's loop, which
gevent's patched selectors make cooperative; uvloop's would block the other greenlets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_name() -> str:
    """`uvloop` or `asyncio`: which loop `run` would use here."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main), on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
