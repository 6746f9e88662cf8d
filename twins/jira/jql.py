"""JQL: a real lexer, parser and evaluator, with Jira's own error messages.

https://support.atlassian.com/jira-service-management-cloud/docs/use-advanced-search-with-jira-query-language-jql/ .
Pure Python, no I/O: `parse(text)` gives a `Query`; `compile_query(query, catalog)` resolves
fields and values against the site (unknown fields or values are Jira's 400s) and answers a
predicate over issue views plus a sort key. The search service builds the views.

Semantics the twin follows (and Jira documents): `!=` and `NOT IN` never match an empty
field; `=`/`IN` on multi-valued fields (labels, components, versions, sprints) match when any
value does; `~` is word search (case-insensitive, light stemming, `*` suffix wildcard,
quoted phrases); dates compare in UTC; weeks start on Sunday (en_US); without ORDER BY,
results come newest first (issue id descending), which is also every sort's final tie-break.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

OPERATORS_TEXT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
DATE_FORMATS_TEXT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)
KEYWORDS = {
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "EMPTY",
    "NULL",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "WAS",
    "CHANGED",
    "FROM",
    "TO",
    "AFTER",
    "BEFORE",
    "ON",
    "DURING",
}


class JqlError(Exception):
    """Invalid JQL: `message` is Jira's own text (the 400's errorMessages entry)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _syntax(message: str, pos: int | None = None) -> JqlError:
    where = f" (line 1, character {pos + 1})" if pos is not None else ""
    return JqlError(f"Error in the JQL Query: {message}{where}")


# -- lexer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # WORD STRING OP LP RP COMMA EOF
    value: str
    pos: int

    @property
    def upper(self) -> str:
        return self.value.upper() if self.kind == "WORD" else ""


_OPS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~", "&&", "||", "&", "|", "!")
_WORD_STOP = set(" \t\r\n\"'(),=!<>~&|")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"'":
            start, quote, i = i, ch, i + 1
            buf: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    if nxt == "u" and i + 5 < n + 0 and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                        buf.append(chr(int(text[i + 2 : i + 6], 16)))
                        i += 6
                        continue
                    buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                    i += 2
                    continue
                buf.append(text[i])
                i += 1
            if i >= n:
                raise _syntax(f"The quoted string '{text[start + 1 :]}' has not been completed.", start)
            tokens.append(Token("STRING", "".join(buf), start))
            i += 1
            continue
        if ch == "(":
            tokens.append(Token("LP", ch, i))
            i += 1
            continue
        if ch == ")":
            tokens.append(Token("RP", ch, i))
            i += 1
            continue
        if ch == ",":
            tokens.append(Token("COMMA", ch, i))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("OP", op, i))
            i += len(op)
            continue
        start = i
        while i < n and text[i] not in _WORD_STOP:
            i += 1
        tokens.append(Token("WORD", text[start:i], start))
    tokens.append(Token("EOF", "", n))
    return tokens


# -- AST --------------------------------------------------------------------------------------


@dataclass
class Value:
    text: str
    quoted: bool
    pos: int


@dataclass
class Func:
    name: str
    args: list[str]
    pos: int


@dataclass
class ListOperand:
    items: list[Value | Func | Empty]
    pos: int


@dataclass
class Empty:
    pos: int


Operand = Value | Func | ListOperand | Empty


@dataclass
class Predicate:
    kind: str  # FROM TO BY AFTER BEFORE ON DURING
    operand: Operand


@dataclass
class Clause:
    field: str
    field_pos: int
    op: str  # = != > >= < <= ~ !~ IN "NOT IN" IS "IS NOT" WAS "WAS NOT" "WAS IN" "WAS NOT IN" CHANGED
    operand: Operand | None
    # dataclasses.field, qualified: the `field` attribute above shadows the bare name
    predicates: list[Predicate] = dataclasses.field(default_factory=list)


@dataclass
class And:
    children: list[Node]


@dataclass
class Or:
    children: list[Node]


@dataclass
class Not:
    child: Node


Node = Clause | And | Or | Not


@dataclass
class SortKey:
    field: str
    pos: int
    descending: bool


@dataclass
class Query:
    where: Node | None
    order_by: list[SortKey]


