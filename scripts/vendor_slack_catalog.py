"""Distil the Slack method catalog (slack-ruby/slack-api-ref) into twins/slack/spec/methods.json.

Run by a developer when the vendored reference changes:
    python scripts/vendor_slack_catalog.py PATH/TO/slack-api-ref
The twin never reads the reference itself; it reads the distilled file this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _arg_type(prop: dict[str, Any]) -> str:
    if "type" in prop:
        return str(prop["type"])
    for alt in prop.get("anyOf", []):
        if alt.get("type") not in (None, "null"):
            return str(alt["type"])
    return "string"


def _scopes(scope: Any) -> dict[str, list[str]]:
    """`scope` is {token kind: [scopes]} for most methods, a bare string ("none") for a few."""
    if isinstance(scope, dict):
        return {kind: list(v or []) for kind, v in scope.items()}
    return {}


def main(ref: Path, out: Path) -> None:
    catalog: dict[str, Any] = {}
    for path in sorted((ref / "docs.slack.dev" / "methods").glob("*.json")):
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict) or "http_method" not in doc:
            continue  # methods.json is the index, not a method
        name = path.stem
        args = doc.get("args", {}) or {}
        props = args.get("properties", {}) or {}
        required = set(args.get("required", []) or [])
        errors = doc.get("errors", {}) or {}
        catalog[name] = {
            "http_method": doc.get("http_method", "POST"),
            "scopes": _scopes(doc.get("scope")),
            "tier": doc.get("rate_limits"),
            "json_input": bool(doc.get("json_input_supported")),
            "args": {
                k: {"type": _arg_type(v), "required": k in required} for k, v in props.items() if k != "token"
            },
            "errors": sorted(errors) if isinstance(errors, dict) else sorted(errors or []),
        }
    out.write_text(json.dumps(catalog, indent=1, sort_keys=True) + "\n")
    print(f"{len(catalog)} methods -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "twins/slack/spec/methods.json"))
