"""`Prepared`: a Core statement compiled once per dialect and run on the driver's cursor.

SQLAlchemy Core costs 20-60 us of Python per statement even when its compiled cache hits
(execution context, result metadata, row processing), against 2-5 us inside the sqlite3
driver (bench/PROFILE.md). The few statements every request runs go through this instead:
the same SQL text and the same type conversions (SQLAlchemy's own bind and result processors
for the dialect), executed on the DBAPI connection of the open transaction, so a unit of work
mixes them freely with ordinary `conn.execute` calls.

    _PAGE = Prepared(select(MSG).where(MSG.c.tenant_id == bindparam("tenant")).limit(bindparam("n")))
    rows = _PAGE.all(conn, {"tenant": t, "n": 21})   # named tuples: row.ts, row.text...

Limits, checked when the statement is first compiled: no expanding (`IN`) parameters, and an
insert names every column it writes (column defaults are not applied).
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, sqltypes
from sqlalchemy.sql.dml import UpdateBase

WriteHook = Callable[[Connection, Any], None]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[tuple[str, Callable[[Any], Any] | None], ...] | None  # (name, processor) in order
    defaults: dict[str, Any]  # literal values the statement carries
    bind: dict[str, Callable[[Any], Any]]
    row: Any  # the namedtuple class of a result row
    types: tuple[Any, ...]  # the result columns' SQLAlchemy types
    convert: list[tuple[tuple[int, Callable[[Any], Any]], ...]]  # (index, processor), set on first rows


def _result_processor(type_: Any, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
    """SQLAlchemy's processor for the column, but JSON text on SQLite decoded in one call (its
    processor is three nested ones) with JSON `null`, most JSON columns of most rows, first."""
    proc: Callable[[Any], Any] | None = type_._cached_result_processor(dialect, coltype)
    if proc is None or not isinstance(type_, sqltypes.JSON) or dialect.name != "sqlite":
        return proc
    loads: Callable[[Any], Any] = getattr(dialect, "_json_deserializer", None) or json.loads

    def json_text(value: Any) -> Any:
        return None if value == "null" else loads(value)

    return json_text


class Prepared:
    """One statement, compiled per dialect on first use; safe to share between threads."""

    __slots__ = ("_by_dialect", "_columns", "stmt", "table")

    def __init__(self, stmt: ClauseElement, *, columns: Sequence[str] | None = None) -> None:
        """`columns`: the columns an insert writes."""
        self.stmt = stmt
        self.table = stmt.table if isinstance(stmt, UpdateBase) else None
        self._by_dialect: dict[Dialect, _Compiled] = {}  # one entry per engine
        self._columns = columns

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect)
        if found is not None:
            return found
        compiled: Any = self.stmt.compile(dialect=dialect, column_keys=self._columns)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("Prepared statements take no expanding or literal-execute parameters")
        names = compiled.bind_names
        defaults: dict[str, Any] = {}
        bind: dict[str, Callable[[Any], Any]] = {}
        for param, name in names.items():
            if not param.required and param.value is not None:
                defaults[name] = param.value
            proc = param.type._cached_bind_processor(dialect)
            if proc is not None:
                bind[name] = proc
        columns = compiled._result_columns or []
        row = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None  # type: ignore[misc]
        found = _Compiled(
            sql=compiled.string,
            positional=tuple((n, bind.get(n)) for n in compiled.positiontup) if dialect.positional else None,
            defaults=defaults,
            bind=bind,
            types=tuple(c.type for c in columns),
            row=row,
            convert=[],
        )
        self._by_dialect[dialect] = found
        return found

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        c = self._compile(conn.dialect)
        values = {**c.defaults, **params} if c.defaults else params
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if c.positional is not None:
            args: Any = [v if p is None else p(v) for name, p in c.positional for v in (values[name],)]
        else:
            args = dict(values)
            for name, proc in c.bind.items():
                if name in args:
                    args[name] = proc(args[name])
        try:
            cursor.execute(c.sql, args)
        except Exception as exc:
            cursor.close()
            dbapi = conn.dialect.loaded_dbapi
            if isinstance(exc, dbapi.Error):
                # SQLAlchemy's own wrapping (IntegrityError...), as `conn.execute` raises it:
                # callers catch those, not the driver's classes.
                raise DBAPIError.instance(c.sql, args, exc, dbapi.Error, dialect=conn.dialect) from exc
            raise
        if self.table is not None:
            hook: WriteHook | None = conn.info.get("dtu.on_write")
            if hook is not None:
                hook(conn, self.stmt)
        return cursor, c

    def _rows(self, c: _Compiled, raw: list[Any], cursor: Any, dialect: Dialect) -> list[Any]:
        make = c.row._make
        if not c.convert:  # processors may depend on the driver's type codes (PostgreSQL's)
            procs = [
                _result_processor(t, dialect, d[1]) for t, d in zip(c.types, cursor.description, strict=True)
            ]
            c.convert.append(tuple((i, p) for i, p in enumerate(procs) if p is not None))
        convert = c.convert[0]
        if not convert:
            return [make(r) for r in raw]
        out = []
        for r in raw:
            values = list(r)
            for i, proc in convert:
                v = values[i]
                if v is not None:
                    values[i] = proc(v)
            out.append(make(values))
        return out

    def fields(self, conn: Connection) -> tuple[str, ...]:
        """The result's column names, in order."""
        names: tuple[str, ...] = self._compile(conn.dialect).row._fields
        return names

    def tuples(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows as the driver gives them: no type processing at all (for a caller that
        converts what it reads itself; see `fields`)."""
        cursor, _ = self._run(conn, params)
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        cursor, c = self._run(conn, params)
        try:
            return self._rows(c, cursor.fetchall(), cursor, conn.dialect)
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        cursor, c = self._run(conn, params)
        try:
            raw = cursor.fetchone()
            return None if raw is None else self._rows(c, [raw], cursor, conn.dialect)[0]
        finally:
            cursor.close()

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """A write; answers the row count."""
        cursor, _ = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
