"""Console pages of tiered supervision (分级分类监管): a department's tiers, scope, inspectors and plans; a plan
with its published inputs, the draw button, the drawn list and the fairness figures."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts.deps import require
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, allows
from xinyong.kit import regions
from xinyong.kit.errors import Forbidden, ValidationFailed, XinyongError
from xinyong.supervision import plans, pools, publication, results, rules, tiers
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
DeptCode = Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]{1,32}$")]
MAX_IMPORT_BYTES = 5 << 20


def _department(session: Session, principal: Principal, code: str | None) -> Department:
    chosen = code or principal.department_code
    if not chosen and principal.is_credit_office:  # the credit office picks one on the page
        chosen = session.scalar(select(Department.code).order_by(Department.code).limit(1))
    if not chosen:
        raise ValidationFailed("请选择部门", code="supervision.department_required")
    found = tiers.department(session, chosen)
    tiers.ensure_view(principal, found.code)
    return found


def _overview(
    request: Request,
    session: Session,
    principal: Principal,
    dept: Department,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    typed: dict[str, dict[str, str]] | None = None,
) -> HTMLResponse:
    force = tiers.in_force(session, dept.code)
    scope = (
        pools.scope_of(session, dept.code)
        if dept.region_code or pools.has_scope(session, dept.code)
        else None
    )
    departments = (
        list(session.scalars(select(Department).order_by(Department.code)))
        if principal.is_credit_office
        else []
    )
    versions = tiers.versions(session, dept.code)
    return render(
        request,
        "supervision/console_overview.html",
        {
            "dept": dept,
            "departments": departments,
            "force": force,
            "versions": versions,
            "people": people.labels(session, [v.saved_by for v in versions]),
            "scope": scope,
            "region_name": regions.name,
            "inspectors": pools.inspectors(session, dept.code),
            "plans": plans.plans_of(session, dept.code),
            "may_manage": allows(principal, "supervision:manage") and _manages(principal, dept.code),
            "percent": results.percent,
            "error": error,
            "notice": notice,
            "typed": typed or {},  # a refused form's values, keyed by form, shown again
        },
        status_code=status,
    )


def _manages(principal: Principal, code: str) -> bool:
    try:
        tiers.ensure_manage(principal, code)
    except Forbidden:
        return False
    return True


@router.get("/console/supervision", response_class=HTMLResponse)
def overview(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("supervision:view")],
    department: DeptCode = None,
) -> HTMLResponse:
    """A department's supervision: tiers in force and their versions, scope, inspectors, plans."""
    return _overview(request, session, principal, _department(session, principal, department))


def _fail(
    request: Request,
    session: Session,
    principal: Principal,
    code: str,
    exc: XinyongError,
    typed: dict[str, dict[str, str]] | None = None,
) -> HTMLResponse:
    """The page again with the reason and, in the refused form, what the user typed (nothing of it saved)."""
    session.rollback()
    dept = _department(session, principal, code)
    return _overview(
        request,
        session,
        principal,
        dept,
        error=f"{exc.message}（{exc.code}）",
        status=exc.status_code,
        typed=typed,
    )


