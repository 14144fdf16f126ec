"""Record submission and batch receipts (the API door of ingestion)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from xinyong.accounts import service as accounts
from xinyong.kit.errors import ValidationFailed
from xinyong.kit.tabular import write_csv
from xinyong.records import service
from xinyong.records.schemas import Receipt, RecordsSubmit
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep

router = APIRouter(tags=["records"])


@router.post("/records", response_model=Receipt)
def submit_records(
    body: RecordsSubmit, session: SessionDep, platform: PlatformDep, today: TodayDep
) -> Receipt:
    """Submit records of one catalog item; valid rows are stored, rejected rows come back with reasons."""
    if not body.provider:
        raise ValidationFailed("缺少数据提供单位（provider）", code="records.provider_required")
    return service.ingest_json(
        session,
        platform.ingest_context(today),
        item_code=body.item.strip().upper(),
        provider_code=body.provider,
        records=body.records,
    )


@router.get("/batches/{batch_id}", response_model=Receipt)
def get_batch(batch_id: str, session: SessionDep) -> Receipt:
    """Read the receipt of a submitted batch."""
    return service.receipt(session, service.get_batch(session, batch_id))


@router.get("/batches/{batch_id}/rejected.csv")
def rejected_report(batch_id: str, session: SessionDep, platform: PlatformDep) -> StreamingResponse:
    """Download the rejected rows of a batch with their reasons, ready to correct and resubmit."""
    batch = service.get_batch(session, batch_id)
    rows = list(service.rejected_report(session, batch, platform.cipher))
    return StreamingResponse(
        write_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rejected-{batch.id}.csv"'},
    )


@router.get("/departments")
def list_departments(session: SessionDep) -> list[dict[str, str | None]]:
    """List the provider departments."""
    return [
        {
            "code": d.code,
            "name": d.name,
            "uscc": d.uscc,
            "region_code": d.region_code,
            "parent_code": d.parent_code,
        }
        for d in accounts.list_departments(session)
    ]
