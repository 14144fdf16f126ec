"""Commitment pages: the public listing and one published commitment (with the platform's signature checked),
the subject's own commitments and online signing from its account, the accepting department's verification
queue and form (核查), and the commitment statistics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.commitments import rules, service
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import KIND_LABELS, CommitmentTemplate
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from xinyong.monitoring import service as monitoring
from xinyong.subjects import service as subjects
from xinyong.web import downloads
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

CHANNEL_LABELS = {
    "online": "在线签署",
    "paper": "纸质签署（部门代为登记）",
    "counter": "窗口签署（审批系统登记）",
}
FORM_ERRORS = (ValidationFailed, PayloadTooLarge, Conflict, Forbidden)
FileList = Annotated[list[UploadFile | str] | None, File()]


def _departments(session: Session) -> dict[str, str]:
    return {d.code: d.name for d in accounts.list_departments(session)}


def _labels(session: Session) -> dict[str, Any]:
    return {
        "status_labels": rules.STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "departments": _departments(session),
        "channel_labels": CHANNEL_LABELS,
    }


def _uploads(items: list[UploadFile | str] | None) -> list[Upload]:
    """The files a form sent, each checked (size, type from its first bytes) before anything is stored; a
    browser sends an empty string for a file input left empty, skipped."""
    uploads = []
    for item in items or []:
        if isinstance(item, str) or not item.filename:
            continue
        uploads.append(Upload(item.filename, item.file.read(files.MAX_FILE_BYTES + 1)))
    if len(uploads) > files.MAX_FILES:
        raise ValidationFailed(f"最多上传{files.MAX_FILES}个文件", code="file.too_many")
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


# -- the portal ----------------------------------------------------------------------------------------------


@router.get("/commitments/{commitment_id:int}", response_class=HTMLResponse)
def commitment_page(
    commitment_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """A published credit commitment (信用承诺书): kind, matter, accepting department, state and verification
    outcome, its full text as signed and whether it is authentic."""
    commitment = service.get_public(session, commitment_id)
    signer, text = rules.as_published(
        subjects.get(session, commitment.subject_id).kind,
        commitment.subject_name,
        commitment.signer_name,
        commitment.text,
    )
    return render(
        request,
        "commitment_public.html",
        {
            "commitment": commitment,
            "signer": signer,
            "text": text,
            "valid": service.verify(commitment, platform.signer),
            "status_label": rules.STATUS_LABELS.get(commitment.status, commitment.status),
            "channel_label": CHANNEL_LABELS.get(commitment.channel, commitment.channel),
            "public_key": platform.signer.public_key_b64,
            "template": service.templates().get(commitment.template_code),
            **_labels(session),
        },
    )


@router.get("/commitments", response_class=HTMLResponse)
def commitment_listing(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
    q: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(max_length=16)] = "",
    department: Annotated[str, Query(max_length=32)] = "",
    matter: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """信用承诺公示: every published commitment, newest first, searched by subject (name or USCC), kind,
    accepting department and matter."""
    kind = kind if kind in KIND_LABELS else ""
    filters = {"q": q, "kind": kind, "department": department, "matter": matter}
    used = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "commitment_listing.html",
        {
            "listing": service.public_listing(
                session, query=q, kind=kind, department=department, matter=matter, page=page
            ),
            **filters,
            "query": urlencode(used) + "&" if used else "",
            **_labels(session),
        },
    )


@router.get("/statistics/commitments", response_class=HTMLResponse)
def statistics_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """Commitments per accepting department by state, with verifications overdue (recomputed daily)."""
    stats = monitoring.read(session, platform.calendar, today, (monitoring.COMMITMENTS,))
    return render(
        request,
        "commitment_statistics.html",
        {
            "data": stats.values[monitoring.COMMITMENTS],
            "computed_at": stats.computed_at,
            "live": stats.live,
            **_labels(session),
        },
    )


# -- the subject's account -----------------------------------------------------------------------------------


def _online_templates() -> list[CommitmentTemplate]:
    return [t for t in service.templates().values() if t.kind in service.ONLINE_KINDS and t.public]


@router.get("/account/commitments", response_class=HTMLResponse)
def my_commitments(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """The account's own commitments (public or not) with their verification state."""
    rows = service.of_subject(session, principal)
    return render(
        request,
        "commitment_mine.html",
        {"commitments": rows, "templates": _online_templates(), **_labels(session)},
    )


