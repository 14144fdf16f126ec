"""Objection pages: filing on the portal, the subject's own objections, the department queue and answers
(console). The public statistics of repairs and objections are `statistics_views`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.creditfile import rules as file_rules
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import NotFound, ValidationFailed, XinyongError
from xinyong.objections import rules, service
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records import rules as record_rules
from xinyong.records.models import Record
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

FILER_KINDS = {"subject": "信用主体本人", "public": "社会公众", "clerk": "部门代为登记"}
HISTORY_LABELS = {"file": "提出异议", "escalate": "逾期提请督办", **rules.EVENT_LABELS}
QUEUE_FILTERS = {
    "": "全部",
    "open": "处理中",
    "overdue": "已逾期",
    "escalated": "督办中",
    rules.CORRECTED: rules.STATE_LABELS[rules.CORRECTED],
    rules.REVOKED: rules.STATE_LABELS[rules.REVOKED],
    rules.MAINTAINED: rules.STATE_LABELS[rules.MAINTAINED],
    rules.WITHDRAWN: rules.STATE_LABELS[rules.WITHDRAWN],
}
MAX_ANSWER_CHARS = 2000
# Fields shown elsewhere on a record card (title, tags) or that name the subject: not repeated in its facts.
_CARD_SKIP = frozenset({"subject_name", "subject_category", "uscc", "doc_no", "record_status", "region_code"})


async def _form_values(request: Request) -> dict[str, str]:
    """The posted form's text fields (already parsed, and cached, by the CSRF check)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(_form_values)]


# -- helpers ---------------------------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _department_names(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def _record(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound("未找到该信用记录", code="objection.record_not_found")
    return record


def _records_by_id(session: Session, ids: Sequence[int]) -> dict[int, Record]:
    if not ids:
        return {}
    found = session.scalars(select(Record).where(Record.id.in_(sorted(set(ids))))).all()
    return {r.id: r for r in found}


def _record_view(catalog: Catalog, record: Record, *, full: bool) -> dict[str, Any]:
    """A record as a card: its item, document number, subject and fields (only public ones unless ``full``)."""
    item = catalog.item(record.item_code)
    shown = record.fields if full else file_rules.public_fields(catalog, record)
    fields = []
    if item is not None:
        fields = [
            {"label": spec.label, "value": shown[spec.name], "unit": spec.unit}
            for spec in item.fields
            if spec.name in shown and spec.name not in _CARD_SKIP and shown[spec.name] not in ("", None)
        ]
    return {
        "id": record.id,
        "item_name": item.name if item else record.item_code,
        "doc_no": record.doc_no,
        "subject_name": record.subject_name,
        "uscc": record.fields.get("uscc"),
        "provider": record.provider_code,
        "status": record.status,
        "version": record.version,
        "fields": fields,
    }


def _read_uploads(evidence: Sequence[UploadFile]) -> list[Upload]:
    """The chosen files, each read up to just past the size limit (the files service refuses larger ones)."""
    chosen = [f for f in evidence if f.filename]  # a form with no file chosen still sends one empty part
    if len(chosen) > files.MAX_FILES:
        raise ValidationFailed(f"每件最多上传{files.MAX_FILES}个文件", code="file.too_many")
    return [Upload(f.filename or "file", f.file.read(files.MAX_FILE_BYTES + 1)) for f in chosen]


def _may_withdraw(principal: Principal, objection: Objection) -> bool:
    return objection.status == rules.OPEN and (
        (principal.user_id is not None and principal.user_id == objection.filed_by)
        or (
            principal.subject_id is not None
            and principal.subject_id == objection.subject_id
            and objection.filer_kind == "subject"
        )
    )


# -- portal: filing ----------------------------------------------------------------------------------------------


def _filing_context(
    platform: Platform, principal: Principal, record: Record, form: dict[str, str], error: XinyongError | None
) -> dict[str, Any]:
    own = principal.subject_id is not None and principal.subject_id == record.subject_id
    return {
        "record": _record_view(platform.catalog, record, full=own),
        "own": own,
        "workdays": platform.repair_policy.objection_workdays,
        "form": form,
        "error": error,
    }


@router.get("/objections/new", response_class=HTMLResponse)
def new_objection(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    record: Annotated[int, Query(ge=1)],
) -> HTMLResponse:
    """The form to object to one record (anyone for a public record, the subject for any of its own)."""
    target = service.objectable_record(session, principal, platform.catalog, record, today)
    own = principal.subject_id is not None and principal.subject_id == target.subject_id
    form = {"filer_name": target.subject_name if own else "", "filer_contact": "", "reasons": ""}
    return render(request, "objection_new.html", _filing_context(platform, principal, target, form, None))


