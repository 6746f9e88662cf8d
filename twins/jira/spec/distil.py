#!/usr/bin/env python
"""Distil Atlassian's Jira OpenAPI documents into the twin's spec files (see PROVENANCE.md).

Usage (reads /work/shared/specs/jira; never at runtime), from the repository root:

    python twins/jira/spec/distil.py twins/jira/spec/operations.json twins/jira/spec/openapi.json

`operations.json`: for each operation the twin serves, its method, path, summary and
parameter names. `openapi.json`: an OpenAPI document of those operations (platform v3 and
Agile 1.0), with the schemas they reference, descriptions and examples stripped; the twin
serves it at `/openapi.json` and the fuzz tests (tests/twins/jira/test_fuzz.py) generate
requests from it. The Agile document's schemas that clash with the platform's by name get an
`Agile` suffix. `/rest/api/2` serves the same operations as `/rest/api/3` and is left out.
"""

import json
import re
import sys
from typing import Any

SRC = "/work/shared/specs/jira/"
FILES = ("swagger-v3.v3.json", "software-swagger.v3.json")
DROP = ("description", "examples", "example", "summary", "externalDocs")
# the twin's operation ids that differ from the document's (duplicated across the two documents)
RENAMED = {("get", "/rest/agile/1.0/issue/{}"): "getAgileIssue"}


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.replace("/rest/api/{api_version}/", "/rest/api/3/"))


def _implemented() -> dict[tuple[str, str], str]:
    sys.path.insert(0, ".")
    from fastapi.routing import APIRoute

    from twins.jira.routes import router

    out = {}
    for route in router.routes:
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                out[(method.lower(), _norm(route.path))] = route.operation_id or ""
    return out


def _strip(node: Any, in_properties: bool = False) -> Any:
    if isinstance(node, dict):
        return {
            k: _strip(v, k == "properties")
            for k, v in node.items()
            if in_properties or not (k in DROP or k.startswith("x-"))
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _rename_clashes(doc: dict[str, Any], taken: dict[str, Any], suffix: str) -> dict[str, Any]:
    clashes = {n for n, v in doc["components"]["schemas"].items() if n in taken and taken[n] != v}

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                    name = v.rsplit("/", 1)[1]
                    out[k] = f"#/components/schemas/{name}{suffix}" if name in clashes else v
                else:
                    out[k] = fix(v)
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    fixed: dict[str, Any] = fix(doc)
    fixed["components"]["schemas"] = {
        (n + suffix if n in clashes else n): v for n, v in fixed["components"]["schemas"].items()
    }
    return fixed


def _served(docs: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(document, path, path item, {method: operation}) of every operation the twin serves."""
    implemented = _implemented()
    out = []
    for fname, doc in docs.items():
        for path, item in doc["paths"].items():
            ops = {
                m: op
                for m, op in item.items()
                if isinstance(op, dict) and m != "parameters" and (m, _norm(path)) in implemented
            }
            if ops:
                out.append((fname, path, item, ops))
    return out


def operations(docs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _fname, path, item, ops in _served(docs):
        for method, op in ops.items():
            oid = RENAMED.get((method, _norm(path)), op.get("operationId", ""))
            params = [p.get("name") for p in op.get("parameters", []) + item.get("parameters", [])]
            out[oid] = {
                "method": method.upper(),
                "path": path,
                "summary": op.get("summary", ""),
                "parameters": [p for p in params if p],
            }
    return dict(sorted(out.items()))


def openapi(docs: dict[str, Any]) -> dict[str, Any]:
    platform = docs[FILES[0]]
    docs = {
        FILES[0]: platform,
        FILES[1]: _rename_clashes(docs[FILES[1]], platform["components"]["schemas"], "Agile"),
    }
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {"schemas": {}}
    for fname, path, item, ops in _served(docs):
        doc = docs[fname]
        for method, op in ops.items():
            renamed = RENAMED.get((method, _norm(path)))
            if renamed:
                ops[method] = {**op, "operationId": renamed}
        kept = {**({"parameters": item["parameters"]} if "parameters" in item else {}), **ops}
        seen: set[str] = set()

        def walk(node: Any, doc: dict[str, Any] = doc, seen: set[str] = seen) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                        name = v.rsplit("/", 1)[1]
                        if name not in seen:
                            seen.add(name)
                            target = doc["components"]["schemas"][name]
                            components["schemas"][name] = target
                            walk(target)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(kept)
        paths[path] = {**paths.get(path, {}), **kept}
    components["securitySchemes"] = {"basicAuth": platform["components"]["securitySchemes"]["basicAuth"]}
    result: dict[str, Any] = _strip(
        {
            "openapi": "3.0.1",
            "info": {
                "title": "DTU Jira twin: the Jira Cloud platform and Agile operations it implements",
                "version": platform["info"]["version"],
                "license": platform["info"].get("license"),
            },
            "security": [{"basicAuth": []}],
            "paths": dict(sorted(paths.items())),
            "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
        }
    )
    return result


if __name__ == "__main__":
    loaded = {f: json.load(open(SRC + f)) for f in FILES}
    json.dump(operations(loaded), open(sys.argv[1], "w"), indent=1)
    if len(sys.argv) > 2:
        json.dump(openapi(loaded), open(sys.argv[2], "w"), separators=(",", ":"))
    print("ok")
