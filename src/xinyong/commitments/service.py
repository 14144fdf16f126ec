"""Commitments: templates and approval catalogues as data, signing (online from the subject's account, on
paper recorded by a clerk, or at a department's counter registered through the API), publicity, and the
verification (核查) that closes the loop: each commitment with an accepting department gets a verification
task due in working days (or by the department's date), and the department records the outcome.

Signing freezes the rendered text, hashes it and has the platform attest (Ed25519) who signed what, when,
so the published commitment can be verified later. An outcome emits `commitment.fulfilled` or
`commitment.breached` in the same transaction (others turn a breach into a record and measures).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.commitments.rules import STATUS_LABELS as STATUS_LABELS  # pages and reports name states
from xinyong.commitments.schemas import KIND_LABELS, ApprovalCatalogue, CommitmentTemplate, TemplateFile
from xinyong.events import service as events
from xinyong.files import service as files
from xinyong.kit.crypto import Signer, verify_signature
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.pagination import Page
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.notices import service as notices
from xinyong.subjects.models import Subject, SubjectKind

# Kinds a subject may sign online from its account (repair commitments are signed in the repair form).
ONLINE_KINDS = ("approval", "voluntary", "industry")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@cache
def _file() -> TemplateFile:
    text = resources.files("xinyong.commitments").joinpath("data/templates.yaml").read_text(encoding="utf-8")
    return TemplateFile.model_validate(yaml.safe_load(text))


def templates() -> dict[str, CommitmentTemplate]:
    return {t.code: t for t in _file().templates}


def catalogues() -> dict[str, ApprovalCatalogue]:
    return {c.code: c for c in _file().catalogues}


def template(code: str) -> CommitmentTemplate:
    found = templates().get(code)
    if found is None:
        raise NotFound(f"承诺书范本“{code}”不存在", code="commitment.unknown_template")
    return found


def matters_of(chosen: CommitmentTemplate, department: str | None = None) -> list[tuple[str | None, str]]:
    """The matters a template applies to, as (department, name): an approval template's are those of its
    catalogue (of one department when given); another kind's are the names it lists (none: any matter)."""
    if chosen.catalogue is not None:
        return [(d, m.name) for d, m in catalogues()[chosen.catalogue].matters_of(department)]
    return [(None, name) for name in chosen.matters]


def resolve_matter(chosen: CommitmentTemplate, matter: str, department: str | None) -> tuple[str, str | None]:
    """The matter's name and its department, checked against the template: for approval, a matter (by code or
    name) of the catalogue, of ``department`` when it is given."""
    text = " ".join(matter.split())
    if not 2 <= len(text) <= 200:
        raise ValidationFailed("请填写承诺事项（2至200个字）", code="commitment.matter_required")
    if chosen.catalogue is not None:
        catalogue = catalogues()[chosen.catalogue]
        for owner, item in catalogue.matters_of(department):
            if text in (item.code, item.name):
                return item.name, owner
        raise ValidationFailed(
            f"事项“{text}”不在{'该部门' if department else ''}《{catalogue.name}》中，不适用{chosen.title}",
            code="commitment.matter_not_in_catalogue",
        )
    if chosen.matters and text not in chosen.matters:
        raise ValidationFailed(
            f"事项“{text}”不在{chosen.title}适用的事项中", code="commitment.matter_not_in_template"
        )
    return text, department


def subject_code(subject: Subject) -> str:
    """The code printed in a commitment: the USCC, or the masked ID of a person (never in clear)."""
    return subject.uscc or subject.id_masked or "—"


def preview(code: str, subject: Subject, *, target: str, signer_name: str, today: dt.date) -> str:
    return template(code).render(
        subject_name=subject.name,
        subject_code=subject_code(subject),
        target=target,
        signer_name=signer_name or "（签署人）",
        signed_on=f"{today.year}年{today.month}月{today.day}日",
    )


