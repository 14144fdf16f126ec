"""Voluntary registration in the subject's account (自愿注册): my entries, a new entry per kind with the
truthfulness commitment shown and signed, an entry's versions and steps, amend and withdraw.

A form a person can fix (a missing field, a bad date, a file of the wrong type) is shown again with the
message; the attempt runs in a savepoint, so nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from xinyong.accounts import people
from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.commitments import service as commitments
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import PayloadTooLarge, ValidationFailed, XinyongError
from xinyong.platform import Platform
from xinyong.registration import rules, service
from xinyong.registration.models import Registration
from xinyong.registration.schemas import Kind
from xinyong.subjects import service as subjects
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

ACCEPT = ".pdf,.ofd,.jpg,.jpeg,.png"
FIELD_PREFIX = "f_"
FORM_ERRORS = (ValidationFailed, PayloadTooLarge)  # an illegal step (409) is an error page
PUBLIC_LABELS = {"always": "向社会公开", "subject_choice": "由您选择是否公开", "never": "不向社会公开"}
CONFIRMER_LABELS = {"issuer": "授予或发证的部门（由您选择）", "credit_office": "信用办"}


@dataclass
class PostedEntry:
    """An entry form as posted: the kind's fields (``f_<name>``), the commitment and the evidence."""

    fields: dict[str, str] = field(default_factory=dict)
    department_code: str = ""
    publish: bool = False
    signer_name: str = ""
    agree: bool = False
    evidence: list[Upload] = field(default_factory=list)
    too_large: str | None = None

    @property
    def typed(self) -> dict[str, Any]:
        """What the person typed, to show the form again after a refusal."""
        return {
            "fields": self.fields,
            "department_code": self.department_code,
            "publish": self.publish,
            "signer_name": self.signer_name,
        }


async def posted_entry(request: Request) -> PostedEntry:
    """Read the entry form (its fields are the kind's, so they are read by prefix)."""
    form = await request.form()
    entry = PostedEntry()
    for key, value in form.multi_items():
        if isinstance(value, str):
            if key.startswith(FIELD_PREFIX):
                entry.fields[key[len(FIELD_PREFIX) :][:32]] = value
            elif key == "department_code":
                entry.department_code = value[:32]
            elif key == "publish":
                entry.publish = value == "true"
            elif key == "signer_name":
                entry.signer_name = value[:60]
            elif key == "agree":
                entry.agree = value == "true"
        elif key == "evidence" and isinstance(value, UploadFile) and value.filename:
            content = await value.read(files.MAX_FILE_BYTES + 1)
            if len(content) > files.MAX_FILE_BYTES:
                entry.too_large = value.filename
            entry.evidence.append(Upload(value.filename, content))
    return entry


PostedEntryDep = Annotated[PostedEntry, Depends(posted_entry)]


def _checked_uploads(entry: PostedEntry) -> list[Upload]:
    if entry.too_large is not None:
        raise PayloadTooLarge(
            f"文件“{entry.too_large}”超过{files.MAX_FILE_BYTES // (1024 * 1024)}MB上限", code="file.too_large"
        )
    if len(entry.evidence) > files.MAX_FILES:
        raise ValidationFailed(f"每件最多上传{files.MAX_FILES}个文件", code="file.too_many")
    for upload in entry.evidence:
        if not upload.content:
            raise ValidationFailed(f"文件“{upload.filename}”为空", code="file.empty")
        files.sniff(upload.content, upload.filename)
    return entry.evidence


def _agreed(entry: PostedEntry) -> None:
    if not entry.agree:
        raise ValidationFailed(
            "请阅读承诺书全文并勾选“我已阅读并承诺”", code="registration.commitment_not_agreed"
        )