@router.post("/objections", response_class=HTMLResponse, dependencies=[rate_limited("login")])
def file_objection(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    _csrf: CsrfDep,
    record: Annotated[int, Form(ge=1)],
    reasons: Annotated[str, Form(max_length=5000)] = "",
    filer_name: Annotated[str, Form(max_length=200)] = "",
    filer_contact: Annotated[str, Form(max_length=200)] = "",
    evidence: Annotated[list[UploadFile] | None, File()] = None,
) -> HTMLResponse:
    """File an objection; the provider department answers within the deadline shown on the receipt."""
    target = service.objectable_record(session, principal, platform.catalog, record, today)
    form = {"reasons": reasons, "filer_name": filer_name, "filer_contact": filer_contact}
    try:
        uploads = _read_uploads(evidence or [])
        # A savepoint: a refused file after the objection was flushed must not leave half an objection.
        with session.begin_nested():
            objection = service.file(
                session,
                platform.context(principal, today),
                answer_workdays=platform.repair_policy.objection_workdays,
                record_id=target.id,
                reasons=reasons,
                filer_name=filer_name,
                filer_contact=filer_contact or None,
                evidence=uploads,
            )
    except XinyongError as exc:
        context = _filing_context(platform, principal, target, form, exc)
        context["files_lost"] = bool([f for f in evidence or [] if f.filename])
        return render(request, "objection_new.html", context, status_code=exc.status_code)
    return render(
        request,
        "objection_filed.html",
        {
            "objection": objection,
            "record": _record_view(platform.catalog, target, full=False),
            "attachments": files.attachments_of(session, f"objection:{objection.id}"),
            "departments": _department_names(session),
            "in_account": principal.user_id is not None and principal.role == "subject",
        },
    )


# -- subject account -------------------------------------------------------------------------------------------


