"""Partial responses: the `fields` system parameter, applied as Google applies it.

https://developers.google.com/workspace/drive/api/guides/fields-parameter . Syntax:
`a,b/c,d(e,f)` and `*`; each name must exist in the response schema (Drive answers
400 `invalidParameter` "Invalid field selection x" otherwise). Without `fields` a Drive
method answers its default field set (for a File: kind, id, name, mimeType).
"""

from __future__ import annotations

import re
from typing import Any

from twins.gdrive import discovery
from twins.gdrive.errors import invalid_fields

Mask = dict[str, "Mask | None"]  # name -> sub-mask (None: the whole value)
_NAME = re.compile(r"[A-Za-z0-9_$@.*-]+")


def parse(text: str) -> Mask:
    """Parse a selector into a tree; raises Drive's 400 on bad syntax."""
    pos = 0

    def selection_list(depth: int) -> Mask:
        nonlocal pos
        mask: Mask = {}
        while True:
            while pos < len(text) and text[pos] == " ":
                pos += 1
            m = _NAME.match(text, pos)
            if not m:
                raise invalid_fields(text[pos:] or text)
            path = [m.group(0)]
            pos = m.end()
            while pos < len(text) and text[pos] == "/":
                m = _NAME.match(text, pos + 1)
                if not m:
                    raise invalid_fields(text)
                path.append(m.group(0))
                pos = m.end()
            sub: Mask | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = selection_list(depth + 1)
                if pos >= len(text) or text[pos] != ")":
                    raise invalid_fields(text)
                pos += 1
            _merge(mask, path, sub)
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return mask

    mask = selection_list(0)
    if pos != len(text):
        raise invalid_fields(text)
    return mask


def _merge(mask: Mask, path: list[str], sub: Mask | None) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        if head in mask and mask[head] is not None and sub is not None:
            existing = mask[head]
            assert existing is not None
            for k, v in sub.items():
                _merge(existing, [k], v)
        else:
            mask[head] = None if head in mask and mask[head] is None else sub
        return
    child = mask.get(head, {})
    if head in mask and child is None:
        return
    assert child is not None
    mask[head] = child
    _merge(child, rest, sub)


def validate(mask: Mask, schema_name: str) -> None:
    """Every selected name must exist in the schema (maps accept any key)."""
    _check(mask, {"$ref": schema_name}, "")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = discovery.schema(node["$ref"])
    if node.get("type") == "array" and "items" in node:
        return _resolve(node["items"])
    return node


def _check(mask: Mask, node: dict[str, Any], prefix: str) -> None:
    node = _resolve(node)
    props = node.get("properties")
    for name, sub in mask.items():
        if name == "*":
            continue
        if props is not None and name in props:
            if sub is not None:
                _check(sub, props[name], f"{prefix}{name}/")
        elif "additionalProperties" in node:
            if sub is not None:
                _check(sub, node["additionalProperties"], f"{prefix}{name}/")
        else:
            raise invalid_fields(prefix + name)


def apply(value: Any, mask: Mask | None) -> Any:
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        # every field, whole: selections are a union, so `*,a/b` keeps all of `a` too
        star = mask["*"]
        return {k: apply(v, star) for k, v in value.items()}
    return {k: apply(value[k], sub) for k, sub in mask.items() if k in value}


def select(value: dict[str, Any], fields: str | None, *, schema_name: str, default: str) -> dict[str, Any]:
    """The response as the client asked for it (`fields`), or the method's default field set."""
    mask = parse(fields if fields and fields.strip() else default)
    if fields and fields.strip():
        validate(mask, schema_name)
    out: dict[str, Any] = apply(value, mask)
    return out
