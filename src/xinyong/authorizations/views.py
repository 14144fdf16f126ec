"""Authorisation pages: the subject's /account/authorizations (grant, list by state, revoke) and the
organisation's /account/authorized (subjects that authorised it: their files, their credit reports)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.authorizations import rules, service
from xinyong.creditfile import rules as file_rules
from xinyong.creditfile import service as credit_files
from xinyong.kit.dates import format_china_date
from xinyong.kit.errors import NotFound, XinyongError
from xinyong.reports import service as reports
from xinyong.subjects import service as subjects
from xinyong.web import flash
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

OWN = "/account/authorizations"
GRANTED = "/account/authorized"


def _page(request: Request, name: str, context: dict[str, object]) -> HTMLResponse:
    response = render(request, name, {**context, "flash": flash.take(request)})
    flash.clear(request, response)
    return response


@router.get(OWN, response_class=HTMLResponse)
def own_authorizations(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """The subject's authorisations: a form to grant one, and every one it gave, active, revoked or expired."""
    assert principal.subject_id is not None
    shown = service.views(session, service.of_subject(session, principal.subject_id), today)
    return _page(
        request,
        "authorizations/own.html",
        {
            "groups": [
                (label, [a for a in shown if a.state == code]) for code, label in rules.STATE_LABELS.items()
            ],
            "purposes": service.purpose_kinds().purposes,
            "scope_labels": rules.SCOPE_LABELS,
            "today": today,
            "latest": rules.latest_end(today),
            "personal": subjects.get(session, principal.subject_id).kind == "natural_person",
        },
    )


@router.post(OWN)
def grant(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    organization: Annotated[str, Form(max_length=40)] = "",
    purpose_kind: Annotated[str, Form(max_length=32)] = "",
    purpose: Annotated[str, Form(max_length=1000)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Grant an authorisation; a refusal returns to the page with its reason."""
    try:
        until = dt.date.fromisoformat(valid_until)
    except ValueError:
        return flash.redirect(
            request, OWN, "请填写授权截止日期", ok=False, code="authorizations.date_required"
        )
    try:
        granted = service.grant(
            session,
            platform.context(principal, today, ip=client_ip(request)),
            organization_uscc=organization,
            scopes=(scopes or [])[:4],
            purpose_kind=purpose_kind,
            purpose=purpose,
            valid_until=until,
        )
    except XinyongError as exc:
        return flash.redirect(request, OWN, f"授权未成功：{exc.message}", ok=False, code=exc.code)
    shown = service.views(session, [granted], today)[0]
    return flash.redirect(
        request, OWN, f"已授权{shown.organization_name}，至{format_china_date(until)}止。", ok=True
    )


@router.post(OWN + "/{authorization_id}/revoke")
def revoke(
    authorization_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
) -> Response:
    """Revoke an authorisation at once: the organisation reads nothing more under it."""
    try:
        service.revoke(session, platform.context(principal, today, ip=client_ip(request)), authorization_id)
    except XinyongError as exc:
        return flash.redirect(request, OWN, f"撤销未成功：{exc.message}", ok=False, code=exc.code)
    return flash.redirect(request, OWN, "授权已撤销，被授权机构即时失去查询权限。", ok=True)


@router.get(GRANTED, response_class=HTMLResponse)
def authorized(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authorizations:use")],
) -> HTMLResponse:
    """The subjects that authorised this organisation, with scopes and last days; links to what is allowed."""
    organization = None
    shown: list[service.AuthorizationView] = []
    if principal.organization_id is not None:
        organization = subjects.get(session, principal.organization_id)
        shown = service.views(session, service.granted_to(session, principal.organization_id), today)
    return _page(
        request,
        "authorizations/granted.html",
        {
            "organization": organization,
            "active": [a for a in shown if a.state == rules.ACTIVE],
            "past": [a for a in shown if a.state != rules.ACTIVE],
            "FILE_READ": rules.FILE_READ,
            "REPORTS_ISSUE": rules.REPORTS_ISSUE,
        },
    )


def _granted(session: SessionDep, principal: Principal, authorization_id: int) -> service.Authorization:
    """One of this organisation's authorisations (any state); another's does not exist for it."""
    found = next(
        (a for a in service.granted_to(session, principal.organization_id or 0) if a.id == authorization_id),
        None,
    )
    if found is None:
        raise NotFound("授权不存在", code="authorizations.not_found")
    return found


@router.get(GRANTED + "/{authorization_id}/file", response_class=HTMLResponse)
def authorized_file(
    authorization_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authorizations:use")],
) -> HTMLResponse:
    """The file of a subject without a USCC (a natural person) under its authorisation: records and list
    entries as its own account sees them, the resident ID masked; audited. Nothing once revoked or expired."""
    found = _granted(session, principal, authorization_id)
    if service.check(session, principal, found.subject_id, rules.FILE_READ, today) is None:
        raise NotFound("授权已撤销或已过期", code="authorizations.not_active")
    subject = subjects.get(session, found.subject_id)
    file = credit_files.credit_file(
        session, platform.catalog, principal, subject.id, today, ip=client_ip(request)
    )
    return render(
        request,
        "authorizations/file.html",
        {
            "subject": subject,
            "authorization": service.views(session, [found], today)[0],
            "records": [file_rules.record_read(platform.catalog, r, today) for r in file.records],
            "entries": file.entries,
            "field_text": file_rules.field_text,
            "catalog": platform.catalog,
        },
    )


@router.post(GRANTED + "/{authorization_id}/report")
def issue_report(
    authorization_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authorizations:use")],
    _csrf: CsrfDep,
) -> Response:
    """Issue the authorising subject's standard credit report under the authorisation (audited)."""
    found = _granted(session, principal, authorization_id)
    try:
        report = reports.issue(
            session,
            reports.report_context(platform.settings, platform.catalog, platform.signer),
            principal,
            subject_id=found.subject_id,
            kind="standard",
            today=today,
            ip=client_ip(request),
        )
    except XinyongError as exc:
        return flash.redirect(request, GRANTED, f"未能出具报告：{exc.message}", ok=False, code=exc.code)
    return RedirectResponse(f"{GRANTED}/reports/{report.number}.pdf", status_code=303)


@router.get(GRANTED + "/reports/{number}.pdf", response_class=Response)
def report_pdf(
    number: str,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("authorizations:use")],
) -> Response:
    """A report this account issued, while the subject's authorisation to obtain reports still holds."""
    report = reports.get_for(session, principal, number, today)  # nothing once revoked or expired
    return Response(
        reports.read_pdf(platform.settings.data_dir, report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.number}.pdf"'},
    )
