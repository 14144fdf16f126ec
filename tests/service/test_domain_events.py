"""Domain events: written with the change (an outbox), consumed idempotently; the repair notices as a consumer;
migration 0013 moving the three workflow histories into one without losing a row (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import ingest_rows, licence, penalty
from tests.service.test_migrations import blank_database, schema_differences
from xinyong.accounts.policy import SYSTEM
from xinyong.db import migrate
from xinyong.events import service as events
from xinyong.events import workflow
from xinyong.events.dispatch import Dispatcher
from xinyong.events.models import DomainEvent, EventCursor
from xinyong.events.service import Consumer, EventRange
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.records.models import Record, RecordStatus
from xinyong.records.service import IngestContext
from xinyong.repair import notices as repair_notices
from xinyong.repair.policy import notice_items


def _a_department_file() -> list[dict[str, object]]:
    """Penalties of every kind a department sends: recent, long over, serious, revoked, and a repeated row."""
    recent = [penalty(CF_JDRQ="2026-06-15", severity="一般") for _ in range(5)]
    old = [penalty(CF_JDRQ="2019-01-10", severity="一般") for _ in range(3)]  # window over before today
    serious = [penalty(CF_JDRQ="2026-03-02", severity="严重") for _ in range(2)]
    revoked = [{**penalty(CF_JDRQ="2026-05-05"), "record_status": "撤销"} for _ in range(2)]
    return [*recent, *old, *serious, *revoked, recent[0]]


def _legacy_notice_records(session: Session, platform: Platform) -> set[int]:
    """The records ingestion gave a notice before notices became a reaction to events: items that may be
    repaired, stored active with a window that had begun or would begin and was not over on the day."""
    items = notice_items(platform.repair_policy)
    return set(
        session.scalars(
            select(Record.id).where(
                Record.item_code.in_(sorted(items)),
                Record.status == RecordStatus.ACTIVE,
                Record.public_from.is_not(None),
                sa.or_(Record.public_until.is_(None), Record.public_until >= TODAY),
            )
        )
    )


def _noticed(session: Session) -> list[int]:
    return sorted(
        session.scalars(select(Notice.record_id).where(Notice.kind == repair_notices.REPAIR_NOTICE)).all()  # type: ignore[arg-type]
    )


class TestRepairNoticesAsAConsumer:
    def test_the_consumer_gives_the_same_notices_as_ingestion_did(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        ingest_rows(session, ctx, _a_department_file())
        ingest_rows(session, ctx, [licence() for _ in range(3)], item="XK")  # licences get no repair notice
        assert _noticed(session) == []  # ingestion itself sends nothing: it writes events
        platform.events.run_in(session)
        expected = _legacy_notice_records(session, platform)
        assert 0 < len(expected) < int(session.scalar(select(func.count(Record.id))) or 0)
        assert _noticed(session) == sorted(expected)  # one each, no more, no other

    def test_a_rerun_and_the_daily_catch_up_send_nothing_twice(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        rows = _a_department_file()
        ingest_rows(session, ctx, rows)
        first = platform.events.run_in(session)
        ingest_rows(session, ctx, rows)  # the same file again: unchanged rows, no new event
        again = platform.events.run_in(session)
        caught_up = platform.events.run_in(session, catch_up=True)
        assert first[repair_notices.CONSUMER] == len(_noticed(session)) > 0
        assert again[repair_notices.CONSUMER] == caught_up[repair_notices.CONSUMER] == 0
        assert len(_noticed(session)) == len(set(_noticed(session)))

    def test_a_corrected_row_publishes_again_but_gets_no_second_notice(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        row = penalty(CF_JDRQ="2026-06-15", severity="一般")
        ingest_rows(session, ctx, [row])
        platform.events.run_in(session)
        ingest_rows(session, ctx, [{**row, "CF_NR_FK": "3"}])  # a new version, published again
        published = session.scalars(
            select(DomainEvent).where(DomainEvent.kind == events.RECORD_PUBLISHED)
        ).all()
        assert len(published) == 2 and len({e.aggregate_id for e in published}) == 1
        assert platform.events.run_in(session)[repair_notices.CONSUMER] == 0
        assert len(_noticed(session)) == 1

    def test_ingestion_writes_one_event_per_published_record_of_a_chunk(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rows = [penalty(CF_JDRQ="2026-06-15") for _ in range(7)]
        ingest_rows(session, ctx, rows, chunk_size=3)
        published = session.scalars(
            select(DomainEvent).where(DomainEvent.kind == events.RECORD_PUBLISHED).order_by(DomainEvent.id)
        ).all()
        records = session.scalars(select(Record).order_by(Record.id)).all()
        assert sorted((e.aggregate, e.aggregate_id, e.subject_id) for e in published) == [
            ("record", r.id, r.subject_id) for r in records
        ]
        assert events.written(session) and not events.written(session)  # the flag is taken once


class TestConsuming:
    def test_a_consumer_reads_each_event_once_and_its_cursor_follows(self, session: Session) -> None:
        seen: list[EventRange] = []

        def handle(s: Session, span: EventRange) -> int:
            seen.append(span)
            return len(
                s.scalars(
                    select(DomainEvent.id).where(DomainEvent.id > span.after, DomainEvent.id <= span.upto)
                ).all()
            )

        consumer = Consumer("test.counter", frozenset({"test.happened"}), handle)
        first = [events.emit(session, "test.happened", "record", n).id for n in (1, 2, 3)]
        assert events.pending(session, consumer) == 3
        assert events.consume(session, consumer) == 3
        assert events.consume(session, consumer) == 0  # nothing new: the handler is not even called
        later = events.emit(session, "test.happened", "record", 4).id
        assert events.consume(session, consumer) == 1
        assert [(s.after, s.upto) for s in seen] == [(0, first[-1]), (first[-1], later)]
        cursor = session.get(EventCursor, "test.counter")
        assert cursor is not None and cursor.last_event_id == later
        assert events.pending(session, consumer) == 0

    def test_a_failing_consumer_keeps_its_events_and_the_others_go_on(self, file_platform: Platform) -> None:
        def broken(_s: Session, _span: EventRange) -> int:
            raise RuntimeError("a reaction that fails")

        counted: list[int] = []

        def counting(_s: Session, span: EventRange) -> int:
            counted.append(span.upto)
            return 1

        dispatcher = Dispatcher(
            [
                Consumer("test.broken", frozenset({"t"}), broken),
                Consumer("test.ok", frozenset({"t"}), counting),
            ]
        )
        with file_platform.sessions() as session:
            event_id = events.emit(session, "t", "record", 1).id
            session.commit()
        assert dispatcher.run(file_platform.sessions) == {"test.broken": 0, "test.ok": 1}
        with file_platform.sessions() as session:
            assert session.get(EventCursor, "test.broken") is None  # rolled back: its events wait
            ok = session.get(EventCursor, "test.ok")
            assert ok is not None and ok.last_event_id == event_id
        assert counted == [event_id]


# -- migration 0013: the three workflow histories become one ------------------------------------------------

OLD_ROWS = {
    "list_entry_events": (
        "entry_id",
        [(7, "propose", None, "proposed"), (7, "notify", "proposed", "notified")],
    ),
    "repair_events": (
        "application_id",
        [(3, "submit", None, "submitted"), (3, "accept", "submitted", "accepted")],
    ),
    "objection_events": ("objection_id", [(5, "file", None, "open"), (5, "correct", "open", "corrected")]),
}
WORKFLOW = {"list_entry_events": "list_entry", "repair_events": "repair", "objection_events": "objection"}


def _insert_old_history(engine: Engine) -> None:
    unchecked = sa.create_engine(engine.url) if engine.dialect.name == "sqlite" else engine
    try:
        with unchecked.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SET LOCAL session_replication_role = replica")
                )  # no cases behind them
            for table, (case_column, rows) in OLD_ROWS.items():
                history = sa.Table(table, sa.MetaData(), autoload_with=connection)
                connection.execute(
                    history.insert(),
                    [
                        {
                            case_column: case,
                            "event": event,
                            "from_state": before,
                            "to_state": after,
                            "on": dt.date(2026, 11, 2),
                            "actor": "张三",
                            "note": f"{table} {event}",
                            "at": dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
                        }
                        for case, event, before, after in rows
                    ],
                )
    finally:
        if unchecked is not engine:
            unchecked.dispose()


def test_migration_0013_moves_every_workflow_step_into_one_history_and_back(
    engine: Engine, tmp_path: Path
) -> None:
    with blank_database(engine.dialect.name, tmp_path, "workflow_history") as database:
        config = migrate.alembic_config(database.url.render_as_string(hide_password=False))
        with database.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0012")
        _insert_old_history(database)

        migrate.upgrade(database)

        with database.connect() as connection:
            moved = connection.execute(
                text(
                    "SELECT workflow, case_id, event, from_state, to_state, note FROM workflow_events ORDER BY id"
                )
            ).all()
        assert [tuple(r) for r in moved] == [
            (WORKFLOW[table], case, event, before, after, f"{table} {event}")
            for table, (_column, rows) in OLD_ROWS.items()
            for case, event, before, after in rows
        ]
        assert not {"list_entry_events", "repair_events", "objection_events"} & set(
            sa.inspect(database).get_table_names()
        )
        assert schema_differences(database) == []
        assert "ix_records_item_doc_no" in {i["name"] for i in sa.inspect(database).get_indexes("records")}

        # Back to 0012 (the test's steps belong to no real case: foreign keys unchecked, as when inserted).
        unchecked = sa.create_engine(database.url) if database.dialect.name == "sqlite" else database
        try:
            with unchecked.begin() as connection:
                if database.dialect.name == "postgresql":
                    connection.execute(text("SET LOCAL session_replication_role = replica"))
                config.attributes["connection"] = connection
                command.downgrade(config, "0012")
        finally:
            if unchecked is not database:
                unchecked.dispose()
        with database.connect() as connection:
            for table, (case_column, rows) in OLD_ROWS.items():
                back = connection.execute(
                    text(f"SELECT {case_column}, event, from_state, to_state FROM {table} ORDER BY id")
                ).all()
                assert [tuple(r) for r in back] == rows
        assert "workflow_events" not in sa.inspect(database).get_table_names()


def test_every_step_of_a_case_lands_in_the_one_history(session: Session) -> None:
    workflow.log(
        session,
        SYSTEM,
        workflow.REPAIR,
        41,
        "submit",
        None,
        "submitted",
        today=TODAY,
        note="说明",
        subject_id=None,
    )
    workflow.log(
        session, SYSTEM, workflow.OBJECTION, 41, "file", None, "open", today=TODAY, note=None, subject_id=None
    )
    steps = workflow.history(session, workflow.REPAIR, 41)
    assert [(s.workflow, s.case_id, s.event, s.to_state, s.actor) for s in steps] == [
        ("repair", 41, "submit", "submitted", SYSTEM.name)
    ]
    assert [s.workflow for s in workflow.history(session, workflow.OBJECTION, 41)] == ["objection"]
