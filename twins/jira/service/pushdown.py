"""JQL in SQL: the common clauses and sorts of a compiled query, evaluated by the database.

`twins.jira.jql` stays the one meaning of JQL: it parses, resolves every value (Jira's 400s
come from there) and evaluates views in Python. This module turns what it resolved into a
WHERE clause and an ORDER BY over `jira_issue`, so that a search over 100,000 issues reads the
page it answers instead of building a view per issue:

- project, key/issuekey/id, status, statusCategory, assignee, reporter, creator, issuetype,
  priority (and its ranges), resolution, parent, created/updated/resolved ranges, labels,
  component and fixVersion/affectedVersion are evaluated in SQL with the evaluator's
  semantics (`!=`/`NOT IN` never match an empty field; multi-valued fields match on any value);
- the rest (text `~`, WAS/CHANGED, sprints, due dates, custom fields) stays in Python. An AND
  keeps its SQL parts as a pre-filter; an OR or NOT with a Python part is left to Python whole.
  A plan is `exact` when SQL decides the whole WHERE, and `order` is set when SQL can also sort
  (key, id, project, status, assignee, reporter, priority, created, updated, resolved, rank).

Every expression is two-valued (no SQL NULL leaks out of a comparison), so NOT means what the
evaluator's `not` means.

Why a plan is a *shape* and a list of values: building the SQLAlchemy expression of a search
and generating its cache key cost more than running it (bench/PROFILE.md, Jira). A plan is
first described as nested tuples (`Shape`) whose leaves name the positions of their values in
`Plan.params`; the statement of a shape is built once per dialect, with a bind parameter per
value (`p0`, `p1`...), compiled once (`dtu.sql.Prepared`) and reused by every search of that
shape, whatever its values, tenant or site.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    collate,
    exists,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql import type_api
from sqlalchemy.sql.elements import BindParameter

from dtu.context import TwinContext
from dtu.sql import Prepared
from twins.jira import constants, jql
from twins.jira.service import common
from twins.jira.service.common import ISSUE, STATUS

Expr = ColumnElement[bool]
Shape = tuple[Any, ...]

PRIORITY_WEIGHT = {p["id"]: len(constants.PRIORITIES) - i for i, p in enumerate(constants.PRIORITIES)}
_PLAIN = {
    "project": "project_id",
    "status": "status_id",
    "assignee": "assignee",
    "reporter": "reporter",
    "creator": "creator",
    "issuetype": "issuetype_id",
    "resolution": "resolution_id",
    "parent": "parent_id",
}
_TIMES = {"created": "created", "updated": "updated", "resolutiondate": "resolutiondate"}
_LISTS = {
    "labels": "labels",
    "component": "components",
    "fixVersion": "fix_versions",
    "affectedVersion": "versions",
}
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
MAX_CASE = 1000  # more users/statuses than this: sort in Python rather than in one huge CASE
_FALSE: Shape = ("false",)


@dataclass
class Plan:
    where: Shape | None  # None: no restriction
    exact: bool
    order: Shape | None  # None: SQL cannot sort this query
    params: list[Any]


class _Translator:
    def __init__(self, ctx: TwinContext, compiled: jql.Compiled, project_ids: Sequence[str]) -> None:
        self.ctx = ctx
        self.compiled = compiled
        self.dialect = ctx.conn.dialect.name
        self.project_ids = list(project_ids)
        self.params: list[Any] = []

    def take(self, values: Sequence[Any]) -> tuple[int, ...]:
        """The positions of `values` in the plan's parameters."""
        start = len(self.params)
        self.params.extend(values)
        return tuple(range(start, len(self.params)))

    def statuses(self) -> list[Any]:
        return list(common._catalogue(self.ctx, STATUS).values())

    # -- WHERE ----------------------------------------------------------------------------

    def node(self, node: jql.Node) -> tuple[Shape | None, bool]:
        """(SQL filter or None for no restriction, whether it decides the node exactly)."""
        if isinstance(node, jql.And):
            parts = [self.node(c) for c in node.children]
            exprs = tuple(e for e, _ in parts if e is not None)
            return (("and", exprs) if exprs else None), all(x for _, x in parts)
        if isinstance(node, jql.Or):
            mark = len(self.params)
            parts = [self.node(c) for c in node.children]
            if any(e is None for e, _ in parts):
                del self.params[mark:]  # nothing of it goes to SQL
                return None, False
            return ("or", tuple(e for e, _ in parts if e is not None)), all(x for _, x in parts)
        if isinstance(node, jql.Not):
            mark = len(self.params)
            inner, exact = self.node(node.child)
            if inner is None or not exact:
                del self.params[mark:]
                return None, False
            return ("not", inner), True
        mark = len(self.params)
        expr = self.clause(node)
        if expr is None:
            del self.params[mark:]  # a clause left to Python takes no values
        return expr, expr is not None and id(node) in self.compiled.resolved

    def clause(self, c: jql.Clause) -> Shape | None:
        r = self.compiled.resolved.get(id(c))
        if r is None:
            return self.text(c)  # ~, WAS, CHANGED: the evaluator's (a pre-filter for summary ~)
        key = r.spec.key
        if key in _PLAIN:
            return self.single(c.op, _PLAIN[key], r.targets, r.has_empty)
        if key in _TIMES:
            return self.single(c.op, _TIMES[key], r.targets, r.has_empty)
        if key == "priority":
            return self.priority(c.op, r.targets, r.has_empty)
        if key == "statusCategory":
            return self.category(c.op, r.targets, r.has_empty)
        if key == "key":
            return self.key(c.op, r.targets, r.has_empty)
        if key in _LISTS:
            return self.listed(c.op, _LISTS[key], r.targets, r.has_empty, lower=key == "labels")
        return None

    def text(self, c: jql.Clause) -> Shape | None:
        """`summary ~ words` as substring pre-filters (a superset: stems and phrases are the
        evaluator's). Only ASCII needles: SQLite folds ASCII case alone."""
        spec = self.ctx_field(c.field)
        if spec is None or spec.key != "summary" or c.op != "~" or not isinstance(c.operand, jql.Value):
            return None
        needles = [n for n in jql.required_substrings(c.operand.text) if n.isascii()]
        if not needles:
            return None
        if self.dialect == "sqlite":
            return ("contains", self.take(needles))
        return ("like", self.take(["%" + _escape(n) + "%" for n in needles]))

    def ctx_field(self, name: str) -> jql.FieldSpec | None:
        return _system_specs().get(name.lower().strip())

    @staticmethod
    def _shape(op: str, present: Shape, member: Shape, has_empty: bool, targets: list[Any]) -> Shape | None:
        """The evaluator's `=`/`IN`/`!=`/`NOT IN`/`IS` for a field that is `present` (non-empty)
        and has a value among the targets (`member`)."""
        if op == "IS":
            return ("not", present)
        if op == "IS NOT":
            return present
        if op in ("=", "IN"):
            hit = ("and", (present, member)) if targets else _FALSE
            return ("or", (hit, ("not", present))) if has_empty else hit
        if op in ("!=", "NOT IN"):
            if has_empty and not targets:
                return present
            return ("and", (present, ("not", member))) if targets else present
        return None

    def single(self, op: str, col: str, targets: list[Any], has_empty: bool) -> Shape | None:
        present = ("notnull", col)
        if op in _CMP:
            if len(targets) != 1 or isinstance(targets[0], str):
                return None  # string ranges compare case-folded in the evaluator
            return ("and", (present, ("cmp", op, col, self.take(targets))))
        if any(not isinstance(t, str | int | float) for t in targets):
            return None
        if op not in ("IS", "IS NOT", "=", "IN", "!=", "NOT IN"):
            return None
        return self._shape(op, present, ("in", col, self.take(targets)), has_empty, targets)

    def priority(self, op: str, weights: list[Any], has_empty: bool) -> Shape | None:
        present = (
            "and",
            (("notnull", "priority_id"), ("in", "priority_id", self.take(list(PRIORITY_WEIGHT)))),
        )
        if op in _CMP:
            if len(weights) != 1:
                return None
            ids = [pid for pid, w in PRIORITY_WEIGHT.items() if _CMP[op](w, weights[0])]
            return ("and", (present, ("in", "priority_id", self.take(ids))))
        if op not in ("IS", "IS NOT", "=", "IN", "!=", "NOT IN"):
            return None
        ids = [pid for pid, w in PRIORITY_WEIGHT.items() if w in weights]
        return self._shape(op, present, ("in", "priority_id", self.take(ids)), has_empty, weights)

    def category(self, op: str, cats: list[Any], has_empty: bool) -> Shape | None:
        if op not in ("IS", "IS NOT", "=", "IN", "!=", "NOT IN"):
            return None
        rows = self.statuses()
        present = ("and", (("notnull", "status_id"), ("in", "status_id", self.take([r.id for r in rows]))))
        ids = [r.id for r in rows if r.category_id in cats]
        return self._shape(op, present, ("in", "status_id", self.take(ids)), has_empty, cats)

    def key(self, op: str, targets: list[Any], has_empty: bool) -> Shape | None:
        if op in _CMP:
            if len(targets) != 1:
                return None
            pid, number = targets[0]
            return ("keycmp", op, self.take([pid, number]))
        if op not in ("IS", "IS NOT", "=", "IN", "!=", "NOT IN"):
            return None
        member = ("keyin", tuple(self.take([p, n]) for p, n in targets))
        return self._shape(op, ("true",), member, has_empty, targets)

    def listed(self, op: str, col: str, targets: list[Any], has_empty: bool, *, lower: bool) -> Shape | None:
        if op in _CMP or not all(isinstance(t, str) for t in targets):
            return None
        if self.dialect not in ("postgresql", "sqlite"):
            return None
        if op not in ("IS", "IS NOT", "=", "IN", "!=", "NOT IN"):
            return None
        wanted = [t.lower() for t in targets] if lower else list(targets)
        present = ("listed", col)
        member = ("member", col, lower, self.take(wanted))
        return self._shape(op, present, member, has_empty, targets)

    # -- ORDER BY -------------------------------------------------------------------------

    def order(self) -> Shape | None:
        out: list[Shape] = []
        for key, desc in self.compiled.order:
            exprs = self.sort_exprs(key)
            if exprs is None:
                return None
            for e in exprs:
                out.append(("desc" if desc else "asc", e))
        return tuple(out)

    def _ordinal(self, col: str, names: dict[str, str | None], *, fold: bool = True) -> Shape:
        """A CASE giving each value the rank of its (case-folded) sort name; unknown -> NULL."""
        known = {k: v for k, v in names.items() if v is not None}
        ranks = {n: i for i, n in enumerate(sorted({(v.lower() if fold else v) for v in known.values()}))}
        whens = [(k, ranks[v.lower() if fold else v]) for k, v in known.items()]
        if not whens:
            return ("null",)
        return ("case", col, tuple((self.take([k])[0], self.take([r])[0]) for k, r in whens), None)

    def sort_exprs(self, key: str) -> list[Shape] | None:
        projects = {p.id: p.key for p in self._projects()}
        if key == "_project_key":
            return [self._ordinal("project_id", dict(projects))]
        if key == "key":
            return [self._ordinal("project_id", dict(projects), fold=False), ("col", "number")]
        if key == "id":
            return [("id",)]
        if key in _TIMES:
            return [("col", _TIMES[key])]
        if key == "priority":
            whens = tuple((self.take([k])[0], self.take([w])[0]) for k, w in PRIORITY_WEIGHT.items())
            return [("case", "priority_id", whens, None)]
        if key == "status":
            rows = self.statuses()
            if len(rows) > MAX_CASE:
                return None
            # a missing status sorts as "" (first), as the evaluator's `_sort_status` does
            names = {r.id: r.name for r in rows}
            ranks = {n: i for i, n in enumerate(sorted({n.lower() for n in names.values()}))}
            whens = tuple((self.take([k])[0], self.take([ranks[v.lower()]])[0]) for k, v in names.items())
            return [("case", "status_id", whens, self.take([-1])[0])]
        if key in ("assignee", "reporter"):
            users = common.user_names(self.ctx)
            if len(users) > MAX_CASE:
                return None
            return [self._ordinal(_PLAIN[key], dict(users))]
        if key == "rank":
            return [("rank",)]
        return None

    def _projects(self) -> list[Any]:
        wanted = set(self.project_ids)
        return [p for p in common.project_rows(self.ctx) if p.id in wanted]