def sign(
    session: Session,
    ctx: UseCaseContext,
    *,
    template_code: str,
    subject: Subject,
    target: str,
    signer_name: str,
    ref: str | None = None,
    channel: str = "online",
    department_code: str | None = None,
    matter: str | None = None,
    signed_on: dt.date | None = None,
    verify_by: dt.date | None = None,
    document_sha256: str | None = None,
) -> Commitment:
    """Sign a commitment from a template for ``subject``; the text as signed is frozen and attested (by the
    context's signer, on its day, for its principal). With an accepting department, its verification task is
    generated at once (signed → verifying)."""
    principal, today, signer = ctx.principal, ctx.today, ctx.signer
    day = signed_on or today
    name = signer_name.strip()
    if not 2 <= len(name) <= 50:
        raise ValidationFailed("请填写签署人姓名（2至50个字）", code="commitment.signer_required")
    if channel == "online" and principal.subject_id != subject.id:
        raise ValidationFailed("只能以本主体名义在线签署承诺书", code="commitment.not_own_subject")
    if channel in ("paper", "counter") and not (principal.is_government or principal.kind == "system"):
        raise Forbidden("纸质或窗口承诺书只能由部门代为登记", code="commitment.paper_by_department")
    if channel not in ("online", "paper", "counter"):
        raise ValidationFailed(f"签署方式“{channel}”不存在", code="commitment.bad_channel")
    if day > today:
        raise ValidationFailed("签署时间不能晚于当前时间", code="commitment.signed_in_future")
    if verify_by is not None and verify_by < day:
        raise ValidationFailed("核查期限不能早于签署日期", code="commitment.verify_by_before_signing")
    if document_sha256 is not None and not _SHA256.match(document_sha256):
        raise ValidationFailed(
            "document_sha256 须为64位小写十六进制 SHA-256 摘要", code="commitment.bad_document_sha256"
        )
    chosen = template(template_code)
    matter_name = None
    if matter is not None or chosen.kind == "approval":
        matter_name, owner = resolve_matter(chosen, matter or "", department_code)
        department_code = department_code or owner
    if chosen.verification.working_days is None and verify_by is None and department_code:
        raise ValidationFailed(
            "该范本须由受理部门确定核查期限（verify_by）", code="commitment.verify_by_required"
        )
    text = preview(template_code, subject, target=target, signer_name=name, today=day)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    commitment = Commitment(
        template_code=chosen.code,
        template_version=chosen.version,
        kind=chosen.kind,
        matter=matter_name,
        subject_id=subject.id,
        subject_name=subject.name,
        signer_name=name,
        user_id=principal.user_id,
        channel=channel,
        document_sha256=document_sha256,
        ref=ref,
        department_code=department_code,
        title=chosen.title,
        text=text,
        text_sha256=digest,
        signature="",
        public=chosen.public,
        status=rules.SIGNED,
        signed_on=day,
        verify_by=verify_by,
    )
    commitment.signature = signer.sign(statement_of(commitment))
    session.add(commitment)
    session.flush()
    audit.record(
        session,
        principal,
        "commitment.sign",
        subject_id=subject.id,
        target=f"commitment:{commitment.id}",
        ip=ctx.ip,
        details={
            "template": chosen.code,
            "version": chosen.version,
            "ref": ref,
            "channel": channel,
            "matter": matter_name,
            "department": department_code,
        },
    )
    if department_code is not None:
        open_verification(session, commitment, ctx.calendar, today=today)
    return commitment


def statement_of(commitment: Commitment) -> dict[str, object]:
    """What the platform signs: who signed which template's text (by hash) for which subject, and when (and,
    for a counter signing, the SHA-256 of the document signed there)."""
    statement: dict[str, object] = {
        "template": commitment.template_code,
        "version": commitment.template_version,
        "subject_id": commitment.subject_id,
        "signer": commitment.signer_name,
        "signed_on": commitment.signed_on.isoformat(),
        "text_sha256": commitment.text_sha256,
    }
    if commitment.document_sha256:
        statement["document_sha256"] = commitment.document_sha256
    return statement


def verify(commitment: Commitment, key: str | Signer) -> bool:
    """True if the stored text is the one signed and the platform's attestation holds: under the given public
    key, or under any of a signer's keys (its signing key or a retired one, so a rotation keeps it valid)."""
    if hashlib.sha256(commitment.text.encode("utf-8")).hexdigest() != commitment.text_sha256:
        return False
    if isinstance(key, Signer):
        return key.verify(statement_of(commitment), commitment.signature)
    return verify_signature(key, statement_of(commitment), commitment.signature)


