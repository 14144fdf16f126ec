"""The reports API: issue a report, fetch its JSON and PDF, verify a PDF or a number with its code."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import PayloadTooLarge, ValidationFailed
from xinyong.reports import service, verification
from xinyong.reports.schemas import ReportIssued, ReportRequest, VerifyByCode
from xinyong.subjects import service as subjects
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(tags=["reports"], dependencies=[rate_limited("api")])


@router.post("/reports", response_model=ReportIssued)
def issue(
    body: ReportRequest,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authenticated")],
) -> ReportIssued:
    """Issue a standard or special credit report: free to the subject's own verified account at any time;
    government users state a purpose (audited). The report is frozen, signed and stored; fetch it by number."""
    subject = subjects.get_by_uscc(session, body.subject.uscc)
    report = service.issue(
        session,
        service.report_context(platform.settings, platform.catalog, platform.signer),
        principal,
        subject_id=subject.id,
        kind=body.kind,
        today=today,
        period=(body.period.from_, body.period.to) if body.period else None,
        fields=body.fields,
        purpose=body.purpose,
        ip=client_ip(request),
    )
    return ReportIssued(
        report_number=report.number,
        pdf_url=f"/api/v1/reports/{report.number}.pdf",
        json_url=f"/api/v1/reports/{report.number}",
        sha256=report.sha256,
    )


@router.get("/reports/{number}.pdf", response_class=Response)
def get_pdf(
    number: str,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authenticated")],
) -> Response:
    """The report's signed PDF, the same bytes every time (its subject or whoever issued it)."""
    report = service.get_for(session, principal, number, today)
    return Response(
        service.read_pdf(platform.settings.data_dir, report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.number}.pdf"'},
    )


@router.get("/reports/{number}")
def get_json(
    number: str,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authenticated")],
) -> Response:
    """The report's frozen content with its Ed25519 signature (over the canonical JSON of `payload`)."""
    report = service.get_for(session, principal, number, today)
    body = {
        "report_number": report.number,
        "payload": report.payload,
        "signature": report.signature,
        "key_id": report.key_id,
        "sha256": report.sha256,
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/reports/verify")
async def verify(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> dict[str, Any]:
    """Is a report genuine and unchanged? Send the PDF (multipart, field `file`), or JSON
    `{"report_number", "verification_code"}` as printed on it."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationFailed("须上传报告 PDF（字段 file）", code="reports.verify_input")
        data = await upload.read(verification.MAX_PDF_BYTES + 1)
        if len(data) > verification.MAX_PDF_BYTES:
            raise PayloadTooLarge("文件过大", code="reports.too_large")
        cert = service.certificate(platform.settings)
        verdict = await run_in_threadpool(verification.verify_pdf, session, data, platform.signer, cert)
        return verdict.as_dict()
    try:
        query = VerifyByCode.model_validate_json(await request.body())
    except ValidationError:
        raise ValidationFailed(
            "须提供 report_number 和 verification_code，或上传 PDF", code="reports.verify_input"
        ) from None
    return verification.verify_code(session, query.report_number, query.verification_code).as_dict()
