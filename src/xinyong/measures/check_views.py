"""Console pages of the real-time check: run one or a batch, the receipt (page, printable page, PDF), the batch
results as XLSX, and feedback on the measures applied."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.kit.dates import format_china_date, format_china_datetime
from xinyong.kit.errors import BadRequest, NotFound, XinyongError
from xinyong.kit.pdf import html_to_pdf
from xinyong.kit.tabular import read_rows, write_xlsx
from xinyong.lists import rules as list_rules
from xinyong.measures import check as checking
from xinyong.measures import repository, service
from xinyong.measures.models import Check
from xinyong.platform import Platform
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/console/checks", response_class=HTMLResponse)
def checks_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("checks:run")],
) -> HTMLResponse:
    measure_list = repository.published(session, platform.catalog, platform.measure_lists)
    return render(
        request,
        "checks.html",
        {
            "scenarios": measure_list.scenarios,
            "checks": service.recent_checks(session, principal),
            "batch": None,
        },
    )


@router.post("/console/checks")
def run_check(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("checks:run")],
    _csrf: CsrfDep,
    scenario: Annotated[str, Form(max_length=48)],
    purpose: Annotated[str, Form(max_length=200)],
    uscc: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    region: Annotated[str, Form(max_length=6)] = "",
) -> RedirectResponse:
    ref = checking.SubjectRef(uscc=uscc or None, name=name or None, region=region or None)
    check = checking.run_check(
        session,
        catalog=platform.catalog,
        signer=platform.signer,
        id_hash=platform.cipher.hash,
        order=checking.CheckOrder(principal, ref, scenario, purpose, today, client_ip(request)),
        lists=platform.measure_lists,
    )
    return RedirectResponse(f"/console/checks/{check.id}", status_code=303)


@router.post("/console/checks/batch", response_class=HTMLResponse)
def run_batch(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("checks:run")],
    _csrf: CsrfDep,
    scenario: Annotated[str, Form(max_length=48)],
    purpose: Annotated[str, Form(max_length=200)],
    file: Annotated[UploadFile, File()],
    output: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Tender evaluation: an XLSX (or CSV) of bidders with a column 统一社会信用代码 (or uscc), or 名称 + 行政区划代码.

    The results come back as a page, or (`output=xlsx`) as a workbook that also holds the rows that could not
    be checked, with their file row numbers and reasons."""
    refs: list[tuple[int, checking.SubjectRef]] = []
    for row in read_rows(file.file, file.filename or "batch.xlsx"):
        if len(refs) >= checking.MAX_BATCH:
            raise BadRequest(f"一次最多核查{checking.MAX_BATCH}个主体", code="check.batch_too_large")
        values = {
            str(k).strip().lower(): ("" if v is None else str(v).strip()) for k, v in row.values.items()
        }
        refs.append(
            (
                row.number,
                checking.SubjectRef(
                    uscc=values.get("统一社会信用代码") or values.get("uscc") or None,
                    name=values.get("名称") or values.get("name") or None,
                    region=values.get("行政区划代码") or values.get("region") or None,
                ),
            )
        )
    batch_id, results = checking.run_batch(
        session,
        catalog=platform.catalog,
        signer=platform.signer,
        id_hash=platform.cipher.hash,
        principal=principal,
        refs=refs,
        scenario=scenario,
        purpose=purpose,
        today=today,
        ip=client_ip(request),
        lists=platform.measure_lists,
    )
    if output == "xlsx":
        items: list[BatchItem] = [(r.row, r.check, r.ref, r.error) for r in results]
        return _batch_workbook(request, session, platform, principal, batch_id, items)
    measure_list = repository.published(session, platform.catalog, platform.measure_lists)
    return render(
        request,
        "checks.html",
        {
            "scenarios": measure_list.scenarios,
            "checks": service.recent_checks(session, principal),
            "batch": results,
            "batch_id": batch_id if any(r.check for r in results) else None,
        },
    )


