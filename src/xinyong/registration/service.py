"""Voluntary registration (自愿注册) use cases: a verified subject account declares information about itself
with a truthfulness commitment, amends or withdraws it; the competent department confirms or rejects it, and
may later find a confirmed entry false (a breach of the commitment). Every step is kept in the entry's history
and audited; services flush and never commit."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.notices import service as notices
from xinyong.registration import rules
from xinyong.registration.models import Registration, RegistrationStep
from xinyong.registration.schemas import Kind, KindSet
from xinyong.subjects.models import Subject, SubjectKind

COMMITMENT_TEMPLATE = "registration_truth"
HANDLE = "registrations:handle"


@functools.cache
def kind_set() -> KindSet:
    """The kinds of registered information (``registration/data/kinds.yaml``), validated: a kind without its
    source, or a malformed field, stops the load."""
    text = resources.files("xinyong.registration").joinpath("data/kinds.yaml").read_text(encoding="utf-8")
    return KindSet.model_validate(yaml.safe_load(text))


def kind(code: str) -> Kind:
    found = kind_set().get(code)
    if found is None:
        raise ValidationFailed(f"信息种类“{code[:32]}”不存在", code="registration.unknown_kind")
    return found


def owner(registration: Registration) -> str:
    """The owner name of an entry's evidence files."""
    return f"registration:{registration.id}"


def verified_subject(session: Session, principal: Principal) -> Subject:
    """The subject a verified subject account acts for; anyone else is refused with the reason."""
    if principal.role != "subject":
        raise Forbidden("只有信用主体账户可以自愿注册信息", code="registration.not_subject_account")
    if principal.subject_id is None:
        raise Forbidden(
            "账户尚未完成身份核验，不能自愿注册信息。请先在“我的账户”完成核验（验证码、统一身份认证或人工审核）。",
            code="registration.unverified",
        )
    subject = session.get(Subject, principal.subject_id)
    assert subject is not None
    return subject


def _department(session: Session, chosen: Kind, department_code: str | None) -> str | None:
    """The competent department of an entry: for ``issuer`` kinds the one the subject chose from the department
    tree (the issuing or attesting department); for ``credit_office`` kinds none (the credit office)."""
    if chosen.confirmer == "credit_office":
        return None
    code = (department_code or "").strip()
    if not code:
        raise ValidationFailed(
            f"请选择{chosen.label}的核实部门（授予或发证的部门）", code="registration.department_required"
        )
    try:
        return accounts.get_department(session, code[:32]).code
    except NotFound:
        raise ValidationFailed(
            f"核实部门“{code[:32]}”不存在", code="registration.unknown_department"
        ) from None


def _step(
    session: Session,
    principal: Principal,
    registration: Registration,
    event: str,
    before: str | None,
    today: dt.date,
    *,
    note: str | None = None,
    ip: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> RegistrationStep:
    """Keep one step of an entry (with the content of its version) and audit it as ``registration.<event>``."""
    registration.updated_at = dt.datetime.now(dt.UTC)
    step = RegistrationStep(
        registration_id=registration.id,
        version=registration.version,
        event=event,
        from_state=before,
        to_state=registration.status,
        title=registration.title,
        fields=dict(registration.fields),
        publish=registration.publish,
        department_code=registration.department_code,
        commitment_id=registration.commitment_id,
        actor=principal.name[:100],
        user_id=principal.user_id,
        note=note,
        on=today,
    )
    session.add(step)
    session.flush()
    audit.record(
        session,
        principal,
        f"registration.{event}",
        subject_id=registration.subject_id,
        target=f"registration:{registration.id}",
        ip=ip,
        details={
            "kind": registration.kind,
            "version": registration.version,
            "from": before,
            "to": registration.status,
            **(details or {}),
        },
    )
    return step


def _sign(
    session: Session, ctx: UseCaseContext, subject: Subject, registration: Registration, signer_name: str
) -> Commitment:
    """The truthfulness commitment (信用承诺) of one version: its text names the entry."""
    chosen = kind(registration.kind)
    return commitments.sign(
        session,
        ctx,
        template_code=COMMITMENT_TEMPLATE,
        subject=subject,
        target=f"{chosen.label}信息“{registration.title}”（第{registration.version}版）",
        signer_name=signer_name,
        ref=f"registration:{registration.id}",
    )


def _store_evidence(
    session: Session, ctx: UseCaseContext, registration: Registration, evidence: Sequence[Upload]
) -> None:
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            ctx.principal,
            owner=owner(registration),
            filename=upload.filename,
            content=upload.content,
        )


def _tell_department(session: Session, subject: Subject, registration: Registration, chosen: Kind) -> None:
    if registration.department_code is None:
        return
    notices.send(
        session,
        kind="registration_received",
        ref=f"registration:{registration.id}:v{registration.version}",
        title="自愿注册信息待核实",
        body=f"{subject.name}自主申报了{chosen.label}信息“{registration.title}”，请核实。",
        link=f"/console/registrations/{registration.id}",
        department_code=registration.department_code,
    )


