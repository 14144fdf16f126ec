"""Ingestion's storing half: a checked chunk (`ingest_checks.Checked`) written in a few set-based statements —
rejected rows, rows queued for review (subject not resolved), new records, new versions of changed ones, and
one `record.published` event per chunk. Runs on the ingest's database thread (`records.service.ingest`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from xinyong.catalog.schemas import CatalogItem
from xinyong.db.bulk import bulk_insert, lookup, member_of
from xinyong.disclosure import rules as disclosure
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.records import lifecycle, rules
from xinyong.records.ingest_checks import Checked, Valid
from xinyong.records.models import Batch, Record, RecordStatus, RejectedRow, UnresolvedRow
from xinyong.subjects import service as subjects

if TYPE_CHECKING:
    from xinyong.records.service import IngestContext

RECORDS_TABLE = cast(Table, Record.__table__)
REJECTED_TABLE = cast(Table, RejectedRow.__table__)


def store_chunk(
    session: Session, ctx: IngestContext, item: CatalogItem, batch: Batch, chunk: Checked
) -> None:
    valid = chunk.valid
    batch.unchanged += chunk.unchanged
    if chunk.rejected:
        bulk_insert(session, REJECTED_TABLE, [{"batch_id": batch.id, **r} for r in chunk.rejected])
        batch.rejected += len(chunk.rejected)

    resolutions = subjects.resolve(session, [v.result.subject for v in valid], ctx.cipher)  # type: ignore[misc]
    resolved: list[tuple[Valid, int]] = []
    unresolved: list[dict[str, Any]] = []
    for entry, resolution in zip(valid, resolutions, strict=True):
        if resolution.subject_id is not None:
            resolved.append((entry, resolution.subject_id))
            continue
        assert entry.result.subject is not None
        unresolved.append(
            {
                "batch_id": batch.id,
                "item_code": item.code,
                "provider_code": batch.provider_code,
                "row_number": entry.row_number,
                "subject_name": entry.result.subject.name,
                "region_code": entry.result.subject.region_code,
                "fields": entry.result.values,
                "sensitive": _encrypt(entry.result.sensitive, ctx.cipher),
                "reason_code": resolution.reason_code,
                "reason": resolution.reason,
                "candidates": resolution.candidates,
                "status": "open",
                "created_at": dt.datetime.now(dt.UTC),
            }
        )
    if unresolved:
        session.execute(insert(UnresolvedRow), unresolved)
        batch.queued += len(unresolved)
    store(session, ctx, item, batch, resolved)


def _encrypt(sensitive: dict[str, str], cipher: PersonalIdCipher) -> dict[str, str] | None:
    return {k: cipher.encrypt(v) for k, v in sensitive.items()} or None


def _window(ctx: IngestContext, item: CatalogItem, values: dict[str, Any]) -> disclosure.Window:
    return lifecycle.publicity_window(item, values, ctx.rule_sets, ctx.windows)


def store(
    session: Session, ctx: IngestContext, item: CatalogItem, batch: Batch, resolved: list[tuple[Valid, int]]
) -> None:
    """Insert new records, version changed ones, count unchanged ones. Duplicates inside the chunk collapse."""
    latest: dict[str, tuple[Valid, int]] = {}
    for entry, subject_id in resolved:
        if entry.key in latest and latest[entry.key][0].digest == entry.digest:
            batch.unchanged += 1
            continue
        if entry.key in latest:
            batch.updated += 1  # a later row in the same submission replaces an earlier one
        latest[entry.key] = (entry, subject_id)
    existing = _existing(session, set(latest))
    now = dt.datetime.now(dt.UTC)
    inserts: list[dict[str, Any]] = []
    published: list[str] = []  # records stored active with a window not over: `record.published` for others
    for key, (entry, subject_id) in latest.items():
        values = entry.result.values
        window = _window(ctx, item, values)
        status = RecordStatus.REVOKED if rules.is_revocation(entry.result) else RecordStatus.ACTIVE
        current = {
            "subject_id": subject_id,
            "subject_kind": entry.result.subject.kind if entry.result.subject else "legal_person",
            "doc_no": values.get(item.key[0]) if item.key else None,
            "status": status,
            "subject_name": values["subject_name"],
            "region_code": entry.result.subject.region_code if entry.result.subject else None,
            "decision_date": dt.date.fromisoformat(values[item.date_field])
            if values.get(item.date_field)
            else None,
            "severity": values.get(item.severity_field) if item.severity_field else None,
            "public_from": window.public_from,
            "public_until": window.public_until,
            "min_public_until": window.min_public_until,
            "disclosure_rule": window.rule,
            "fields": values,
            "sensitive": _encrypt(entry.result.sensitive, ctx.cipher),
            "content_hash": entry.digest,
            "raw_digest": entry.raw_digest,
            "catalog_version": ctx.catalog.version,
            "batch_id": batch.id,
            "updated_at": now,
        }
        if (
            status == RecordStatus.ACTIVE
            and window.public_from is not None
            and (window.public_until is None or window.public_until >= ctx.today)
        ):
            published.append(key)
        old = existing.get(key)
        if old is None:
            inserts.append(
                {
                    "natural_key": key,
                    "item_code": item.code,
                    "provider_code": batch.provider_code,
                    "version": 1,
                    "created_at": now,
                    **current,
                }
            )
            batch.accepted += 1
        elif old.content_hash == entry.digest:
            batch.unchanged += 1
            continue
        else:
            current["status"] = lifecycle.status_of_new_version(old.status, current["status"])
            lifecycle.archive_current(session, old.id, batch.id, now)
            session.execute(
                update(Record).where(Record.id == old.id).values(version=old.version + 1, **current)
            )
            batch.updated += 1
        if item.code == "DJ":
            subjects.update_registration(session, subject_id, values)
    if inserts:
        bulk_insert(session, RECORDS_TABLE, inserts)
    if published:  # one INSERT … SELECT per chunk; reactions (repair notices…) consume it after commit
        lifecycle.emit_published(session, published)


def current_raw_digests(session: Session, digests: set[str]) -> dict[str, str]:
    """Those of `digests` that are the raw-row digest of a record's current version, with its natural key."""
    return lookup(session, Record.raw_digest, Record.natural_key, digests)


def _existing(session: Session, keys: set[str]) -> dict[str, Any]:
    """Existing records by natural key: light columns only (an unchanged row needs just its hash)."""
    out: dict[str, Any] = {}
    for condition in member_of(session, Record.natural_key, keys):
        rows = session.execute(
            select(Record.natural_key, Record.id, Record.version, Record.content_hash, Record.status).where(
                condition
            )
        )
        out.update((r.natural_key, r) for r in rows)
    return out