def _system_specs() -> dict[str, jql.FieldSpec]:
    """`search.SYSTEM_SPECS` (search imports this module: looked up once it is loaded)."""
    specs = _SPECS.get("system")
    if specs is None:
        from twins.jira.service.search import SYSTEM_SPECS

        specs = _SPECS["system"] = SYSTEM_SPECS
    return specs


_SPECS: dict[str, dict[str, jql.FieldSpec]] = {}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def plan(ctx: TwinContext, query: jql.Query, compiled: jql.Compiled, project_ids: Sequence[str]) -> Plan:
    """The SQL side of a compiled query (see the module docstring)."""
    t = _Translator(ctx, compiled, project_ids)
    if query.where is None:
        where: Shape | None = None
        exact = True
    else:
        where, exact = t.node(query.where)
    order = t.order() if exact else None  # only an exact plan is sorted by the database
    return Plan(where, exact, order, t.params)


# -- statements of a shape --------------------------------------------------------------------


class _Builder:
    """A shape as a SQLAlchemy expression: the value at position i is bind parameter `p<i>`,
    typed as SQLAlchemy types the literal it stands for (the column's type when compared with
    a column, else the type of the value), so that the SQL is the same, casts included."""

    def __init__(self, dialect: str, samples: Sequence[Any]) -> None:
        self.dialect = dialect
        self.samples = samples

    def p(self, i: int, against: Any = None) -> BindParameter[Any]:
        type_ = getattr(against, "type", None)
        if type_ is None or type_._isnull:
            type_ = type_api._resolve_value_to_type(self.samples[i])
        return bindparam(f"p{i}", type_=type_)

    @staticmethod
    def _in(col: Any, params: list[BindParameter[Any]]) -> Any:
        """`col IN (...)`; an empty set is false (SQLAlchemy's empty IN, which is never NULL
        either, needs an expanding parameter: a compiled statement takes none)."""
        return col.in_(params) if params else false()

    def expr(self, s: Shape) -> Any:
        kind = s[0]
        if kind == "and":
            return and_(*[self.expr(c) for c in s[1]])
        if kind == "or":
            return or_(*[self.expr(c) for c in s[1]])
        if kind == "not":
            return not_(self.expr(s[1]))
        if kind == "true":
            return true()
        if kind == "false":
            return false()
        if kind == "notnull":
            return ISSUE.c[s[1]].is_not(None)
        if kind == "in":
            col = ISSUE.c[s[1]]
            return self._in(col, [self.p(i, col) for i in s[2]])
        if kind == "cmp":
            col = ISSUE.c[s[2]]
            return _CMP[s[1]](col, self.p(s[3][0], col))
        if kind == "contains":
            # SQLite: `instr(lower(summary), needle)`, not `summary LIKE ?`: a LIKE whose pattern
            # is a parameter makes SQLite prepare the statement again at every run (~90 us here,
            # 20x the search itself). The same rows pass: LIKE folds ASCII case alone, and so
            # does lower(); the needles are ASCII and lower case (`jql.required_substrings`).
            folded = func.lower(ISSUE.c.summary)
            return and_(*[func.instr(folded, self.p(i, folded)) > 0 for i in s[1]])
        if kind == "like":  # PostgreSQL: lower() LIKE beats ILIKE
            text: Any = func.lower(ISSUE.c.summary)
            return and_(*[text.like(self.p(i, text), escape="\\") for i in s[1]])
        if kind == "keycmp":
            pid, number = s[2]
            return and_(
                ISSUE.c.project_id == self.p(pid, ISSUE.c.project_id),
                _CMP[s[1]](ISSUE.c.number, self.p(number, ISSUE.c.number)),
            )
        if kind == "keyin":
            return or_(
                false(),
                *[
                    and_(
                        ISSUE.c.project_id == self.p(pid, ISSUE.c.project_id),
                        ISSUE.c.number == self.p(number, ISSUE.c.number),
                    )
                    for pid, number in s[1]
                ],
            )
        if kind == "listed":
            return func.json_array_length(self._doc(s[1])) > 0
        if kind == "member":
            _, col, lower, positions = s
            elements = self._elements(col)
            value = elements.c.value
            item = func.lower(value) if lower else value
            return exists(
                select(1).select_from(elements).where(self._in(item, [self.p(i, item) for i in positions]))
            )
        raise ValueError(f"unknown shape {kind}")

    def _doc(self, col: str) -> Any:
        c = ISSUE.c[col]
        if self.dialect == "postgresql":
            return case((func.json_typeof(c) == "array", c), else_=literal_column("'[]'::json"))
        return case((func.json_type(c) == "array", c), else_=literal_column("'[]'"))

    def _elements(self, col: str) -> Any:
        doc = self._doc(col)
        if self.dialect == "postgresql":
            return func.json_array_elements_text(doc).table_valued("value").alias("e")
        return func.json_each(doc).table_valued("value").alias("e")

    def sort(self, s: Shape) -> Any:
        kind = s[0]
        if kind == "null":
            return null()
        if kind == "col":
            return ISSUE.c[s[1]]
        if kind == "id":
            return cast(ISSUE.c.id, BigInteger)
        if kind == "rank":
            body = func.rtrim(ISSUE.c.rank, ":")
            return collate(body, "C") if self.dialect == "postgresql" else body
        if kind == "case":
            _, col, whens, else_ = s
            column = ISSUE.c[col]
            return case(
                *[(self.p(k), self.p(r)) for k, r in whens],
                value=column,
                else_=None if else_ is None else self.p(else_),
            )
        raise ValueError(f"unknown sort shape {kind}")

    def order_by(self, order: Shape) -> list[Any]:
        out = [
            self.sort(e).desc().nulls_first() if direction == "desc" else self.sort(e).asc().nulls_last()
            for direction, e in order
        ]
        out.append(cast(ISSUE.c.id, BigInteger).desc())  # the evaluator's final tie-break
        return out