def preview_commitment(
    subject: Subject, chosen: Kind, *, title: str, version: int, signer_name: str, today: dt.date
) -> str:
    """The commitment text a subject reads before signing (the same the signing freezes)."""
    return commitments.preview(
        COMMITMENT_TEMPLATE,
        subject,
        target=f"{chosen.label}信息“{title}”（第{version}版）",
        signer_name=signer_name,
        today=today,
    )


def declare(
    session: Session,
    ctx: UseCaseContext,
    *,
    kind_code: str,
    fields: Mapping[str, str],
    signer_name: str,
    department_code: str | None = None,
    publish: bool = False,
    evidence: Sequence[Upload] = (),
) -> Registration:
    """Declare an entry (自主申报) for the acting verified subject account: the fields are checked against the
    kind, the truthfulness commitment is signed with it, the evidence stored, and the competent department told.
    Refused, nothing of it is kept (the caller runs it in a savepoint)."""
    principal, today = ctx.principal, ctx.today
    subject = verified_subject(session, principal)
    chosen = kind(kind_code)
    cleaned = rules.clean_fields(chosen, fields, today)
    department = _department(session, chosen, department_code)
    if len(evidence) > files.MAX_FILES:
        raise ValidationFailed(f"每件最多上传{files.MAX_FILES}个文件", code="file.too_many")
    registration = Registration(
        subject_id=subject.id,
        kind=chosen.code,
        version=1,
        status=rules.DECLARED,
        title=rules.title_of(chosen, cleaned),
        fields=cleaned,
        publish=publish and chosen.public == "subject_choice",
        department_code=department,
        declared_on=today,
        created_by=principal.user_id,
    )
    session.add(registration)
    session.flush()
    registration.commitment_id = _sign(session, ctx, subject, registration, signer_name).id
    _store_evidence(session, ctx, registration, evidence)
    _step(session, principal, registration, "declare", None, today, ip=ctx.ip)
    _tell_department(session, subject, registration, chosen)
    return registration


def _own(principal: Principal, registration: Registration) -> None:
    if principal.subject_id is None or principal.subject_id != registration.subject_id:
        raise NotFound("未找到该自愿注册信息", code="registration.not_found")


def amend(
    session: Session,
    ctx: UseCaseContext,
    registration: Registration,
    *,
    fields: Mapping[str, str],
    signer_name: str,
    department_code: str | None = None,
    publish: bool = False,
    evidence: Sequence[Upload] = (),
) -> Registration:
    """Amend one's own declared (or rejected) entry: a new version, declared again with a new commitment; the
    entry keeps what each version said in its history."""
    principal, today = ctx.principal, ctx.today
    subject = verified_subject(session, principal)
    _own(principal, registration)
    before = registration.status
    after = rules.next_state(before, "amend")
    chosen = kind(registration.kind)
    cleaned = rules.clean_fields(chosen, fields, today)
    department = _department(session, chosen, department_code)
    registration.version += 1
    registration.status = after
    registration.title = rules.title_of(chosen, cleaned)
    registration.fields = cleaned
    registration.publish = publish and chosen.public == "subject_choice"
    registration.department_code = department
    registration.declared_on = today
    registration.decided_on = registration.decided_by = registration.decided_department = None
    registration.decision_note = None
    session.flush()
    registration.commitment_id = _sign(session, ctx, subject, registration, signer_name).id
    _store_evidence(session, ctx, registration, evidence)
    _step(session, principal, registration, "amend", before, today, ip=ctx.ip)
    _tell_department(session, subject, registration, chosen)
    return registration


def withdraw(
    session: Session, ctx: UseCaseContext, registration: Registration, *, note: str = ""
) -> Registration:
    """Withdraw one's own entry while it is not confirmed (撤回); it stays in the subject's history."""
    principal = ctx.principal
    verified_subject(session, principal)
    _own(principal, registration)
    before = registration.status
    registration.status = rules.next_state(before, "withdraw")
    session.flush()
    _step(
        session,
        principal,
        registration,
        "withdraw",
        before,
        ctx.today,
        note=rules.clean_note("withdraw", note),
        ip=ctx.ip,
    )
    return registration


def may_handle(principal: Principal, registration: Registration) -> bool:
    """The competent department handles an entry; the credit office every entry (and those assigned to it)."""
    if not allows(principal, HANDLE):
        return False
    return (
        principal.is_credit_office
        or principal.kind == "system"
        or (
            registration.department_code is not None
            and principal.department_code == registration.department_code
        )
    )


