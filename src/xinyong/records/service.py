"""Ingestion (归集): one path for API, upload, CLI and demo. Validates, resolves, versions; loses no row.

Idempotent: re-sending a row changes nothing, a changed row makes a new version (the old one is kept), a
revocation (撤销) is a state. The caller owns the transaction; `on_chunk` lets it commit after each chunk,
so an interrupted ingest re-runs without duplicates (already stored rows come back `unchanged`). A batch killed
part-way is marked `interrupted` (`mark_interrupted`: its heartbeat stopped); a re-run of the same file
(`file_digest`) resumes it after the rows it stored, so its rejected rows are not stored twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.audit import service as audit
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import Catalog, CatalogItem
from xinyong.db.bulk import bulk_insert, lookup, member_of
from xinyong.disclosure import rules as disclosure
from xinyong.disclosure.rules import RuleSet
from xinyong.kit import hygiene
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids, mask_resident_id
from xinyong.kit.tabular import INVALID_CELLS, Row
from xinyong.records import batches, lifecycle, rules
from xinyong.records.batches import (
    INTERRUPTED_AFTER,
    RECEIPT_REJECTED_LIMIT,
    end_batch,
    get_batch,
    mark_interrupted,
    receipt,
    rejected_report,
)
from xinyong.records.credit_file import credit_file
from xinyong.records.ingest_runtime import DatabaseThread as _DatabaseThread
from xinyong.records.ingest_runtime import Statistics
from xinyong.records.models import Batch, Record, RecordStatus, RejectedRow, UnresolvedRow
from xinyong.records.schemas import Receipt
from xinyong.subjects import service as subjects
from xinyong.subjects.rules import SubjectClaim

__all__ = [  # batches and the credit file live in their own modules; named here for the callers
    "INTERRUPTED_AFTER",
    "RECEIPT_REJECTED_LIMIT",
    "IngestContext",
    "credit_file",
    "end_batch",
    "get_batch",
    "ingest",
    "ingest_json",
    "mark_interrupted",
    "receipt",
    "rejected_report",
    "resolve_unresolved",
]

T = TypeVar("T")
RECORDS_TABLE = cast(Table, Record.__table__)
REJECTED_TABLE = cast(Table, RejectedRow.__table__)


@dataclass(frozen=True)
class IngestContext:
    """What ingestion needs besides the session: the catalog, rule sets, the ID cipher and today's date."""

    catalog: Catalog
    rule_sets: list[RuleSet]
    cipher: PersonalIdCipher
    today: dt.date
    # Windows already worked out in this ingest, by their inputs: a file repeats the same few thousand
    # (decision date, severity) pairs.
    windows: dict[tuple[Any, ...], disclosure.Window] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class _Valid:
    row_number: int
    result: rules.RowResult
    key: str
    digest: str
    raw_digest: str | None = None  # of the submitted row (`rules.raw_row`), when it came from one


