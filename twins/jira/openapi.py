"""`GET /openapi.json`: Atlassian's own OpenAPI description of the operations the twin serves.

Distilled from the Jira Cloud platform (v3) and Jira Software (Agile 1.0) documents by
`spec/distil.py` (spec/PROVENANCE.md) and served at the twin's URL; schemathesis fuzzes the
twin against it (tests/twins/jira/test_fuzz.py). `/rest/api/2` answers the same operations.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_OPENAPI = Path(__file__).parent / "spec" / "openapi.json"


@functools.cache
def _document() -> str:
    return _OPENAPI.read_text()


def openapi(server_url: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_document())
    doc["servers"] = [{"url": server_url or "/"}]
    return doc