def department_tree(session: Session) -> list[tuple[str, str, int]]:
    """The departments as (code, name, depth), each under its parent, for the subject to choose from."""
    departments = accounts.list_departments(session)
    children: dict[str | None, list[Any]] = {}
    known = {d.code for d in departments}
    for d in sorted(departments, key=lambda d: d.code):
        children.setdefault(d.parent_code if d.parent_code in known else None, []).append(d)
    tree: list[tuple[str, str, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for d in children.get(parent, []):
            tree.append((d.code, d.name, depth))
            if depth < 6:
                walk(d.code, depth + 1)

    walk(None, 0)
    return tree


def _department_names(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def _form_page(
    request: Request,
    session: Session,
    principal: Principal,
    today: dt.date,
    chosen: Kind,
    *,
    form: dict[str, Any],
    registration: Registration | None = None,
    error: XinyongError | None = None,
) -> HTMLResponse:
    assert principal.subject_id is not None
    subject = subjects.get(session, principal.subject_id)
    version = registration.version + 1 if registration else 1
    fields = form.get("fields") or {}
    title = rules.title_of(chosen, fields) if fields.get(chosen.title_field) else f"（{chosen.label}）"
    failed = error.details if error is not None and isinstance(error.details, dict) else {}
    return render(
        request,
        "registration_form.html",
        {
            "kind": chosen,
            "subject": subject,
            "registration": registration,
            "template": commitments.template(service.COMMITMENT_TEMPLATE),
            "commitment_text": service.preview_commitment(
                subject,
                chosen,
                title=title,
                version=version,
                signer_name=form.get("signer_name", ""),
                today=today,
            ),
            "departments": department_tree(session) if chosen.confirmer == "issuer" else [],
            "form": form,
            "error": error,
            "field_errors": failed,
            "action": f"/account/registrations/{registration.id}/amend"
            if registration
            else "/account/registrations",
            "accept": ACCEPT,
            "max_files": files.MAX_FILES,
            "public_labels": PUBLIC_LABELS,
            "confirmer_labels": CONFIRMER_LABELS,
            "today": today,
        },
        status_code=error.status_code if error is not None else 200,
    )


@router.get("/account/registrations", response_class=HTMLResponse)
def my_registrations(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("registrations:declare")],
) -> HTMLResponse:
    """My registered information (自愿注册) in every state, and the kinds I may register."""
    entries = service.of_subject(session, principal.subject_id) if principal.subject_id is not None else []
    return render(
        request,
        "registration_mine.html",
        {
            "verified": principal.subject_id is not None,
            "entries": entries,
            "kinds": service.kind_set().kinds,
            "kind_set": service.kind_set(),
            "states": rules.STATE_LABELS,
            "public_labels": PUBLIC_LABELS,
            "confirmer_labels": CONFIRMER_LABELS,
            "departments": _department_names(session),
        },
    )


@router.get("/account/registrations/new", response_class=HTMLResponse)
def new_registration(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:declare")],
    kind: Annotated[str, Query(max_length=32)],
) -> HTMLResponse:
    """The form of a new entry of one kind, with the truthfulness commitment to sign."""
    service.verified_subject(session, principal)
    return _form_page(request, session, principal, today, service.kind(kind), form={})


@router.post("/account/registrations", response_class=HTMLResponse)
def declare(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:declare")],
    _csrf: CsrfDep,
    entry: PostedEntryDep,
    kind: Annotated[str, Form(max_length=32)],
) -> Response:
    """Declare an entry (自主申报) with its evidence; the truthfulness commitment is signed with it."""
    service.verified_subject(session, principal)
    chosen = service.kind(kind)
    try:
        _agreed(entry)
        uploads = _checked_uploads(entry)
        with session.begin_nested():
            registration = service.declare(
                session,
                platform.context(principal, today),
                kind_code=chosen.code,
                fields=entry.fields,
                signer_name=entry.signer_name,
                department_code=entry.department_code or None,
                publish=entry.publish,
                evidence=uploads,
            )
    except FORM_ERRORS as exc:
        return _form_page(request, session, principal, today, chosen, form=entry.typed, error=exc)
    return RedirectResponse(f"/account/registrations/{registration.id}", status_code=303)


def _entry_page(
    request: Request,
    session: Session,
    principal: Principal,
    today: dt.date,
    registration: Registration,
    error: XinyongError | None = None,
) -> HTMLResponse:
    return render(
        request,
        "registration_entry.html",
        entry_context(session, registration)
        | {
            "allowed": set(rules.allowed_events(registration.status)) & rules.SUBJECT_EVENTS,
            "error": error,
            "today": today,
        },
        status_code=error.status_code if error is not None else 200,
    )


def entry_context(session: Session, registration: Registration) -> dict[str, Any]:
    """What both the subject's and the department's page show of one entry."""
    chosen = service.kind(registration.kind)
    return {
        "r": registration,
        "kind": chosen,
        "subject": subjects.get(session, registration.subject_id),
        "steps": service.history(session, registration.id),
        "people": people.labels(
            session,
            [s.actor for s in service.history(session, registration.id)],
            own_subject_id=registration.subject_id,
        ),
        "decider": people.labels(session, [registration.decided_by], with_department=False),
        "commitment": service.commitment_of(session, registration),
        "attachments": files.attachments_of(session, service.owner(registration)),
        "departments": _department_names(session),
        "states": rules.STATE_LABELS,
        "event_labels": rules.EVENT_LABELS,
        "public": rules.is_public(chosen, registration.publish),
        "public_labels": PUBLIC_LABELS,
        "display": rules.display,
    }


@router.get("/account/registrations/{registration_id:int}", response_class=HTMLResponse)
def my_registration(
    registration_id: int,
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:declare")],
) -> HTMLResponse:
    """One of my entries: its state, content, versions and steps, evidence and commitment."""
    registration = service.get_own(session, principal, registration_id)
    return _entry_page(request, session, principal, today, registration)


@router.get("/account/registrations/{registration_id:int}/amend", response_class=HTMLResponse)
def amend_form(
    registration_id: int,
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:declare")],
) -> HTMLResponse:
    """The form of a new version of my entry, filled with what it says now."""
    registration = service.get_own(session, principal, registration_id)
    rules.next_state(registration.status, "amend")
    form = {
        "fields": {k: "" if v is None else str(v) for k, v in registration.fields.items()},
        "department_code": registration.department_code or "",
        "publish": registration.publish,
    }
    chosen = service.kind(registration.kind)
    return _form_page(request, session, principal, today, chosen, form=form, registration=registration)


@router.post("/account/registrations/{registration_id:int}/amend", response_class=HTMLResponse)
def amend(
    registration_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:declare")],
    _csrf: CsrfDep,
    entry: PostedEntryDep,
) -> Response:
    """Amend my entry: a new version, declared again with a new commitment."""
    registration = service.get_own(session, principal, registration_id)
    chosen = service.kind(registration.kind)
    try:
        _agreed(entry)
        uploads = _checked_uploads(entry)
        with session.begin_nested():
            service.amend(
                session,
                platform.context(principal, today),
                registration,
                fields=entry.fields,
                signer_name=entry.signer_name,
                department_code=entry.department_code or None,
                publish=entry.publish,
                evidence=uploads,
            )
    except FORM_ERRORS as exc:
        session.refresh(registration)
        return _form_page(
            request, session, principal, today, chosen, form=entry.typed, registration=registration, error=exc
        )
    return RedirectResponse(f"/account/registrations/{registration.id}", status_code=303)


@router.post("/account/registrations/{registration_id:int}/withdraw", response_class=HTMLResponse)
def withdraw(
    registration_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:declare")],
    _csrf: CsrfDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Withdraw my entry while it is not confirmed (撤回)."""
    registration = service.get_own(session, principal, registration_id)
    with session.begin_nested():
        service.withdraw(session, platform.context(principal, today), registration, note=note)
    return RedirectResponse(f"/account/registrations/{registration.id}", status_code=303)


def download(session: Session, platform: Platform, registration: Registration, file_id: int) -> Response:
    """An evidence file as an attachment, with its checked type (never rendered inline)."""
    attachment = files.get(session, service.owner(registration), file_id)
    content = files.read(platform.settings.data_dir, attachment)
    return downloads.attachment(content, attachment.filename, attachment.content_type)


@router.get("/account/registrations/{registration_id:int}/files/{file_id:int}")
def my_registration_file(
    registration_id: int,
    file_id: int,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registrations:declare")],
) -> Response:
    """Download evidence of my entry."""
    registration = service.get_own(session, principal, registration_id)
    return download(session, platform, registration, file_id)
