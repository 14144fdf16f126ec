"""The demo's commitments: every kind and every state, once however often the seed runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import department, uscc
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.demo.commitments import PLAN, seed_commitments
from xinyong.demo.service import seed_departments
from xinyong.platform import Platform
from xinyong.subjects.models import Subject


def test_the_demo_has_every_kind_and_state_and_seeds_once(platform: Platform, session: Session) -> None:
    seed_departments(session)
    department(session, "SCMR")
    for n in range(45 + len(PLAN)):
        name = f"演示承诺企业{n:02d}有限公司"
        session.add(Subject(kind="legal_person", uscc=uscc(), name=name, name_norm=name, core_name=name))
    session.flush()
    made = seed_commitments(session, platform, TODAY)
    assert made == {"commitments": len(PLAN), "decided": sum(p.outcome is not None for p in PLAN)}
    rows = session.scalars(select(Commitment)).all()
    assert {c.kind for c in rows} == {"approval", "voluntary", "industry"}
    assert {c.status for c in rows} == set(rules.STATES)
    overdue = [c for c in rows if rules.queue_of(c.status, c.verification_due, TODAY) == "overdue"]
    assert len(overdue) == 2 and all(c.department_code for c in overdue)
    assert all(c.fulfilment_on is None or c.signed_on <= c.fulfilment_on <= TODAY for c in rows)
    assert seed_commitments(session, platform, TODAY) == {"commitments": 0, "decided": 0}
