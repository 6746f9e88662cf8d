#!/usr/bin/env python
"""Distil the Okta management + oauth specs into twins/okta/spec/operations.json.

Usage: python twins/okta/spec/distil.py twins/okta/spec/operations.json (reads /work/shared/specs/okta).
"""
import json, re, sys, yaml
SRC = "/work/shared/specs/okta/"
WANT = re.compile(r"^/api/v1/(users|groups|logs|apps|sessions|authn|eventHooks|policies|meta/schemas/user)(/|$)|^/oauth2/|^/\.well-known/")
out: dict[str, dict[str, object]] = {}
for fname in ("management-minimal.yaml", "oauth-minimal.yaml"):
    doc = yaml.load(open(SRC + fname), Loader=yaml.CSafeLoader)
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
                for k, v in sec.items():
                    scopes.extend(v)
            out.setdefault(oid, {"method": method.upper(), "path": path, "source": fname,
                "tags": op.get("tags", []), "summary": op.get("summary", ""), "params": params,
                "responses": sorted(op.get("responses", {}).keys()), "scopes": sorted(set(scopes)),
                "rate_limit_category": op.get("x-okta-lifecycle", {}) and None})
json.dump(dict(sorted(out.items())), open(sys.argv[1], "w"), indent=1)
print(len(out))