@router.get("/account/commitments/{commitment_id:int}", response_class=HTMLResponse)
def my_commitment(
    commitment_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """One of the account's own commitments, public or not: its full text as signed, its state and whether the
    platform's signature holds (a commitment the portal does not publish is readable here alone)."""
    commitment = service.get_own(session, principal, commitment_id)
    return render(
        request,
        "commitment_public.html",
        {
            "commitment": commitment,
            "own": True,
            "signer": commitment.signer_name,
            "text": commitment.text,
            "published": service.is_public(session, commitment),
            "valid": service.verify(commitment, platform.signer),
            "status_label": rules.STATUS_LABELS.get(commitment.status, commitment.status),
            "channel_label": CHANNEL_LABELS.get(commitment.channel, commitment.channel),
            "public_key": platform.signer.public_key_b64,
            "template": service.templates().get(commitment.template_code),
            **_labels(session),
        },
    )


def _sign_form(
    request: Request,
    session: SessionDep,
    principal: Principal,
    today: dt.date,
    chosen: CommitmentTemplate,
    *,
    typed: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    assert principal.subject_id is not None
    subject = subjects.get(session, principal.subject_id)
    typed = typed or {}
    return render(
        request,
        "commitment_sign.html",
        {
            "template": chosen,
            "matters": service.matters_of(chosen),
            "text": service.preview(
                chosen.code,
                subject,
                target=typed.get("matter") or "（承诺事项）",
                signer_name=typed.get("signer_name", ""),
                today=today,
            ),
            "typed": typed,
            "error": error,
            **_labels(session),
        },
        status_code=status_code,
    )


def _online_template(code: str) -> CommitmentTemplate:
    chosen = service.template(code)
    if chosen.kind not in service.ONLINE_KINDS or not chosen.public:
        raise ValidationFailed(f"《{chosen.title}》不能在此在线签署", code="commitment.not_online_template")
    return chosen


@router.get("/account/commitments/new", response_class=HTMLResponse)
def sign_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    template: Annotated[str, Query(max_length=32)] = "notify_commit",
) -> HTMLResponse:
    """Sign a commitment online: the template's text with the subject filled in, what is promised, how and when
    it is checked."""
    return _sign_form(request, session, principal, today, _online_template(template))


@router.post("/account/commitments", response_class=HTMLResponse, response_model=None)
def sign(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    template: Annotated[str, Form(max_length=32)],
    matter: Annotated[str, Form(max_length=200)] = "",
    department: Annotated[str, Form(max_length=32)] = "",
    signer_name: Annotated[str, Form(max_length=50)] = "",
    agree: Annotated[bool, Form()] = False,
) -> Response:
    """Sign online: the text frozen, hashed and attested; with an accepting department, its verification task
    is generated."""
    chosen = _online_template(template)
    typed = {"matter": matter, "department": department, "signer_name": signer_name}
    assert principal.subject_id is not None
    try:
        if not agree:
            raise ValidationFailed("须阅读并确认承诺内容", code="commitment.not_agreed")
        departments = _departments(session)
        if department and department not in departments:
            raise ValidationFailed("受理部门不存在", code="commitment.unknown_department")
        name = matter.strip()
        target = name
        if chosen.catalogue is not None:  # the matter's name, not its code, goes into the text
            target = service.resolve_matter(chosen, name, None)[0]
        commitment = service.sign(
            session,
            platform.context(principal, today, ip=client_ip(request)),
            template_code=chosen.code,
            subject=subjects.get(session, principal.subject_id),
            target=target,
            signer_name=signer_name,
            matter=name,
            department_code=None if chosen.catalogue is not None else (department or chosen.department),
        )
    except FORM_ERRORS as exc:
        session.rollback()
        return _sign_form(
            request, session, principal, today, chosen, typed=typed, error=exc.message, status_code=422
        )
    return RedirectResponse(f"/account/commitments#c{commitment.id}", status_code=303)


# -- the accepting department's verification (核查) -----------------------------------------------------------


@router.get("/console/commitments", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("commitments:write")],
    view: Annotated[str, Query(max_length=16)] = "due",
    kind: Annotated[str, Query(max_length=16)] = "",
    department: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """The verification queue (核查任务): due, overdue, done; by kind, department (credit office) and subject
    or matter."""
    view = view if view in (*rules.QUEUES, "signed", "all") else "due"
    kind = kind if kind in KIND_LABELS else ""
    if not principal.is_credit_office:
        department = ""
    filters = {"view": view, "kind": kind, "department": department, "q": q}
    return render(
        request,
        "commitment_follow_up.html",
        {
            "listing": service.queue(
                session,
                principal,
                today=today,
                view=view,
                kind=kind,
                department=department,
                query=q,
                page=page,
            ),
            **filters,
            "query": urlencode({k: v for k, v in filters.items() if v}) + "&",
            "queues": {**rules.QUEUES, "signed": "未生成任务", "all": "全部"},
            "today": today,
            "all_departments": principal.is_credit_office,
            **_labels(session),
        },
    )


def _detail(
    request: Request,
    session: Session,
    principal: Principal,
    today: dt.date,
    commitment: Commitment,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "commitment_console.html",
        {
            "commitment": commitment,
            "template": service.templates().get(commitment.template_code),
            "queue": rules.queue_of(commitment.status, commitment.verification_due, today),
            "queues": rules.QUEUES,
            "may_decide": commitment.status == rules.VERIFYING and service.may_decide(principal, commitment),
            "evidence": service.evidence_of(session, commitment),
            "people": people.labels(session, [commitment.decided_by]),
            "public": service.is_public(session, commitment),
            "today": today,
            "error": error,
            "typed": typed or {},
            **_labels(session),
        },
        status_code=status_code,
    )


@router.get("/console/commitments/{commitment_id:int}", response_class=HTMLResponse)
def detail_page(
    commitment_id: int,
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("commitments:write")],
) -> HTMLResponse:
    """One commitment as its accepting department sees it, with the verification form (read audited)."""
    commitment = service.get_for_department(session, principal, commitment_id)
    audit.record(
        session,
        principal,
        "commitment.read",
        subject_id=commitment.subject_id,
        target=f"commitment:{commitment.id}",
        purpose="信用承诺核查",
        ip=client_ip(request),
    )
    return _detail(request, session, principal, today, commitment)