def due_date(commitment: Commitment, calendar: WorkdayCalendar) -> dt.date:
    """When the verification is due: the department's date, else the template's working days after signing."""
    if commitment.verify_by is not None:
        return commitment.verify_by
    days = template(commitment.template_code).verification.working_days
    if days is None:  # refused at signing; a row from before the template changed falls back to 20 days
        days = 20
    return calendar.add_workdays(commitment.signed_on, days).due


def open_verification(
    session: Session, commitment: Commitment, calendar: WorkdayCalendar, *, today: dt.date
) -> Commitment:
    """Generate the verification task (任务生成) for the accepting department: signed → verifying."""
    rules.check_transition(commitment.status, rules.VERIFYING)
    if commitment.department_code is None:
        raise ValidationFailed("该承诺没有受理部门，不能生成核查任务", code="commitment.no_department")
    commitment.status = rules.VERIFYING
    commitment.verification_opened_on = today
    commitment.verification_due = due_date(commitment, calendar)
    session.flush()
    return commitment


def open_pending_verifications(session: Session, calendar: WorkdayCalendar, today: dt.date) -> int:
    """The daily job: a verification task for every signed commitment with an accepting department that has
    none yet (e.g. signed before tasks existed). Idempotent."""
    pending = session.scalars(
        select(Commitment)
        .where(Commitment.status == rules.SIGNED, Commitment.department_code.is_not(None))
        .order_by(Commitment.id)
    ).all()
    for commitment in pending:
        open_verification(session, commitment, calendar, today=today)
    return len(pending)


def may_decide(principal: Principal, commitment: Commitment) -> bool:
    """Only the accepting department records the outcome (the system, e.g. the demo, too)."""
    return principal.kind == "system" or (
        commitment.department_code is not None and principal.department_code == commitment.department_code
    )


def record_verification(
    session: Session,
    ctx: UseCaseContext,
    commitment: Commitment,
    *,
    outcome: str,
    facts: str | None,
    decided_on: dt.date | None = None,
    evidence: Sequence[files.Upload] = (),
) -> Commitment:
    """Record the verification's outcome: fulfilled (履约), or breached (违诺) with the facts found and any
    evidence; only the accepting department may. Emits `commitment.fulfilled` or `commitment.breached` in
    the same transaction."""
    principal, today = ctx.principal, ctx.today
    if not may_decide(principal, commitment):
        raise Forbidden("只有受理该承诺的部门可以记录核查结果", code="commitment.not_accepting_department")
    if outcome not in rules.OUTCOMES:
        raise ValidationFailed(
            "核查结果须为 fulfilled（已履约）或 breached（违诺）", code="commitment.bad_outcome"
        )
    rules.check_transition(commitment.status, outcome)
    day = decided_on or today
    if day > today:
        raise ValidationFailed("核查日期不能晚于今天", code="commitment.decided_in_future")
    if len(evidence) > files.MAX_FILES:
        raise ValidationFailed(f"证据材料最多{files.MAX_FILES}个文件", code="commitment.too_many_files")
    _decide(
        session,
        principal,
        commitment,
        outcome=outcome,
        facts=facts,
        day=day,
        ip=ctx.ip,
        evidence=len(evidence),
    )
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            principal,
            owner=f"commitment:{commitment.id}",
            filename=upload.filename,
            content=upload.content,
        )
    return commitment


def _decide(
    session: Session,
    principal: Principal,
    commitment: Commitment,
    *,
    outcome: str,
    facts: str | None,
    day: dt.date,
    ip: str | None = None,
    evidence: int = 0,
) -> None:
    rules.check_transition(commitment.status, outcome)
    if day < commitment.signed_on:
        raise ValidationFailed("核查日期不能早于签署日期", code="commitment.decided_before_signing")
    text = (facts or "").strip() or None
    if outcome == rules.BREACHED and text is None:
        raise ValidationFailed("认定违诺须写明核查查明的事实", code="commitment.facts_required")
    if text is not None and len(text) > 2000:
        raise ValidationFailed("核查情况不能超过2000字", code="commitment.facts_too_long")
    commitment.status = outcome
    commitment.fulfilment_on, commitment.fulfilment_note = day, text
    commitment.decided_by = principal.name[:100]
    session.flush()
    audit.record(
        session,
        principal,
        "commitment.verification",
        subject_id=commitment.subject_id,
        target=f"commitment:{commitment.id}",
        ip=ip,
        details={"outcome": outcome, "decided_on": day.isoformat(), "evidence": evidence},
    )
    events.emit(
        session,
        events.COMMITMENT_FULFILLED if outcome == rules.FULFILLED else events.COMMITMENT_BREACHED,
        "commitment",
        commitment.id,
        subject_id=commitment.subject_id,
        payload=event_payload(commitment),
    )