def ingest(
    session: Session,
    ctx: IngestContext,
    *,
    item_code: str,
    provider_code: str,
    rows: Iterable[Row],
    source: str,
    filename: str | None = None,
    chunk_size: int = 5000,
    on_chunk: Callable[[Batch], None] | None = None,
    file_digest: str | None = None,
    take_over: bool = False,
    audit_as: Principal | None = None,
) -> Receipt:
    """Ingest rows of one item from one provider and return the receipt.

    Chunks are stored on a thread of the ingest's own while the next one is validated (`_DatabaseThread`);
    `on_chunk` runs there too, after each chunk is stored, and may commit the session. With `audit_as`, each
    chunk is audited as it is stored (in the chunk's transaction: a committed chunk has its audit entry).
    With `file_digest`, an interrupted batch of the same file, item and provider (with `take_over`, also one
    still marked running) is resumed after the rows it already read."""
    item = catalog_service.get_item(ctx.catalog, item_code)
    accounts.get_department(session, provider_code)
    catalog_service.require_provider(item, provider_code)
    now = dt.datetime.now(dt.UTC)
    batch = (
        batches.resumable(session, item.code, provider_code, file_digest, take_over) if file_digest else None
    )
    skip = 0
    if batch is not None:
        skip, batch.status, batch.error, batch.heartbeat_at = batch.rows_read, "running", None, now
    else:
        batch = Batch(
            id=uuid.uuid4().hex,
            item_code=item.code,
            provider_code=provider_code,
            source=source,
            filename=filename,
            catalog_version=ctx.catalog.version,
            file_digest=file_digest,
            heartbeat_at=now,
        )
        session.add(batch)
    session.flush()
    statistics = Statistics(session)

    def store(rows_read: int, chunk: _Checked) -> None:
        before = _counts(batch)
        _store_chunk(session, ctx, item, batch, chunk)
        batch.rows_read += rows_read
        batch.heartbeat_at = dt.datetime.now(dt.UTC)
        session.flush()
        statistics.after_chunk(batch.accepted + batch.updated)
        if audit_as is not None:
            counts = {k: v - before[k] for k, v in _counts(batch).items()}
            rows = [batch.rows_read - rows_read + 1, batch.rows_read]
            audit.record(
                session, audit_as, "records.ingest_chunk", target=batch.id, details={"rows": rows, **counts}
            )
        if on_chunk is not None:
            on_chunk(batch)

    with _DatabaseThread() as database:

        def known(digests: set[str]) -> Future[dict[str, str]]:
            return database.submit(_current_raw_digests, session, digests)

        remaining = iter(rows)
        if skip:  # resumed: the rows the interrupted run read are stored (or rejected) already
            next(islice(remaining, skip - 1, skip), None)
        for rows_read, chunk in _checked_chunks(ctx, item, provider_code, remaining, chunk_size, known):
            database.submit(store, rows_read, chunk)
        database.join()
    batch.status = "done"
    batch.finished_at = dt.datetime.now(dt.UTC)
    session.flush()
    return receipt(session, batch)


def _counts(batch: Batch) -> dict[str, int]:
    return {
        "accepted": batch.accepted,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "queued": batch.queued,
    }


def ingest_json(
    session: Session, ctx: IngestContext, *, item_code: str, provider_code: str, records: list[dict[str, Any]]
) -> Receipt:
    """The API door: rows are numbered from 1 in the order sent. Field names vary per row, so each row maps."""
    item = catalog_service.get_item(ctx.catalog, item_code)
    headers: list[str] = []
    for record in records:
        headers.extend(k for k in record if k not in headers)
    rows = (Row(i, {h: r.get(h) for h in headers}) for i, r in enumerate(records, start=1))
    return ingest(session, ctx, item_code=item.code, provider_code=provider_code, rows=rows, source="api")


def _mask_raw(
    item: CatalogItem, header_map: rules.HeaderMap, raw: dict[str, Any], cipher: PersonalIdCipher
) -> tuple[dict[str, Any], dict[str, str] | None]:
    masked: dict[str, Any] = {}
    secret: dict[str, str] = {}
    for header, value in raw.items():
        spec = item.field(header_map.mapping.get(header, ""))
        text = "" if value is None else str(value) if not isinstance(value, dt.date) else value.isoformat()
        if spec is not None and spec.sensitive and text.strip():
            secret[header] = cipher.encrypt(text)
            masked[header] = mask_resident_id(text.strip())
            continue
        text = text[: rules.MAX_CELL_CHARS]
        # A personal ID in the wrong column or in free text is personal data all the same.
        hidden, found = mask_embedded_ids(text)
        if found:
            secret[header] = cipher.encrypt(text)
        masked[header] = hidden
    return masked, secret or None


@dataclass(slots=True)
class _Checked:
    """A validated chunk: what the database part needs, worked out without it."""

    valid: list[_Valid]
    rejected: list[dict[str, Any]]
    unchanged: int = 0  # rows sent again exactly as the current version of their record was made from