# -- parser -----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "WORD" and self.tok.upper in words

    def query(self) -> Query:
        where: Node | None = None
        if self.tok.kind != "EOF" and not self.is_kw("ORDER"):
            where = self.or_expr()
        order: list[SortKey] = []
        if self.is_kw("ORDER"):
            self.take()
            if not self.is_kw("BY"):
                t = self.tok
                if t.kind == "EOF":
                    raise _syntax("Expecting 'BY' before the end of the query.")
                raise _syntax(f"Expecting 'BY' but got '{t.value}'.", t.pos)
            self.take()
            order = self.sort_list()
        if self.tok.kind != "EOF":
            t = self.tok
            if t.kind == "RP":
                raise _syntax("Expecting either 'OR' or 'AND' but got ')'.", t.pos)
            raise _syntax(f"Expecting either 'OR' or 'AND' but got '{t.value}'.", t.pos)
        return Query(where, order)

    def sort_list(self) -> list[SortKey]:
        keys: list[SortKey] = []
        while True:
            t = self.tok
            if t.kind not in ("WORD", "STRING") or (t.kind == "WORD" and t.upper in KEYWORDS):
                if t.kind == "EOF":
                    raise _syntax("Expecting a field name at the end of the query.")
                raise _syntax(f"Expecting a field name but got '{t.value}'.", t.pos)
            self.take()
            desc = False
            if self.is_kw("ASC", "DESC"):
                desc = self.take().upper == "DESC"
            keys.append(SortKey(t.value, t.pos, desc))
            if self.tok.kind == "COMMA":
                self.take()
                continue
            return keys

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.is_kw("OR") or (self.tok.kind == "OP" and self.tok.value in ("||", "|")):
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(children)

    def and_expr(self) -> Node:
        children = [self.not_expr()]
        while self.is_kw("AND") or (self.tok.kind == "OP" and self.tok.value in ("&&", "&")):
            self.take()
            children.append(self.not_expr())
        return children[0] if len(children) == 1 else And(children)

    def not_expr(self) -> Node:
        if self.is_kw("NOT") or (self.tok.kind == "OP" and self.tok.value == "!"):
            self.take()
            return Not(self.not_expr())
        if self.tok.kind == "LP":
            self.take()
            inner = self.or_expr()
            if self.tok.kind != "RP":
                t = self.tok
                if t.kind == "EOF":
                    raise _syntax("Expecting ')' before the end of the query.")
                raise _syntax(f"Expecting ')' but got '{t.value}'.", t.pos)
            self.take()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        t = self.tok
        if t.kind == "EOF":
            raise _syntax("Expecting a field name at the end of the query.")
        if t.kind not in ("WORD", "STRING") or (t.kind == "WORD" and t.upper in KEYWORDS - {"EMPTY", "NULL"}):
            raise _syntax(
                f"Expecting a field name but got '{t.value}'. You must surround '{t.value}' in "
                "quotation marks to use it as a field name.",
                t.pos,
            )
        self.take()
        name, pos = t.value, t.pos
        op_tok = self.tok
        if op_tok.kind == "OP" and op_tok.value in ("=", "!=", ">", ">=", "<", "<=", "~", "!~"):
            self.take()
            return Clause(name, pos, op_tok.value, self.operand())
        if self.is_kw("IN"):
            self.take()
            return Clause(name, pos, "IN", self.operand())
        if self.is_kw("NOT"):
            self.take()
            if not self.is_kw("IN"):
                raise _syntax(f"Expecting operator but got 'NOT'. {OPERATORS_TEXT}", op_tok.pos)
            self.take()
            return Clause(name, pos, "NOT IN", self.operand())
        if self.is_kw("IS"):
            self.take()
            op = "IS"
            if self.is_kw("NOT"):
                self.take()
                op = "IS NOT"
            if not self.is_kw("EMPTY", "NULL"):
                t2 = self.tok
                if t2.kind == "EOF":
                    raise _syntax("Expecting 'EMPTY' before the end of the query.")
                raise _syntax(f"Expecting 'EMPTY' but got '{t2.value}'.", t2.pos)
            e = self.take()
            return Clause(name, pos, op, Empty(e.pos))
        if self.is_kw("WAS"):
            self.take()
            op = "WAS"
            if self.is_kw("NOT"):
                self.take()
                op += " NOT"
            if self.is_kw("IN"):
                self.take()
                op += " IN"
            operand = self.operand()
            return Clause(name, pos, op, operand, self.predicates())
        if self.is_kw("CHANGED"):
            self.take()
            return Clause(name, pos, "CHANGED", None, self.predicates())
        if op_tok.kind == "EOF":
            raise _syntax(f"Expecting operator before the end of the query. {OPERATORS_TEXT}")
        raise _syntax(f"Expecting operator but got '{op_tok.value}'. {OPERATORS_TEXT}", op_tok.pos)

    def predicates(self) -> list[Predicate]:
        out: list[Predicate] = []
        while self.is_kw("FROM", "TO", "BY", "AFTER", "BEFORE", "ON", "DURING"):
            kind = self.take().upper
            out.append(Predicate(kind, self.operand()))
        return out

    def operand(self) -> Operand:
        t = self.tok
        if t.kind == "LP":
            self.take()
            items: list[Value | Func | Empty] = []
            while True:
                item = self.operand()
                if isinstance(item, ListOperand):
                    raise _syntax("Expecting either a value or function but got '('.", item.pos)
                items.append(item)
                if self.tok.kind == "COMMA":
                    self.take()
                    continue
                if self.tok.kind == "RP":
                    self.take()
                    return ListOperand(items, t.pos)
                t2 = self.tok
                if t2.kind == "EOF":
                    raise _syntax("Expecting ')' before the end of the query.")
                raise _syntax(f"Expecting ')' but got '{t2.value}'.", t2.pos)
        if t.kind == "STRING":
            self.take()
            return Value(t.value, True, t.pos)
        if t.kind == "WORD":
            if t.upper in ("EMPTY", "NULL"):
                self.take()
                return Empty(t.pos)
            if t.upper in KEYWORDS:
                raise _syntax(
                    f"Expecting either a value, list or function but got '{t.value}'. You must surround "
                    f"'{t.value}' in quotation marks to use it as a value.",
                    t.pos,
                )
            self.take()
            if self.tok.kind == "LP":
                self.take()
                args: list[str] = []
                while self.tok.kind != "RP":
                    a = self.tok
                    if a.kind not in ("WORD", "STRING"):
                        if a.kind == "EOF":
                            raise _syntax("Expecting ')' before the end of the query.")
                        raise _syntax(f"Expecting ')' but got '{a.value}'.", a.pos)
                    self.take()
                    args.append(a.value)
                    if self.tok.kind == "COMMA":
                        self.take()
                self.take()
                return Func(t.value, args, t.pos)
            return Value(t.value, False, t.pos)
        if t.kind == "EOF":
            raise _syntax("Expecting either a value, list or function before the end of the query.")
        raise _syntax(f"Expecting either a value, list or function but got '{t.value}'.", t.pos)


