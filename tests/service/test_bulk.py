"""Bulk statements (`db.bulk`) on both stores: look-ups by many values, and the bulk load's JSON documents."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from tests.helpers import ingest_rows, penalty, resident_id
from xinyong.accounts.models import Department
from xinyong.db import bulk
from xinyong.records.models import Batch, Record, RejectedRow
from xinyong.records.service import IngestContext

# Names a look-up must find exactly as they are: the separator the strings travel with on PostgreSQL, the
# array literal's own syntax, quotes, backslashes, an empty string and the word NULL.
AWKWARD = ["甲\x1f乙", "{a,b}", 'say "hi"', "back\\slash", "", "NULL", "a,b", " spaced "]


def _departments(session: Session, names: list[str]) -> dict[str, str]:
    codes = {name: f"D{i:04d}" for i, name in enumerate(names)}
    session.add_all(Department(code=code, name=name) for name, code in codes.items())
    session.flush()
    return codes


def _batch(session: Session) -> Batch:
    session.add(Department(code="SCMR", name="四川省市场监督管理局"))
    batch = Batch(
        id=uuid.uuid4().hex, item_code="CF", provider_code="SCMR", source="test", catalog_version="t"
    )
    session.add(batch)
    session.flush()
    return batch


class TestLookup:
    def test_thousands_of_keys_in_one_call(self, session: Session) -> None:
        names = [f"部门{i}" for i in range(2500)]  # over SQLite's 900 per statement
        codes = _departments(session, names)
        wanted = [*names[::3], "无此部门"]
        found = bulk.lookup(session, Department.name, Department.code, wanted)
        assert found == {name: codes[name] for name in names[::3]}

    def test_keys_holding_the_separator_or_array_syntax_are_found_as_they_are(self, session: Session) -> None:
        codes = _departments(session, [*AWKWARD, "甲", "乙", "a", "b"])
        found = bulk.lookup(session, Department.name, Department.code, [*AWKWARD, "甲乙", "say"])
        # `lookup` leaves out rows with an empty key; every other awkward name is found, and only those.
        assert found == {name: codes[name] for name in AWKWARD if name}

    def test_separator_free_strings_of_one_call_match_only_themselves(self, session: Session) -> None:
        codes = _departments(session, ["甲", "乙", "甲乙", "丙"])
        found = bulk.lookup(session, Department.name, Department.code, ["甲", "乙"])
        assert found == {"甲": codes["甲"], "乙": codes["乙"]}

    def test_a_single_key_and_no_key(self, session: Session) -> None:
        codes = _departments(session, ["甲", "乙"])
        assert bulk.lookup(session, Department.name, Department.code, ["乙"]) == {"乙": codes["乙"]}
        assert bulk.lookup(session, Department.name, Department.code, []) == {}

    def test_keys_that_are_not_strings(self, session: Session) -> None:
        batch = _batch(session)
        session.add_all(RejectedRow(batch_id=batch.id, row_number=n, errors=[], raw={}) for n in range(2, 7))
        session.flush()
        found = bulk.lookup(session, RejectedRow.row_number, RejectedRow.batch_id, [3, 5, 99])
        assert found == {3: batch.id, 5: batch.id}


class TestBulkInsert:
    def test_json_documents_come_back_as_they_went_in(self, session: Session) -> None:
        batch = _batch(session)
        documents: list[dict[str, Any]] = [
            {"名称": f"第{n}行", "text": 'quote " back \\ tab \t newline \n 甲\x1f乙', "n": n, "none": None}
            for n in range(bulk.COPY_THRESHOLD + 5)  # enough rows for COPY on PostgreSQL
        ]
        rows = [
            {
                "batch_id": batch.id,
                "row_number": n,
                "errors": [{"field": "x", "code": "c", "message": "错误"}],
                "raw": doc,
                "raw_sensitive": None if n % 2 else {"id_no": "token"},
            }
            for n, doc in enumerate(documents)
        ]
        bulk.bulk_insert(session, RejectedRow.__table__, rows)  # type: ignore[arg-type]
        stored = session.execute(
            select(RejectedRow.row_number, RejectedRow.raw, RejectedRow.raw_sensitive, RejectedRow.errors)
            .where(RejectedRow.batch_id == batch.id)
            .order_by(RejectedRow.row_number)
        ).all()
        assert [(r.row_number, r.raw, r.raw_sensitive, r.errors) for r in stored] == [
            (r["row_number"], r["raw"], r["raw_sensitive"], r["errors"]) for r in rows
        ]

    def test_rows_are_stored_as_a_core_insert_stores_them(self, session: Session, ctx: IngestContext) -> None:
        # A record as ingestion writes it (the bulk path: COPY on PostgreSQL), and the same values written by
        # a Core insert: every column must hold the same value of the same stored type (dates, timestamps,
        # JSON).
        rows = [penalty() for _ in range(bulk.COPY_THRESHOLD - 1)]
        ingest_rows(session, ctx, [*rows, penalty(CF_XDR_ZJHM=resident_id(), CF_XDR_LB="自然人")])
        table = Record.metadata.tables["records"]
        stored = session.execute(select(table).order_by(table.c.id.desc()).limit(1)).mappings().one()
        copy = {**stored, "id": stored["id"] + 1, "natural_key": "k" * 64, "raw_digest": "d" * 32}
        session.execute(insert(table), [copy])
        columns = [c.name for c in table.columns if c.name not in ("id", "natural_key", "raw_digest")]
        if session.get_bind().dialect.name == "sqlite":
            shape = [f"typeof({c}) || ':' || coalesce(CAST({c} AS TEXT), '')" for c in columns]
        else:
            shape = [f"coalesce(CAST({c} AS TEXT), '∅')" for c in columns]
        last = session.execute(text(f"SELECT {', '.join(shape)} FROM records ORDER BY id DESC LIMIT 2")).all()
        assert last[0] == last[1]
