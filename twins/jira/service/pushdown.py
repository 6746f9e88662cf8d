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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
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

from dtu.context import TwinContext
from twins.jira import constants, jql
from twins.jira.service.common import ISSUE, STATUS, USER

Expr = ColumnElement[bool]

PRIORITY_WEIGHT = {p["id"]: len(constants.PRIORITIES) - i for i, p in enumerate(constants.PRIORITIES)}
_PLAIN = {
    "project": ISSUE.c.project_id,
    "status": ISSUE.c.status_id,
    "assignee": ISSUE.c.assignee,
    "reporter": ISSUE.c.reporter,
    "creator": ISSUE.c.creator,
    "issuetype": ISSUE.c.issuetype_id,
    "resolution": ISSUE.c.resolution_id,
    "parent": ISSUE.c.parent_id,
}
_TIMES = {"created": ISSUE.c.created, "updated": ISSUE.c.updated, "resolutiondate": ISSUE.c.resolutiondate}
_LISTS = {
    "labels": ISSUE.c.labels,
    "component": ISSUE.c.components,
    "fixVersion": ISSUE.c.fix_versions,
    "affectedVersion": ISSUE.c.versions,
}
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
MAX_CASE = 1000  # more users/statuses than this: sort in Python rather than in one huge CASE


@dataclass
class Plan:
    where: Expr
    exact: bool
    order: list[ColumnElement[Any]] | None


