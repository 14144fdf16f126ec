"""Ingestion (归集): one path for API, upload, CLI and demo. Validates, resolves, versions; loses no row.

Idempotent: re-sending a row changes nothing, a changed row makes a new version (the old one is kept), a
revocation (撤销) is a state. The caller owns the transaction; `on_chunk` lets it commit after each chunk,
so an interrupted ingest re-runs without duplicates (already stored rows come back `unchanged`). A batch killed
part-way is marked `interrupted` (`mark_interrupted`: its heartbeat stopped); a re-run of the same file
(`file_digest`) resumes it after the rows it stored, so its rejected rows are not stored twice.

The entry points are here (`ingest`, `ingest_json`, `resolve_unresolved`); a chunk is checked in
`ingest_checks` and stored in `ingest_store`, batches and receipts are `batches`, the credit file `credit_file`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.audit import service as audit
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import Catalog
from xinyong.disclosure import rules as disclosure
from xinyong.disclosure.rules import RuleSet
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import Forbidden, NotFound
from xinyong.kit.tabular import Row
from xinyong.records import batches, ingest_checks, ingest_store, rules
from xinyong.records.batches import receipt
from xinyong.records.ingest_runtime import DatabaseThread as _DatabaseThread
from xinyong.records.ingest_runtime import Statistics
from xinyong.records.models import Batch, UnresolvedRow
from xinyong.records.schemas import Receipt
from xinyong.subjects import service as subjects
from xinyong.subjects.rules import SubjectClaim


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

    def store(rows_read: int, chunk: ingest_checks.Checked) -> None:
        before = _counts(batch)
        ingest_store.store_chunk(session, ctx, item, batch, chunk)
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
            return database.submit(ingest_store.current_raw_digests, session, digests)

        remaining = iter(rows)
        if skip:  # resumed: the rows the interrupted run read are stored (or rejected) already
            next(islice(remaining, skip - 1, skip), None)
        for rows_read, chunk in ingest_checks.checked_chunks(
            ctx, item, provider_code, remaining, chunk_size, known
        ):
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
    entry = ingest_checks.Valid(row.row_number, result, key, rules.content_hash(result, ctx.cipher.hash))
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
    ingest_store.store(session, ctx, item, review_batch, [(entry, subject.id)])
    row.status = "resolved"
    row.resolved_subject_id = subject.id
    row.resolved_at = dt.datetime.now(dt.UTC)
    review_batch.status = "done"
    review_batch.finished_at = row.resolved_at
    session.flush()
    return receipt(session, review_batch)
