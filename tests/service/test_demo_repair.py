"""The demo's repair and objection history on both stores: every state, made through the services at past
dates, deterministic, idempotent, and visible on the demo enterprise's own account."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from xinyong.accounts import auth
from xinyong.accounts.models import User
from xinyong.accounts.policy import SYSTEM
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.demo import service as demo
from xinyong.demo.evidence import evidence_pdf
from xinyong.demo.repair import seed_repair
from xinyong.demo.supervision import seed_supervision
from xinyong.events.models import WorkflowEvent
from xinyong.files import service as files
from xinyong.notices import service as notices
from xinyong.objections import rules as objection_rules
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.repair import rules
from xinyong.repair import service as repair
from xinyong.repair.models import RepairApplication

SCALE = 0.02  # the smallest demo whose departments have a penalty for every planned case
SMALL = 0.01


def seed_demo(platform: Platform, session: Session, ctx: IngestContext) -> dict[str, int]:
    demo.seed(session, ctx, scale=SCALE)
    demo.seed_accounts(session, ctx)
    seed_supervision(session, platform.context(SYSTEM, ctx.today), scale=SCALE)
    return seed_repair(session, platform, TODAY)


def snapshot(session: Session) -> list[tuple[Any, ...]]:
    applications = session.execute(
        select(
            RepairApplication.record_id,
            RepairApplication.status,
            RepairApplication.channel,
            RepairApplication.submitted_on,
            RepairApplication.due_on,
            RepairApplication.decided_on,
            RepairApplication.recheck_status,
        ).order_by(RepairApplication.id)
    ).all()
    filed = session.execute(
        select(Objection.record_id, Objection.status, Objection.filed_on, Objection.escalated_on).order_by(
            Objection.id
        )
    ).all()
    return [tuple(row) for row in [*applications, *filed]]


def enterprise(session: Session) -> User:
    return session.scalars(select(User).where(User.username == "enterprise")).one()


class TestDemoRepairHistory:
    def test_one_seed_covers_every_state_and_the_enterprise_account(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        """One seed (seeding takes seconds), three looks: applications, objections, the enterprise account."""
        counts = seed_demo(platform, session, ctx)
        self.check_applications(platform, session, counts)
        self.check_objections(session, counts)
        self.check_enterprise_account(session)

    def check_applications(self, platform: Platform, session: Session, counts: dict[str, int]) -> None:
        applications = session.scalars(select(RepairApplication).order_by(RepairApplication.id)).all()
        assert counts["applications"] == len(applications)
        assert {a.status for a in applications} == set(rules.STATE_LABELS)
        assert {a.channel for a in applications} == {"online", "paper"}
        assert len({a.department_code for a in applications}) >= 3
        assert any(repair.is_overdue(a, TODAY) for a in applications)
        assert {"sampled", "confirmed", "corrected"} <= {a.recheck_status for a in applications}
        assert counts["sampled"] == sum(a.recheck_period is not None for a in applications)

        key = platform.signer.public_key_b64
        for application in applications:
            evidence = files.attachments_of(session, f"repair:{application.id}")
            assert evidence and all(e.content_type == "application/pdf" for e in evidence)
            assert files.read(platform.settings.data_dir, evidence[0]).startswith(b"%PDF-")
            commitment = session.get(Commitment, application.commitment_id)
            assert commitment is not None and commitments.verify(commitment, key)
            steps = session.scalars(
                select(WorkflowEvent)
                .where(WorkflowEvent.workflow == "repair", WorkflowEvent.case_id == application.id)
                .order_by(WorkflowEvent.id)
            ).all()
            days = [s.on for s in steps]
            assert steps[0].event == "submit" and days == sorted(days) and days[-1] <= TODAY
            assert steps[-1].to_state == application.status
        repaired = [a for a in applications if a.status == rules.REPAIRED and a.record_id is not None]
        assert all(session.get(Record, a.record_id).status == "repaired" for a in repaired)  # type: ignore[union-attr]

    def check_objections(self, session: Session, counts: dict[str, int]) -> None:
        filed = session.scalars(select(Objection).order_by(Objection.id)).all()
        assert counts["objections"] == len(filed)
        assert {o.status for o in filed} == set(objection_rules.STATE_LABELS)
        assert {o.filer_kind for o in filed} == {"subject", "public"}
        escalated = [o for o in filed if o.escalated_on is not None]
        assert len(escalated) == counts["escalated"] and escalated
        assert all(o.due_on < o.escalated_on for o in escalated)  # type: ignore[operator]
        for corrected in (o for o in filed if o.status == objection_rules.CORRECTED):
            record = session.get(Record, corrected.record_id)
            assert record is not None and corrected.changes and corrected.record_version is not None
            assert corrected.new_version == record.version == corrected.record_version + 1
            for change in corrected.changes:
                assert record.fields[change["field"]] == change["after"] != change["before"]
        assert all(
            session.get(Record, o.record_id).status == "revoked"  # type: ignore[union-attr]
            for o in filed
            if o.status == objection_rules.REVOKED
        )
        assert session.scalars(
            select(WorkflowEvent).where(
                WorkflowEvent.workflow == "objection", WorkflowEvent.event == "escalate"
            )
        ).all()
        # one objection went overdue after the last escalation run: today's job escalates it
        assert objections.escalate_overdue(session, TODAY, credit_office="SCFGW", principal=SYSTEM) >= 1

    def check_enterprise_account(self, session: Session) -> None:
        principal = auth.principal_for_user(enterprise(session))
        inbox = notices.inbox(session, principal)
        assert {"repair_notice", "repair_update"} <= {n.kind for n in inbox}
        own = repair.of_subject(session, principal.subject_id)  # type: ignore[arg-type]
        assert own and own[0].status == rules.MATERIAL_REQUESTED and own[0].channel == "online"
        assert own[0].created_by == principal.user_id
        assert [o.filed_by for o in objections.of_subject(session, principal)] == [principal.user_id]

    def test_a_showcase_without_a_repairable_penalty_gets_one_reported(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        demo.seed(session, ctx, scale=SMALL)
        demo.seed_accounts(session, ctx)
        user = enterprise(session)
        user.subject_id = session.scalars(
            select(Record.subject_id)
            .where(Record.item_code == "XK", Record.subject_kind == "legal_person")
            .where(~Record.subject_id.in_(select(Record.subject_id).where(Record.item_code == "CF")))
            .order_by(Record.id)
            .limit(1)
        ).one()
        session.flush()
        seed_repair(session, platform, TODAY)
        own = repair.of_subject(session, user.subject_id)
        assert [a.status for a in own] == [rules.MATERIAL_REQUESTED]
        record = session.get(Record, own[0].record_id)
        assert record is not None and record.provider_code == "SCMR" and record.item_code == "CF"
        kinds = {n.kind for n in notices.inbox(session, auth.principal_for_user(user))}
        assert "repair_notice" in kinds

    def test_a_second_seed_does_nothing_and_the_history_is_reproducible(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        demo.seed(session, ctx, scale=SMALL)
        demo.seed_accounts(session, ctx)
        seed_supervision(session, platform.context(SYSTEM, ctx.today), scale=SMALL)
        savepoint = session.begin_nested()
        first = seed_repair(session, platform, TODAY)
        history = snapshot(session)
        savepoint.rollback()
        assert seed_repair(session, platform, TODAY) == first
        assert snapshot(session) == history
        assert seed_repair(session, platform, TODAY) == dict.fromkeys(first, 0)


@pytest.mark.parametrize("lines", [[], ["a (b) c \\ d"], [f"line {n}" for n in range(30)]])
def test_generated_evidence_is_a_well_formed_pdf(lines: list[str]) -> None:
    pdf = evidence_pdf("Receipt (demo)", lines)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[start:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[start:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+)", pdf)[1])  # type: ignore[index]
    assert pdf.split(b"stream\n", 1)[1][length:].startswith(b"\nendstream")
