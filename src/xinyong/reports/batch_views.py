"""Console pages of a department's batch of credit reports (批量出具信用报告): upload an XLSX or CSV of USCCs
with a purpose, follow the batch's progress (the page reloads itself while it runs), read the rows that failed,
download the ZIP once done (that department only), and carry on an interrupted batch."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.kit.errors import PayloadTooLarge, XinyongError
from xinyong.platform import Platform
from xinyong.reports import batches, content, service
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
ISSUE = "subjects:read_nonpublic"  # a government desk that may read non-public files issues reports of others
REFRESH_SECONDS = 3


def _start(platform: Platform, principal: Principal, batch: batches.Batch) -> None:
    context = service.report_context(platform.settings, platform.catalog, platform.signer)
    batches.start(platform.sessions, context, principal, batch)


def _list_page(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    listed = (
        batches.of_department(platform.settings.data_dir, principal.department_code)
        if principal.department_code
        else []
    )
    return render(
        request,
        "reports/console_batches.html",
        {
            "batches": listed,
            "people": people.labels(session, [b.created_by for b in listed], with_department=False),
            "fields": content.special_spec().fields,
            "max_codes": batches.MAX_CODES,
            "error": error,
        },
        status_code=status,
    )


@router.get("/console/reports", response_class=HTMLResponse)
def batches_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require(ISSUE)],
) -> HTMLResponse:
    return _list_page(request, session, platform, principal)


@router.post("/console/reports/batches", response_model=None)
async def submit_batch(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require(ISSUE)],
    _csrf: CsrfDep,
    purpose: Annotated[str, Form(max_length=200)],
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=16)] = "standard",
    fields: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Read the codes, record the batch and start its worker; then show its progress page."""
    data = await file.read(batches.MAX_UPLOAD_BYTES + 1)
    try:
        if len(data) > batches.MAX_UPLOAD_BYTES:
            raise PayloadTooLarge("文件过大（最多 5 MB）", code="reports.batch_file_too_large")
        upload = batches.read_upload(io.BytesIO(data), file.filename or "codes.xlsx")
        batch = batches.create(
            platform.settings.data_dir,
            principal,
            upload,
            purpose=purpose,
            kind=kind,
            fields=(fields or [])[:40],
            today=today,
            filename=file.filename or "",
        )
    except XinyongError as exc:
        return _list_page(request, session, platform, principal, exc.message, exc.status_code)
    _start(platform, principal, batch)
    return RedirectResponse(f"/console/reports/batches/{batch.id}", status_code=303)


@router.get("/console/reports/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    batch_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require(ISSUE)],
) -> HTMLResponse:
    data_dir = platform.settings.data_dir
    batch = batches.get(data_dir, principal, batch_id)
    return render(
        request,
        "reports/console_batch.html",
        {
            "batch": batch,
            "submitter": people.labels(session, [batch.created_by]).get(batch.created_by, batch.created_by),
            "failures": batches.failures(data_dir, batch.id),
            "ready": batches.zip_path(data_dir, batch) is not None,
            "refresh": REFRESH_SECONDS if batch.status == "running" else None,
            "field_titles": "、".join(
                f.title for f in content.special_spec().fields if f.code in batch.fields
            ),
        },
    )


@router.post("/console/reports/batches/{batch_id}/resume", response_model=None)
def resume_batch(
    batch_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, require(ISSUE)],
    _csrf: CsrfDep,
) -> Response:
    """Carry on an interrupted batch from its first row without a result."""
    batch = batches.resume(platform.settings.data_dir, principal, batch_id)
    _start(platform, principal, batch)
    return RedirectResponse(f"/console/reports/batches/{batch.id}", status_code=303)


@router.get("/console/reports/batches/{batch_id}/reports.zip")
def batch_zip(
    batch_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require(ISSUE)],
) -> Response:
    """The finished batch's reports and receipt, for the department that issued them (audited)."""
    batch, path = batches.finished_zip(platform.settings.data_dir, principal, batch_id)
    audit.record(
        session,
        principal,
        "report.batch_download",
        target=f"report_batch:{batch.id}",
        purpose=batch.purpose,
        ip=client_ip(request),
        details={"issued": batch.issued, "failed": batch.failed},
    )
    return FileResponse(
        path,
        media_type="application/zip",
        headers={
            "Content-Disposition": downloads.content_disposition(
                f"信用报告-{batch.as_of}-{batch.id[:8]}.zip"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