@router.get("/account/objections", response_class=HTMLResponse)
def my_objections(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """Objections about my credit file or filed by me."""
    found = service.of_subject(session, principal)
    records = _records_by_id(session, [o.record_id for o in found])
    return render(
        request,
        "objection_mine.html",
        {
            "objections": found,
            "records": records,
            "catalog": platform.catalog,
            "states": rules.STATE_LABELS,
            "filer_kinds": FILER_KINDS,
            "today": today,
        },
    )


@router.get("/account/objections/{objection_id}", response_class=HTMLResponse)
def my_objection(
    objection_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """One objection: its state, deadline, the record, the answer and the fields corrected."""
    objection = service.get_objection(session, principal, objection_id)
    record = _record(session, objection.record_id)
    mine = principal.user_id is not None and principal.user_id == objection.filed_by
    return render(
        request,
        "objection_mine_detail.html",
        {
            "o": objection,
            "record": _record_view(platform.catalog, record, full=principal.subject_id == record.subject_id),
            "mine": mine,
            "attachments": files.attachments_of(session, f"objection:{objection.id}"),
            "events": service.events_of(session, objection.id),
            "history_labels": HISTORY_LABELS,
            "states": rules.STATE_LABELS,
            "departments": _department_names(session),
            "filer_kinds": FILER_KINDS,
            "may_withdraw": _may_withdraw(principal, objection),
            "today": today,
        },
    )


@router.post("/account/objections/{objection_id}/withdraw")
def withdraw_objection(
    objection_id: int,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    """Withdraw my objection while it is being handled."""
    objection = service.get_objection(session, principal, objection_id)
    service.withdraw(session, principal, objection, today=today)
    return RedirectResponse(f"/account/objections/{objection.id}", status_code=303)


# -- console: the department's queue and answers ---------------------------------------------------------------


@router.get("/console/objections", response_class=HTMLResponse)
def objection_queue(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("objections:handle")],
    show: Annotated[str, Query(max_length=16)] = "open",
) -> HTMLResponse:
    """The objections to this department's records (the credit office sees every department's)."""
    if show not in QUEUE_FILTERS:
        raise ValidationFailed("未知的筛选条件", code="objection.unknown_filter")
    found = service.queue(
        session,
        principal,
        today,
        status=show if show in rules.STATE_LABELS else None,
        overdue_only=show == "overdue",
        escalated_only=show == "escalated",
    )
    return render(
        request,
        "objection_queue.html",
        {
            "objections": found,
            "records": _records_by_id(session, [o.record_id for o in found]),
            "catalog": platform.catalog,
            "filters": QUEUE_FILTERS,
            "show": show,
            "states": rules.STATE_LABELS,
            "filer_kinds": FILER_KINDS,
            "departments": _department_names(session),
            "today": today,
            "all_departments": principal.is_credit_office,
        },
    )


def _console_detail(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    objection: Objection,
    *,
    error: XinyongError | None = None,
    sent: dict[str, str] | None = None,
) -> HTMLResponse:
    record = _record(session, objection.record_id)
    item = platform.catalog.item(record.item_code)
    sent = sent or {}
    correctable = [
        {
            "name": spec.name,
            "label": spec.label,
            "type": spec.type,
            "enum": spec.enum,
            "required": spec.required,
            "max_length": spec.max_length,
            "unit": spec.unit,
            "value": sent.get(f"field-{spec.name}", _as_text(record.fields.get(spec.name))),
        }
        for spec in (record_rules.correctable_fields(item) if item is not None else [])
    ]
    return render(
        request,
        "objection_console.html",
        {
            "o": objection,
            "record": _record_view(platform.catalog, record, full=True),
            "correctable": correctable,
            "attachments": files.attachments_of(session, f"objection:{objection.id}"),
            "events": service.events_of(session, objection.id),
            "history_labels": HISTORY_LABELS,
            "states": rules.STATE_LABELS,
            "filer_kinds": FILER_KINDS,
            "departments": _department_names(session),
            "may_answer": objection.status == rules.OPEN
            and may_act_for_department(principal, objection.department_code),
            "error": error,
            "sent": sent,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/console/objections/{objection_id}", response_class=HTMLResponse)
def console_objection(
    objection_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("objections:handle")],
) -> HTMLResponse:
    """An objection with its reasons, evidence, the record as it stands, its history and the answer forms."""
    objection = service.get_objection(session, principal, objection_id)
    return _console_detail(request, session, platform, principal, objection)


@router.get("/console/objections/{objection_id}/files/{file_id}")
def evidence_file(
    objection_id: int,
    file_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("objections:handle")],
) -> Response:
    """Download one evidence file (always as an attachment, never rendered by the browser)."""
    objection = service.get_objection(session, principal, objection_id)
    attachment = files.get(session, f"objection:{objection.id}", file_id)
    content = files.read(platform.settings.data_dir, attachment)
    audit.record(
        session,
        principal,
        "objection.evidence_download",
        subject_id=objection.subject_id,
        target=f"objection:{objection.id}",
        ip=client_ip(request),
        details={"file": attachment.id},
    )
    return downloads.attachment(content, attachment.filename, attachment.content_type)


@router.post("/console/objections/{objection_id}/{event}", response_class=HTMLResponse, response_model=None)
def answer_objection(
    objection_id: int,
    event: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("objections:handle")],
    _csrf: CsrfDep,
    form: FormValues,
) -> Response:
    """Answer an objection: correct fields (only those changed are sent), revoke the record, or maintain it."""
    if event not in rules.ANSWERS:
        raise NotFound("未知的答复方式", code="objection.unknown_event")
    objection = service.get_objection(session, principal, objection_id)
    reason = form.get("reason", "").strip()
    corrections: dict[str, Any] | None = None
    try:
        if len(reason) > MAX_ANSWER_CHARS:
            raise ValidationFailed(f"答复理由不能超过{MAX_ANSWER_CHARS}字", code="objection.reason_too_long")
        if event == "correct":
            current = _record(session, objection.record_id).fields
            # Browsers send textareas with CRLF line ends: compare the text as stored.
            sent = {
                key.removeprefix("field-"): value.replace("\r\n", "\n").strip()
                for key, value in form.items()
                if key.startswith("field-")
            }
            corrections = {
                name: value for name, value in sent.items() if value != _as_text(current.get(name)).strip()
            }
        with session.begin_nested():
            service.answer(
                session,
                platform.context(principal, today, ip=client_ip(request)),
                objection,
                event,
                rule_sets=platform.rule_sets,
                reason=reason,
                corrections=corrections,
            )
    except XinyongError as exc:
        session.refresh(objection)
        return _console_detail(request, session, platform, principal, objection, error=exc, sent=form)
    return RedirectResponse(f"/console/objections/{objection.id}", status_code=303)
