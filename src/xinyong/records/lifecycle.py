"""The life of a credit record (信用记录) after ingestion stored it: the one owner of its versions and state.

Ingestion, objections and repair change a record only through here: a new version keeps the old one in
`record_versions` (`archive_current`), a correction records its field-level before/after, a revocation, a
repair and the reversal of a wrong repair (错修) set the `RecordStatus`, and each recomputes what depends on
the fields (the publicity window, the content hash) and forgets the raw digest when the version no longer is
what the department sent. Each change others react to is written as a domain event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, insert, literal, select
from sqlalchemy.orm import Session

from xinyong.catalog.schemas import Catalog, CatalogItem
from xinyong.db.base import UTCDateTime
from xinyong.db.bulk import member_of
from xinyong.disclosure import rules as disclosure
from xinyong.disclosure.rules import RuleSet
from xinyong.events import service as events
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import Conflict
from xinyong.records import rules
from xinyong.records.models import Batch, Record, RecordStatus, RecordVersion

WindowCache = dict[tuple[Any, ...], disclosure.Window]


def publicity_window(
    item: CatalogItem, values: Mapping[str, Any], rule_sets: list[RuleSet], cache: WindowCache | None = None
) -> disclosure.Window:
    """The publicity window of a record with these field values (`cache`: windows already worked out, by
    their inputs; an ingest repeats the same few thousand)."""
    decided = values.get(item.date_field) if item.date_field else None
    ends = values.get(item.end_field) if item.end_field else None
    severity = values.get(item.severity_field) if item.severity_field else None
    sector = values.get("sector")
    key = (item.code, decided, ends, severity, sector)
    window = cache.get(key) if cache is not None else None
    if window is None:
        window = disclosure.window_for(
            item,
            decision_date=dt.date.fromisoformat(decided) if decided else None,
            end_date=dt.date.fromisoformat(ends) if ends else None,
            severity=severity,
            sector=sector,
            rule_sets=rule_sets,
        )
        if cache is not None:
            cache[key] = window
    return window


def status_of_new_version(current: str, incoming: str) -> str:
    """The status a new version from the provider takes: a repair decision is not undone by it."""
    if current == RecordStatus.REPAIRED and incoming == RecordStatus.ACTIVE:
        return RecordStatus.REPAIRED
    return incoming


def archive_current(session: Session, record_id: int, superseded_by: str, now: dt.datetime) -> None:
    """Keep the record's current version in `record_versions` before a new one replaces it; the row is copied
    inside the database (it never travels to Python and back)."""
    session.execute(
        insert(RecordVersion).from_select(
            [
                "record_id",
                "version",
                "status",
                "fields",
                "sensitive",
                "content_hash",
                "batch_id",
                "superseded_by_batch",
                "superseded_at",
            ],
            select(
                Record.id,
                Record.version,
                Record.status,
                Record.fields,
                Record.sensitive,
                Record.content_hash,
                Record.batch_id,
                literal(superseded_by, String()),
                literal(now, UTCDateTime()),
            ).where(Record.id == record_id),
        )
    )


def emit_published(session: Session, natural_keys: Sequence[str]) -> int:
    """`record.published` for these records (by natural key), one INSERT … SELECT per key group: ingestion's
    chunk of records stored active with a publicity window not yet over."""
    written = 0
    for condition in member_of(session, Record.natural_key, natural_keys):
        written += events.emit_select(
            session,
            events.RECORD_PUBLISHED,
            "record",
            select(Record.id, Record.subject_id).where(condition),
        )
    return written


def _correction_batch(session: Session, record: Record, catalog: Catalog, ref: str) -> Batch:
    batch = Batch(
        id=uuid.uuid4().hex,
        item_code=record.item_code,
        provider_code=record.provider_code,
        source="correction",
        filename=ref[:255],
        status="done",
        catalog_version=catalog.version,
        rows_read=1,
        updated=1,
        finished_at=dt.datetime.now(dt.UTC),
    )
    session.add(batch)
    session.flush()
    return batch


def _new_version(
    session: Session,
    record: Record,
    *,
    fields: dict[str, Any],
    status: RecordStatus,
    catalog: Catalog,
    rule_sets: list[RuleSet],
    cipher: PersonalIdCipher,
    ref: str,
) -> int:
    batch = _correction_batch(session, record, catalog, ref)
    now = dt.datetime.now(dt.UTC)
    session.flush()
    archive_current(session, record.id, batch.id, now)
    clear = {name: cipher.decrypt(token) for name, token in (record.sensitive or {}).items()}
    item = catalog.item(record.item_code)
    assert item is not None
    if item.date_field and fields.get(item.date_field):
        window = publicity_window(item, fields, rule_sets)
        record.decision_date = dt.date.fromisoformat(fields[item.date_field])
        record.public_from, record.public_until = window.public_from, window.public_until
        record.min_public_until, record.disclosure_rule = window.min_public_until, window.rule
    if item.severity_field:
        record.severity = fields.get(item.severity_field)
    record.fields = fields
    record.status = status
    record.content_hash = rules.content_hash(rules.RowResult(values=fields, sensitive=clear), cipher.hash)
    record.raw_digest = None  # no longer what the department sent: its row, sent again, is validated again
    record.version += 1
    record.batch_id = batch.id
    record.updated_at = now
    session.flush()
    return record.version


def correct(
    session: Session,
    record: Record,
    changes: Sequence[rules.FieldChange],
    *,
    catalog: Catalog,
    rule_sets: list[RuleSet],
    cipher: PersonalIdCipher,
    ref: str,
) -> int:
    """A new version with these fields changed (`rules.field_changes` gives them, before and after); an empty
    value removes the field. The publicity window follows a changed date or severity. Returns the version."""
    fields = {**record.fields, **{c.field: c.after for c in changes}}
    fields = {k: v for k, v in fields.items() if v is not None}
    version = _new_version(
        session,
        record,
        fields=fields,
        status=RecordStatus(record.status),
        catalog=catalog,
        rule_sets=rule_sets,
        cipher=cipher,
        ref=ref,
    )
    events.emit(
        session,
        events.RECORD_CORRECTED,
        "record",
        record.id,
        subject_id=record.subject_id,
        payload={"version": version, "ref": ref, "changes": [c.as_dict() for c in changes]},
    )
    return version


def revoke(
    session: Session,
    record: Record,
    *,
    catalog: Catalog,
    rule_sets: list[RuleSet],
    cipher: PersonalIdCipher,
    ref: str,
) -> int:
    """A new version, the same fields, revoked (撤销). Returns the version."""
    version = _new_version(
        session,
        record,
        fields=dict(record.fields),
        status=RecordStatus.REVOKED,
        catalog=catalog,
        rule_sets=rule_sets,
        cipher=cipher,
        ref=ref,
    )
    events.emit(
        session,
        events.RECORD_REVOKED,
        "record",
        record.id,
        subject_id=record.subject_id,
        payload={"version": version, "ref": ref},
    )
    return version


def mark_repaired(session: Session, record: Record, *, ref: str) -> None:
    """A repair decision (信用修复): from now on the record is not public, shared or able to trigger measures."""
    if record.status != RecordStatus.ACTIVE:
        raise Conflict("只有有效的信用记录可以修复", code="record.not_active")
    record.status = RecordStatus.REPAIRED
    record.updated_at = dt.datetime.now(dt.UTC)
    events.emit(
        session,
        events.RECORD_REPAIRED,
        "record",
        record.id,
        subject_id=record.subject_id,
        payload={"ref": ref},
    )


def revert_repair(session: Session, record: Record, *, ref: str) -> bool:
    """A wrong repair (错修) undone: the record is active again. False when it was not repaired (nothing to do)."""
    if record.status != RecordStatus.REPAIRED:
        return False
    record.status = RecordStatus.ACTIVE
    record.updated_at = dt.datetime.now(dt.UTC)
    events.emit(
        session,
        events.RECORD_REPAIR_REVERTED,
        "record",
        record.id,
        subject_id=record.subject_id,
        payload={"ref": ref},
    )
    return True