def _checked_chunks(
    ctx: IngestContext,
    item: CatalogItem,
    provider_code: str,
    rows: Iterator[Row],
    chunk_size: int,
    known: Callable[[set[str]], Future[dict[str, str]]],
) -> Iterator[tuple[int, _Checked]]:
    """Read and validate chunk by chunk, yielding each chunk's row count and result.

    The one database question, which of a chunk's raw-row digests are those of current records (`known`), is
    asked one chunk ahead: as soon as the chunk is read, before the chunk before it is validated and handed
    over to be stored. The database thread answers it between two stores, so the answer is there when this
    thread needs it; it does not yet show what the chunk before stores, which `_check_chunk` allows for."""
    chunk = list(islice(rows, chunk_size))
    if not chunk:
        return
    header_map = rules.HeaderMap(item, list(chunk[0].values))
    if header_map.missing_required:
        labels = [item.field(n).label for n in header_map.missing_required]  # type: ignore[union-attr]
        raise ValidationFailed(
            f"文件缺少必填列：{'、'.join(labels)}",
            code="file.missing_columns",
            details={"missing": header_map.missing_required, "unknown_headers": header_map.unknown},
        )

    def ask(chunk: list[Row]) -> tuple[list[Row], list[str], Future[dict[str, str]]]:
        digests = [
            ctx.cipher.digest(rules.raw_row(version, item.code, provider_code, r.values)) for r in chunk
        ]
        return chunk, digests, known(set(digests))

    version = ctx.catalog.version
    asked: tuple[list[Row], list[str], Future[dict[str, str]]] | None = ask(chunk)
    in_flight: set[str] = set()  # natural keys the chunk before may change: not yet stored when asked
    failure: Exception | None = None
    while asked is not None:
        chunk, digests, answer = asked
        try:
            following = list(islice(rows, chunk_size))
        except Exception as exc:  # the file fails further on: the chunk in hand is still checked and stored
            failure, following = exc, []
        asked = ask(following) if following else None
        checked = _check_chunk(
            ctx, item, provider_code, header_map, chunk, digests, answer.result(), in_flight
        )
        in_flight = {v.key for v in checked.valid}
        yield len(chunk), checked
    if failure is not None:
        raise failure


def _check_chunk(
    ctx: IngestContext,
    item: CatalogItem,
    provider_code: str,
    header_map: rules.HeaderMap,
    chunk: list[Row],
    raw_digests: list[str],
    current: dict[str, str],
    in_flight: set[str],
) -> _Checked:
    """Validate the chunk's rows, except those sent before exactly as their record's current version was made
    from (daily full files): those are counted unchanged without being validated, hashed or resolved again.
    `current` maps those of the chunk's raw-row digests that were current when asked to their records' natural
    keys; `in_flight` holds the keys the chunk before may change, which the answer does not show yet."""
    checked = _Checked(valid=[], rejected=[])
    set_aside: list[tuple[Row, str, str]] = []
    for row, raw_digest in zip(chunk, raw_digests, strict=True):
        key = current.get(raw_digest)
        if key is None:
            _check_row(ctx, item, provider_code, header_map, row, raw_digest, checked)
        else:
            set_aside.append((row, raw_digest, key))
    # Another row of this chunk, or of the chunk before (not yet stored when `current` was asked), changes the
    # same record: file order decides between them (`_store` keeps the last row of each record), so the
    # set-aside row takes the full path too.
    changed = in_flight | {v.key for v in checked.valid}
    again = [(row, raw_digest) for row, raw_digest, key in set_aside if key in changed]
    for row, raw_digest in again:
        _check_row(ctx, item, provider_code, header_map, row, raw_digest, checked)
    if again:
        checked.valid.sort(key=lambda v: v.row_number)
        checked.rejected.sort(key=lambda r: r["row_number"])
    checked.unchanged = len(set_aside) - len(again)
    return checked


