"""The portal's report verification page (/reports/verify): anyone checks a report by its PDF or by the
number and verification code printed on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.reports import service
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep
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
        data = await file.read(service.MAX_PDF_BYTES + 1)
        verdict = service.verify_pdf(session, data, platform.signer, service.certificate(platform.settings))
    elif number and code:
        verdict = service.verify_code(session, number, code)
    else:
        verdict = service.Verdict(False, False, "请上传报告 PDF，或填写报告编号和验证码", None, None)
    return render(request, "reports/verify.html", {"number": number, "verdict": verdict})
