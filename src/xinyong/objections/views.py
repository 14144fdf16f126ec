"""Objection pages: filing on the portal (a record) or on the account (the subject's own grade), the subject's
own objections, and the helpers the console pages (`console_views`: the department queue and answers) share.
The public statistics of repairs and objections are `statistics_views`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog
from xinyong.creditfile import rules as file_rules
from xinyong.evaluation import explain, grade_objections, repository
from xinyong.evaluation import service as evaluation
from xinyong.evaluation.schemas import ModelFile
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import NotFound, ValidationFailed, XinyongError
from xinyong.objections import rules, service
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

FILER_KINDS = {"subject": "信用主体本人", "public": "社会公众", "clerk": "部门代为登记"}
HISTORY_LABELS = {"file": "提出异议", "escalate": "逾期提请督办", **rules.EVENT_LABELS}
# Fields shown elsewhere on a record card (title, tags) or that name the subject: not repeated in its facts.
_CARD_SKIP = frozenset({"subject_name", "subject_category", "uscc", "doc_no", "record_status", "region_code"})


# -- helpers ---------------------------------------------------------------------------------------------------


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
            {
                "label": spec.label,
                "value": file_rules.field_text(spec.type, shown[spec.name]),
                "unit": spec.unit,
            }
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


def _models(session: Session, platform: Platform) -> dict[str, ModelFile]:
    return evaluation.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)


def _targets(session: Session, platform: Platform, found: Sequence[Objection]) -> dict[int, str]:
    """What each grade objection disputes, as the lists show it: the model and the indicator (or 整体评价)."""
    grades = [o for o in found if o.evaluation_result_id is not None]
    if not grades:
        return {}
    models = _models(session, platform)
    shown = {}
    for o in grades:
        model = models.get(o.model_code or "")
        names = {i.code: i.name for i in model.indicators} if model else {}
        what = names.get(o.indicator_code, o.indicator_code) if o.indicator_code else grade_objections.WHOLE
        shown[o.id] = f"信用评价：{model.name if model else o.model_code}（{what}）"
    return shown


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
    records = _records_by_id(session, [o.record_id for o in found if o.record_id is not None])
    return render(
        request,
        "objection_mine.html",
        {
            "objections": found,
            "records": records,
            "targets": _targets(session, platform, found),
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
    mine = principal.user_id is not None and principal.user_id == objection.filed_by
    record = _record(session, objection.record_id) if objection.record_id is not None else None
    return render(
        request,
        "objection_mine_detail.html",
        {
            "o": objection,
            "record": (
                _record_view(platform.catalog, record, full=principal.subject_id == record.subject_id)
                if record is not None
                else None
            ),
            "case": _grade_case(session, platform, objection),
            "mine": mine,
            "attachments": files.attachments_of(session, f"objection:{objection.id}"),
            "events": service.events_of(session, objection.id),
            "history_labels": HISTORY_LABELS,
            "states": rules.STATE_LABELS,
            "departments": _department_names(session),
            "filer_kinds": FILER_KINDS,
            "may_withdraw": _may_withdraw(principal, objection),
            # Who acted: departments' users by name, this subject as 本主体, another account not by name.
            "people": people.labels(
                session,
                [e.actor for e in service.events_of(session, objection.id)],
                own_subject_id=principal.subject_id,
                others_as="其他主体",
            ),
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


# -- a subject objects to its grade ------------------------------------------------------------------------------


def _grade_case(session: Session, platform: Platform, objection: Objection) -> dict[str, Any] | None:
    """A grade objection's case (the result, the indicator and the records behind it); None for a record's."""
    if objection.evaluation_result_id is None:
        return None
    case = grade_objections.case(session, _models(session, platform), objection)
    names = _department_names(session)
    case["others"] = [names.get(code, code) for code in objection.other_departments or []]
    case["items"] = {i.code: i.name for i in platform.catalog.items}
    return case


def _grade_form(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    model_code: str | None,
    form: dict[str, str],
    error: XinyongError | None = None,
) -> HTMLResponse:
    assert principal.subject_id is not None
    models = _models(session, platform)
    subject = subjects.get(session, principal.subject_id)
    code = model_code or explain.default_model_code(subject)
    model = models.get(code)
    grade = evaluation.current_grade(session, code, subject.id) if model else None
    result = repository.result_of(session, grade.run_id, subject.id) if grade else None
    if model is None or grade is None or result is None:
        raise NotFound("暂无可以提出异议的评价结果", code="objection.result_not_found")
    items = (result.indicators or {}).get("items", {})
    indicators = [
        {"code": i.code, "name": i.name, "value": value, "points": points}
        for i in model.indicators
        for value, points in [items.get(i.code, [None, 0.0])]
    ]
    return render(
        request,
        "objection_grade_new.html",
        {
            "model": model,
            "grade": grade,
            "result": result,
            "labels": {g.grade: g.label for g in model.grades},
            "indicators": indicators,
            "whole": grade_objections.WHOLE,
            "workdays": platform.repair_policy.objection_workdays,
            "form": form,
            "error": error,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/account/evaluation/objection", response_class=HTMLResponse)
def new_grade_objection(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("account:own")],
    model: Annotated[str | None, Query(max_length=48, pattern=r"^[a-z][a-z0-9_]{1,47}$")] = None,
    indicator: Annotated[str, Query(max_length=48)] = "",
) -> HTMLResponse:
    """The form to object to my grade: the disputed indicator or the model as a whole (整体评价)."""
    assert principal.subject_id is not None
    name = subjects.get(session, principal.subject_id).name
    form = {"indicator": indicator, "reasons": "", "filer_name": name, "filer_contact": ""}
    return _grade_form(request, session, platform, principal, model, form)


@router.post(
    "/account/evaluation/objections", response_class=HTMLResponse, dependencies=[rate_limited("login")]
)
def file_grade_objection(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    result: Annotated[int, Form(ge=1)],
    indicator: Annotated[str, Form(max_length=48)] = "",
    reasons: Annotated[str, Form(max_length=5000)] = "",
    filer_name: Annotated[str, Form(max_length=200)] = "",
    filer_contact: Annotated[str, Form(max_length=200)] = "",
    evidence: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """File an objection to my grade; the provider of the disputed input answers within the deadline."""
    form = {
        "indicator": indicator,
        "reasons": reasons,
        "filer_name": filer_name,
        "filer_contact": filer_contact,
    }
    models = _models(session, platform)
    found, run = grade_objections.own_result(session, principal.subject_id, result)
    try:
        uploads = _read_uploads(evidence or [])
        with session.begin_nested():
            objection = grade_objections.file(
                session,
                platform.context(principal, today, ip=client_ip(request)),
                models,
                answer_workdays=platform.repair_policy.objection_workdays,
                credit_office=platform.settings.credit_office_department,
                result_id=found.id,
                indicator_code=indicator or None,
                reasons=reasons,
                filer_name=filer_name,
                filer_contact=filer_contact or None,
                evidence=uploads,
            )
    except XinyongError as exc:
        return _grade_form(request, session, platform, principal, run.model_code, form, exc)
    return RedirectResponse(f"/account/objections/{objection.id}", status_code=303)
