"""Bulk statements: look-ups by many values at once, and the fast bulk load (ingestion works in chunks of
thousands of rows)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, any_, bindparam, insert
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