class _Translator:
    def __init__(self, ctx: TwinContext, compiled: jql.Compiled, project_ids: Sequence[str]) -> None:
        self.ctx = ctx
        self.compiled = compiled
        self.dialect = ctx.conn.dialect.name
        self.project_ids = list(project_ids)
        self._statuses: list[Any] | None = None

    def statuses(self) -> list[Any]:
        if self._statuses is None:
            self._statuses = list(
                self.ctx.conn.execute(
                    select(STATUS.c.id, STATUS.c.name, STATUS.c.category_id).where(
                        STATUS.c.tenant_id == self.ctx.tenant
                    )
                ).all()
            )
        return self._statuses

    # -- WHERE ----------------------------------------------------------------------------

    def node(self, node: jql.Node) -> tuple[Expr | None, bool]:
        """(SQL filter or None for no restriction, whether it decides the node exactly)."""
        if isinstance(node, jql.And):
            parts = [self.node(c) for c in node.children]
            exprs = [e for e, _ in parts if e is not None]
            return (and_(*exprs) if exprs else None), all(x for _, x in parts)
        if isinstance(node, jql.Or):
            parts = [self.node(c) for c in node.children]
            if any(e is None for e, _ in parts):
                return None, False
            return or_(*[e for e, _ in parts if e is not None]), all(x for _, x in parts)
        if isinstance(node, jql.Not):
            inner, exact = self.node(node.child)
            if inner is None or not exact:
                return None, False
            return not_(inner), True
        expr = self.clause(node)
        return expr, expr is not None and id(node) in self.compiled.resolved

    def clause(self, c: jql.Clause) -> Expr | None:
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

    def text(self, c: jql.Clause) -> Expr | None:
        """`summary ~ words` as LIKE pre-filters (a superset: stems and phrases are the
        evaluator's). Only ASCII needles: SQLite folds ASCII case alone."""
        spec = self.ctx_field(c.field)
        if spec is None or spec.key != "summary" or c.op != "~" or not isinstance(c.operand, jql.Value):
            return None
        needles = [n for n in jql.required_substrings(c.operand.text) if n.isascii()]
        if not needles:
            return None
        # SQLite's LIKE folds ASCII case itself; elsewhere lower() LIKE beats ILIKE
        col = ISSUE.c.summary if self.dialect == "sqlite" else func.lower(ISSUE.c.summary)
        return and_(*[col.like("%" + _escape(n) + "%", escape="\\") for n in needles])

    def ctx_field(self, name: str) -> jql.FieldSpec | None:
        from twins.jira.service.search import SYSTEM_SPECS

        return SYSTEM_SPECS.get(name.lower().strip())

    @staticmethod
    def _shape(op: str, present: Expr, member: Expr, has_empty: bool, targets: list[Any]) -> Expr | None:
        """The evaluator's `=`/`IN`/`!=`/`NOT IN`/`IS` for a field that is `present` (non-empty)
        and has a value among the targets (`member`)."""
        if op == "IS":
            return not_(present)
        if op == "IS NOT":
            return present
        if op in ("=", "IN"):
            hit = and_(present, member) if targets else false()
            return or_(hit, not_(present)) if has_empty else hit
        if op in ("!=", "NOT IN"):
            if has_empty and not targets:
                return present
            return and_(present, not_(member)) if targets else present
        return None

    def single(self, op: str, col: Any, targets: list[Any], has_empty: bool) -> Expr | None:
        present = col.is_not(None)
        if op in _CMP:
            if len(targets) != 1 or isinstance(targets[0], str):
                return None  # string ranges compare case-folded in the evaluator
            return and_(present, _CMP[op](col, targets[0]))
        if any(not isinstance(t, str | int | float) for t in targets):
            return None
        return self._shape(op, present, col.in_(targets), has_empty, targets)

    def priority(self, op: str, weights: list[Any], has_empty: bool) -> Expr | None:
        col = ISSUE.c.priority_id
        present = and_(col.is_not(None), col.in_(list(PRIORITY_WEIGHT)))
        if op in _CMP:
            if len(weights) != 1:
                return None
            ids = [pid for pid, w in PRIORITY_WEIGHT.items() if _CMP[op](w, weights[0])]
            return and_(present, col.in_(ids))
        ids = [pid for pid, w in PRIORITY_WEIGHT.items() if w in weights]
        return self._shape(op, present, col.in_(ids), has_empty, weights)

    def category(self, op: str, cats: list[Any], has_empty: bool) -> Expr | None:
        rows = self.statuses()
        col = ISSUE.c.status_id
        present = and_(col.is_not(None), col.in_([r.id for r in rows]))
        ids = [r.id for r in rows if r.category_id in cats]
        return self._shape(op, present, col.in_(ids), has_empty, cats)

    def key(self, op: str, targets: list[Any], has_empty: bool) -> Expr | None:
        if op in _CMP:
            if len(targets) != 1:
                return None
            pid, number = targets[0]
            return and_(ISSUE.c.project_id == pid, _CMP[op](ISSUE.c.number, number))
        member = or_(false(), *[and_(ISSUE.c.project_id == p, ISSUE.c.number == n) for p, n in targets])
        return self._shape(op, true(), member, has_empty, targets)

    def listed(self, op: str, col: Any, targets: list[Any], has_empty: bool, *, lower: bool) -> Expr | None:
        if op in _CMP or not all(isinstance(t, str) for t in targets):
            return None
        wanted = [t.lower() for t in targets] if lower else list(targets)
        if self.dialect == "postgresql":
            doc = case((func.json_typeof(col) == "array", col), else_=literal_column("'[]'::json"))
            elements = func.json_array_elements_text(doc).table_valued("value").alias("e")
        elif self.dialect == "sqlite":
            doc = case((func.json_type(col) == "array", col), else_=literal_column("'[]'"))
            elements = func.json_each(doc).table_valued("value").alias("e")
        else:
            return None
        value = elements.c.value
        item = func.lower(value) if lower else value
        present = func.json_array_length(doc) > 0
        member = exists(select(1).select_from(elements).where(item.in_(wanted)))
        return self._shape(op, present, member, has_empty, targets)

    # -- ORDER BY -------------------------------------------------------------------------

    def order(self) -> list[ColumnElement[Any]] | None:
        out: list[ColumnElement[Any]] = []
        for key, desc in self.compiled.order:
            exprs = self.sort_exprs(key)
            if exprs is None:
                return None
            for e in exprs:
                out.append(e.desc().nulls_first() if desc else e.asc().nulls_last())
        out.append(cast(ISSUE.c.id, BigInteger).desc())  # the evaluator's final tie-break
        return out

    def _ordinal(self, col: Any, names: dict[str, str | None], *, fold: bool = True) -> Any:
        """A CASE giving each value the rank of its (case-folded) sort name; unknown -> NULL."""
        known = {k: v for k, v in names.items() if v is not None}
        ranks = {n: i for i, n in enumerate(sorted({(v.lower() if fold else v) for v in known.values()}))}
        whens = {k: ranks[v.lower() if fold else v] for k, v in known.items()}
        return case(whens, value=col, else_=None) if whens else null()

    def sort_exprs(self, key: str) -> list[Any] | None:
        projects = {p.id: p.key for p in self._projects()}
        if key == "_project_key":
            return [self._ordinal(ISSUE.c.project_id, dict(projects))]
        if key == "key":
            return [self._ordinal(ISSUE.c.project_id, dict(projects), fold=False), ISSUE.c.number]
        if key == "id":
            return [cast(ISSUE.c.id, BigInteger)]
        if key in _TIMES:
            return [_TIMES[key]]
        if key == "priority":
            return [case(PRIORITY_WEIGHT, value=ISSUE.c.priority_id, else_=None)]
        if key == "status":
            rows = self.statuses()
            if len(rows) > MAX_CASE:
                return None
            # a missing status sorts as "" (first), as the evaluator's `_sort_status` does
            names = {r.id: r.name for r in rows}
            ranks = {n: i for i, n in enumerate(sorted({n.lower() for n in names.values()}))}
            return [case({k: ranks[v.lower()] for k, v in names.items()}, value=ISSUE.c.status_id, else_=-1)]
        if key in ("assignee", "reporter"):
            users = self.ctx.conn.execute(
                select(USER.c.account_id, USER.c.display_name).where(USER.c.tenant_id == self.ctx.tenant)
            ).all()
            if len(users) > MAX_CASE:
                return None
            return [self._ordinal(_PLAIN[key], {u.account_id: u.display_name for u in users})]
        if key == "rank":
            body = func.rtrim(ISSUE.c.rank, ":")
            return [collate(body, "C") if self.dialect == "postgresql" else body]
        return None

    def _projects(self) -> list[Any]:
        from twins.jira.service.common import PROJECT

        return list(
            self.ctx.conn.execute(
                select(PROJECT.c.id, PROJECT.c.key).where(
                    PROJECT.c.tenant_id == self.ctx.tenant, PROJECT.c.id.in_(self.project_ids)
                )
            ).all()
        )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def plan(ctx: TwinContext, query: jql.Query, compiled: jql.Compiled, project_ids: Sequence[str]) -> Plan:
    """The SQL side of a compiled query (see the module docstring)."""
    t = _Translator(ctx, compiled, project_ids)
    if query.where is None:
        where: Expr | None = None
        exact = True
    else:
        where, exact = t.node(query.where)
    return Plan(where if where is not None else true(), exact, t.order())