def parse(text: str) -> Query:
    """Parse JQL, raising `JqlError` with Jira's message for bad syntax."""
    return _Parser(text).query()


_PARSED: dict[str, Query] = {}
MAX_PARSED = 2_000


def parse_shared(text: str) -> Query:
    """`parse`, remembered by text: checks poll the same JQL over and over. The `Query` is
    shared, so its reader must not change it (compiling and planning only read it)."""
    found = _PARSED.get(text)
    if found is None:
        found = parse(text)
        if len(_PARSED) >= MAX_PARSED:
            _PARSED.clear()
        _PARSED[text] = found
    return found


def is_bounded(query: Query) -> bool:
    """`/search/jql` refuses queries with no restriction at all."""
    return query.where is not None


# -- field catalogue --------------------------------------------------------------------------

EQ = ("=", "!=", "IN", "NOT IN")
EMPTY_OPS = ("IS", "IS NOT")
RANGE = (">", ">=", "<", "<=")
HISTORY = ("WAS", "WAS NOT", "WAS IN", "WAS NOT IN", "CHANGED")


@dataclass(frozen=True)
class FieldSpec:
    """A searchable field: its view key, value kind, operators and display name in errors."""

    key: str
    kind: str  # project key id text status category user labels option priority version component date number parent sprint
    name: str
    ops: tuple[str, ...]
    sortable: bool = True