def _check_row(
    ctx: IngestContext,
    item: CatalogItem,
    provider_code: str,
    header_map: rules.HeaderMap,
    row: Row,
    raw_digest: str,
    checked: _Checked,
) -> None:
    result = rules.validate_row(item, header_map.apply(row.values), today=ctx.today)
    if "__extra__" in row.values:
        result.errors.append(rules.FieldError("", "file.extra_cells", "该行单元格数多于表头列数"))
    for column in row.values.get(INVALID_CELLS, ()):  # replaced by U+FFFD when read (kit.tabular)
        result.errors.append(rules.FieldError(column, hygiene.CODE, hygiene.CELL_MESSAGE))
    if result.ok:
        hash_id = ctx.cipher.hash
        key = rules.natural_key(item, provider_code, result, hash_id)
        checked.valid.append(_Valid(row.number, result, key, rules.content_hash(result, hash_id), raw_digest))
        return
    masked, secret = _mask_raw(item, header_map, row.values, ctx.cipher)
    checked.rejected.append(
        {
            "row_number": row.number,
            "errors": [e.as_dict() for e in result.errors],
            "raw": masked,
            "raw_sensitive": secret,
        }
    )


def _store_chunk(
    session: Session, ctx: IngestContext, item: CatalogItem, batch: Batch, chunk: _Checked
) -> None:
    valid = chunk.valid
    batch.unchanged += chunk.unchanged
    if chunk.rejected:
        bulk_insert(session, REJECTED_TABLE, [{"batch_id": batch.id, **r} for r in chunk.rejected])
        batch.rejected += len(chunk.rejected)

    resolutions = subjects.resolve(session, [v.result.subject for v in valid], ctx.cipher)  # type: ignore[misc]
    resolved: list[tuple[_Valid, int]] = []
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
    _store(session, ctx, item, batch, resolved)


def _encrypt(sensitive: dict[str, str], cipher: PersonalIdCipher) -> dict[str, str] | None:
    return {k: cipher.encrypt(v) for k, v in sensitive.items()} or None


def _window(ctx: IngestContext, item: CatalogItem, values: dict[str, Any]) -> disclosure.Window:
    return lifecycle.publicity_window(item, values, ctx.rule_sets, ctx.windows)


def _store(
    session: Session, ctx: IngestContext, item: CatalogItem, batch: Batch, resolved: list[tuple[_Valid, int]]
) -> None:
    """Insert new records, version changed ones, count unchanged ones. Duplicates inside the chunk collapse."""
    latest: dict[str, tuple[_Valid, int]] = {}
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


def _current_raw_digests(session: Session, digests: set[str]) -> dict[str, str]:
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


def resolve_unresolved(
    session: Session,
    ctx: IngestContext,
    row_id: int,
    subject_uscc: str,
    *,
    principal: Principal | None = None,
) -> Receipt:
    """A reviewer attaches a queued row to the subject it is about; the row is then stored as a record."""
    row = session.get(UnresolvedRow, row_id)
    if row is None or row.status != "open":
        raise NotFound("未找到待处理的记录", code="review.not_found")
    if principal is not None and not may_act_for_department(principal, row.provider_code):
        raise Forbidden("只能处理本部门报送的记录", code="review.other_department")
    subject = subjects.get_by_uscc(session, subject_uscc)
    item = catalog_service.get_item(ctx.catalog, row.item_code)
    batch = session.get(Batch, row.batch_id)
    assert batch is not None
    result = rules.RowResult(values=dict(row.fields))
    result.sensitive = {k: ctx.cipher.decrypt(v) for k, v in (row.sensitive or {}).items()}
    result.subject = SubjectClaim(
        kind=subject.kind,
        name=row.subject_name,
        name_norm=subject.name_norm,
        region_code=row.region_code,
        uscc=subject.uscc,
    )
    key = rules.natural_key(item, row.provider_code, result, ctx.cipher.hash)
    entry = _Valid(row.row_number, result, key, rules.content_hash(result, ctx.cipher.hash))
    review_batch = Batch(
        id=uuid.uuid4().hex,
        item_code=item.code,
        provider_code=row.provider_code,
        source="review",
        filename=f"review:{row.id}",
        catalog_version=ctx.catalog.version,
        rows_read=1,
    )
    session.add(review_batch)
    session.flush()
    _store(session, ctx, item, review_batch, [(entry, subject.id)])
    row.status = "resolved"
    row.resolved_subject_id = subject.id
    row.resolved_at = dt.datetime.now(dt.UTC)
    review_batch.status = "done"
    review_batch.finished_at = row.resolved_at
    session.flush()
    return receipt(session, review_batch)
