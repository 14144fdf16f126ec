"""Reading commitments: the public listing (never a natural person's, nor a non-public template's), the
subject's own, a department's verification queue, and the statistics per department and kind.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import KIND_LABELS
from xinyong.files import service as files
from xinyong.kit.errors import NotFound
from xinyong.kit.pagination import Page
from xinyong.subjects.models import Subject, SubjectKind


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