BATCH_COLUMNS = (
    "文件行号",
    "核查编号",
    "核查时间",
    "查询条件",
    "主体名称",
    "统一社会信用代码",
    "命中措施数",
    "措施编号",
    "措施名称",
    "奖惩",
    "要求",
    "触发依据",
    "认定或提供单位",
    "列入或决定日期",
    "公示截止",
    "措施法律依据",
    "未能核查的原因",
)
# One row of a batch: its row number in the uploaded file (unknown once stored), the check or the refusal.
BatchItem = tuple[
    int | None, Check | checking.StoredCheck | None, checking.SubjectRef | None, XinyongError | None
]


def _question(asked: dict[str, Any]) -> str:
    # never the resident ID: a check asked by it shows the masked form on the subject
    return " ".join(str(asked[k]) for k in ("uscc", "name", "region") if asked.get(k))


def _batch_rows(session: Session, platform: Platform, items: list[BatchItem]) -> list[list[object]]:
    """One row per hit (a subject without hits: one row; a row that could not be checked: one row with the
    reason), in the order of the file."""
    checks = [check for _, check, _, _ in items if check is not None]
    codes = {check.department_code for check in checks}
    for check in checks:
        for h in check.result.get("hits", []):
            code = h["trigger"].get("department") or h["trigger"].get("provider")
            if code:
                codes.add(str(code))
    departments = _department_names(session, codes)
    blank = [""] * (len(BATCH_COLUMNS) - 7)
    rows: list[list[object]] = []
    for number, c, ref, error in items:
        if c is None:
            asked = {"uscc": ref.uscc, "name": ref.name, "region": ref.region} if ref else {}
            reason = f"{error.message}（{error.code}）" if error else ""
            rows.append([number, "", "", _question(asked), "", "", "", *blank[:-1], reason])
            continue
        r = c.result
        subject = r.get("subject") or {}
        name = subject.get("name") if subject.get("found") else "（平台无该主体的信用记录）"
        head: list[object] = [
            number,
            c.id,
            format_china_datetime(c.checked_at, seconds=True),
            _question(r.get("asked") or {}),
            name,
            subject.get("uscc") or "",
            c.hit_count,
        ]
        hits = r.get("hits", [])
        if not hits:
            rows.append([*head, "", "未命中", *blank[2:]])
            continue
        for h in hits:
            t = h["trigger"]
            if t.get("type") == "list_entry":
                label = list_rules.LIST_TYPE_LABELS.get(str(t.get("list_type")), "其他名单")
                basis = f"{label} {t.get('decision_no') or ''}".strip()
                on, org = _day(t.get("decided_on")), t.get("department")
            else:
                item = platform.catalog.item(str(t.get("item")))
                severity = f"（{t['severity']}）" if t.get("severity") else ""
                basis = f"{item.name if item else t.get('item')} {t.get('doc_no') or ''}{severity}".strip()
                on, org = _day(t.get("decision_date")), t.get("provider")
            until = _day(t.get("public_until"))
            rows.append(
                [
                    *head,
                    h["measure"],
                    h["name"],
                    "惩戒" if h["kind"] == "punishment" else "激励",
                    f"{h['action_label']}：{h['description']}",
                    basis,
                    departments.get(str(org), str(org)) if org else "",
                    format_china_date(on) if on else "",
                    format_china_date(until) if until else "",
                    h["legal_basis"],
                    "",
                ]
            )
    return rows


def _batch_workbook(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    batch_id: str,
    items: list[BatchItem],
) -> Response:
    """The batch's results as an XLSX attachment; the export is audited."""
    content = write_xlsx([("核查结果", [BATCH_COLUMNS, *_batch_rows(session, platform, items)])])
    audit.record(
        session,
        principal,
        "check.export_batch",
        target=f"check_batch:{batch_id}",
        ip=client_ip(request),
        details={"rows": len(items), "checks": sum(1 for _, c, _, _ in items if c is not None)},
    )
    return downloads.attachment(
        content,
        f"批量核查结果-{batch_id}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@router.get("/console/checks/batches/{batch_id}.xlsx")
def batch_results_xlsx(
    batch_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("checks:run")],
) -> Response:
    """The stored results of a batch check as an XLSX workbook: each subject checked and every measure it hit
    (rows that could not be checked were never stored; the upload's own XLSX answer lists them)."""
    if len(batch_id) != 32 or not batch_id.isalnum():
        raise NotFound("未找到该批量核查", code="check.batch_not_found")
    checks = service.batch_checks(session, principal, batch_id)
    items: list[BatchItem] = [(None, c, None, None) for c in checks]
    return _batch_workbook(request, session, platform, principal, batch_id, items)


