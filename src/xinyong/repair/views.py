"""Repair pages of the subject's account (applications, supplements, withdrawal, evidence downloads) and the
helpers the console's repair pages (``repair.console_views``) share with them.

Form failures a person can fix (a missing statement, a file of the wrong type, an unmet condition) show the
form again with the message; the attempt runs in a savepoint, so nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog
from xinyong.commitments import service as commitments
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.dates import format_china_date as cn_date
from xinyong.kit.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    XinyongError,
)
from xinyong.lists import rules as list_rules
from xinyong.platform import Platform
from xinyong.repair import rules, service
from xinyong.repair.models import RepairApplication
from xinyong.subjects import service as subjects
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

ACCEPT = ".pdf,.ofd,.jpg,.jpeg,.png"
CHANNEL_LABELS = {"online": "在线申请", "paper": "纸质申请"}
KIND_LABELS = {"record": "信用记录", "list_entry": "名单"}
EVENT_LABELS = {**rules.EVENT_LABELS, "submit": "提交申请", "recheck": "复核无误"}
RECHECK_LABELS = {"sampled": "待复核", "confirmed": "复核无误", "corrected": "已纠正"}
# Conditions an application itself satisfies (evidence, the commitment): left out of "can I apply?" lists.
PROVIDED_WITH_APPLICATION = frozenset({"obligations", "commitment"})
# Failures shown on the form again rather than as an error page.
FORM_ERRORS = (ValidationFailed, PayloadTooLarge, Conflict)

FileList = Annotated[list[UploadFile | str] | None, File()]


@dataclass(frozen=True)
class ApplicationForm:
    """The application form as posted, online by the subject or on paper by a department clerk."""

    target_kind: str
    target_id: int
    statement: str
    contact_name: str
    contact_phone: str
    signer_name: str
    agree: bool

    @property
    def typed(self) -> dict[str, str]:
        """What the applicant typed, to show the form again after a refusal."""
        return {
            "statement": self.statement,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
            "signer_name": self.signer_name,
        }


def _application_form(
    target_kind: Annotated[str, Form(max_length=16)],
    target_id: Annotated[int, Form(ge=1)],
    statement: Annotated[str, Form(max_length=4000)] = "",
    contact_name: Annotated[str, Form(max_length=100)] = "",
    contact_phone: Annotated[str, Form(max_length=32)] = "",
    signer_name: Annotated[str, Form(max_length=50)] = "",
    agree: Annotated[bool, Form()] = False,
) -> ApplicationForm:
    return ApplicationForm(target_kind, target_id, statement, contact_name, contact_phone, signer_name, agree)


ApplicationFormDep = Annotated[ApplicationForm, Depends(_application_form)]


# -- helpers -------------------------------------------------------------------------------------------------


def _uploads(items: list[UploadFile | str] | None) -> list[Upload]:
    """The files a form sent, each checked (size, type from its first bytes) before anything is stored.

    A browser sends an empty string for a file input left empty; those are skipped.
    """
    uploads = []
    for item in items or []:
        if isinstance(item, str) or not item.filename:
            continue
        uploads.append(Upload(item.filename, item.file.read(files.MAX_FILE_BYTES + 1)))
    if len(uploads) > files.MAX_FILES:
        raise ValidationFailed(f"每件最多上传{files.MAX_FILES}个文件", code="file.too_many")
    for upload in uploads:
        if not upload.content:
            raise ValidationFailed(f"文件“{upload.filename}”为空", code="file.empty")
        if len(upload.content) > files.MAX_FILE_BYTES:
            raise PayloadTooLarge(
                f"文件“{upload.filename}”超过{files.MAX_FILE_BYTES // (1024 * 1024)}MB上限",
                code="file.too_large",
            )
        files.sniff(upload.content, upload.filename)
    return uploads


def _download(session: Session, platform: Platform, application: RepairApplication, file_id: int) -> Response:
    """An evidence file as an attachment, with its checked type (never rendered inline)."""
    attachment = files.get(session, f"repair:{application.id}", file_id)
    content = files.read(platform.settings.data_dir, attachment)
    return downloads.attachment(content, attachment.filename, attachment.content_type)


def _departments(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def _target_id(application: RepairApplication) -> int:
    target_id = application.record_id if application.target_kind == "record" else application.list_entry_id
    assert target_id is not None
    return target_id


def _target_id_of(info: service.TargetInfo) -> int:
    if info.record is not None:
        return info.record.id
    assert info.entry is not None
    return info.entry.id


def _target_facts(
    info: service.TargetInfo, departments: dict[str, str], catalog: Catalog
) -> list[tuple[str, str]]:
    """What is to be repaired, as label/value rows for a facts list."""
    department = departments.get(info.department_code, info.department_code)
    if info.record is not None:
        record = info.record
        item = catalog.item(record.item_code)
        window = (
            f"{cn_date(record.public_from)} 至 {cn_date(record.public_until) if record.public_until else '长期'}"
            if record.public_from
            else "不公示"
        )
        return [
            ("信息类别", item.name if item else record.item_code),
            ("决定文书号", record.doc_no or "—"),
            ("决定日期", cn_date(record.decision_date)),
            ("认定部门", department),
            ("失信程度", record.severity or "—"),
            ("公示期", window),
        ]
    assert info.entry is not None
    entry = info.entry
    return [
        ("名单", list_rules.LIST_TYPE_LABELS.get(entry.list_type, entry.list_type)),
        ("认定文号", entry.decision_no or "—"),
        ("认定日期", cn_date(entry.decided_on)),
        ("认定部门", department),
        (
            "公示期",
            f"{cn_date(entry.public_from)} 至 {cn_date(entry.public_until) if entry.public_until else '移出之日'}",
        ),
    ]


def _wait_until(eligibility: rules.Eligibility) -> dt.date | None:
    """The earliest application day, when the minimum period is what stands in the way."""
    period_unmet = any(c.code == "min_period" and not c.met for c in eligibility.conditions)
    return eligibility.earliest if period_unmet else None


def _can_apply(conditions: tuple[rules.Condition, ...]) -> list[rules.Condition]:
    return [c for c in conditions if c.code not in PROVIDED_WITH_APPLICATION]


def _apply_page(
    request: Request,
    session: Session,
    platform: Platform,
    today: dt.date,
    info: service.TargetInfo,
    *,
    paper: bool,
    form: dict[str, str],
    error: XinyongError | None = None,
) -> HTMLResponse:
    """The application form (online by the subject, or a clerk's record of a paper one)."""
    subject = subjects.get(session, info.subject_id)
    eligibility = service.evaluate(
        session, platform.repair_policy, info, today=today, evidence_count=1, commitment_signed=True
    )
    failed = error.details if error is not None and isinstance(error.details, dict) else None
    return render(
        request,
        "repair_apply.html",
        {
            "info": info,
            "subject": subject,
            "facts": _target_facts(info, _departments(session), platform.catalog),
            "conditions": _can_apply(eligibility.conditions),
            "can_apply": eligibility.eligible,
            "template": commitments.template(service.COMMITMENT_TEMPLATE),
            "commitment_text": commitments.preview(
                service.COMMITMENT_TEMPLATE,
                subject,
                target=info.label,
                signer_name=form.get("signer_name", ""),
                today=today,
            ),
            "policy": platform.repair_policy,
            "paper": paper,
            "action": "/console/repairs/new" if paper else "/account/repairs",
            "accept": ACCEPT,
            "max_files": files.MAX_FILES,
            "form": form,
            "error": error,
            "unmet": [c for c in failed.get("conditions", []) if not c["met"]] if failed else [],
        },
        status_code=error.status_code if error is not None else 200,
    )


def _submit(
    session: Session,
    platform: Platform,
    principal: Principal,
    today: dt.date,
    info: service.TargetInfo,
    form: ApplicationForm,
    evidence: list[UploadFile | str] | None,
) -> RepairApplication:
    """Check the form, then apply in a savepoint (a refused application leaves nothing behind)."""
    if not form.agree:
        raise ValidationFailed("请阅读承诺书全文并勾选“我已阅读并承诺”", code="repair.commitment_not_agreed")
    uploads = _uploads(evidence)
    with session.begin_nested():
        return service.apply(
            session,
            platform.context(principal, today),
            repair_policy=platform.repair_policy,
            target_kind=info.kind,
            target_id=_target_id_of(info),
            statement=form.statement,
            contact_name=form.contact_name,
            contact_phone=form.contact_phone,
            signer_name=form.signer_name,
            evidence=uploads,
        )


def _application_context(
    session: Session, platform: Platform, application: RepairApplication, today: dt.date
) -> dict[str, Any]:
    """Everything both the applicant's and the department's page show about one application."""
    departments = _departments(session)
    info = service.load_target(
        session, platform.catalog, application.target_kind, _target_id(application), today
    )
    attachments = files.attachments_of(session, f"repair:{application.id}")
    return {
        "a": application,
        "info": info,
        "facts": _target_facts(info, departments, platform.catalog),
        "subject": subjects.get(session, application.subject_id),
        "department": departments.get(application.department_code, application.department_code),
        "events": service.events_of(session, application.id),
        "commitment": service.commitment_of(session, application),
        "attachments": attachments,
        "overdue": service.is_overdue(application, today),
        "states": rules.STATE_LABELS,
        "event_labels": EVENT_LABELS,
        "channels": CHANNEL_LABELS,
        "recheck_labels": RECHECK_LABELS,
        "note_required": rules.NOTE_REQUIRED,
        "accept": ACCEPT,
        "today": today,
    }


# -- the subject's account -------------------------------------------------------------------------------------


@router.get("/account/repairs", response_class=HTMLResponse)
def my_repairs(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """My repair applications, and the records and list entries I could apply to repair, each explained."""
    assert principal.subject_id is not None
    departments = _departments(session)
    targets = [
        {
            "info": info,
            "department": departments.get(info.department_code, info.department_code),
            "conditions": _can_apply(eligibility.conditions),
            "eligible": eligibility.eligible,
            "wait_until": _wait_until(eligibility),
        }
        for info, eligibility in service.repairable_targets(
            session, platform.catalog, platform.repair_policy, principal.subject_id, today
        )
    ]
    return render(
        request,
        "repair_mine.html",
        {
            "applications": service.of_subject(session, principal.subject_id),
            "targets": targets,
            "states": rules.STATE_LABELS,
            "kinds": KIND_LABELS,
            "departments": departments,
            "open_states": rules.OPEN_STATES,
        },
    )


def _own_target(
    session: Session, platform: Platform, principal: Principal, kind: str, target_id: int, today: dt.date
) -> service.TargetInfo:
    info = service.load_target(session, platform.catalog, kind, target_id, today)
    if info.subject_id != principal.subject_id:  # another subject's record: as if it did not exist
        raise NotFound("未找到该信用记录", code="repair.target_not_found")
    return info


@router.get("/account/repairs/new", response_class=HTMLResponse)
def new_repair(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    kind: Annotated[str, Query(max_length=16)],
    id: Annotated[int, Query(ge=1)],
) -> HTMLResponse:
    """The online application form: statement, contact, evidence and the commitment to sign."""
    info = _own_target(session, platform, principal, kind, id, today)
    return _apply_page(request, session, platform, today, info, paper=False, form={})


@router.post("/account/repairs", response_class=HTMLResponse)
def submit_repair(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    form: ApplicationFormDep,
    evidence: FileList = None,
) -> Response:
    """Submit a repair application with its evidence; the commitment is signed with it."""
    info = _own_target(session, platform, principal, form.target_kind, form.target_id, today)
    try:
        application = _submit(session, platform, principal, today, info, form, evidence)
    except FORM_ERRORS as exc:
        return _apply_page(request, session, platform, today, info, paper=False, form=form.typed, error=exc)
    return RedirectResponse(f"/account/repairs/{application.id}", status_code=303)


def _my_application_page(
    request: Request,
    session: Session,
    platform: Platform,
    today: dt.date,
    application: RepairApplication,
    error: XinyongError | None = None,
) -> HTMLResponse:
    context = _application_context(session, platform, application, today)
    allowed = set(rules.allowed_events(application.status)) & rules.APPLICANT_EVENTS
    context |= {"allowed": allowed, "error": error}
    return render(
        request,
        "repair_application.html",
        context,
        status_code=error.status_code if error is not None else 200,
    )


@router.get("/account/repairs/{application_id:int}", response_class=HTMLResponse)
def my_repair(
    application_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """One of my applications: status, deadline, history, decision, evidence and commitment."""
    application = service.get_application(session, principal, application_id)
    return _my_application_page(request, session, platform, today, application)


def _applicant_step(
    session: Session,
    platform: Platform,
    principal: Principal,
    today: dt.date,
    application: RepairApplication,
    event: str,
    note: str,
    uploads: list[Upload],
) -> None:
    with session.begin_nested():
        service.advance(
            session,
            platform.context(principal, today),
            application,
            event,
            repair_policy=platform.repair_policy,
            note=note.strip() or None,
            evidence=uploads,
        )


@router.post("/account/repairs/{application_id:int}/supplement", response_class=HTMLResponse)
def supplement_repair(
    application_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    note: Annotated[str, Form(max_length=1000)] = "",
    evidence: FileList = None,
) -> Response:
    """Send the material the department asked for (补正材料)."""
    application = service.get_application(session, principal, application_id)
    try:
        _applicant_step(
            session, platform, principal, today, application, "supplement", note, _uploads(evidence)
        )
    except FORM_ERRORS as exc:
        session.refresh(application)
        return _my_application_page(request, session, platform, today, application, exc)
    return RedirectResponse(f"/account/repairs/{application.id}", status_code=303)


@router.post("/account/repairs/{application_id:int}/withdraw", response_class=HTMLResponse)
def withdraw_repair(
    application_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Withdraw my application (撤回) while it is still being handled."""
    application = service.get_application(session, principal, application_id)
    try:
        _applicant_step(session, platform, principal, today, application, "withdraw", note, [])
    except FORM_ERRORS as exc:
        session.refresh(application)
        return _my_application_page(request, session, platform, today, application, exc)
    return RedirectResponse(f"/account/repairs/{application.id}", status_code=303)


@router.get("/account/repairs/{application_id:int}/files/{file_id:int}")
def my_repair_file(
    application_id: int,
    file_id: int,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("account:own")],
) -> Response:
    """Download evidence of my application."""
    application = service.get_application(session, principal, application_id)
    return _download(session, platform, application, file_id)
