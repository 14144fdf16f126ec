"""Record submission and batch receipts (the API door of ingestion)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.audit import service as audit
from xinyong.kit.errors import Forbidden, ValidationFailed
from xinyong.kit.tabular import write_csv
from xinyong.records import batches, service
from xinyong.records.models import Batch
from xinyong.records.schemas import Receipt, RecordsSubmit
from xinyong.web import downloads
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(tags=["records"], dependencies=[rate_limited("api")])


def provider_for(principal: Principal, requested: str | None) -> str:
    """The department a submission is from: the caller's own, or any one for the credit office."""
    provider = requested or principal.department_code
    if not provider:
        raise ValidationFailed("缺少数据提供单位（provider）", code="records.provider_required")
    if not may_act_for_department(principal, provider):
        raise Forbidden("只能报送本部门的数据", code="records.other_department")
    return provider


def readable_batch(session: SessionDep, principal: Principal, batch_id: str) -> Batch:
    batch = batches.get_batch(session, batch_id)
    if not may_act_for_department(principal, batch.provider_code):
        raise Forbidden("只能查看本部门的批次", code="batch.other_department")
    return batch


@router.post("/records", response_model=Receipt)
def submit_records(
    body: RecordsSubmit,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("records:write")],
) -> Receipt:
    """Submit records of one catalog item; valid rows are stored, rejected rows come back with reasons."""
    provider = provider_for(principal, body.provider)
    receipt = service.ingest_json(
        session,
        platform.ingest_context(today),
        item_code=body.item.strip().upper(),
        provider_code=provider,
        records=body.records,
    )
    audit.record(
        session,
        principal,
        "records.ingest",
        target=receipt.batch_id,
        ip=client_ip(request),
        details={
            "item": receipt.item,
            "provider": provider,
            "accepted": receipt.accepted,
            "updated": receipt.updated,
            "unchanged": receipt.unchanged,
            "rejected": receipt.rejected,
            "queued": receipt.queued,
        },
    )
    return receipt


@router.get("/batches/{batch_id}", response_model=Receipt)
def get_batch(
    batch_id: str, session: SessionDep, principal: Annotated[Principal, require("batches:read")]
) -> Receipt:
    """Read the receipt of a submitted batch (own department only)."""
    return batches.receipt(session, readable_batch(session, principal, batch_id))


@router.get("/batches/{batch_id}/rejected.csv")
def rejected_report(
    batch_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("batches:read")],
) -> StreamingResponse:
    """Download the rejected rows of a batch with their reasons, ready to correct and resubmit."""
    batch = readable_batch(session, principal, batch_id)
    rows = list(batches.rejected_report(session, batch, platform.cipher))
    audit.record(
        session,
        principal,
        "batch.export_rejected",
        target=batch.id,
        ip=client_ip(request),
        details={"rows": max(0, len(rows) - 1)},
    )
    return StreamingResponse(
        write_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": downloads.content_disposition(f"rejected-{batch.id}.csv")},
    )


@router.get("/departments")
def list_departments(
    session: SessionDep, principal: Annotated[Principal, require("public")]
) -> list[dict[str, str | None]]:
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