_STATEMENTS: dict[tuple[Any, ...], Prepared] = {}
MAX_STATEMENTS = 2_000


def _where(b: _Builder, where: Shape | None, cutoff: bool, n_projects: int) -> list[Any]:
    """What every search starts from (the tenant's issues in browsable projects that the index
    has seen, see `search._visible`), and the plan's filter."""
    cond: list[Any] = [
        ISSUE.c.tenant_id == bindparam("tenant", type_=ISSUE.c.tenant_id.type),
        b._in(
            ISSUE.c.project_id,
            [bindparam(f"proj{i}", type_=ISSUE.c.project_id.type) for i in range(n_projects)],
        ),
    ]
    if cutoff:
        cond.append(ISSUE.c.written_at <= bindparam("cutoff", type_=ISSUE.c.written_at.type))
    cond.append(b.expr(where) if where is not None else true())
    return cond


def statement(
    dialect: str,
    kind: str,
    plan_: Plan,
    *,
    n_projects: int,
    cutoff: bool,
    count: bool = False,
    limit: bool = False,
    extra: Shape | None = None,
) -> Prepared:
    """The compiled statement of a search of this shape:

    - `rows`: every visible issue row the plan's filter keeps (the evaluator decides the rest);
    - `page` / `page_rows`: a sorted page of ids (or of rows), with the window count of every
      match as `total` when `count`, offset `:offset`, and `:limit` when `limit`;
    - `count`: how many visible issues the plan's filter keeps.
    """
    types = _types(plan_)
    key = (dialect, kind, plan_.where, plan_.order, n_projects, cutoff, count, limit, extra, types)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    b = _Builder(dialect, plan_.params)
    cond = _where(b, plan_.where, cutoff, n_projects)
    if kind == "rows":
        stmt: Any = select(ISSUE).where(*cond)
    elif kind == "count":
        stmt = select(func.count()).select_from(ISSUE).where(*cond)
    else:
        assert plan_.order is not None
        columns: list[Any] = [*ISSUE.c] if kind == "page_rows" else [ISSUE.c.id]
        if count:
            columns.append(func.count().over().label("total"))
        stmt = (
            select(*columns)
            .where(*cond)
            .order_by(*b.order_by(plan_.order))
            .offset(bindparam("offset", type_=Integer()))
        )
        if limit:
            stmt = stmt.limit(bindparam("limit", type_=Integer()))
    found = Prepared(stmt)
    if len(_STATEMENTS) >= MAX_STATEMENTS:
        _STATEMENTS.clear()
    _STATEMENTS[key] = found
    return found


def _types(plan_: Plan) -> tuple[str, ...]:
    """The Python types of the values: a shape's statement is shared by plans whose values
    have the same types (a comparison with a number and with a string bind alike, but keep
    them apart all the same)."""
    return tuple(type(v).__name__ for v in plan_.params)


def params(plan_: Plan, tenant: str, project_ids: Sequence[str], cutoff: float | None) -> dict[str, Any]:
    """The values of a plan's statement."""
    out: dict[str, Any] = {f"p{i}": v for i, v in enumerate(plan_.params)}
    out["tenant"] = tenant
    for i, pid in enumerate(project_ids):
        out[f"proj{i}"] = pid
    if cutoff is not None:
        out["cutoff"] = cutoff
    return out
