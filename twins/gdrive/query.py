"""Drive's search language (`files.list?q=`): a parser and an evaluator over file rows.

https://developers.google.com/workspace/drive/api/guides/ref-search-terms . Clauses
`<term> <operator> <value>` joined by `and`, `or`, `not` and parentheses; strings in single
(or double: gspread sends them, and Drive takes them) quotes with `\\'` and `\\\\` escapes; dates RFC 3339 (UTC unless an offset is given). Anything
Drive would refuse is `QueryError`, which the route turns into Drive's 400 `invalid` on `q`.

    ast = parse("name contains 'report' and not trashed")
    evaluate(ast, view)   # view: what the evaluator needs of one file, for one caller
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from twins._workspace.common import parse_rfc3339


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Cmp:
    """`field op value` (value is a str, bool, float for dates)."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class In:
    """`'value' in collection` (parents, owners, writers, readers)."""

    value: str
    collection: str


@dataclass(frozen=True)
class Has:
    """`properties has { key='k' and value='v' }`."""

    collection: str
    key: str
    value: str


@dataclass(frozen=True)
class Not:
    expr: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    items: tuple[Any, ...]


@dataclass
class FileView:
    """One file as the evaluator sees it, for one caller."""

    name: str
    mime_type: str
    full_text: str
    trashed: bool
    starred: bool
    shared_with_me: bool
    parents: list[str]
    owners: list[str]
    writers: list[str]
    readers: list[str]
    times: dict[str, float | None]
    properties: dict[str, str]
    app_properties: dict[str, str]
    visibility: str
    shortcut_target: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op>!=|<=|>=|=|<|>)|(?P<punct>[(){}])|"""
    r"""(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>-?\d+(?:\.\d+)?))"""
)

STRING_FIELDS = {"name", "mimeType", "fullText", "visibility", "shortcutDetails.targetId"}
DATE_FIELDS = {"modifiedTime", "createdTime", "viewedByMeTime", "sharedWithMeTime"}
BOOL_FIELDS = {"trashed", "starred", "sharedWithMe"}
COLLECTIONS = {"parents", "owners", "writers", "readers"}
VISIBILITIES = {"anyoneCanFind", "anyoneWithLink", "domainCanFind", "domainWithLink", "limited"}


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"unexpected input at {pos}")
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise QueryError("unexpected end of query")
        self.i += 1
        return tok

    def word(self, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == value:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str | None = None) -> str:
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise QueryError(f"expected {value or kind}")
        return tok[1]

    def parse(self) -> Any:
        expr = self.or_expr()
        if self.peek() is not None:
            raise QueryError("trailing input")
        return expr

    def or_expr(self) -> Any:
        items = [self.and_expr()]
        while self.word("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self) -> Any:
        items = [self.not_expr()]
        while self.word("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_expr(self) -> Any:
        if self.word("not"):
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise QueryError("unexpected end of query")
        if tok == ("punct", "("):
            self.i += 1
            expr = self.or_expr()
            self.expect("punct", ")")
            return expr
        if tok[0] == "str":
            self.i += 1
            value = _unescape(tok[1])
            if not self.word("in"):
                raise QueryError("expected in")
            coll = self.expect("word")
            if coll not in COLLECTIONS:
                raise QueryError(f"unknown collection {coll}")
            return In(value, coll)
        if tok[0] != "word":
            raise QueryError("expected a term")
        self.i += 1
        name = tok[1]
        if name in ("properties", "appProperties"):
            if not self.word("has"):
                raise QueryError("expected has")
            return self.has(name)
        if name == "fullText":
            if not self.word("contains"):
                raise QueryError("fullText only supports contains")
            return Cmp("fullText", "contains", _unescape(self.expect("str")))
        if name in STRING_FIELDS:
            op = self.operator(allow_contains=name in ("name", "mimeType"), ordered=False)
            return Cmp(name, op, _unescape(self.expect("str")))
        if name in DATE_FIELDS:
            op = self.operator(allow_contains=False, ordered=True)
            raw = _unescape(self.expect("str"))
            try:
                return Cmp(name, op, parse_rfc3339(raw))
            except ValueError:
                raise QueryError(f"bad date {raw}") from None
        if name in BOOL_FIELDS:
            nxt = self.peek()
            if nxt is None or nxt[0] != "op":  # a bare `sharedWithMe` means `sharedWithMe = true`
                return Cmp(name, "=", True)
            op = self.operator(allow_contains=False, ordered=False)
            value = self.expect("word").lower()
            if value not in ("true", "false"):
                raise QueryError("expected true or false")
            return Cmp(name, op, value == "true")
        raise QueryError(f"unknown term {name}")

    def operator(self, *, allow_contains: bool, ordered: bool) -> str:
        tok = self.take()
        if tok[0] == "word" and tok[1].lower() == "contains" and allow_contains:
            return "contains"
        if tok[0] == "op" and (tok[1] in ("=", "!=") or ordered):
            return tok[1]
        raise QueryError(f"operator {tok[1]} not supported here")

    def has(self, coll: str) -> Has:
        self.expect("punct", "{")
        if not self.word("key"):
            raise QueryError("expected key")
        self.expect("op", "=")
        key = _unescape(self.expect("str"))
        if not self.word("and") or not self.word("value"):
            raise QueryError("expected and value")
        self.expect("op", "=")
        value = _unescape(self.expect("str"))
        self.expect("punct", "}")
        return Has(coll, key, value)


def parse(text: str) -> Any:
    """The query's syntax tree; `QueryError` for anything Drive would refuse."""
    if not text.strip():
        raise QueryError("empty query")
    return _Parser(tokenize(text)).parse()