@router.post("/console/commitments/{commitment_id:int}/verification", response_model=None)
def record_verification(
    commitment_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("commitments:write")],
    _csrf: CsrfDep,
    outcome: Annotated[str, Form(max_length=16)],
    facts: Annotated[str, Form(max_length=2000)] = "",
    decided_on: Annotated[str, Form(max_length=10)] = "",
    evidence: FileList = None,
) -> Response:
    """Record the outcome: fulfilled, or breached (违诺) with the facts and evidence."""
    commitment = service.get_for_department(session, principal, commitment_id)
    typed = {"outcome": outcome, "facts": facts, "decided_on": decided_on}
    try:
        try:
            day = dt.date.fromisoformat(decided_on) if decided_on else None
        except ValueError:
            raise ValidationFailed("核查日期格式不正确", code="commitment.bad_decided_on") from None
        service.record_verification(
            session,
            platform.context(principal, today, ip=client_ip(request)),
            commitment,
            outcome=outcome,
            facts=facts,
            decided_on=day,
            evidence=_uploads(evidence),
        )
    except FORM_ERRORS as exc:
        session.rollback()
        commitment = service.get_for_department(session, principal, commitment_id)
        status = exc.status_code
        return _detail(
            request, session, principal, today, commitment, error=exc.message, typed=typed, status_code=status
        )
    return RedirectResponse(f"/console/commitments/{commitment.id}", status_code=303)


@router.get("/console/commitments/{commitment_id:int}/files/{file_id:int}")
def evidence_file(
    commitment_id: int,
    file_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("commitments:write")],
) -> Response:
    """Download a verification's evidence (logged)."""
    commitment = service.get_for_department(session, principal, commitment_id)
    if not 0 < file_id <= service.MAX_ID:
        raise NotFound("未找到该文件", code="file.not_found")
    attachment = files.get(session, f"commitment:{commitment.id}", file_id)
    content = files.read(platform.settings.data_dir, attachment)
    audit.record(
        session,
        principal,
        "commitment.evidence_download",
        subject_id=commitment.subject_id,
        target=f"commitment:{commitment.id}",
        purpose="信用承诺核查",
        ip=client_ip(request),
        details={"file": file_id},
    )
    return downloads.attachment(content, attachment.filename, attachment.content_type)
