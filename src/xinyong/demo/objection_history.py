"""Demo history of objections (异议): filed by subjects and by the public on records public at the time, then
answered (corrected, revoked, maintained), withdrawn, left open, or escalated when overdue — each through the
objections service on its past day. `ObjectionSeeding` is part of `demo.repair.Seeder`."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import ANONYMOUS, SYSTEM, Principal
from xinyong.demo.evidence import corrections_for, evidence_pdf
from xinyong.files.service import Upload
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.records.models import Record

if TYPE_CHECKING:
    from xinyong.platform import Platform

OBJECTION_DEPARTMENTS = 3
PUBLIC_FILERS = ("王先生", "刘女士", "陈先生", "赵女士", "某消费者协会")
OBJECTION_REASONS = {
    "subject": (
        "该记录所载罚款金额与处罚决定书不一致，决定书载明的罚款金额较低，请核实更正。",
        "该行政处罚已被复议机关撤销，原处罚决定不再有效，请撤销该记录。",
        "该记录的违法事实描述与处罚决定书不符，请核实并更正。",
        "该信息记录的当事人信息有误，我单位未受过该项行政处罚，请核实。",
    ),
    "public": (
        "该企业公示的处罚信息与我了解的情况不符，处罚内容疑似录入错误，请核实。",
        "该记录的处罚决定日期与我掌握的处罚决定书复印件不一致，请核实。",
    ),
}
ANSWERS = {
    "maintain": "经核查，该记录与处罚决定书原件一致，信息准确，维持原记录。",
    "revoke": "经核查，该行政处罚决定已被复议机关依法撤销，撤销该记录。",
    "correct": "经核查，原记录录入有误，已按处罚决定书原件更正。",
}
# objection cases per department: (outcome, filer, age in days or None for recent, overdue)
OBJECTION_PLAN: tuple[tuple[str, str, int | None, bool], ...] = (
    ("open", "subject", None, False),
    ("open", "public", 40, True),
    ("correct", "subject", 25, False),
    ("revoke", "subject", 35, False),
    ("maintain", "public", 30, False),
    ("withdraw", "subject", 20, False),
)


class _Seeder(Protocol):
    """What the objection steps use of the seeder they are part of (`demo.repair.Seeder`)."""

    session: Session
    platform: Platform
    today: dt.date
    rng: random.Random
    used: set[int]

    def after(self, day: dt.date, workdays: int) -> dt.date: ...
    def clerk(self, department: str) -> Principal: ...
    def applicant(self, subject_id: int) -> Principal: ...
    def file(self, record: Record, filer: str, day: dt.date) -> Objection: ...
    def answer(self, objection: Objection, record: Record, outcome: str, day: dt.date) -> None: ...
    def filing_day(self, age: int | None, overdue: bool, *, escalate_on: dt.date) -> dt.date: ...
    def pick_objection_record(
        self, pool: list[Record], day: dt.date, *, correctable: bool
    ) -> Record | None: ...


class ObjectionSeeding:
    """The objection steps of the demo history (mixed into `demo.repair.Seeder`)."""

    def file(self: _Seeder, record: Record, filer: str, day: dt.date) -> Objection:
        if filer == "subject":
            principal = self.applicant(record.subject_id)
            name = record.subject_name
            contact: str | None = None
        else:
            principal = ANONYMOUS
            name = self.rng.choice(PUBLIC_FILERS)
            contact = f"139{self.rng.randint(0, 99_999_999):08d}"
        return objections.file(
            self.session,
            self.platform.context(principal, day),
            answer_workdays=self.platform.repair_policy.objection_workdays,
            record_id=record.id,
            reasons=self.rng.choice(OBJECTION_REASONS[filer]),
            filer_name=name,
            filer_contact=contact,
            evidence=[
                Upload(
                    "异议证明材料.pdf",
                    evidence_pdf("Objection evidence (demo, synthetic)", [f"Credit record #{record.id}"]),
                )
            ],
        )

    def answer(self: _Seeder, objection: Objection, record: Record, outcome: str, day: dt.date) -> None:
        corrections = None
        if outcome == "correct":
            corrections = corrections_for(record)
        objections.answer(
            self.session,
            self.platform.context(self.clerk(objection.department_code), day),
            objection,
            outcome,
            rule_sets=self.platform.rule_sets,
            reason=ANSWERS[outcome],
            corrections=corrections,
        )

    def filing_day(self: _Seeder, age: int | None, overdue: bool, *, escalate_on: dt.date) -> dt.date:
        """Recent, old enough to be escalated on ``escalate_on``, or overdue only since then."""
        workdays = self.platform.repair_policy.objection_workdays
        if age is None and not overdue:
            return self.today - dt.timedelta(days=self.rng.randint(0, 2))
        day = self.today - dt.timedelta(days=age or 0)
        if overdue and age is None:  # overdue, but only since after the last escalation run
            day = self.today
            while self.after(day, workdays) >= self.today:
                day -= dt.timedelta(days=1)
            return day
        if overdue:
            while self.after(day, workdays) >= escalate_on:
                day -= dt.timedelta(days=1)
        return day

    def seed_objections(
        self: _Seeder, departments: Sequence[str], pools: dict[str, list[Record]]
    ) -> tuple[int, int]:
        escalate_on = self.today - dt.timedelta(days=7)
        workdays = self.platform.repair_policy.objection_workdays
        late: list[tuple[Objection, Record]] = []
        count = 0
        plan: list[tuple[str, str, str, int | None, bool]] = [
            (department, *case) for department in departments for case in OBJECTION_PLAN
        ]
        # one overdue only since the last escalation run (today's job escalates it); one escalated, then answered
        plan += [
            (departments[0], "open", "public", None, True),
            (departments[0], "late", "subject", 45, True),
        ]
        for department, outcome, filer, age, overdue in plan:
            day = self.filing_day(age, overdue, escalate_on=escalate_on)
            record = self.pick_objection_record(pools[department], day, correctable=outcome == "correct")
            if record is None:
                continue
            objection = self.file(record, filer, day)
            count += 1
            if outcome == "late":
                late.append((objection, record))
            elif outcome == "withdraw":
                objections.withdraw(
                    self.session,
                    self.applicant(record.subject_id),
                    objection,
                    today=min(self.today, day + dt.timedelta(days=2)),
                )
            elif outcome != "open":
                answered = min(self.today, self.after(day, self.rng.randint(2, workdays)))
                self.answer(objection, record, outcome, answered)
        escalated = objections.escalate_overdue(
            self.session,
            escalate_on,
            credit_office=self.platform.settings.credit_office_department,
            principal=SYSTEM,
        )
        for objection, record in late:
            self.answer(objection, record, "maintain", min(self.today, self.after(escalate_on, 2)))
        return count, escalated

    def pick_objection_record(
        self: _Seeder, pool: list[Record], day: dt.date, *, correctable: bool
    ) -> Record | None:
        for record in pool:
            if record.id in self.used or record.public_from is None or record.public_from > day:
                continue
            if correctable and not record.fields.get("fine_wan"):
                continue
            self.used.add(record.id)
            return record
        return None


def objection_pool(
    session: Session, rng: random.Random, department: str, today: dt.date, exclude: int | None
) -> list[Record]:
    """The department's records public today: penalties first (they can be corrected), then licences."""
    pool: list[Record] = []
    for item in ("CF", "XK"):
        query = select(Record).where(
            Record.provider_code == department,
            Record.item_code == item,
            Record.subject_kind != "natural_person",
            Record.status == "active",
            Record.public_from.is_not(None),
            Record.public_from <= today,
            (Record.public_until.is_(None)) | (Record.public_until >= today),
        )
        if exclude is not None:
            query = query.where(Record.subject_id != exclude)
        found = list(session.scalars(query.order_by(Record.id)))
        rng.shuffle(found)
        pool += found
    return pool
