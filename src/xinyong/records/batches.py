"""Ingest batches (批次): receipts, the error report, interrupted and failed batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TypeVar

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import NotFound
from xinyong.kit.tabular import INVALID_CELLS
from xinyong.records.models import Batch, RejectedRow
from xinyong.records.schemas import Receipt, RejectedRowRead

T = TypeVar("T")

RECEIPT_REJECTED_LIMIT = 1000


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


def resumable(
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
