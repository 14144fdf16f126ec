"""Signing a commitment: online from the subject's account, on paper recorded by a clerk, or at a department's
counter registered through the API (idempotent on the document's SHA-256).

Signing freezes the rendered text, hashes it and has the platform attest (Ed25519) who signed what, when,
so the published commitment can be verified later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.audit import service as audit
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.commitments.template_catalog import resolve_matter, template
from xinyong.commitments.verification import open_verification
from xinyong.kit.crypto import Signer, verify_signature
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed
from xinyong.subjects.models import Subject, SubjectKind

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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