def event_payload(commitment: Commitment) -> dict[str, Any]:
    """The payload of `commitment.fulfilled` / `commitment.breached` (a contract: consumers read it)."""
    assert commitment.fulfilment_on is not None
    return {
        "template": commitment.template_code,
        "kind": commitment.kind,
        "matter": commitment.matter,
        "department_code": commitment.department_code,
        "signed_on": commitment.signed_on.isoformat(),
        "decided_on": commitment.fulfilment_on.isoformat(),
        "facts": commitment.fulfilment_note,
        "ref": commitment.ref,
    }


def record_fulfilment(
    session: Session,
    principal: Principal,
    commitment: Commitment,
    *,
    fulfilled: bool,
    note: str,
    today: dt.date,
) -> Commitment:
    """Record whether a repair commitment was kept (履约) or broken (违诺) on ``today``, as the repair workflow
    and its demo history do (the deciding department or the credit office re-checking a wrong repair); the
    note is required. A commitment whose task was never generated gets it first."""
    if not (note or "").strip():
        raise ValidationFailed("须说明履约核查情况", code="commitment.note_required")
    if commitment.status == rules.SIGNED:  # the repair's follow-up is its verification task
        rules.check_transition(commitment.status, rules.VERIFYING)
        commitment.status, commitment.verification_opened_on = rules.VERIFYING, today
        commitment.verification_due = commitment.verification_due or today
    _decide(
        session,
        principal,
        commitment,
        outcome=rules.FULFILLED if fulfilled else rules.BREACHED,
        facts=note,
        day=today,
    )
    return commitment


# -- reading ---------------------------------------------------------------------------------------------


def _publicly_visible() -> list[ColumnElement[bool]]:
    """Published commitments: the template says public, and never a natural person's."""
    return [
        Commitment.public.is_(True),
        Commitment.subject_id.in_(
            select(Subject.id).where(Subject.kind != SubjectKind.NATURAL_PERSON.value).scalar_subquery()
        ),
    ]


def is_public(session: Session, commitment: Commitment) -> bool:
    """Whether the commitment is on the portal (its template public, its subject not a natural person)."""
    kind = session.scalar(select(Subject.kind).where(Subject.id == commitment.subject_id))
    return commitment.public and kind != SubjectKind.NATURAL_PERSON.value