def _day(value: object) -> dt.date | None:
    """A date kept as ISO text in a signed check result, for the `cn_date` filter."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _department_names(session: Session, codes: set[str]) -> dict[str, str]:
    names = {}
    for code in sorted(codes):
        try:
            names[code] = accounts.get_department(session, code).name
        except NotFound:
            names[code] = code
    return names


def _receipt_context(session: Session, platform: Platform, check: Check) -> dict[str, Any]:
    """What every form of a receipt shows: the signed result, with codes turned into names and dates."""
    result = check.result
    hits = result.get("hits", [])
    codes = {check.department_code} | {
        str(h["trigger"].get("department") or h["trigger"].get("provider"))
        for h in hits
        if h["trigger"].get("department") or h["trigger"].get("provider")
    }
    items = {
        str(h["trigger"]["item"]): platform.catalog.item(str(h["trigger"]["item"]))
        for h in hits
        if h["trigger"].get("item")
    }
    return {
        "check": check,
        "r": result,
        "checked_at": check.checked_at,
        "list_labels": list_rules.LIST_TYPE_LABELS,
        "departments": _department_names(session, codes),
        "item_names": {code: item.name if item else code for code, item in items.items()},
        "day": _day,
        "public_key": platform.signer.public_key_b64,
        "signed_json": json.dumps({"result": result, "signature": check.signature}, ensure_ascii=False),
    }


@router.get("/console/checks/{check_id}", response_class=HTMLResponse)
def check_receipt(
    check_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("checks:run")],
) -> HTMLResponse:
    check = service.get_check(session, principal, check_id)
    context = _receipt_context(session, platform, check)
    context["feedback"] = service.feedback_of(session, check.id)
    return render(request, "check_receipt.html", context)


@router.get("/console/checks/{check_id}/print", response_class=HTMLResponse)
def check_receipt_print(
    check_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("checks:run")],
) -> HTMLResponse:
    """The receipt as a printable page (the browser's print, or the PDF, gives the same document)."""
    check = service.get_check(session, principal, check_id)
    context = _receipt_context(session, platform, check)
    return render(request, "check_receipt_print.html", context | {"pdf": False})


@router.get("/console/checks/{check_id}/receipt.pdf")
def check_receipt_pdf(
    check_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("checks:run")],
) -> Response:
    """The receipt as a PDF with its fonts embedded, to file with the decision it informed."""
    check = service.get_check(session, principal, check_id)
    context = _receipt_context(session, platform, check)
    page = render(request, "check_receipt_print.html", context | {"pdf": True})
    pdf = html_to_pdf(
        bytes(page.body).decode("utf-8"),
        base_url=str(request.base_url),
        folders={"/static/": resources.files("xinyong.web") / "static"},
    )
    audit.record(
        session,
        principal,
        "check.export_pdf",
        subject_id=check.subject_id,
        target=f"check:{check.id}",
        ip=client_ip(request),
    )
    return downloads.attachment(pdf, f"信用核查回执-{check.id}.pdf", "application/pdf")


@router.post("/console/checks/{check_id}/feedback")
async def check_feedback(
    check_id: str,
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("checks:run")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    check = service.get_check(session, principal, check_id)
    form = await request.form()
    items = []
    for hit in check.result.get("hits", []):
        code = hit["measure"]
        outcome = str(form.get(f"outcome-{code}", ""))
        if outcome:
            items.append(
                {"measure": code, "outcome": outcome, "reason": str(form.get(f"reason-{code}", ""))[:1000]}
            )
    if items:
        service.record_feedback(session, principal, check, items, today)
    return RedirectResponse(f"/console/checks/{check.id}", status_code=303)
