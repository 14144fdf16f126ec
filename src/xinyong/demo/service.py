"""Seeding the demo Sichuan through the same ingestion path as real departments."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.demo import generator
from xinyong.kit.errors import Conflict
from xinyong.kit.tabular import Row
from xinyong.records import service as records
from xinyong.records.models import Batch, Record
from xinyong.records.schemas import Receipt


def is_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Record.id))))


def seed_departments(session: Session) -> int:
    """Register the demo departments that are not there yet (idempotent)."""
    added = 0
    for d in generator.departments():
        try:
            accounts.get_department(session, d.code)
        except Exception:
            try:
                accounts.add_department(
                    session,
                    code=d.code,
                    name=d.name,
                    uscc=d.uscc,
                    region_code=d.region_code,
                    parent_code=d.parent_code,
                )
                added += 1
            except Conflict:
                continue
    return added


def seed(
    session: Session,
    ctx: records.IngestContext,
    *,
    scale: float,
    on_batch: Callable[[generator.DemoBatch, Receipt], None] | None = None,
) -> list[Receipt]:
    """Load the synthetic data set batch by batch through ingestion (idempotent: a re-run changes nothing)."""
    seed_departments(session)
    receipts = []
    for batch in generator.batches(scale, today=ctx.today):
        rows = (Row(number, values) for number, values in enumerate(batch.rows, start=2))
        receipt = records.ingest(
            session,
            ctx,
            item_code=batch.item_code,
            provider_code=batch.provider_code,
            rows=rows,
            source="demo",
            filename=batch.filename,
            chunk_size=len(batch.rows) + 1,
        )
        receipts.append(receipt)
        if on_batch is not None:
            on_batch(batch, receipt)
    return receipts


def demo_batches(session: Session) -> int:
    return int(session.scalar(select(func.count(Batch.id)).where(Batch.source == "demo")) or 0)