def _date(value: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{label}须为日期（给出 {value}）", code="supervision.date") from None


@router.post("/console/supervision/plans", response_class=HTMLResponse)
def create_plan(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    department: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(max_length=200)],
    period_from: Annotated[str, Form(max_length=10)],
    period_to: Annotated[str, Form(max_length=10)],
    region: Annotated[str, Form(max_length=6)] = "",
    matters: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    ctx = platform.context(principal, today, ip=client_ip(request))
    try:
        plan = plans.create_plan(
            session,
            ctx,
            department,
            name=name,
            period_from=_date(period_from, "计划期间起"),
            period_to=_date(period_to, "计划期间止"),
            region=region.strip() or None,
            matters=matters.replace("；", ";").replace("\n", ";").split(";"),
        )
    except XinyongError as exc:
        if isinstance(exc, Forbidden):
            raise
        typed = {
            "name": name,
            "period_from": period_from,
            "period_to": period_to,
            "region": region,
            "matters": matters,
        }
        return _fail(request, session, principal, department, exc, {"plan": typed})
    return RedirectResponse(f"/console/supervision/plans/{plan.id}", status_code=303)


@router.post("/console/supervision/inspectors", response_class=HTMLResponse)
def add_inspector(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    department: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(max_length=50)],
    licence_no: Annotated[str, Form(max_length=32)],
    region: Annotated[str, Form(max_length=6)] = "",
    conflicts: Annotated[str, Form(max_length=8000)] = "",
    qualifications: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    ctx = platform.context(principal, today, ip=client_ip(request))
    try:
        data = pools.parse_inspector(name, licence_no, region, conflicts, qualifications)
        pools.add_inspector(session, ctx, department, data)
    except XinyongError as exc:
        if isinstance(exc, Forbidden):
            raise
        typed = {
            "name": name,
            "licence_no": licence_no,
            "region": region,
            "conflicts": conflicts,
            "qualifications": qualifications,
        }
        return _fail(request, session, principal, department, exc, {"inspector": typed})
    return RedirectResponse(f"/console/supervision?department={department}#inspectors", status_code=303)


@router.post("/console/supervision/inspectors/import", response_class=HTMLResponse)
async def import_inspectors(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    department: Annotated[str, Form(max_length=32)],
    file: Annotated[UploadFile, File()],
) -> Response:
    content = await file.read(MAX_IMPORT_BYTES + 1)
    ctx = platform.context(principal, today, ip=client_ip(request))
    try:
        if len(content) > MAX_IMPORT_BYTES:
            raise ValidationFailed("文件过大（最多 5 MB）", code="supervision.import_too_large")
        report = pools.import_inspectors(session, ctx, department, io.BytesIO(content), file.filename or "")
    except XinyongError as exc:
        if isinstance(exc, Forbidden):
            raise
        return _fail(request, session, principal, department, exc)
    if report.errors:
        session.rollback()
        lines = "；".join(f"第 {e['row']} 行：{e['message']}" for e in report.errors[:20])
        dept = _department(session, principal, department)
        return _overview(
            request, session, principal, dept, error=f"文件有误，未导入任何一行。{lines}", status=422
        )
    dept = _department(session, principal, department)
    notice = f"已导入 {report.rows} 行：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}"
    return _overview(request, session, principal, dept, notice=notice)


def _codes(value: str) -> list[str]:
    return [
        c.strip()
        for c in value.replace("；", ";").replace(",", ";").replace("，", ";").split(";")
        if c.strip()
    ]


@router.post("/console/supervision/scope", response_class=HTMLResponse)
def save_scope(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    department: Annotated[str, Form(max_length=32)],
    regions: Annotated[str, Form(max_length=2000)] = "",
    industries: Annotated[str, Form(max_length=2000)] = "",
    licence_items: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The department's scope of inspected subjects (检查对象名录库)."""
    ctx = platform.context(principal, today, ip=client_ip(request))
    try:
        pools.set_scope(
            session,
            ctx,
            department,
            region_codes=_codes(regions),
            industries=_codes(industries),
            licence_items=_codes(licence_items),
        )
    except XinyongError as exc:
        if isinstance(exc, Forbidden):
            raise
        typed = {"regions": regions, "industries": industries, "licence_items": licence_items}
        return _fail(request, session, principal, department, exc, {"scope": typed})
    return RedirectResponse(f"/console/supervision?department={department}#scope", status_code=303)


@router.post("/console/supervision/tiers", response_class=HTMLResponse)
async def save_tiers(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
) -> Response:
    form = await request.form()
    department = str(form.get("department") or principal.department_code or "")[:32]
    if not department:
        raise ValidationFailed("请选择部门", code="supervision.department_required")
    industry = str(form.get("industry") or "").strip()[:33]
    ctx = platform.context(principal, today, ip=client_ip(request))
    current = tiers.in_force(session, department).table
    document: dict[str, Any] = {
        "source": str(form.get("source") or "")[:2000],
        "default_tier": str(form.get("default_tier") or "")[:16],
        "tiers": [
            tier.to_json()
            | {
                "ratio_pct": str(form.get(f"ratio_{tier.code}") or "")[:12],
                "per_period": _int(form.get(f"per_period_{tier.code}")),
                "period_months": _int(form.get(f"period_months_{tier.code}")),
            }
            for tier in current.tiers
        ],
    }
    try:
        tiers.save(session, ctx, department, document, industry=industry)
    except XinyongError as exc:
        if isinstance(exc, Forbidden):
            raise
        typed = {key: value[:2000] for key, value in form.items() if isinstance(value, str)}
        return _fail(request, session, principal, department, exc, {"tiers": typed})
    return RedirectResponse(f"/console/supervision?department={department}#tiers", status_code=303)


def _int(value: Any) -> Any:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 6 else text


@router.get("/console/supervision/plans/{plan_id:int}", response_class=HTMLResponse)
def plan_page(
    plan_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("supervision:view")],
) -> HTMLResponse:
    """A plan: its published inputs and commitment, the draw button, the drawn list and the fairness figures."""
    plan = plans.view_plan(session, principal, plan_id)
    drawn = publication.result(session, plan) if plan.status == "drawn" else None
    return render(
        request,
        "supervision/console_plan.html",
        {
            "plan": plan,
            "people": people.labels(session, [plan.created_by]),
            "dept": tiers.department(session, plan.department_code),
            "table": rules.parse_tier_table(plan.tiers),
            "sizes": plans.scope_counts(session, plan),
            "drawn": drawn,
            "fairness": publication.fairness(session, plan),
            "region_name": regions.name,
            "may_manage": _manages(principal, plan.department_code),
            "percent": results.percent,
        },
    )


@router.post("/console/supervision/plans/{plan_id:int}/draw")
def draw(
    plan_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    """Draw the plan once (a second draw is a 409)."""
    plans.draw_plan(session, platform.context(principal, today, ip=client_ip(request)), plan_id)
    return RedirectResponse(f"/console/supervision/plans/{plan_id}#drawn", status_code=303)
