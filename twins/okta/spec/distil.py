#!/usr/bin/env python
"""Distil the Okta management + oauth specs into the twin's spec files (see PROVENANCE.md).

Usage (reads /work/shared/specs/okta; never at runtime):

    python twins/okta/spec/distil.py twins/okta/spec/operations.json twins/okta/spec/openapi.json

`operations.json`: every operation of the API groups the twin covers (method, path, parameters,
responses, scopes). `openapi.json`: an OpenAPI document of the operations the twin implements
(its routes), with the schemas they reference, descriptions and examples stripped; the twin
serves it at `/openapi.json` and the fuzz tests generate requests from it.
"""

import json
import re
import sys
from typing import Any

import yaml

SRC = "/work/shared/specs/okta/"
FILES = ("management-minimal.yaml", "oauth-minimal.yaml")
WANT = re.compile(
    r"^/api/v1/(users|groups|logs|apps|sessions|authn|eventHooks|policies|meta/schemas/user)(/|$)|^/oauth2/|^/\.well-known/"
)
DROP = ("description", "examples", "example", "summary", "externalDocs")


def operations(docs: dict[str, Any]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for fname, doc in docs.items():
        for path, item in doc["paths"].items():
            if not WANT.search(path):
                continue
            for method, op in item.items():
                if method not in ("get", "post", "put", "delete", "patch") or not isinstance(op, dict):
                    continue
                oid = op.get("operationId")
                if not oid:
                    continue
                params = []
                for p in op.get("parameters", []) + item.get("parameters", []):
                    if "$ref" in p:
                        p = doc["components"]["parameters"][p["$ref"].split("/")[-1]]
                    params.append({"name": p["name"], "in": p["in"], "required": bool(p.get("required"))})
                scopes = []
                for sec in op.get("security", []) or []:
                    for _k, v in sec.items():
                        scopes.extend(v)
                out.setdefault(
                    oid,
                    {
                        "method": method.upper(),
                        "path": path,
                        "source": fname,
                        "tags": op.get("tags", []),
                        "summary": op.get("summary", ""),
                        "params": params,
                        "responses": sorted(op.get("responses", {}).keys()),
                        "scopes": sorted(set(scopes)),
                        "rate_limit_category": op.get("x-okta-lifecycle", {}) and None,
                    },
                )
    return dict(sorted(out.items()))


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


def _implemented() -> set[tuple[str, str]]:
    sys.path.insert(0, ".")
    from twins.okta.routes import routers

    out = set()
    for router in routers:
        for route in router.routes:
            for method in getattr(route, "methods", None) or ():
                out.add((method.lower(), re.sub(r"\{[^}]+\}", "{}", getattr(route, "path", ""))))
    return out


def _rename_clashes(doc: dict[str, Any], taken: dict[str, dict[str, Any]], suffix: str) -> dict[str, Any]:
    """The oauth document reuses component names of the management one with other content
    (`Error`, `TokenResponse`...): rename its clashing components (and their `$ref`s, and the
    security requirements naming a clashing scheme) with a suffix."""
    clashes = {
        (section, name)
        for section, items in doc["components"].items()
        for name, value in items.items()
        if name in taken.get(section, {}) and taken[section][name] != value
    }

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str) and v.startswith("#/components/"):
                    _, _, section, name = v.split("/", 3)
                    out[k] = f"#/components/{section}/{name}{suffix}" if (section, name) in clashes else v
                elif k == "security" and isinstance(v, list):
                    out[k] = [
                        {(n + suffix if ("securitySchemes", n) in clashes else n): s for n, s in req.items()}
                        for req in v
                    ]
                else:
                    out[k] = fix(v)
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    fixed = fix(doc)
    fixed["components"] = {
        section: {(n + suffix if (section, n) in clashes else n): v for n, v in items.items()}
        for section, items in fixed["components"].items()
    }
    return dict(fixed)


def openapi(docs: dict[str, Any]) -> dict[str, Any]:
    implemented = _implemented()
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    first = docs[FILES[0]]["components"]
    docs = {FILES[0]: docs[FILES[0]], FILES[1]: _rename_clashes(docs[FILES[1]], first, "OAuth")}
    for doc in docs.values():
        kept: dict[str, Any] = {}
        for path, item in doc["paths"].items():
            norm = re.sub(r"\{[^}]+\}", "{}", path)
            ops = {m: op for m, op in item.items() if (m, norm) in implemented and isinstance(op, dict)}
            if ops:
                kept[path] = {**({"parameters": item["parameters"]} if "parameters" in item else {}), **ops}
        seen: set[tuple[str, str]] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/components/"):
                        _, _, section, name = v.split("/", 3)
                        if (section, name) not in seen:
                            seen.add((section, name))
                            target = doc["components"][section][name]
                            components.setdefault(section, {})[name] = target
                            walk(target)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(kept)
        for name, scheme in doc["components"].get("securitySchemes", {}).items():
            components.setdefault("securitySchemes", {})[name] = scheme
        paths.update(kept)
    result: dict[str, Any] = _strip(
        {
            "openapi": "3.0.3",
            "info": {
                "title": "DTU Okta twin: the Okta operations it implements",
                "version": docs[FILES[0]]["info"]["version"],
                "license": docs[FILES[0]]["info"].get("license"),
            },
            "paths": dict(sorted(paths.items())),
            "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
        }
    )
    return result


if __name__ == "__main__":
    docs = {f: yaml.load(open(SRC + f), Loader=yaml.CSafeLoader) for f in FILES}
    json.dump(operations(docs), open(sys.argv[1], "w"), indent=1)
    if len(sys.argv) > 2:
        json.dump(openapi(docs), open(sys.argv[2], "w"), indent=1)
    print("ok")
