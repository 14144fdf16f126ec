"""Bulk statements: look-ups by many values at once, and the fast bulk load (ingestion works in chunks of
thousands of rows)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Executable, Row, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

SQLITE_MAX_IN = 900  # stay under SQLite's bound-parameter limit


def member_of(session: Session, column: Any, values: Iterable[Any]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together select the rows whose `column` is one of `values`, as few as the store allows.

    PostgreSQL gets one `column = ANY(:array)`: a single statement the driver prepares once whatever the
    number of values (an IN list of hundreds of placeholders is re-parsed on every call). SQLite gets IN
    lists of at most 900 values. Nothing is yielded for no values.
    """
    items = sorted(set(values))
    if not items:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, items, type_=ARRAY(column.type)))
        return
    for start in range(0, len(items), SQLITE_MAX_IN):
        yield column.in_(items[start : start + SQLITE_MAX_IN])


class Membership:
    """A statement built once with `column IN :name` conditions, for hot paths that look up one or many values.

    `member_of` builds its statement per call; here every form is built at import (`=` for one value,
    PostgreSQL's `= ANY(:name)` or an expanding IN for more) and only the values change: one statement on
    PostgreSQL, IN lists of at most 900 values on SQLite.
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
        if not items:
            return []
        if len(items) == 1:
            # A plain `=`: a prepared `= ANY($1)` is re-planned on every call (its generic plan, blind to the
            # array's length, never looks cheaper than a custom one), which doubles the database's work.
            return connection.execute(self._one, {**params, self.name: items[0]}).all()
        if connection.dialect.name == "postgresql":
            return connection.execute(self._any, {**params, self.name: items}).all()
        found: list[Row[Any]] = []
        for start in range(0, len(items), SQLITE_MAX_IN):
            part = items[start : start + SQLITE_MAX_IN]
            found.extend(connection.execute(self._in, {**params, self.name: part}).all())
        return found


COPY_THRESHOLD = 200


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """The database's fast bulk load: COPY on PostgreSQL, a Core executemany elsewhere (or for few rows)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) < COPY_THRESHOLD:
        session.execute(insert(table), rows)
        return
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns]
            )
