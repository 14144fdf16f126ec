"""Commitments: load templates, sign online (or record a paper signing), publish, record fulfilment.

Signing freezes the rendered text, hashes it and has the platform attest (Ed25519) who signed what, when,
so the published commitment can be verified later. The repair workflow is the first user; approval by
notification and commitment (告知承诺) uses the same module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources

import yaml
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import CommitmentTemplate
from xinyong.events import service as events
from xinyong.kit.crypto import Signer, verify_signature
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.pagination import Page
from xinyong.subjects.models import Subject

STATUS_LABELS = {"signed": "已承诺", "fulfilled": "已履约", "breached": "未履约"}


@cache
def templates() -> dict[str, CommitmentTemplate]:
    text = resources.files("xinyong.commitments").joinpath("data/templates.yaml").read_text(encoding="utf-8")
    loaded = [CommitmentTemplate(**entry) for entry in yaml.safe_load(text)["templates"]]
    return {t.code: t for t in loaded}


def template(code: str) -> CommitmentTemplate:
    found = templates().get(code)
    if found is None:
        raise NotFound(f"承诺书范本“{code}”不存在", code="commitment.unknown_template")
    return found


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
) -> Commitment:
    """Sign a commitment from a template for ``subject``; the text as signed is frozen and attested (by the
    context's signer, on its day, for its principal)."""
    principal, today, signer = ctx.principal, ctx.today, ctx.signer
    name = signer_name.strip()
    if not 2 <= len(name) <= 50:
        raise ValidationFailed("请填写签署人姓名（2至50个字）", code="commitment.signer_required")
    if channel == "online" and principal.subject_id != subject.id:
        raise ValidationFailed("只能以本主体名义在线签署承诺书", code="commitment.not_own_subject")
    if channel == "paper" and not (principal.is_government or principal.kind == "system"):
        raise Forbidden("纸质承诺书只能由部门工作人员代为登记", code="commitment.paper_by_department")
    if channel not in ("online", "paper"):
        raise ValidationFailed(f"签署方式“{channel}”不存在", code="commitment.bad_channel")
    chosen = template(template_code)
    text = preview(template_code, subject, target=target, signer_name=name, today=today)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    commitment = Commitment(
        template_code=chosen.code,
        template_version=chosen.version,
        subject_id=subject.id,
        subject_name=subject.name,
        signer_name=name,
        user_id=principal.user_id,
        channel=channel,
        ref=ref,
        department_code=department_code,
        title=chosen.title,
        text=text,
        text_sha256=digest,
        signature="",
        public=chosen.public,
        signed_on=today,
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
        details={"template": chosen.code, "version": chosen.version, "ref": ref, "channel": channel},
    )
    return commitment


def statement_of(commitment: Commitment) -> dict[str, object]:
    """What the platform signs: who signed which template's text (by hash) for which subject, and when."""
    return {
        "template": commitment.template_code,
        "version": commitment.template_version,
        "subject_id": commitment.subject_id,
        "signer": commitment.signer_name,
        "signed_on": commitment.signed_on.isoformat(),
        "text_sha256": commitment.text_sha256,
    }


def verify(commitment: Commitment, key: str | Signer) -> bool:
    """True if the stored text is the one signed and the platform's attestation holds: under the given public
    key, or under any of a signer's keys (its signing key or a retired one, so a rotation keeps it valid)."""
    if hashlib.sha256(commitment.text.encode("utf-8")).hexdigest() != commitment.text_sha256:
        return False
    if isinstance(key, Signer):
        return key.verify(statement_of(commitment), commitment.signature)
    return verify_signature(key, statement_of(commitment), commitment.signature)


def record_fulfilment(
    session: Session,
    principal: Principal,
    commitment: Commitment,
    *,
    fulfilled: bool,
    note: str,
    today: dt.date,
) -> Commitment:
    """Record whether a commitment was kept (履约) or broken (违诺); the note is required."""
    if commitment.status != "signed":
        raise Conflict("该承诺的履约情况已记录", code="commitment.already_assessed")
    if not note.strip():
        raise ValidationFailed("须说明履约核查情况", code="commitment.note_required")
    commitment.status = "fulfilled" if fulfilled else "breached"
    commitment.fulfilment_on, commitment.fulfilment_note = today, note.strip()
    session.flush()
    audit.record(
        session,
        principal,
        "commitment.fulfilment",
        subject_id=commitment.subject_id,
        target=f"commitment:{commitment.id}",
        details={"status": commitment.status},
    )
    if not fulfilled:  # others react to a broken commitment (re-evaluation, reports)
        events.emit(
            session,
            events.COMMITMENT_BREACHED,
            "commitment",
            commitment.id,
            subject_id=commitment.subject_id,
            payload={"ref": commitment.ref},
        )
    return commitment


def follow_ups(
    session: Session, principal: Principal, *, status: str | None = None, limit: int = 200
) -> Sequence[Commitment]:
    """Commitments a department follows up (the credit office: all), newest first."""
    query = select(Commitment).order_by(Commitment.signed_on.desc(), Commitment.id.desc()).limit(limit)
    if not principal.is_credit_office:
        query = query.where(Commitment.department_code == principal.department_code)
    if status:
        query = query.where(Commitment.status == status)
    return session.scalars(query).all()


def get_for_follow_up(session: Session, principal: Principal, commitment_id: int) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or not (
        principal.is_credit_office or commitment.department_code == principal.department_code
    ):
        raise NotFound("未找到该承诺书", code="commitment.not_found")
    return commitment


def public_listing(session: Session, *, query: str = "", page: int = 1, size: int = 20) -> Page[Commitment]:
    """Published commitments (信用承诺公示), newest first, optionally by subject name."""
    conditions: list[ColumnElement[bool]] = [Commitment.public.is_(True)]
    if query.strip():
        conditions.append(Commitment.subject_name.contains(query.strip(), autoescape=True))
    total = session.scalar(select(func.count(Commitment.id)).where(*conditions)) or 0
    rows = session.scalars(
        select(Commitment)
        .where(*conditions)
        .order_by(Commitment.signed_on.desc(), Commitment.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return Page(list(rows), int(total), page, size)


def get_public(session: Session, commitment_id: int) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or not commitment.public:
        raise NotFound("未找到该承诺书", code="commitment.not_found")
    return commitment


def public_of_subject(session: Session, subject_id: int, limit: int = 50) -> Sequence[Commitment]:
    return session.scalars(
        select(Commitment)
        .where(Commitment.subject_id == subject_id, Commitment.public.is_(True))
        .order_by(Commitment.signed_on.desc(), Commitment.id.desc())
        .limit(limit)
    ).all()
