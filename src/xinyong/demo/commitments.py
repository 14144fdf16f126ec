"""Demo commitments (信用承诺) of every kind and state: 告知承诺 signed at departments' counters (proofs and
enterprise licences), 主动型 and 行业自律型 signed online, one of them by the demo `enterprise` account; signed
without an accepting department, under verification, overdue, fulfilled and breached. Breaches and fulfilments
emit their events, so the platform's reactions turn them into records as in production."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.platform import Platform
from xinyong.subjects.models import Subject

REF = "demo:commitment:"  # each demo commitment's ref: seeding again adds nothing


@dataclass(frozen=True, slots=True)
class Planned:
    """One demo commitment: template, matter, accepting department (None: none), channel, age in days, the
    department's verify-by date (days from today) and the outcome (None: still open)."""

    template: str
    matter: str
    department: str | None
    channel: str
    age: int
    verify_in: int | None = None
    outcome: str | None = None
    facts: str | None = None


PLAN = (
    Planned("notify_commit", "SCMR-P-001", "SCMR", "counter", 12),  # under verification, due
    Planned("notify_commit", "SCMR-P-002", "SCMR", "counter", 60, verify_in=-5),  # overdue
    Planned(
        "notify_commit",
        "SCRS-P-002",
        "SCRS",
        "counter",
        40,
        outcome="fulfilled",
        facts="学历信息经学信网核验属实。",
    ),
    Planned("licence_commit", "SCJT-L-001", "SCJT", "counter", 30),
    Planned("licence_commit", "SCWL-L-001", "SCWL", "counter", 70, verify_in=-12),  # overdue
    Planned(
        "licence_commit",
        "SCZJ-L-001",
        "SCZJ",
        "counter",
        90,
        outcome="breached",
        facts="许可后现场检查发现未按承诺配备专职安全生产管理人员，经责令整改逾期未改正。",
    ),
    Planned(
        "licence_commit",
        "SCMR-L-002",
        "SCMR",
        "counter",
        80,
        outcome="fulfilled",
        facts="现场检查符合许可条件。",
    ),
    Planned(
        "voluntary_commit", "依法诚信经营、明码标价", None, "online", 20
    ),  # signed, social supervision only
    Planned(
        "voluntary_commit",
        "产品质量安全承诺",
        "SCMR",
        "online",
        45,
        outcome="fulfilled",
        facts="抽查未发现违诺情形。",
    ),
    Planned("industry_commit", "食品经营行业诚信经营", "SCMR", "online", 25),
    Planned(
        "industry_commit",
        "道路运输行业诚信经营",
        "SCJT",
        "online",
        100,
        outcome="breached",
        facts="经投诉核查，存在超范围经营和拒载行为，违背行业自律公约。",
    ),
)


def _subjects(session: Session, count: int) -> list[Subject]:
    """Companies with a USCC, the same on every seed, away from the first ones other demos use."""
    return list(
        session.scalars(
            select(Subject)
            .where(Subject.kind == "legal_person", Subject.uscc.is_not(None))
            .order_by(Subject.id)
            .offset(40)
            .limit(count)
        )
    )


def _enterprise(session: Session) -> Subject | None:
    subject_id = session.scalar(
        select(User.subject_id).where(User.username == "enterprise", User.is_demo.is_(True))
    )
    return session.get(Subject, subject_id) if subject_id else None


def seed_commitments(session: Session, platform: Platform, today: dt.date) -> dict[str, int]:
    """Idempotent: does nothing when the demo commitments exist. Returns how many were signed and decided."""
    if session.scalar(select(Commitment.id).where(Commitment.ref.startswith(REF)).limit(1)) is not None:
        return {"commitments": 0, "decided": 0}
    subjects = _subjects(session, len(PLAN))
    enterprise = _enterprise(session)
    if enterprise is not None and enterprise.uscc:
        subjects = [enterprise, *[s for s in subjects if s.id != enterprise.id]]
    signed = decided = 0
    # The first subject (the demo `enterprise` account's) signs the voluntary commitment found kept.
    order = [8, *[i for i in range(len(PLAN)) if i != 8]]
    for n, index in enumerate(order):
        if n >= len(subjects):
            break
        plan, subject = PLAN[index], subjects[n]
        department = plan.department
        if plan.channel == "counter":
            assert department is not None
            actor = Principal(
                kind="user", name=f"demo-{department.lower()}", role="reviewer", department_code=department
            )
            signer = subject.legal_rep or "王建国"
        else:
            actor = Principal(kind="user", name="demo-subject", role="subject", subject_id=subject.id)
            signer = subject.legal_rep or "李明"
        day = today - dt.timedelta(days=plan.age)
        template = commitments.template(plan.template)
        target = (
            commitments.resolve_matter(template, plan.matter, None)[0] if template.catalogue else plan.matter
        )
        commitment = commitments.sign(
            session,
            platform.context(actor, today),
            template_code=plan.template,
            subject=subject,
            target=target,
            signer_name=signer,
            ref=f"{REF}{index}",
            channel=plan.channel,
            department_code=department,
            matter=plan.matter,
            signed_on=day,
            verify_by=today + dt.timedelta(days=plan.verify_in) if plan.verify_in is not None else None,
            document_sha256=(
                hashlib.sha256(f"demo-commitment-{index}".encode()).hexdigest()
                if plan.channel == "counter"
                else None
            ),
        )
        signed += 1
        if plan.outcome is not None and department is not None:
            clerk = Principal(
                kind="user", name=f"demo-{department.lower()}", role="reviewer", department_code=department
            )
            due = commitment.verification_due or today
            commitments.record_verification(
                session,
                platform.context(clerk, today),
                commitment,
                outcome=plan.outcome,
                facts=plan.facts,
                decided_on=min(today, due, day + dt.timedelta(days=plan.age // 2 or 1)),
            )
            decided += 1
    platform.events.run_in(session)  # the reactions to the outcomes (records), as after a commit
    return {"commitments": signed, "decided": decided}
