"""records.lifecycle, the one owner of a record's life: versions, corrections (field-level before/after),
revocation, repair and its reversal, the publicity window and the raw digest (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.helpers import ingest_rows, penalty
from xinyong.events import service as events
from xinyong.events.models import DomainEvent
from xinyong.kit.errors import Conflict
from xinyong.platform import Platform
from xinyong.records import lifecycle
from xinyong.records import rules as record_rules
from xinyong.records.models import Batch, Record, RecordStatus, RecordVersion
from xinyong.records.service import IngestContext


def a_record(session: Session, ctx: IngestContext, **row: str) -> Record:
    values = penalty(CF_JDRQ="2026-06-15", severity="一般", CF_NR_FK="5", **row)
    ingest_rows(session, ctx, [values])
    return session.scalars(select(Record).where(Record.doc_no == values["CF_WSH"])).one()


def events_of(session: Session, record: Record) -> list[DomainEvent]:
    return list(events.events_of(session, "record", record.id))


def labels(platform: Platform, record: Record) -> dict[str, str]:
    item = platform.catalog.item(record.item_code)
    assert item is not None
    return {spec.name: spec.label for spec in record_rules.correctable_fields(item)}


class TestCorrect:
    def test_a_correction_keeps_the_old_version_and_records_each_field_before_and_after(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        record = a_record(session, ctx)
        old_fields, old_hash, old_window = dict(record.fields), record.content_hash, record.public_until
        assert record.raw_digest is not None  # made from the department's row
        changes = record_rules.field_changes(
            record.fields, {"fine_wan": "3", "decision_date": "2026-05-10"}, labels(platform, record)
        )
        version = lifecycle.correct(
            session,
            record,
            changes,
            catalog=platform.catalog,
            rule_sets=platform.rule_sets,
            cipher=platform.cipher,
            ref="objection:1",
        )
        assert version == record.version == 2
        assert {(c.field, c.before, c.after) for c in changes} == {
            ("fine_wan", "5", "3"),
            ("decision_date", "2026-06-15", "2026-05-10"),
        }
        assert record.fields["fine_wan"] == "3" and record.decision_date.isoformat() == "2026-05-10"  # type: ignore[union-attr]
        assert record.public_until is not None and record.public_until < old_window  # type: ignore[operator]
        assert (
            record.content_hash != old_hash and record.raw_digest is None
        )  # the row, sent again, is checked
        kept = session.scalars(select(RecordVersion).where(RecordVersion.record_id == record.id)).one()
        assert (kept.version, kept.fields, kept.content_hash) == (1, old_fields, old_hash)
        batch = session.get(Batch, record.batch_id)
        assert batch is not None and (batch.source, batch.filename) == ("correction", "objection:1")
        (event,) = [e for e in events_of(session, record) if e.kind == events.RECORD_CORRECTED]
        assert event.payload is not None and event.payload["version"] == 2
        assert {c["field"]: (c["before"], c["after"]) for c in event.payload["changes"]} == {
            "fine_wan": ("5", "3"),
            "decision_date": ("2026-06-15", "2026-05-10"),
        }

    def test_an_emptied_field_is_removed(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        record = a_record(session, ctx)
        field = "legal_rep"  # 法定代表人, optional
        assert record.fields[field] == "张三"
        changes = record_rules.field_changes(record.fields, {field: None}, labels(platform, record))
        lifecycle.correct(
            session,
            record,
            changes,
            catalog=platform.catalog,
            rule_sets=platform.rule_sets,
            cipher=platform.cipher,
            ref="objection:2",
        )
        assert field not in record.fields


class TestStatus:
    def test_revoke_makes_a_revoked_version(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        record = a_record(session, ctx)
        lifecycle.revoke(
            session,
            record,
            catalog=platform.catalog,
            rule_sets=platform.rule_sets,
            cipher=platform.cipher,
            ref="objection:3",
        )
        assert (record.status, record.version) == (RecordStatus.REVOKED, 2)
        assert [e.kind for e in events_of(session, record)][-1] == events.RECORD_REVOKED

    def test_repair_and_its_reversal(self, session: Session, ctx: IngestContext) -> None:
        record = a_record(session, ctx)
        lifecycle.mark_repaired(session, record, ref="repair:1")
        assert record.status == RecordStatus.REPAIRED
        with pytest.raises(Conflict):  # only an active record is repaired
            lifecycle.mark_repaired(session, record, ref="repair:2")
        assert lifecycle.revert_repair(session, record, ref="repair:1") is True
        assert record.status == RecordStatus.ACTIVE
        assert lifecycle.revert_repair(session, record, ref="repair:1") is False  # nothing to undo
        kinds = [e.kind for e in events_of(session, record)]
        assert kinds == [events.RECORD_PUBLISHED, events.RECORD_REPAIRED, events.RECORD_REPAIR_REVERTED]

    def test_a_new_version_from_the_department_does_not_undo_a_repair(
        self, session: Session, ctx: IngestContext
    ) -> None:
        values = penalty(CF_JDRQ="2026-06-15", severity="一般", CF_NR_FK="5")
        ingest_rows(session, ctx, [values])
        record = session.scalars(select(Record).where(Record.doc_no == values["CF_WSH"])).one()
        lifecycle.mark_repaired(session, record, ref="repair:1")
        session.flush()
        ingest_rows(session, ctx, [{**values, "CF_NR_FK": "4"}])
        session.refresh(record)
        assert (record.status, record.version, record.fields["fine_wan"]) == (RecordStatus.REPAIRED, 2, "4")

    @pytest.mark.parametrize(
        ("current", "incoming", "kept"),
        [
            ("active", "active", "active"),
            ("active", "revoked", "revoked"),
            ("repaired", "active", "repaired"),
            ("repaired", "revoked", "revoked"),
            ("revoked", "active", "active"),
        ],
    )
    def test_the_status_of_a_new_version(self, current: str, incoming: str, kept: str) -> None:
        assert lifecycle.status_of_new_version(current, incoming) == kept
