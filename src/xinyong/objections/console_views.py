"""Objection console pages: the department's queue (the credit office sees every department's), an objection
with its evidence and history, and the answers (correct, revoke, maintain; for a grade objection, on one of the
department's records behind the grade). The filer's and the subject's pages are `views`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.audit import service as audit
from xinyong.files import service as files
from xinyong.kit.errors import NotFound, ValidationFailed, XinyongError
from xinyong.objections import rules, service
from xinyong.objections.models import Objection
from xinyong.objections.views import (
    FILER_KINDS,
    HISTORY_LABELS,
    _department_names,
    _grade_case,
    _record,
    _record_view,
    _records_by_id,
    _targets,
)
from xinyong.platform import Platform
from xinyong.records import rules as record_rules
from xinyong.records.models import Record
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

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


async def _form_values(request: Request) -> dict[str, str]:
    """The posted form's text fields (already parsed, and cached, by the CSRF check)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(_form_values)]


# -- helpers ---------------------------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


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
            "records": _records_by_id(session, [o.record_id for o in found if o.record_id is not None]),
            "targets": _targets(session, platform, found),
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
    chosen_record: str | None = None,
) -> HTMLResponse:
    sent = sent or {}
    case = _grade_case(session, platform, objection)
    record: Record | None
    own: list[Record] = []
    if case is not None:
        # A grade objection: the department corrects or revokes one of its records behind the grade, chosen
        # by ?record= (its own first record by default), or maintains the grade.
        own = [r for r in case["records"] if r.provider_code == objection.department_code]
        chosen = next((r for r in own if str(r.id) == (chosen_record or sent.get("record"))), None)
        record = chosen or (own[0] if own else None)
    else:
        assert objection.record_id is not None
        record = _record(session, objection.record_id)
    item = platform.catalog.item(record.item_code) if record is not None else None
    fields = record.fields if record is not None else {}
    correctable = [
        {
            "name": spec.name,
            "label": spec.label,
            "type": spec.type,
            "enum": spec.enum,
            "required": spec.required,
            "max_length": spec.max_length,
            "unit": spec.unit,
            "value": sent.get(f"field-{spec.name}", _as_text(fields.get(spec.name))),
        }
        for spec in (record_rules.correctable_fields(item) if item is not None else [])
    ]
    if case is not None:
        case["own_records"] = [_record_view(platform.catalog, r, full=True) for r in own]
        case["all_records"] = [_record_view(platform.catalog, r, full=True) for r in case["records"]]
    return render(
        request,
        "objection_grade_console.html" if case is not None else "objection_console.html",
        {
            "o": objection,
            "case": case,
            "record": _record_view(platform.catalog, record, full=True) if record is not None else None,
            "correctable": correctable,
            "attachments": files.attachments_of(session, f"objection:{objection.id}"),
            "events": service.events_of(session, objection.id),
            "history_labels": HISTORY_LABELS,
            "states": rules.STATE_LABELS,
            "filer_kinds": FILER_KINDS,
            "departments": _department_names(session),
            "people": people.labels(session, [e.actor for e in service.events_of(session, objection.id)]),
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
    record: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """An objection with its reasons, evidence, the record as it stands (for a grade: the score, grade, the
    indicator's value and points and the records behind it), its history and the answer forms."""
    objection = service.get_objection(session, principal, objection_id)
    if objection.evaluation_result_id is not None:  # the subject's grade and its records: non-public data
        audit.record(
            session,
            principal,
            "objection.grade_case_view",
            subject_id=objection.subject_id,
            target=f"objection:{objection.id}",
            ip=client_ip(request),
            details={"evaluation_result": objection.evaluation_result_id},
        )
    return _console_detail(
        request, session, platform, principal, objection, chosen_record=str(record) if record else None
    )


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


def _chosen_record(objection: Objection, event: str, form: dict[str, str]) -> int | None:
    """For a grade objection corrected or revoked, the record the department acts on (the form's ``record``)."""
    if objection.record_id is not None or event == "maintain":
        return None
    value = form.get("record", "")
    if not value.isdigit() or len(value) > 12:
        raise ValidationFailed("请选择要更正或撤销的信用记录", code="objection.record_required")
    return int(value)


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
        chosen = _chosen_record(objection, event, form)
        if event == "correct":
            current = _record(session, chosen or objection.record_id or 0).fields
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
                record_id=chosen,
            )
    except XinyongError as exc:
        session.refresh(objection)
        return _console_detail(request, session, platform, principal, objection, error=exc, sent=form)
    return RedirectResponse(f"/console/objections/{objection.id}", status_code=303)
