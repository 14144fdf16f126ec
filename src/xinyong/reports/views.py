"""The portal's report pages: verification (/reports/verify), where anyone checks a report by its PDF or by
the number and verification code printed on it, and a subject's own reports (/account/reports): issued free,
any time, standard or special, downloaded again as the same bytes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import ValidationFailed
from xinyong.reports import content, service, verification
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[rate_limited("search")])


@router.get("/reports/verify", response_class=HTMLResponse)
def verify_page(
    request: Request,
    principal: Annotated[Principal, require("public")],
    number: Annotated[str, Query(max_length=24)] = "",
) -> HTMLResponse:
    return render(request, "reports/verify.html", {"number": number, "verdict": None})


@router.post("/reports/verify", response_class=HTMLResponse)
async def verify_submit(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
    _csrf: CsrfDep,
    number: Annotated[str, Form(max_length=24)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    if file is not None and file.filename:
        data = await file.read(verification.MAX_PDF_BYTES + 1)
        cert = service.certificate(platform.settings)
        # pyHanko's validation runs its own event loop: off this one.
        verdict = await run_in_threadpool(verification.verify_pdf, session, data, platform.signer, cert)
    elif number and code:
        verdict = verification.verify_code(session, number, code)
    else:
        verdict = verification.Verdict(False, False, "请上传报告 PDF，或填写报告编号和验证码", None, None)
    return render(request, "reports/verify.html", {"number": number, "verdict": verdict})


def _own_page(
    request: Request, session: SessionDep, principal: Principal, error: str | None = None, status: int = 200
) -> HTMLResponse:
    assert principal.subject_id is not None
    return render(
        request,
        "reports/account_reports.html",
        {
            "reports": service.of_subject(session, principal.subject_id),
            "fields": content.special_spec().fields,
            "error": error,
        },
        status_code=status,
    )


@router.get("/account/reports", response_class=HTMLResponse)
def own_reports(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("account:own")]
) -> HTMLResponse:
    """The subject's reports: issue one (free, any time) and download those issued about it."""
    return _own_page(request, session, principal)


@router.post("/account/reports", response_model=None)
def issue_own(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    kind: Annotated[str, Form(max_length=16)] = "standard",
    fields: Annotated[list[str] | None, Form()] = None,
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    assert principal.subject_id is not None
    try:
        period = (dt.date.fromisoformat(start), dt.date.fromisoformat(end)) if start and end else None
    except ValueError:
        return _own_page(request, session, principal, "查询期日期格式不正确", 422)
    try:
        report = service.issue(
            session,
            service.report_context(platform.settings, platform.catalog, platform.signer),
            principal,
            subject_id=principal.subject_id,
            kind=kind,
            today=today,
            period=period,
            fields=(fields or [])[:40],
            ip=client_ip(request),
        )
    except ValidationFailed as exc:
        return _own_page(request, session, principal, exc.message, 422)
    return RedirectResponse(f"/account/reports/{report.number}.pdf", status_code=303)


@router.get("/account/reports/{number}.pdf", response_class=Response)
def own_pdf(
    number: str,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("account:own")],
) -> Response:
    report = service.get_for(session, principal, number)
    return Response(
        service.read_pdf(platform.settings.data_dir, report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.number}.pdf"'},
    )
