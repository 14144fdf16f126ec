"""Bulk statements: look-ups by many values at once, and the fast bulk load (ingestion works in chunks of
thousands of rows)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Executable,
    Row,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from xinyong.db.base import json_dumps

SQLITE_MAX_IN = 900  # stay under SQLite's bound-parameter limit


def member_of(session: Session, column: Any, values: Iterable[Any]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together select the rows whose `column` is one of `values`, as few as the store allows.

    One value is a plain `=`. PostgreSQL gets one `column = ANY(:array)` for more: a single statement the
    driver prepares once whatever the number of values (an IN list of hundreds of placeholders is re-parsed
    on every call). SQLite gets IN lists of at most 900 values. Nothing is yielded for no values.
    """
    items = sorted(set(values))
    if len(items) == 1:
        yield column == items[0]
        return
    postgresql = session.get_bind().dialect.name == "postgresql"
    for group in _groups(items, postgresql):
        yield column == any_(_array(group, column.type)) if postgresql else column.in_(group)


_SEPARATOR = "\x1f"  # the ASCII unit separator: no code, key or digest holds it


def _array(values: list[Any], type_: Any) -> ColumnElement[Any]:
    """PostgreSQL: the values as one array parameter. Strings without the separator travel as one text that
    PostgreSQL splits (`string_to_array`): joining them costs next to nothing, where psycopg dumps an array
    element by element in Python (a few microseconds each, thousands per chunk of an ingest)."""
    try:
        joined = _SEPARATOR.join(values)
    except TypeError:  # not all strings
        joined = None
    if joined is None or joined.count(_SEPARATOR) != len(values) - 1:
        return bindparam(None, values, type_=ARRAY(type_))
    return func.string_to_array(
        bindparam(None, joined, type_=Text), bindparam(None, _SEPARATOR, type_=Text), type_=ARRAY(Text)
    )


def lookup(session: Session, key: Any, value: Any, keys: Iterable[Any], *where: Any) -> dict[Any, Any]:
    """`value` by `key` for the rows whose `key` is one of `keys` (and that meet `where`), in as few statements
    as `member_of` allows. Rows with an empty key are left out."""
    found: dict[Any, Any] = {}
    for condition in member_of(session, key, keys):
        found.update((k, v) for k, v in session.execute(select(key, value).where(condition, *where)) if k)
    return found


def _groups(items: list[Any], postgresql: bool) -> Iterator[list[Any]]:
    """The values in as few parameter groups as the store takes: all at once on PostgreSQL, 900 on SQLite."""
    step = len(items) if postgresql else SQLITE_MAX_IN
    for start in range(0, len(items), max(step, 1)):
        yield items[start : start + step]


class Membership:
    """`member_of` for hot paths: the statement is built once, only the values change.

    Every form is built at import: `=` for one value (a prepared `= ANY($1)` is re-planned on every call —
    its generic plan, blind to the array's length, never looks cheaper than a custom one — which doubles
    the database's work for a single look-up), PostgreSQL's `= ANY(:name)` or an expanding IN for more.
    """

    def __init__(
        self, name: str, type_: Any, build: Callable[[Callable[[Any], ColumnElement[bool]]], Executable]
    ) -> None:
        """`build(member)` returns the statement; `member(column)` is the condition on the values bound as `name`
        (it may be used on several columns, e.g. both halves of a UNION)."""
        self.name = name
        self._one = build(lambda column: column == bindparam(name, type_=type_))
        self._any = build(lambda column: column == any_(bindparam(name, type_=ARRAY(type_))))
        self._in = build(lambda column: column.in_(bindparam(name, expanding=True)))

    def rows(self, connection: Connection, values: Iterable[Any], **params: Any) -> Sequence[Row[Any]]:
        items = sorted(set(values))
        if len(items) == 1:
            return connection.execute(self._one, {**params, self.name: items[0]}).all()
        postgresql = connection.dialect.name == "postgresql"
        statement = self._any if postgresql else self._in
        return [
            row
            for group in _groups(items, postgresql)
            for row in connection.execute(statement, {**params, self.name: group})
        ]


COPY_THRESHOLD = 200


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """The database's fast bulk load: COPY on PostgreSQL, a Core executemany elsewhere (or for few rows)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) < COPY_THRESHOLD:
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        # JSON documents go as their text, written by the engines' serializer (orjson): COPY's text format
        # is parsed by the column's type anyway, and psycopg's Jsonb wrapper (the standard library's
        # encoder) cost about twice as much per row.
        for row in rows:
            copy.write_row(
                [json_dumps(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns]
            )


# --- PostgreSQL: the hottest statements as SQL text for the driver ------------------------------------------
#
# A statement run through SQLAlchemy's Core costs a few hundred microseconds of Python per execution (bind
# processing, execution context, result metadata), more than PostgreSQL takes to run a look-up by key. The
# real-time check's batch is two statements instead of eight; these helpers give them as text with the
# driver's placeholders, run by `Connection.exec_driver_sql` (SQLAlchemy's events, logging and error
# wrapping still apply). Each text is the same on every call, so psycopg converts it once and prepares it.


class DriverStatement:
    """A Core statement compiled once for the connection's dialect (PostgreSQL) and run as driver SQL.

    The statement is the single source of its SQL; only the compilation is cached. Its own bound values
    (literals) are kept; the values of named parameters are given to `run`, as the driver takes them (a list
    for an ARRAY, a date for a Date).
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: tuple[str, dict[str, Any]] | None = None

    def sql(self, connection: Connection) -> tuple[str, dict[str, Any]]:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=connection.dialect)
            self._compiled = (compiled.string, dict(compiled.params))
        return self._compiled

    def run(self, connection: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        sql, defaults = self.sql(connection)
        return connection.exec_driver_sql(sql, defaults | dict(params)).all()


@functools.cache
def recordset_insert_sql(table: Table, columns: tuple[str, ...]) -> str:
    """PostgreSQL: an INSERT of any number of rows given as one JSON array of objects (`recordset`), by
    `json_populate_recordset` — one text and one parameter whatever the number of rows, so psycopg converts
    and prepares it once (a multi-row VALUES is a new text, and a long conversion, for every row count)."""
    names = ", ".join(table.c[c].name for c in columns)  # the model's own names, never input
    return f"INSERT INTO {table.name} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table.name}, %s::json)"  # noqa: S608


def recordset(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as `recordset_insert_sql` takes them: one JSON array (the engines' serializer; datetimes in
    ISO 8601 with their offset, JSON columns as nested documents)."""
    return json_dumps(list(rows))
