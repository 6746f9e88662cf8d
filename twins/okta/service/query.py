"""Okta's `filter` and `search` expression languages (a subset of SCIM filtering, RFC 7644 3.4.2.2).

https://developer.okta.com/docs/api/#filter . `filter` is the older, narrower language (a few
properties, `eq`, and range operators on dates); `search` accepts any profile attribute
(custom ones included) with `eq sw co pr gt ge lt le`, `and or not` and parentheses. Operators
and string values are case-insensitive, property names are case-sensitive. Anything that does
not parse, or names a property or operator the language does not allow, is E0000031.

    expr = parse('profile.lastName sw "An" and status eq "ACTIVE"', USER_SEARCH)
    matches(expr, lambda path: record.get(path))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from twins.okta.errors import InvalidSearch, OktaError
from twins.okta.service.common import parse_iso

COMPARE_OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "sw", "co", "ew"})


@dataclass(frozen=True)
class Language:
    """What one query parameter of one resource accepts."""

    name: str
    fields: Mapping[str, str]  # path -> kind: string | date | number | boolean
    ops: Mapping[str, frozenset[str]]  # kind -> allowed comparison operators
    prefix_fields: tuple[str, ...] = ()  # any path under these prefixes is a (string) field
    allow_not: bool = False
    allow_pr: bool = False
    co_fields: frozenset[str] | None = None  # `co` only on these paths (None: wherever ops allow)

    def kind_of(self, path: str) -> str | None:
        if path in self.fields:
            return self.fields[path]
        if any(path.startswith(p) and len(path) > len(p) for p in self.prefix_fields):
            return "string"
        return None


@dataclass(frozen=True)
class Compare:
    path: str
    op: str
    value: Any
    kind: str


@dataclass(frozen=True)
class Present:
    path: str


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    inner: Node


Node = Compare | Present | BoolOp | Not

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()"]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InvalidSearch(causes=["Invalid search criteria."])
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "str":
        body = raw[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    try:
        return int(raw) if re.fullmatch(r"-?\d+", raw) else float(raw)
    except ValueError:
        raise InvalidSearch(causes=["Invalid search criteria."]) from None


class _Parser:
    def __init__(self, text: str, lang: Language) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.lang = lang

    def fail(self) -> OktaError:
        return InvalidSearch(causes=["Invalid search criteria."])

    def peek_word(self) -> str | None:
        if self.i < len(self.toks) and self.toks[self.i][0] == "word":
            return self.toks[self.i][1].lower()
        return None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise self.fail()
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise self.fail()
        node = self.or_expr()
        if self.i != len(self.toks):
            raise self.fail()
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.peek_word() == "or":
            self.i += 1
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.peek_word() == "and":
            self.i += 1
            node = BoolOp("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.peek_word() == "not" and self.lang.allow_not:
            self.i += 1
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "lp":
            node = self.or_expr()
            if self.take()[0] != "rp":
                raise self.fail()
            return node
        if kind != "word":
            raise self.fail()
        path = text
        field_kind = self.lang.kind_of(path)
        if field_kind is None:
            raise self.fail()
        op_kind, op = self.take()
        op = op.lower()
        if op_kind != "word":
            raise self.fail()
        if op == "pr":
            if not self.lang.allow_pr:
                raise self.fail()
            return Present(path)
        if op not in COMPARE_OPS or op not in self.lang.ops.get(field_kind, frozenset()):
            raise self.fail()
        if op == "co" and self.lang.co_fields is not None and path not in self.lang.co_fields:
            raise self.fail()
        vkind, vtext = self.take()
        if vkind not in ("str", "word"):
            raise self.fail()
        value = _literal(vkind, vtext)
        if field_kind == "date":
            if not isinstance(value, str) or parse_iso(value) is None:
                raise self.fail()
        elif field_kind == "string" and op in ("sw", "co", "ew") and not isinstance(value, str):
            raise self.fail()
        return Compare(path, op, value, field_kind)


def parse(text: str, lang: Language) -> Node:
    """Parse an expression of `lang`; E0000031 when it is not one."""
    return _Parser(text, lang).parse()


def _norm(value: Any, kind: str) -> Any:
    if kind == "date" and isinstance(value, str):
        return parse_iso(value)
    if isinstance(value, str):
        return value.lower()
    return value


def _compare(actual: Any, node: Compare) -> bool:
    if isinstance(actual, list):
        return any(_compare(item, node) for item in actual)
    want = _norm(node.value, node.kind)
    have = _norm(actual, node.kind)
    op = node.op
    if op == "eq":
        return bool(have == want)
    if op == "ne":
        return bool(have != want)
    if have is None or want is None:
        return False
    if op in ("sw", "co", "ew"):
        if not isinstance(have, str) or not isinstance(want, str):
            return False
        return have.startswith(want) if op == "sw" else want in have if op == "co" else have.endswith(want)
    if isinstance(have, bool) or isinstance(want, bool):
        return False
    if isinstance(have, str) != isinstance(want, str):
        return False
    try:
        if op == "gt":
            return bool(have > want)
        if op == "ge":
            return bool(have >= want)
        if op == "lt":
            return bool(have < want)
        if op == "le":
            return bool(have <= want)
    except TypeError:
        return False
    return False


def matches(node: Node, get: Callable[[str], Any]) -> bool:
    """Evaluate a parsed expression against one record (`get(path)` -> the value or None)."""
    if isinstance(node, Compare):
        return _compare(get(node.path), node)
    if isinstance(node, Present):
        value = get(node.path)
        return value is not None and value != "" and value != []
    if isinstance(node, Not):
        return not matches(node.inner, get)
    if node.op == "and":
        return matches(node.left, get) and matches(node.right, get)
    return matches(node.left, get) or matches(node.right, get)


def getter(record: Mapping[str, Any]) -> Callable[[str], Any]:
    """`get(path)` over a rendered object: `profile.login` -> record["profile"]["login"]."""

    def get(path: str) -> Any:
        cur: Any = record
        for part in path.split("."):
            if isinstance(cur, list):  # arrays (System Log `target`) match if any element does
                cur = [item.get(part) for item in cur if isinstance(item, Mapping)]
            elif isinstance(cur, Mapping):
                cur = cur.get(part)
            else:
                return None
        return cur

    return get


_EQ = frozenset({"eq"})
_RANGE = frozenset({"eq", "gt", "ge", "lt", "le"})
_SEARCH_STR = frozenset({"eq", "sw", "co", "gt", "ge", "lt", "le"})

USER_FILTER = Language(
    "filter",
    fields={
        "status": "string",
        "lastUpdated": "date",
        "id": "string",
        "profile.login": "string",
        "profile.email": "string",
        "profile.firstName": "string",
        "profile.lastName": "string",
        "type.id": "string",
    },
    ops={"string": _EQ, "date": _RANGE},
)
USER_SEARCH = Language(
    "search",
    fields={
        "status": "string",
        "id": "string",
        "created": "date",
        "activated": "date",
        "statusChanged": "date",
        "lastUpdated": "date",
        "passwordChanged": "date",
        "lastLogin": "date",
        "type.id": "string",
    },
    ops={"string": _SEARCH_STR, "date": _RANGE, "number": _RANGE, "boolean": _EQ},
    prefix_fields=("profile.",),
    allow_not=True,
    allow_pr=True,
    co_fields=frozenset({"profile.firstName", "profile.lastName", "profile.email", "profile.login"}),
)
GROUP_FILTER = Language(
    "filter",
    fields={"type": "string", "id": "string", "lastUpdated": "date", "lastMembershipUpdated": "date"},
    ops={"string": _EQ, "date": _RANGE},
)
GROUP_SEARCH = Language(
    "search",
    fields={
        "type": "string",
        "id": "string",
        "created": "date",
        "lastUpdated": "date",
        "lastMembershipUpdated": "date",
        "profile.name": "string",
        "profile.description": "string",
    },
    ops={"string": frozenset({"eq", "sw", "co"}), "date": _RANGE},
    prefix_fields=("profile.",),
    allow_pr=True,
)
APP_FILTER = Language(
    "filter",
    fields={
        "status": "string",
        "name": "string",
        "user.id": "string",
        "group.id": "string",
        "id": "string",
        "credentials.signing.kid": "string",
    },
    ops={"string": _EQ},
)
LOG_FILTER = Language(
    "filter",
    fields={
        "eventType": "string",
        "uuid": "string",
        "published": "date",
        "severity": "string",
        "actor.id": "string",
        "actor.type": "string",
        "actor.alternateId": "string",
        "actor.displayName": "string",
        "target.id": "string",
        "target.type": "string",
        "target.alternateId": "string",
        "outcome.result": "string",
        "outcome.reason": "string",
        "legacyEventType": "string",
        "transaction.id": "string",
        "client.ipAddress": "string",
        "displayMessage": "string",
        "authenticationContext.externalSessionId": "string",
    },
    ops={"string": frozenset({"eq", "ne", "sw", "co", "ew"}), "date": _RANGE},
    prefix_fields=("debugContext.debugData.",),
    allow_not=True,
    allow_pr=True,
)


def typed_profile_fields(base: Language, schema: Mapping[str, str]) -> Language:
    """`search` with the user schema's attribute types (numbers and booleans compare as such)."""
    fields = dict(base.fields)
    fields.update({f"profile.{k}": v for k, v in schema.items()})
    return Language(
        base.name, fields, base.ops, base.prefix_fields, base.allow_not, base.allow_pr, base.co_fields
    )
