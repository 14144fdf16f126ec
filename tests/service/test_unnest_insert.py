"""PostgreSQL's one-text bulk INSERT (`db.bulk.UnnestInsert`): order, types, refusals, one SQL text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, exc, select
from sqlalchemy.engine import Engine

from tests.conftest import PG_URL
from xinyong.db.base import JSONType, UTCDateTime
from xinyong.db.bulk import UnnestInsert
from xinyong.db.engine import make_engine

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs XINYONG_TEST_DATABASE_URL (PostgreSQL)")

METADATA = MetaData()
ITEMS = Table(
    "unnest_insert_items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("code", String(8), nullable=False),
    Column("at", UTCDateTime()),
    Column("doc", JSONType),
    Column("n", Integer),
)
ROWS = UnnestInsert(ITEMS, ["code", "at", "doc", "n"], returning=ITEMS.c.id)


@pytest.fixture
def pg() -> Iterator[Engine]:
    engine = make_engine(str(PG_URL))
    METADATA.drop_all(engine)
    METADATA.create_all(engine)
    try:
        yield engine
    finally:
        METADATA.drop_all(engine)
        engine.dispose()


def row(k: int, **changes: Any) -> dict[str, Any]:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    return {
        "code": f"C{k:03d}",
        "at": dt.datetime(2026, 11, 28, 9, k % 60, tzinfo=shanghai),
        "doc": {"k": k, "名称": "四川", "nested": [k, None]},
        "n": k if k % 3 else None,
    } | changes


def test_rows_go_in_and_ids_come_back_in_the_order_given(pg: Engine) -> None:
    rows = [row(k) for k in (5, 1, 4, 2, 3, 9, 7)]
    with pg.begin() as connection:
        ids = list(connection.execute(ROWS.statement, ROWS.params(rows)).scalars())
        stored = {r.id: r for r in connection.execute(select(ITEMS))}
    assert len(ids) == len(rows) == len(stored)
    for id_, sent in zip(ids, rows, strict=True):
        got = stored[id_]
        assert got.code == sent["code"]
        assert got.at == sent["at"].astimezone(dt.UTC)  # the column type's conversion, element by element
        assert got.doc == sent["doc"]
        assert got.n == sent["n"]


def test_json_none_is_sql_null_and_one_row_works(pg: Engine) -> None:
    with pg.begin() as connection:
        (id_,) = connection.execute(ROWS.statement, ROWS.params([row(1, doc=None, at=None)])).scalars()
        stored = connection.execute(select(ITEMS.c.doc.is_(None), ITEMS.c.at).where(ITEMS.c.id == id_)).one()
    assert tuple(stored) == (True, None)


def test_a_value_too_long_for_its_column_is_refused_not_cut(pg: Engine) -> None:
    with pytest.raises(exc.DataError), pg.begin() as connection:
        connection.execute(ROWS.statement, ROWS.params([row(1), row(2, code="TOO-LONG-CODE")]))
    with pg.connect() as connection:
        assert connection.scalar(select(ITEMS.c.id).limit(1)) is None  # nothing of the statement stayed


def test_one_sql_text_for_any_number_of_rows(pg: Engine) -> None:
    texts: set[str] = set()

    def seen(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        texts.add(statement)

    event.listen(pg, "before_cursor_execute", seen)
    with pg.begin() as connection:
        for n in (1, 2, 7, 50):
            connection.execute(ROWS.statement, ROWS.params([row(k) for k in range(n)]))
    assert len(texts) == 1
    assert "unnest" in next(iter(texts))