class Catalog(Protocol):
    """What the search service tells the evaluator about the site."""

    def field(self, name: str) -> FieldSpec | None: ...

    def resolve(self, spec: FieldSpec, text: str, quoted: bool) -> list[Any] | None:
        """Canonical values for a literal (None: no such value on the site)."""
        ...

    def function(self, spec: FieldSpec, name: str, args: list[str]) -> list[Any] | None:
        """Values of a list/user/sprint function (None: not one this field takes)."""
        ...

    def now(self) -> float: ...


# -- dates ------------------------------------------------------------------------------------

_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhmM]\s*)+)$")


def _period_seconds(body: str) -> float:
    total = 0.0
    for num, unit in re.findall(r"(\d+)\s*([wdhmM])", body):
        total += int(num) * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "M": 30 * 86400}[unit]
    return total


def parse_date(text: str, now: float) -> float | None:
    """A JQL date literal as epoch seconds (UTC), or None if it is none of Jira's formats."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    m = _PERIOD.match(text)
    if m:
        secs = _period_seconds(m.group(2))
        return now - secs if m.group(1) == "-" else now + secs
    if re.fullmatch(r"-?\d{6,}", text):
        return int(text) / 1000.0
    return None


def _shift(dt: datetime, arg: str | None, unit_default: str) -> datetime:
    if not arg:
        return dt
    m = re.fullmatch(r"\s*([-+]?)(\d+)([ywdhmM]?)\s*", arg)
    if not m:
        raise JqlError(f"The argument '{arg}' is not a valid increment.")
    n = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
    unit = m.group(3) or unit_default
    if unit == "M":
        month = dt.month - 1 + n
        year = dt.year + month // 12
        month = month % 12 + 1
        return dt.replace(year=year, month=month, day=min(dt.day, calendar.monthrange(year, month)[1]))
    if unit == "y":
        return dt.replace(year=dt.year + n)
    return dt + timedelta(seconds=n * {"w": 604800, "d": 86400, "h": 3600, "m": 60}[unit])


def date_function(name: str, args: list[str], now: float) -> float | None:
    """now(), startOf/endOf Day/Week/Month/Year (optionally shifted: startOfDay(-1))."""
    lname = name.lower()
    dt = datetime.fromtimestamp(now, UTC)
    arg = args[0] if args else None
    if lname == "now":
        return now
    day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if lname in ("startofday", "endofday"):
        start = _shift(day, arg, "d")
        return start.timestamp() if lname == "startofday" else start.timestamp() + 86399.999
    if lname in ("startofweek", "endofweek"):
        start = day - timedelta(days=(day.weekday() + 1) % 7)  # Sunday
        start = _shift(start, arg, "w")
        return start.timestamp() if lname == "startofweek" else start.timestamp() + 7 * 86400 - 0.001
    if lname in ("startofmonth", "endofmonth"):
        start = _shift(day.replace(day=1), arg, "M")
        if lname == "startofmonth":
            return start.timestamp()
        last = calendar.monthrange(start.year, start.month)[1]
        return start.replace(day=last).timestamp() + 86399.999
    if lname in ("startofyear", "endofyear"):
        start = _shift(day.replace(month=1, day=1), arg, "y")
        return (
            start.timestamp()
            if lname == "startofyear"
            else start.replace(year=start.year + 1).timestamp() - 0.001
        )
    return None


# -- text search ------------------------------------------------------------------------------


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.lower()) if w]


def text_matches(haystack: str, query: str) -> bool:
    """Jira-like word search: every term must occur (stemmed), `*` ends a prefix term,
    a quoted phrase must occur as consecutive words."""
    words = _words(haystack)
    stems = {_stem(w) for w in words}
    for phrase in re.findall(r'"([^"]*)"', query):
        pw = _words(phrase)
        if pw and not any(words[i : i + len(pw)] == pw for i in range(len(words) - len(pw) + 1)):
            return False
    rest = re.sub(r'"[^"]*"', " ", query)
    for raw in rest.split():
        term = raw.lower().strip()
        if term in ("and", "or", "not", "-", "+"):
            continue
        if term.endswith("*"):
            prefix = "".join(_words(term[:-1]))
            if prefix and not any(w.startswith(prefix) for w in words):
                return False
            continue
        for part in _words(term):
            if part not in words and _stem(part) not in stems:
                return False
    return True


def required_substrings(query: str) -> list[str]:
    """Lowercase strings that every text `text_matches(text, query)` accepts contains: a word
    of the query contains its stem, and so does any word stemming alike; phrase words and
    prefixes occur whole. A store can pre-filter `~` with them."""
    out = [w for phrase in re.findall(r'"([^"]*)"', query) for w in _words(phrase)]
    for raw in re.sub(r'"[^"]*"', " ", query).split():
        term = raw.lower().strip()
        if term in ("and", "or", "not", "-", "+"):
            continue
        if term.endswith("*"):
            prefix = "".join(_words(term[:-1]))
            if prefix:
                out.append(prefix)
            continue
        out.extend(_stem(part) for part in _words(term))
    return out


# -- compile and evaluate ---------------------------------------------------------------------

View = dict[str, Any]
Predicate_ = Callable[[View], bool]


def _ops_error(op: str, spec: FieldSpec) -> JqlError:
    shown = op.split(" IN")[0] if op.startswith("WAS") and op != "WAS" else op
    return JqlError(f"The operator '{shown}' is not supported by the '{spec.name}' field.")


class _Compiler:
    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog
        self.now = catalog.now()
        self.resolved: dict[int, Resolved] = {}

    def node(self, node: Node) -> Predicate_:
        if isinstance(node, And):
            parts = [self.node(c) for c in node.children]
            return lambda v: all(p(v) for p in parts)
        if isinstance(node, Or):
            parts = [self.node(c) for c in node.children]
            return lambda v: any(p(v) for p in parts)
        if isinstance(node, Not):
            inner = self.node(node.child)
            return lambda v: not inner(v)
        return self.clause(node)

    def spec(self, name: str) -> FieldSpec:
        spec = self.cat.field(name)
        if spec is None:
            raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
        return spec

    def values(self, spec: FieldSpec, operand: Operand) -> tuple[list[Any], bool]:
        """(canonical values, includes EMPTY)."""
        if isinstance(operand, Empty):
            return [], True
        if isinstance(operand, ListOperand):
            out: list[Any] = []
            empty = False
            for item in operand.items:
                vals, e = self.values(spec, item)
                out.extend(vals)
                empty = empty or e
            return out, empty
        if isinstance(operand, Func):
            return self.function(spec, operand), False
        vals = self.literal(spec, operand)
        if None in vals:  # `resolution = Unresolved`: the empty field, by name
            return [v for v in vals if v is not None], True
        return vals, False

    def function(self, spec: FieldSpec, func: Func) -> list[Any]:
        if spec.kind == "date":
            value = date_function(func.name, func.args, self.now)
            if value is not None:
                return [value]
        result = self.cat.function(spec, func.name, func.args)
        if result is None:
            known = {
                "now",
                "startofday",
                "endofday",
                "startofweek",
                "endofweek",
                "startofmonth",
                "endofmonth",
                "startofyear",
                "endofyear",
                "currentuser",
                "membersof",
                "opensprints",
                "closedsprints",
                "futuresprints",
            }
            if func.name.lower() in known:
                raise JqlError(f"Function '{func.name}' is not supported by the '{spec.name}' field.")
            raise JqlError(f"Unable to find JQL function '{func.name}({', '.join(func.args)})'.")
        return result

    def literal(self, spec: FieldSpec, value: Value) -> list[Any]:
        if spec.kind == "date":
            parsed = parse_date(value.text, self.now)
            if parsed is None:
                raise JqlError(
                    f"Date value '{value.text}' for field '{spec.name}' is invalid. {DATE_FORMATS_TEXT}"
                )
            return [parsed]
        if spec.kind in ("text", "labels"):
            return [value.text]
        if spec.kind == "number":
            try:
                return [float(value.text)]
            except ValueError:
                raise JqlError(
                    f"The value '{value.text}' does not exist for the field '{spec.name}'."
                ) from None
        resolved = self.cat.resolve(spec, value.text, value.quoted)
        if resolved is None:
            if spec.kind == "key":
                raise JqlError(f"An issue with key '{value.text}' does not exist for field '{spec.name}'.")
            raise JqlError(f"The value '{value.text}' does not exist for the field '{spec.name}'.")
        return resolved

    def clause(self, c: Clause) -> Predicate_:
        spec = self.spec(c.field)
        op = c.op
        base_op = "WAS" if op.startswith("WAS") else op
        if base_op not in spec.ops:
            raise _ops_error(op, spec)
        key = spec.key
        if op == "CHANGED":
            return self.changed(spec, c.predicates)
        if op.startswith("WAS"):
            return self.was(spec, c)
        assert c.operand is not None
        if op in ("IS", "IS NOT"):
            self.resolved[id(c)] = Resolved(spec, [], True)
            want_empty = op == "IS"
            return lambda v: (not _vals(v, key)) == want_empty
        if op in ("IN", "NOT IN") and not isinstance(c.operand, ListOperand | Func):
            raise _syntax(
                "Expecting '(' but got '" + getattr(c.operand, "text", "EMPTY") + "'.",
                getattr(c.operand, "pos", None),
            )
        if op in ("~", "!~"):
            if isinstance(c.operand, Empty):
                want = op == "~"
                return lambda v: (not _vals(v, key)) == want
            if not isinstance(c.operand, Value):
                raise JqlError(f"The operator '{op}' is not supported by the '{spec.name}' field.")
            needle = c.operand.text
            if not needle.strip().strip("*"):
                raise JqlError(f"The field '{spec.name}' does not support searching for an empty string.")
            positive = op == "~"
            return lambda v: text_matches(" ".join(str(x) for x in _vals(v, key)), needle) == positive
        targets, has_empty = self.values(spec, c.operand)
        self.resolved[id(c)] = Resolved(spec, targets, has_empty)
        if op in ("=", "IN"):
            tset = _hashable(targets)
            return lambda v: (not _vals(v, key) and has_empty) or any(_h(x) in tset for x in _vals(v, key))
        if op in ("!=", "NOT IN"):
            tset = _hashable(targets)
            if has_empty and not targets:
                return lambda v: bool(_vals(v, key))
            return lambda v: bool(_vals(v, key)) and not any(_h(x) in tset for x in _vals(v, key))
        # range operators
        if len(targets) != 1:
            raise JqlError(f"The operator '{op}' is not supported by the '{spec.name}' field.")
        target = targets[0]
        cmp = _CMP[op]
        if spec.kind == "key":
            return lambda v: any(x[0] == target[0] and cmp(x[1], target[1]) for x in _vals(v, key))
        return lambda v: any(cmp(x, target) for x in _vals(v, key))

    # -- history ---------------------------------------------------------------------------

    def _window(
        self, preds: list[Predicate], spec: FieldSpec
    ) -> tuple[list[Any], float, float, set[Any] | None, set[Any] | None, set[Any] | None]:
        after, before = float("-inf"), float("inf")
        by: set[Any] | None = None
        from_: set[Any] | None = None
        to: set[Any] | None = None
        user_spec = FieldSpec("by", "user", "by", EQ)
        date_spec = FieldSpec("date", "date", spec.name, EQ)
        for p in preds:
            if p.kind == "BY":
                by = set(self.values(user_spec, p.operand)[0])
            elif p.kind == "FROM":
                from_ = _hashable(self.values(spec, p.operand)[0])
            elif p.kind == "TO":
                to = _hashable(self.values(spec, p.operand)[0])
            elif p.kind == "AFTER":
                after = max(after, self.values(date_spec, p.operand)[0][0])
            elif p.kind == "BEFORE":
                before = min(before, self.values(date_spec, p.operand)[0][0])
            elif p.kind == "ON":
                day = self.values(date_spec, p.operand)[0][0]
                after, before = max(after, day), min(before, day + 86400)
            elif p.kind == "DURING":
                vals = self.values(date_spec, p.operand)[0]
                if len(vals) != 2:
                    raise JqlError("The 'DURING' predicate requires a list of two dates.")
                after, before = max(after, vals[0]), min(before, vals[1])
        return [], after, before, by, from_, to

    def changed(self, spec: FieldSpec, preds: list[Predicate]) -> Predicate_:
        _, after, before, by, from_, to = self._window(preds, spec)
        key = spec.key

        def check(v: View) -> bool:
            for change in v.get("_changes", {}).get(key, []):
                at, author, old, new = change
                if not after <= at <= before:
                    continue
                if by is not None and author not in by:
                    continue
                if from_ is not None and _h(old) not in from_:
                    continue
                if to is not None and _h(new) not in to:
                    continue
                return True
            return False

        return check

    def was(self, spec: FieldSpec, c: Clause) -> Predicate_:
        assert c.operand is not None
        if c.op.endswith("IN") and not isinstance(c.operand, ListOperand | Func):
            raise _syntax(
                "Expecting '(' but got '" + getattr(c.operand, "text", "EMPTY") + "'.",
                getattr(c.operand, "pos", None),
            )
        targets, has_empty = self.values(spec, c.operand)
        tset = _hashable(targets)
        _, after, before, by, _f, _t = self._window(c.predicates, spec)
        negated = "NOT" in c.op
        key = spec.key

        def was(v: View) -> bool:
            for value, start, end, author in _history(v, key):
                if end < after or start > before:
                    continue
                if by is not None and author not in by:
                    continue
                if (value is None and has_empty) or (value is not None and _h(value) in tset):
                    return True
            return False

        return (lambda v: not was(v)) if negated else was


def _history(v: View, key: str) -> list[tuple[Any, float, float, str | None]]:
    """(value, from, until, who set it) intervals of a field over the issue's life."""
    changes = v.get("_changes", {}).get(key, [])
    current = _vals(v, key)
    created = float(v.get("created") or 0.0)
    creator = v.get("_creator")  # the initial value was set by whoever created the issue
    if not changes:
        return [(x, created, float("inf"), creator) for x in current] or [
            (None, created, float("inf"), creator)
        ]
    out: list[tuple[Any, float, float, str | None]] = []
    start, setter = created, creator
    value = changes[0][2]
    for at, author, _old, new in changes:
        out.append((value, start, at, setter))
        value, start, setter = new, at, author
    out.append((value, start, float("inf"), setter))
    return out


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _h(x: Any) -> Any:
    if isinstance(x, str):
        return x.lower()
    if isinstance(x, list):
        return tuple(x)
    return x


