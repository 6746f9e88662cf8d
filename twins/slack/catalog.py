"""The Slack method catalog, distilled from slack-ruby/slack-api-ref (MIT) into spec/methods.json.

For every Web API method: HTTP verb, accepted token kinds and scopes, rate-limit tier, whether
JSON bodies are accepted, arguments and documented error codes. See spec/PROVENANCE.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_PATH = Path(__file__).with_name("spec") / "methods.json"


@dataclass(frozen=True)
class MethodInfo:
    name: str
    http_method: str
    scopes: dict[str, list[str]]
    tier: str | None
    json_input: bool
    args: dict[str, dict[str, Any]]
    errors: tuple[str, ...]


@cache
def catalog() -> dict[str, MethodInfo]:
    raw = json.loads(_PATH.read_text())
    return {
        name: MethodInfo(
            name, d["http_method"], d["scopes"], d["tier"], d["json_input"], d["args"], tuple(d["errors"])
        )
        for name, d in raw.items()
    }


def info(name: str) -> MethodInfo | None:
    return catalog().get(name)