def public_listing(
    session: Session,
    *,
    query: str = "",
    kind: str = "",
    department: str = "",
    matter: str = "",
    page: int = 1,
    size: int = 20,
) -> Page[Commitment]:
    """Published commitments (信用承诺公示), newest first, searched by subject (name or USCC), kind,
    accepting department and matter."""
    conditions = _publicly_visible()
    if query.strip():
        text = query.strip()
        conditions.append(
            or_(
                Commitment.subject_name.contains(text, autoescape=True),
                Commitment.subject_id.in_(select(Subject.id).where(Subject.uscc == text.upper())),
            )
        )
    if kind:
        conditions.append(Commitment.kind == kind)
    if department:
        conditions.append(Commitment.department_code == department)
    if matter.strip():
        conditions.append(Commitment.matter.contains(matter.strip(), autoescape=True))
    total = session.scalar(select(func.count(Commitment.id)).where(*conditions)) or 0
    rows = session.scalars(
        select(Commitment)
        .where(*conditions)
        .order_by(Commitment.signed_on.desc(), Commitment.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return Page(list(rows), int(total), page, size)


MAX_ID = 2**31 - 1  # beyond any stored id (and beyond what SQLite or an INTEGER column takes)


def _not_found() -> NotFound:
    return NotFound("未找到该承诺书", code="commitment.not_found")


def get_public(session: Session, commitment_id: int) -> Commitment:
    if not 0 < commitment_id <= MAX_ID:
        raise _not_found()
    found = session.scalar(select(Commitment).where(Commitment.id == commitment_id, *_publicly_visible()))
    if found is None:
        raise NotFound("未找到该承诺书", code="commitment.not_found")
    return found


def public_of_subject(session: Session, subject_id: int, limit: int = 50) -> Sequence[Commitment]:
    return session.scalars(
        select(Commitment)
        .where(Commitment.subject_id == subject_id, *_publicly_visible())
        .order_by(Commitment.signed_on.desc(), Commitment.id.desc())
        .limit(limit)
    ).all()


def of_subject(session: Session, principal: Principal, limit: int = 100) -> Sequence[Commitment]:
    """The account's own commitments, public or not, with their verification state (audited by the page)."""
    if principal.subject_id is None:
        return []
    return session.scalars(
        select(Commitment)
        .where(Commitment.subject_id == principal.subject_id)
        .order_by(Commitment.signed_on.desc(), Commitment.id.desc())
        .limit(limit)
    ).all()


def get_own(session: Session, principal: Principal, commitment_id: int) -> Commitment:
    """One of the account's own commitments, public or not; another subject's is not found (404)."""
    if principal.subject_id is None or not 0 < commitment_id <= MAX_ID:
        raise _not_found()
    found = session.scalar(
        select(Commitment).where(
            Commitment.id == commitment_id, Commitment.subject_id == principal.subject_id
        )
    )
    if found is None:
        raise _not_found()
    return found


def _department_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """What a department sees: the commitments it accepted (the credit office and the system: all)."""
    if principal.is_credit_office or principal.kind == "system":
        return []
    return [Commitment.department_code == (principal.department_code or "")]


def queue(
    session: Session,
    principal: Principal,
    *,
    today: dt.date,
    view: str = "due",
    kind: str = "",
    department: str = "",
    query: str = "",
    page: int = 1,
    size: int = 50,
) -> Page[Commitment]:
    """The verification queue of a department (the credit office: every department's): due, overdue, done
    (or all), filtered by kind, department (credit office) and subject or matter; soonest due first."""
    conditions = _department_scope(principal)
    if view == "due":
        conditions += [Commitment.status == rules.VERIFYING, Commitment.verification_due >= today]
    elif view == "overdue":
        conditions += [Commitment.status == rules.VERIFYING, Commitment.verification_due < today]
    elif view == "done":
        conditions.append(Commitment.status.in_(rules.OUTCOMES))
    elif view == "signed":
        conditions.append(Commitment.status == rules.SIGNED)
    if kind:
        conditions.append(Commitment.kind == kind)
    if department:
        conditions.append(Commitment.department_code == department)
    if query.strip():
        text = query.strip()
        conditions.append(
            or_(
                Commitment.subject_name.contains(text, autoescape=True),
                Commitment.matter.contains(text, autoescape=True),
                Commitment.subject_id.in_(select(Subject.id).where(Subject.uscc == text.upper())),
            )
        )
    order = (
        [Commitment.fulfilment_on.desc(), Commitment.id.desc()]
        if view == "done"
        else [Commitment.verification_due, Commitment.id]
    )
    total = session.scalar(select(func.count(Commitment.id)).where(*conditions)) or 0
    rows = session.scalars(
        select(Commitment).where(*conditions).order_by(*order).offset((page - 1) * size).limit(size)
    ).all()
    return Page(list(rows), int(total), page, size)


def get_for_department(session: Session, principal: Principal, commitment_id: int) -> Commitment:
    """One commitment as its accepting department (or the credit office) sees it; another department gets
    not found, as if it did not exist."""
    if not 0 < commitment_id <= MAX_ID:
        raise _not_found()
    found = session.scalar(
        select(Commitment).where(Commitment.id == commitment_id, *_department_scope(principal))
    )
    if found is None:
        raise NotFound("未找到该承诺书", code="commitment.not_found")
    return found


def evidence_of(session: Session, commitment: Commitment) -> Sequence[Any]:
    return files.attachments_of(session, f"commitment:{commitment.id}")


# -- overdue verifications and statistics ------------------------------------------------------------------


def alert_overdue(session: Session, today: dt.date) -> int:
    """Notify each accepting department of verifications past their due date (once per commitment and due
    date, so the daily job may re-run). Returns how many notices were sent."""
    overdue = session.scalars(
        select(Commitment)
        .where(Commitment.status == rules.VERIFYING, Commitment.verification_due < today)
        .order_by(Commitment.id)
    ).all()
    sent = 0
    for commitment in overdue:
        assert commitment.verification_due is not None
        ref = f"commitment:{commitment.id}:overdue:{commitment.verification_due.isoformat()}"
        if notices.exists(session, "commitment_overdue", ref):
            continue
        notices.send(
            session,
            kind="commitment_overdue",
            ref=ref,
            title="信用承诺核查已逾期",
            body=f"{commitment.subject_name}的《{commitment.title}》（{commitment.matter or '—'}）应于"
            f"{commitment.verification_due.isoformat()}前完成核查，请尽快记录核查结果。",
            link=f"/console/commitments/{commitment.id}",
            department_code=commitment.department_code,
        )
        sent += 1
    return sent


def statistics(session: Session, today: dt.date) -> dict[str, Any]:
    """Per accepting department: commitments by state and verifications overdue on ``today``, and by kind."""
    late = case((Commitment.verification_due < today, 1), else_=0)  # one bound date, grouped by as selected
    rows = session.execute(
        select(Commitment.department_code, Commitment.kind, Commitment.status, late, func.count()).group_by(
            Commitment.department_code, Commitment.kind, Commitment.status, late
        )
    ).all()
    departments: dict[str, Counter[str]] = {}
    kinds: Counter[str] = Counter()
    for department, kind, status, overdue, count in rows:
        counts = departments.setdefault(department or "", Counter())
        counts[status] += int(count)
        counts["total"] += int(count)
        if status == rules.VERIFYING and overdue:
            counts["overdue"] += int(count)
        kinds[kind] += int(count)
    return {
        "departments": [
            {
                "department_code": code or None,
                "total": c["total"],
                "signed": c[rules.SIGNED],
                "verifying": c[rules.VERIFYING],
                "overdue": c["overdue"],
                "fulfilled": c[rules.FULFILLED],
                "breached": c[rules.BREACHED],
            }
            for code, c in sorted(departments.items())
        ],
        "kinds": [{"kind": k, "label": KIND_LABELS.get(k, k), "count": kinds[k]} for k in sorted(kinds)],
    }


def check_counter_request(session: Session, department_code: str, document_sha256: str) -> Commitment | None:
    """The commitment a department already registered for this document, if any (idempotent API)."""
    return session.scalar(
        select(Commitment).where(
            Commitment.department_code == department_code, Commitment.document_sha256 == document_sha256
        )
    )


def register_counter_signing(
    session: Session,
    ctx: UseCaseContext,
    *,
    subject: Subject,
    template_code: str,
    matter: str,
    signed_on: dt.date,
    document_sha256: str,
    verify_by: dt.date | None,
) -> tuple[Commitment, bool]:
    """A commitment signed at a department's counter (or in its own system), registered by that department's
    system. Returns the commitment and whether it was created now: the same document sent again with the same
    facts returns the commitment registered before; with other facts it is a conflict."""
    principal = ctx.principal
    department = principal.department_code
    if department is None:
        raise Forbidden("须以部门身份登记承诺", code="commitment.department_required")
    if subject.kind == SubjectKind.NATURAL_PERSON.value or not subject.uscc:
        raise ValidationFailed("仅可按统一社会信用代码登记经营主体的承诺", code="commitment.natural_person")
    digest = document_sha256.lower() if _SHA256.match(document_sha256.lower()) else document_sha256
    existing = check_counter_request(session, department, digest)
    if existing is not None:
        chosen = template(template_code)
        same = (
            existing.subject_id == subject.id
            and existing.template_code == chosen.code
            and existing.signed_on == signed_on
            and existing.verify_by == verify_by
            and existing.matter == resolve_matter(chosen, matter, department)[0]
        )
        if not same:
            raise Conflict("该部门已用同一文件摘要登记了内容不同的承诺", code="commitment.document_conflict")
        return existing, False
    created = sign(
        session,
        ctx,
        template_code=template_code,
        subject=subject,
        target=" ".join(matter.split()),
        signer_name=subject.name[:50] if len(subject.name) >= 2 else "承诺人",
        channel="counter",
        department_code=department,
        matter=matter,
        signed_on=signed_on,
        verify_by=verify_by,
        document_sha256=digest,
    )
    return created, True