_WORD = re.compile(r"[0-9A-Za-z]+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def name_contains(name: str, value: str) -> bool:
    """Drive matches `name contains` on the start of the name or of any word in it
    ('Hello' and 'World' both find "Hello World"; 'orld' does not)."""
    needle = value.lower()
    if not needle:
        return True
    low = name.lower()
    if low.startswith(needle):
        return True
    return any(low[m.start() :].startswith(needle) for m in _WORD.finditer(name))


def full_text_contains(text: str, value: str) -> bool:
    """`fullText contains` matches whole words (a quoted phrase matches consecutive words)."""
    phrase = value.strip()
    if len(phrase) >= 2 and phrase[0] == phrase[-1] == '"':
        phrase = phrase[1:-1]
    needle = _words(phrase)
    if not needle:
        return False
    hay = _words(text)
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def evaluate(expr: Any, f: FileView) -> bool:
    if isinstance(expr, BoolOp):
        if expr.op == "and":
            return all(evaluate(e, f) for e in expr.items)
        return any(evaluate(e, f) for e in expr.items)
    if isinstance(expr, Not):
        return not evaluate(expr.expr, f)
    if isinstance(expr, In):
        values = getattr(f, expr.collection)
        if expr.collection == "parents":  # ids are case-sensitive; emails are not
            return expr.value in values
        return expr.value.lower() in {v.lower() for v in values}
    if isinstance(expr, Has):
        props = f.properties if expr.collection == "properties" else f.app_properties
        return props.get(expr.key) == expr.value
    assert isinstance(expr, Cmp)
    op, value = expr.op, expr.value
    if expr.field == "name":
        if op == "contains":
            return name_contains(f.name, value)
        return _equals(f.name, op, value)
    if expr.field == "mimeType":
        if op == "contains":
            return value.lower() in f.mime_type.lower()
        return _equals(f.mime_type, op, value)
    if expr.field == "fullText":
        return full_text_contains(f.full_text, value)
    if expr.field == "visibility":
        return _equals(f.visibility, op, value)
    if expr.field == "shortcutDetails.targetId":
        return _equals(f.shortcut_target, op, value)
    if expr.field in BOOL_FIELDS:
        actual = {
            "trashed": f.trashed,
            "starred": f.starred,
            "sharedWithMe": f.shared_with_me,
        }[expr.field]
        return _equals(actual, op, value)
    when = f.times.get(expr.field)
    if when is None:
        return op == "!="
    when = round(when, 3)
    limit: float = value  # dates are parsed to epoch seconds
    return {
        "=": when == limit,
        "!=": when != limit,
        "<": when < limit,
        "<=": when <= limit,
        ">": when > limit,
        ">=": when >= limit,
    }[op]


def _equals(actual: object, op: str, value: object) -> bool:
    """`field = value` / `field != value` (typed `object`: the parsed value is str or bool)."""
    return (actual == value) == (op == "=")


def mentions_trashed(expr: Any) -> bool:
    """Drive lists trashed files too unless the query says `trashed = false`; this twin follows
    Drive: no implicit filter (the caller adds `trashed = false`)."""
    if isinstance(expr, Cmp):
        return expr.field == "trashed"
    if isinstance(expr, Not):
        return mentions_trashed(expr.expr)
    if isinstance(expr, BoolOp):
        return any(mentions_trashed(e) for e in expr.items)
    return False
