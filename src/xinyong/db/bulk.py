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
        yield (
            column == any_(bindparam(None, group, type_=ARRAY(column.type)))
            if postgresql
            else column.in_(group)
        )


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
