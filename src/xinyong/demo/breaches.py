"""The demo's commitment breach (违诺) and its consequences: a 告知承诺 signed at a department's counter, found
untrue when verified, the 违背信用承诺 record it becomes (through the platform's reaction, as in production) and a
real-time check for an approval that it triggers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.commitments import breaches
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.lists.models import ListEntry
from xinyong.measures import check as checking
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

DEMO_REF = "demo:breach"  # marks the demo's breached commitment: seeding again adds nothing
DEPARTMENT = "SCMR"
TEMPLATE = "notify_commit"
NEUTRAL_ITEMS = ("DJ", "XK", "QR", "JC", "CN")  # records no measure is triggered by
FACTS = "经现场核查，申请人承诺的经营场所为他人所有且未取得使用授权，承诺内容与事实不符，属虚假承诺。"


def _subject(session: Session) -> Subject | None:
    """A company with no list entry and no other record a measure names (so the check shows the breach's
    measures alone), the same on every seed."""
    listed = select(ListEntry.subject_id)
    flagged = select(Record.subject_id).where(Record.item_code.not_in(NEUTRAL_ITEMS))
    return session.scalars(
        select(Subject)
        .where(
            Subject.kind == "legal_person",
            Subject.uscc.is_not(None),
            Subject.id.not_in(listed),
            Subject.id.not_in(flagged),
        )
        .order_by(Subject.id)
        .offset(12)
        .limit(1)
    ).first()


def seed_breach(session: Session, platform: Platform, today: dt.date) -> dict[str, int]:
    """Idempotent: does nothing when the demo's breached commitment exists."""
    if session.scalar(select(Commitment.id).where(Commitment.ref == DEMO_REF)) is not None:
        return {"commitments": 0, "records": 0, "checks": 0}
    subject = _subject(session)
    if subject is None or subject.uscc is None:
        return {"commitments": 0, "records": 0, "checks": 0}
    clerk = Principal(kind="user", name="demo-scmr", role="reviewer", department_code=DEPARTMENT)
    ctx = platform.context(clerk, today)
    template = commitments.template(TEMPLATE)
    _, matter = commitments.matters_of(template, DEPARTMENT)[0]
    commitment = commitments.sign(
        session,
        ctx,
        template_code=TEMPLATE,
        subject=subject,
        target=matter,
        matter=matter,
        signer_name=subject.legal_rep or "王建国",
        ref=DEMO_REF,
        channel="paper",
        department_code=DEPARTMENT,
        signed_on=today - dt.timedelta(days=75),
    )
    commitments.record_verification(
        session, ctx, commitment, outcome="breached", facts=FACTS, decided_on=today - dt.timedelta(days=20)
    )
    platform.events.run_in(session)  # the reactions: the WN record (and its repair notice), as after a commit
    records = session.scalars(
        select(Record.id).where(
            Record.item_code == breaches.BREACH_ITEM, Record.doc_no == breaches.commitment_number(commitment)
        )
    ).all()
    checking.run_check(
        session,
        catalog=platform.catalog,
        signer=platform.signer,
        id_hash=platform.cipher.hash,
        order=checking.CheckOrder(
            clerk,
            checking.SubjectRef(uscc=subject.uscc),
            "administrative_approval",
            f"{matter}（告知承诺制审批前核查）",
            today,
        ),
        lists=platform.measure_lists,
    )
    return {"commitments": 1, "records": len(records), "checks": 1}
