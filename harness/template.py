"""`${inputs.email}`-style references in scenario values, resolved per trajectory.

A string that is exactly one reference becomes the referenced value (any type); references
inside a longer string are formatted in. Paths walk dicts (keys) and lists (indexes):
`${inputs.x}`, `${personas.newhire.email}`, `${vars.ticket.key}`, `${trajectory.id}`.
"""

from __future__ import annotations

import re
from typing import Any

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


class TemplateError(Exception):
    """A reference to something the trajectory does not have."""


def lookup(scope: dict[str, Any], path: str) -> Any:
    value: Any = scope
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif hasattr(value, part) and not part.startswith("_"):
            value = getattr(value, part)
        else:
            raise TemplateError(f"${{{path}}}: no {part!r} there")
    return value


def render(value: Any, scope: dict[str, Any]) -> Any:
    """`value` with every reference resolved (recursively through dicts and lists)."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return lookup(scope, whole.group(1))
        return _REF.sub(lambda m: str(lookup(scope, m.group(1))), value)
    if isinstance(value, dict):
        return {render(k, scope) if isinstance(k, str) else k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def has_refs(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_REF.search(value))
    if isinstance(value, dict):
        return any(has_refs(v) for v in value.values())
    if isinstance(value, list):
        return any(has_refs(v) for v in value)
    return False
