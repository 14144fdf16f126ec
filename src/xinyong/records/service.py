"""Ingestion (归集): one path for API, upload, CLI and demo. Validates, resolves, versions; loses no row.

Idempotent: re-sending a row changes nothing, a changed row makes a new version (the old one is kept), a
revocation (撤销) is a state. The caller owns the transaction; `on_chunk` lets it commit after each chunk,
so an interrupted ingest re-runs without duplicates (already stored rows come back `unchanged`). A batch killed
part-way is marked `interrupted` (`mark_interrupted`: its heartbeat stopped); a re-run of the same file
(`file_digest`) resumes it after the rows it stored, so its rejected rows are not stored twice.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import Table, and_, insert, or_, select, text, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal, allows, may_act_for_department
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
from xinyong.records import lifecycle, rules
from xinyong.records.models import Batch, Record, RecordStatus, RejectedRow, UnresolvedRow
from xinyong.records.schemas import Receipt, RejectedRowRead
from xinyong.subjects import service as subjects
from xinyong.subjects.rules import SubjectClaim

T = TypeVar("T")
RECEIPT_REJECTED_LIMIT = 1000
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
    batch = _resumable(session, item.code, provider_code, file_digest, take_over) if file_digest else None
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
    statistics = _Statistics(session)

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


INTERRUPTED_AFTER = dt.timedelta(minutes=5)
"""A running batch with no chunk stored for this long was interrupted (a chunk takes seconds)."""


def mark_interrupted(session: Session, now: dt.datetime, *, after: dt.timedelta = INTERRUPTED_AFTER) -> int:
    """Mark running batches whose heartbeat stopped `after` ago or more as interrupted; returns how many.
    Idempotent (run at start-up, by the daily job and before a file ingest)."""
    stale = now - after
    result = session.execute(
        update(Batch)
        .where(
            Batch.status == "running",
            or_(Batch.heartbeat_at < stale, and_(Batch.heartbeat_at.is_(None), Batch.started_at < stale)),
        )
        .values(status="interrupted", error="导入中断（进程被终止）；重新导入同一文件将从中断处继续")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_batch(session: Session, batch_id: str, status: str, error: str) -> None:
    """Mark a batch that stopped with an error (`failed`) or was stopped (`interrupted`), if still running."""
    session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == "running")
        .values(status=status, error=error[:2000], finished_at=dt.datetime.now(dt.UTC))
        .execution_options(synchronize_session=False)
    )


def _resumable(
    session: Session, item_code: str, provider_code: str, file_digest: str, take_over: bool
) -> Batch | None:
    statuses = ("interrupted", "running") if take_over else ("interrupted",)
    return session.scalars(
        select(Batch)
        .where(
            Batch.file_digest == file_digest,
            Batch.item_code == item_code,
            Batch.provider_code == provider_code,
            Batch.status.in_(statuses),
        )
        .order_by(Batch.started_at.desc())
        .limit(1)
    ).first()


def _counts(batch: Batch) -> dict[str, int]:
    return {
        "accepted": batch.accepted,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "queued": batch.queued,
    }


class _Statistics:
    """Keeps PostgreSQL's table statistics in step with a large ingest.

    The look-ups of each chunk (subjects by USCC, records by natural key or raw digest) are planned from
    the tables' statistics. A table that was small when last analysed looks small to the planner however
    many rows this ingest has added, and autovacuum (if it runs at all) waits its turn, so the planner keeps
    choosing sequential scans that grow with every chunk. ANALYZE (which samples a fixed number of rows and
    may run inside the transaction, counting its own new rows) is therefore run whenever the records
    table has grown by half since the last figures: a handful of times in a 1,000,000-row ingest.

    Only the columns those look-ups filter on are analysed (the row counts are updated all the same): all of
    the records' columns, the JSON documents among them, took 3.5 times as long, for statistics no look-up
    reads.
    """

    COLUMNS: ClassVar[dict[str, tuple[str, ...]]] = {
        "subjects": ("uscc", "org_code", "business_reg_no", "id_hash", "name_norm", "region_code"),
        "records": ("id", "natural_key", "raw_digest"),
    }
    MIN_GROWTH = 5000

    def __init__(self, session: Session) -> None:
        self.session = session
        self.enabled = session.get_bind().dialect.name == "postgresql"
        self.known = 0.0
        self.stored_at_last = 0
        if self.enabled:
            known = session.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'records' AND relkind = 'r'")
            ).scalar()
            self.known = max(float(known or 0), 0.0)

    def after_chunk(self, stored: int) -> None:
        grown = stored - self.stored_at_last
        if not self.enabled or grown < max(self.MIN_GROWTH, 0.5 * (self.known + self.stored_at_last)):
            return
        tables = ", ".join(f"{table} ({', '.join(columns)})" for table, columns in self.COLUMNS.items())
        self.session.execute(text(f"ANALYZE {tables}"))
        self.stored_at_last = stored


class _DatabaseThread:
    """Runs an ingest's database work on one thread, in the order it is submitted, while the calling thread
    reads and validates the next chunk.

    Validation is Python work; storing a chunk is largely waiting for the database (a COPY being indexed, the
    events' INSERT … SELECT, a commit), during which the interpreter lock is free. The session is used only
    by this thread between the first submission and `join`. After a failure here nothing more runs: every
    later piece of work fails with the same error, so no chunk is stored after one that failed. After a
    failure in the calling thread, `__exit__` still waits for the work submitted before it: every chunk
    handed over is stored, as it was before the next chunk was read when all of this ran on one thread.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xinyong-ingest")
        self._failure: BaseException | None = None

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        self._raise_failure()
        return self._executor.submit(contextvars.copy_context().run, self._guarded, fn, *args)

    def _guarded(self, fn: Callable[..., T], *args: Any) -> T:
        self._raise_failure()
        try:
            return fn(*args)
        except BaseException as exc:
            self._failure = exc
            raise

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def join(self) -> None:
        """Wait for everything submitted; raise the first failure."""
        self._executor.shutdown(wait=True)
        self._raise_failure()

    def __enter__(self) -> _DatabaseThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._executor.shutdown(wait=True)


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


def receipt(session: Session, batch: Batch) -> Receipt:
    rows = session.scalars(
        select(RejectedRow)
        .where(RejectedRow.batch_id == batch.id)
        .order_by(RejectedRow.row_number)
        .limit(RECEIPT_REJECTED_LIMIT)
    )
    return Receipt(
        batch_id=batch.id,
        item=batch.item_code,
        provider=batch.provider_code,
        status=batch.status,
        accepted=batch.accepted,
        updated=batch.updated,
        unchanged=batch.unchanged,
        rejected=batch.rejected,
        queued=batch.queued,
        rejected_rows=[RejectedRowRead(row=r.row_number, errors=r.errors) for r in rows],
    )


def get_batch(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("未找到该批次", code="batch.not_found")
    return batch


def rejected_report(session: Session, batch: Batch, cipher: PersonalIdCipher) -> Iterator[list[object]]:
    """Rows of the error report: the original columns (for the provider to correct) then the reasons."""
    rows = session.scalars(
        select(RejectedRow).where(RejectedRow.batch_id == batch.id).order_by(RejectedRow.row_number)
    )
    headers: list[str] | None = None
    for row in rows:
        if headers is None:
            headers = [h for h in row.raw if h not in ("__extra__", INVALID_CELLS)]
            yield ["行号", *headers, "错误字段", "错误代码", "错误说明"]
        clear = {h: cipher.decrypt(v) for h, v in (row.raw_sensitive or {}).items()}
        values = [clear.get(h, row.raw.get(h, "")) for h in headers]
        yield [
            row.row_number,
            *values,
            "；".join(e["field"] for e in row.errors),
            "；".join(e["code"] for e in row.errors),
            "；".join(e["message"] for e in row.errors),
        ]


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


def credit_file(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    today: dt.date,
    *,
    purpose: str | None = None,
    ip: str | None = None,
) -> tuple[Sequence[Record], str]:
    """The records of a subject this principal may see, and the view given: public, own or government.

    Government users see non-public data only when they state a purpose; every such read is audited.
    """
    from xinyong.records import repository

    if principal.subject_id is not None and principal.subject_id == subject_id:
        view, action = "own", "subject.view_own"
    elif allows(principal, "subjects:read_nonpublic") and purpose and purpose.strip():
        view, action = "government", "subject.view"
    else:
        return repository.records_of(session, subject_id, repository.public_filter(catalog, today)), "public"
    grants = accounts.granted_items(session, principal.department_code, today)
    condition = repository.visible_filter(principal, catalog, today, grants)
    records = repository.records_of(session, subject_id, condition)
    audit.record(
        session,
        principal,
        action,
        subject_id=subject_id,
        purpose=(purpose or "").strip() or None,
        ip=ip,
        details={"records": len(records)},
    )
    return records, view
