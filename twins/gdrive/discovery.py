"""Drive's discovery document (spec/drive.v3.json): served with `rootUrl` naming the twin, and
read for each method's accepted scopes and for the resource schemas `fields` is checked against."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((Path(__file__).parent / "spec" / "drive.v3.json").read_bytes())
    return data


def for_root(root_url: str) -> dict[str, Any]:
    """The document as the twin serves it: every URL the client builds points back here."""
    doc = copy.copy(document())
    root = root_url.rstrip("/") + "/"
    doc["rootUrl"] = root
    doc["mtlsRootUrl"] = root
    doc["baseUrl"] = root + doc["servicePath"]
    return doc


@lru_cache(maxsize=1)
def methods() -> dict[str, dict[str, Any]]:
    """Discovery method id (`drive.files.list`) -> its description."""
    out: dict[str, dict[str, Any]] = {}

    def walk(resources: dict[str, Any]) -> None:
        for res in resources.values():
            for method in res.get("methods", {}).values():
                out[method["id"]] = method
            walk(res.get("resources", {}))

    walk(document()["resources"])
    return out


def scopes(method_id: str) -> frozenset[str]:
    info = methods().get(method_id)
    return frozenset(info.get("scopes", [])) if info else frozenset()


def schema(name: str) -> dict[str, Any]:
    schemas: dict[str, Any] = document()["schemas"]
    return dict(schemas.get(name, {}))