def _hashable(values: Iterable[Any]) -> set[Any]:
    return {_h(x) for x in values}


def _vals(v: View, key: str) -> list[Any]:
    value = v.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Resolved:
    """What a clause compiled to: its field and canonical values (with EMPTY among them or not),
    so that a store can evaluate the same clause itself (see `service/pushdown.py`)."""

    spec: FieldSpec
    targets: list[Any]
    has_empty: bool


@dataclass
class Compiled:
    match: Predicate_
    sort_key: Callable[[View], tuple[Any, ...]]
    resolved: dict[int, Resolved] = dataclasses.field(default_factory=dict)
    """By `id(clause)`: the clauses compared by value (=, !=, IN, NOT IN, ranges, IS [NOT] EMPTY)."""
    order: list[tuple[str, bool]] = dataclasses.field(default_factory=list)
    """ORDER BY as (view key, descending)."""


_NONE_ASC = (1, 0)


def _sortable(x: Any) -> Any:
    if isinstance(x, str):
        return (0, x.lower())
    if isinstance(x, tuple):
        return (0, *x)
    return (0, x)


class _Desc:
    """Inverts comparison for one key of a mixed-direction sort."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.v < self.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v

    def __hash__(self) -> int:
        return hash(self.v)


def compile_query(query: Query, catalog: Catalog) -> Compiled:
    """Resolve fields and values (raising Jira's 400 messages) into a predicate and a sort key."""
    comp = _Compiler(catalog)
    match = comp.node(query.where) if query.where is not None else (lambda v: True)
    keys: list[tuple[str, bool]] = []
    for sk in query.order_by:
        spec = catalog.field(sk.field)
        if spec is None:
            raise JqlError(f"Field '{sk.field}' does not exist or you do not have permission to view it.")
        if not spec.sortable:
            raise JqlError(f"Field '{sk.field}' does not support sorting.")
        keys.append((spec.key if spec.key != "project" else "_project_key", sk.descending))

    def sort_key(v: View) -> tuple[Any, ...]:
        out: list[Any] = []
        for key, desc in keys:
            sort_key_name = "_sort_" + key if ("_sort_" + key) in v else key
            vals = _vals(v, sort_key_name)
            item = _sortable(min(vals)) if vals else _NONE_ASC  # empty sorts last ascending
            out.append(_Desc(item) if desc else item)
        out.append(_Desc(int(v["id"][0] if isinstance(v["id"], list) else v["id"])))
        return tuple(out)

    return Compiled(match, sort_key, comp.resolved, keys)