def decide(
    session: Session, ctx: UseCaseContext, registration: Registration, event: str, *, note: str = ""
) -> Registration:
    """The competent department's step: confirm (已核实, with who and when), reject with a reason, or find a
    confirmed entry false (虚假申报: withdrawn as false, its truthfulness commitment breached). The subject is
    told by a notice."""
    principal, today = ctx.principal, ctx.today
    if not may_handle(principal, registration):
        raise NotFound("未找到该自愿注册信息", code="registration.not_found")
    if event not in rules.DEPARTMENT_EVENTS:
        raise ValidationFailed(f"操作“{event[:20]}”不存在", code="registration.unknown_event")
    before = registration.status
    after = rules.next_state(before, event)
    text = rules.clean_note(event, note)
    department = (
        accounts.get_department(session, principal.department_code).name
        if principal.department_code
        else "信用办"
    )
    registration.status = after
    registration.decided_on = today
    registration.decided_by = principal.name[:100]
    registration.decided_department = department[:200]
    registration.decision_note = text
    session.flush()
    _step(session, principal, registration, event, before, today, note=text, ip=ctx.ip)
    if event == "find_false" and registration.commitment_id is not None:
        commitment = session.get(Commitment, registration.commitment_id)
        assert commitment is not None
        if commitment.department_code is None:  # the department that found it false verifies the commitment
            commitment.department_code = principal.department_code
        commitments.record_fulfilment(
            session, principal, commitment, fulfilled=False, note=f"虚假申报：{text}", today=today
        )
    label = kind(registration.kind).label
    outcome = {"confirm": "已核实", "reject": "不予核实", "find_false": "被认定为虚假申报"}[event]
    reason = f"理由：{text}" if text else f"核实部门：{department}。"
    notices.send(
        session,
        kind="registration_decision",
        ref=f"registration:{registration.id}:v{registration.version}:{event}",
        title=f"您申报的{label}信息{outcome}",
        body=f"您自主申报的{label}信息“{registration.title}”（第{registration.version}版）{outcome}。{reason}",
        link=f"/account/registrations/{registration.id}",
        subject_id=registration.subject_id,
    )
    return registration


# -- reading -------------------------------------------------------------------------------------------------


def get_own(session: Session, principal: Principal, registration_id: int) -> Registration:
    """One of the acting subject's own entries (another subject's is as if it did not exist)."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("未找到该自愿注册信息", code="registration.not_found")
    _own(principal, registration)
    return registration


def get_for_department(session: Session, principal: Principal, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None or not may_handle(principal, registration):
        raise NotFound("未找到该自愿注册信息", code="registration.not_found")
    return registration


def of_subject(session: Session, subject_id: int) -> Sequence[Registration]:
    return session.scalars(
        select(Registration).where(Registration.subject_id == subject_id).order_by(Registration.id.desc())
    ).all()


def queue(
    session: Session, principal: Principal, *, status: str | None = rules.DECLARED, limit: int = 200
) -> Sequence[Registration]:
    """The entries a department handles (the credit office: all), oldest declaration first."""
    query = select(Registration).order_by(Registration.declared_on, Registration.id).limit(limit)
    if not principal.is_credit_office:
        query = query.where(Registration.department_code == principal.department_code)
    if status:
        query = query.where(Registration.status == status)
    return session.scalars(query).all()


def history(session: Session, registration_id: int) -> Sequence[RegistrationStep]:
    return session.scalars(
        select(RegistrationStep)
        .where(RegistrationStep.registration_id == registration_id)
        .order_by(RegistrationStep.id)
    ).all()


def commitment_of(session: Session, registration: Registration) -> Commitment | None:
    return session.get(Commitment, registration.commitment_id) if registration.commitment_id else None


def read(registration: Registration, view: str) -> dict[str, Any]:
    """An entry as the credit file shows it: fields by label order of its kind; the reason only to the subject
    and government readers."""
    chosen = kind(registration.kind)
    confirmed = registration.status == rules.CONFIRMED
    return {
        "id": registration.id,
        "kind": registration.kind,
        "kind_label": chosen.label,
        "title": registration.title,
        "status": registration.status,
        "status_label": rules.STATE_LABELS.get(registration.status, registration.status),
        "version": registration.version,
        "declared_on": registration.declared_on,
        "public": rules.is_public(chosen, registration.publish),
        "fields": {f.name: registration.fields.get(f.name) for f in chosen.fields},
        "confirmed_by": registration.decided_department if confirmed else None,
        "confirmed_on": registration.decided_on if confirmed else None,
        "reason": registration.decision_note if view != "public" and not confirmed else None,
    }


def for_file(session: Session, subject_id: int, view: str) -> list[dict[str, Any]]:
    """The entries one reader of a subject's file sees (``view``: public, own, authorized or government; the
    caller has audited a non-public read), newest first."""
    subject = session.get(Subject, subject_id)
    natural = subject is not None and subject.kind == SubjectKind.NATURAL_PERSON
    reader = "government" if view == "authorized" else view
    return [
        read(r, view)
        for r in of_subject(session, subject_id)
        if kind_set().get(r.kind) is not None
        and rules.may_see(reader, kind(r.kind), r.status, r.publish, natural_person=natural)
    ]
