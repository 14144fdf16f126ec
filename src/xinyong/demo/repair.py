"""Demo history for credit repair and objections: applications in every state, re-checks and objections.

Deterministic (seeded), and made through the same services subjects, department clerks and the credit office
use, each step on a past day, so eligibility, deadlines (working days, 调休 included), overdue flags, notices
and the audit trail are what the rules give. Evidence is a tiny generated PDF; every application carries its
signed commitment. The demo ``enterprise`` account gets an application and an objection of its own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from xinyong.accounts import auth
from xinyong.accounts import service as accounts
from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.demo.departments import directory
from xinyong.demo.evidence import evidence_pdf
from xinyong.demo.objection_history import OBJECTION_DEPARTMENTS, ObjectionSeeding, objection_pool
from xinyong.demo.repair_plan import CONTACTS, NOTES, PATHS, PLAN, SIGNERS, STATEMENTS
from xinyong.files.service import Upload
from xinyong.kit.dates import add_months
from xinyong.kit.tabular import Row
from xinyong.lists.models import ListEntry
from xinyong.objections.models import Objection
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.repair import rules
from xinyong.repair import service as repair
from xinyong.repair.models import RepairApplication
from xinyong.subjects.models import Subject

if TYPE_CHECKING:
    from xinyong.platform import Platform

SEED = 36  # 国家发展改革委令第36号
DEPARTMENTS = 4  # how many departments get applications (SCMR, whose demo reviewer logs in, first)


@dataclass
class Seeder(ObjectionSeeding):
    session: Session
    platform: Platform
    today: dt.date
    rng: random.Random
    used: set[int] = field(default_factory=set)
    numbers: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    # -- dates -------------------------------------------------------------------------------------------

    def after(self, day: dt.date, workdays: int) -> dt.date:
        return self.platform.calendar.add_workdays(day, workdays).due

    def step_days(self, submitted: dt.date, path: str) -> list[dt.date]:
        days, day = [], submitted
        for _, delay, _who in PATHS[path]:
            day = self.after(day, delay)
            days.append(day)
        return days

    def due_of(self, submitted: dt.date, path: str) -> dt.date | None:
        """The deadline the application ends with (as the service will compute it)."""
        policy = self.platform.repair_policy
        due = rules.due_after("submit", submitted, policy, self.platform.calendar)
        for (event, _, _), day in zip(PATHS[path], self.step_days(submitted, path), strict=True):
            following = rules.due_after(event, day, policy, self.platform.calendar)
            if following is not None:
                due = following
            elif event not in rules.KEEPS_DEADLINE:
                due = None
        return due.due if due else None

    def submission_day(self, path: str, age: int | None, overdue: bool) -> dt.date:
        """The latest day whose steps all lie in the past; earlier when the case is to be overdue or old."""
        day = self.today - dt.timedelta(days=age or 0)
        while (self.step_days(day, path) or [day])[-1] > self.today:
            day -= dt.timedelta(days=1)
        if overdue:
            while (due := self.due_of(day, path)) is not None and due >= self.today:
                day -= dt.timedelta(days=1)
            day -= dt.timedelta(days=self.rng.randint(1, 8))
        return day

    # -- who ---------------------------------------------------------------------------------------------

    def user(self, username: str) -> User | None:
        if username not in self.users:
            found = self.session.scalar(select(User).where(User.username == username))
            if found is None:
                return None
            self.users[username] = found
        return self.users[username]

    def clerk(self, department: str) -> Principal:
        reviewer = self.user("reviewer")
        if reviewer is not None and reviewer.department_code == department:
            return auth.principal_for_user(reviewer)
        return Principal(
            kind="user", name=f"demo-{department.lower()}", role="reviewer", department_code=department
        )

    def office(self) -> Principal:
        admin = self.user("admin")
        if admin is not None and admin.role == "credit_office":
            return auth.principal_for_user(admin)
        return Principal(
            kind="user",
            name="demo-credit-office",
            role="credit_office",
            department_code=self.platform.settings.credit_office_department,
        )

    def applicant(self, subject_id: int) -> Principal:
        enterprise = self.user("enterprise")
        if enterprise is not None and enterprise.subject_id == subject_id:
            return auth.principal_for_user(enterprise)
        return Principal(
            kind="user", name=f"demo-subject-{subject_id}", role="subject", subject_id=subject_id
        )

    def number(self, department: str, year: int) -> str:
        key = f"{department}:{year}"
        self.numbers[key] = self.numbers.get(key, 0) + 1
        return f"{doc_prefix(department)}信修〔{year}〕{self.numbers[key]}号"

    # -- repair ------------------------------------------------------------------------------------------

    def evidence(self, record_id: int, day: dt.date, kind: str) -> list[Upload]:
        files = [
            Upload(
                "罚款缴纳凭证.pdf" if kind == "online" else "纸质申请材料扫描件.pdf",
                evidence_pdf(
                    "Fine payment receipt (demo, synthetic)",
                    [
                        f"Credit record #{record_id}",
                        f"Paid in full on {day.isoformat()}",
                        "xinyong demo data",
                    ],
                ),
            )
        ]
        if self.rng.random() < 0.5:
            files.append(
                Upload(
                    "整改报告.pdf",
                    evidence_pdf(
                        "Rectification report (demo, synthetic)",
                        [f"Credit record #{record_id}", f"Completed on {day.isoformat()}"],
                    ),
                )
            )
        return files

    def apply(
        self, kind: str, target_id: int, subject_id: int, department: str, channel: str, day: dt.date
    ) -> RepairApplication:
        principal = self.applicant(subject_id) if channel == "online" else self.clerk(department)
        paid = day - dt.timedelta(days=self.rng.randint(20, 90))
        return repair.apply(
            self.session,
            self.platform.context(principal, day),
            repair_policy=self.platform.repair_policy,
            target_kind=kind,
            target_id=target_id,
            statement=self.rng.choice(STATEMENTS).format(paid=f"{paid.year}年{paid.month}月{paid.day}日"),
            contact_name=self.rng.choice(CONTACTS),
            contact_phone=f"028-8{self.rng.randint(0, 9_999_999):07d}",
            signer_name=self.rng.choice(SIGNERS),
            evidence=self.evidence(target_id, paid, channel),
        )

    def walk(self, application: RepairApplication, path: str, submitted: dt.date) -> None:
        for (event, _, who), day in zip(PATHS[path], self.step_days(submitted, path), strict=True):
            if who == "office":
                principal = self.office()
            elif who == "applicant" and application.channel == "online":
                principal = self.applicant(application.subject_id)
            else:
                principal = self.clerk(application.department_code)
            repair.advance(
                self.session,
                self.platform.context(principal, day),
                application,
                event,
                repair_policy=self.platform.repair_policy,
                note=NOTES.get(event),
                decision_no=self.number(application.department_code, day.year)
                if event in ("approve", "complete")
                else None,
                evidence=self.evidence(application.record_id or 0, day, "online")[:1]
                if event == "supplement"
                else (),
            )

    def pick_record(self, pool: list[Record], day: dt.date) -> Record | None:
        for record in pool:
            if record.id in self.used or record.min_public_until is None or record.public_from is None:
                continue
            if record.min_public_until < day and record.public_from <= day:
                self.used.add(record.id)
                return record
        return None

    def seed_applications(self, departments: Sequence[str], pools: dict[str, list[Record]]) -> int:
        cases = []
        for department in departments:
            for path, channel, age, overdue in PLAN:
                jitter = self.rng.randint(0, 6) if age else 0
                day = self.submission_day(path, age + jitter if age else None, overdue)
                cases.append((day, department, path, channel))
        count = 0
        for day, department, path, channel in sorted(cases):  # the oldest cases need the oldest records
            record = self.pick_record(pools[department], day)
            if record is None:
                continue
            application = self.apply("record", record.id, record.subject_id, department, channel, day)
            self.walk(application, path, day)
            count += 1
        return count

    def list_entries(self) -> int:
        """A repairable list entry past its minimum period gets an application (accepted, under way)."""
        minimums = self.platform.repair_policy.list_minimums
        entries = self.session.scalars(
            select(ListEntry)
            .where(ListEntry.status == "listed", ListEntry.permanent.is_(False))
            .where(ListEntry.list_type.in_(sorted(minimums)))
            .order_by(ListEntry.id)
        ).all()
        count = 0
        for entry in entries:
            if entry.decided_on is None:
                continue
            earliest = add_months(entry.decided_on, minimums[entry.list_type]) + dt.timedelta(days=1)
            day = self.submission_day("accepted", None, False)
            if earliest > day or count >= 2:
                continue
            application = self.apply(
                "list_entry", entry.id, entry.subject_id, entry.department_code, "online", day
            )
            self.walk(application, "accepted", day)
            count += 1
        return count

    def rechecks(self) -> int:
        """The monthly draws of the last three months; the oldest one already confirmed by the credit office."""
        policy, calendar = self.platform.repair_policy, self.platform.calendar
        first = self.today.replace(day=1)
        sampled = 0
        for months_back in (2, 1, 0):
            draw_day = add_months(first, -months_back)
            sampled += repair.draw_recheck(self.session, policy, calendar, draw_day)
            if months_back != 2:  # the latest draws are still being re-checked
                continue
            period = repair.previous_month(draw_day)[0]
            for application in self.session.scalars(
                select(RepairApplication)
                .where(
                    RepairApplication.recheck_period == period, RepairApplication.recheck_status == "sampled"
                )
                .order_by(RepairApplication.id)
            ):
                repair.confirm_recheck(
                    self.session,
                    self.office(),
                    application,
                    note="抽查复核：材料真实、程序合法，修复决定无误。",
                    today=min(self.today, self.after(draw_day, 5)),
                )
        return sampled

    def fulfilments(self) -> None:
        """Commitments followed up: kept after three months without a new breach; broken on a wrong repair."""
        rows = self.session.execute(
            select(RepairApplication, Commitment)
            .join(Commitment, Commitment.id == RepairApplication.commitment_id)
            .where(RepairApplication.status.in_((rules.REPAIRED, rules.REVERTED)))
            .order_by(RepairApplication.id)
        ).all()
        for application, commitment in rows:
            assert application.decided_on is not None
            checked = application.decided_on + dt.timedelta(days=90)
            if application.status == rules.REVERTED:
                commitments.record_fulfilment(
                    self.session,
                    self.office(),
                    commitment,
                    fulfilled=False,
                    note="提供与事实不符的缴款凭证，违背信用修复承诺。",
                    today=repair.events_of(self.session, application.id)[-1].on,
                )
            elif checked <= self.today and self.rng.random() < 0.6:
                commitments.record_fulfilment(
                    self.session,
                    self.clerk(application.department_code),
                    commitment,
                    fulfilled=True,
                    note="修复后三个月内未发现同类失信行为，承诺已履行。",
                    today=checked,
                )

    # -- the demo enterprise -------------------------------------------------------------------------------

    def enterprise(self) -> tuple[int, int]:
        """The demo ``enterprise`` account's own subject: one application awaiting its material, one objection.

        When the subject has no penalty it could repair today, its department reports one (through ingestion,
        which sends the repair notice), so the account always shows the whole path.
        """
        user = self.user("enterprise")
        if user is None or user.subject_id is None:
            return 0, 0
        subject = self.session.get(Subject, user.subject_id)
        assert subject is not None
        day = self.submission_day("material_requested", None, False)
        record = self.pick_record(self.own_penalties(subject.id), day)
        if record is None:
            record = self.pick_record(self.report_penalty(subject, day), day)
        applications = 0
        if record is not None:
            application = self.apply(
                "record", record.id, record.subject_id, record.provider_code, "online", day
            )
            self.walk(application, "material_requested", day)
            applications = 1
        for other in self.session.scalars(
            select(Record)
            .where(Record.subject_id == subject.id, Record.status == "active")
            .where(Record.item_code.not_in(("DJ", "CN")))
            .order_by(Record.decision_date.desc(), Record.id)
        ):
            if other.id not in self.used:
                self.used.add(other.id)
                self.file(other, "subject", self.today - dt.timedelta(days=1))
                return applications, 1
        return applications, 0

    def own_penalties(self, subject_id: int) -> list[Record]:
        return list(
            self.session.scalars(
                select(Record)
                .where(Record.subject_id == subject_id, *_repairable(self.today))
                .order_by(Record.decision_date.desc(), Record.id)
            )
        )

    def report_penalty(self, subject: Subject, day: dt.date) -> list[Record]:
        """SCMR reports a 一般 penalty decided five months before ``day`` (past its 3-month minimum)."""
        if subject.uscc is None:
            return []
        authority = accounts.get_department(self.session, "SCMR")
        decided = day - dt.timedelta(days=150)
        number = 900
        while True:
            doc_no = f"{doc_prefix('SCMR')}罚〔{decided.year}〕{number}号"
            taken = select(Record.id).where(Record.provider_code == "SCMR", Record.doc_no == doc_no)
            if self.session.scalar(taken.limit(1)) is None:
                break
            number += 1
        row = {
            "CF_WSH": doc_no,
            "CF_XDR_MC": subject.name,
            "CF_XDR_LB": "个体工商户" if subject.kind == "individual_business" else "法人及非法人组织",
            "CF_XDR_SHXYM": subject.uscc,
            "CF_FRDB": subject.legal_rep or self.rng.choice(SIGNERS),
            "CF_WFXW": "发布虚假广告",
            "CF_SY": "经查，当事人在其网站发布的产品宣传中含有与实际情况不符的内容，构成虚假广告。",
            "CF_YJ": "《中华人民共和国广告法》第五十五条第一款",
            "CF_CFLB": "罚款",
            "CF_NR": "决定给予当事人以下行政处罚：1. 罚款人民币30000元。",
            "CF_NR_FK": "3",
            "CF_JDRQ": decided.isoformat(),
            "CF_CFJG": authority.name,
            "CF_CFJGDM": authority.uscc or "",
            "severity": "一般",
            "sector": "市场监管",
        }
        records.ingest(
            self.session,
            self.platform.ingest_context(self.today),
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(2, row)],
            source="demo",
            filename="demo-enterprise-penalty.csv",
        )
        return list(
            self.session.scalars(
                select(Record).where(Record.provider_code == "SCMR", Record.doc_no == doc_no)
            )
        )


def doc_prefix(department: str) -> str:
    """The department's document-number prefix (川市监, 川环, 成市监...) as the demo generator uses it."""
    return directory().doc_prefix.get(department, "川")


def _departments(session: Session, today: dt.date, limit: int) -> list[str]:
    """SCMR (the demo reviewer's department) first, then the departments with the most repairable penalties."""
    counts = session.execute(
        select(Record.provider_code, func.count(Record.id))
        .where(*_repairable(today))
        .group_by(Record.provider_code)
        .order_by(func.count(Record.id).desc(), Record.provider_code)
    ).all()
    codes = [code for code, _ in counts]
    ordered = (["SCMR"] if "SCMR" in codes else []) + [c for c in codes if c != "SCMR"]
    return ordered[:limit]


def _repairable(today: dt.date) -> list[ColumnElement[bool]]:
    """Published penalties past their minimum period and still public today."""
    return [
        Record.item_code == "CF",
        Record.status == "active",
        Record.severity.in_(("一般", "严重")),
        Record.min_public_until < today,
        Record.public_until >= today,
    ]


def _pool(
    session: Session, rng: random.Random, department: str, today: dt.date, exclude: int | None
) -> list[Record]:
    query = select(Record).where(Record.provider_code == department, *_repairable(today))
    if exclude is not None:
        query = query.where(Record.subject_id != exclude)
    pool = list(session.scalars(query.order_by(Record.id)))
    rng.shuffle(pool)
    return pool


def seed_repair(session: Session, platform: Platform, today: dt.date) -> dict[str, int]:
    """Repair applications and objections over the seeded demo records, as of ``today``.

    Idempotent: does nothing when repair applications or objections already exist.
    """
    empty = {"applications": 0, "objections": 0, "sampled": 0, "escalated": 0}
    if session.scalar(select(func.count(RepairApplication.id))) or session.scalar(
        select(func.count(Objection.id))
    ):
        return empty
    seeder = Seeder(session, platform, today, random.Random(SEED))
    enterprise = seeder.user("enterprise")
    showcase = enterprise.subject_id if enterprise is not None else None
    departments = _departments(session, today, DEPARTMENTS)
    if not departments:
        return empty
    own_applications, own_objections = seeder.enterprise()
    pools = {d: _pool(session, seeder.rng, d, today, showcase) for d in departments}
    applications = own_applications + seeder.seed_applications(departments, pools)
    applications += seeder.list_entries()
    seeder.fulfilments()
    sampled = seeder.rechecks()
    repair.alert_overdue(session, today - dt.timedelta(days=1))
    objection_pools = {
        d: objection_pool(session, seeder.rng, d, today, showcase)
        for d in departments[:OBJECTION_DEPARTMENTS]
    }
    filed, escalated = seeder.seed_objections(departments[:OBJECTION_DEPARTMENTS], objection_pools)
    platform.events.run_in(session)  # the reactions to what was seeded (repair notices, 两书同达)
    session.flush()
    return {
        "applications": applications,
        "objections": filed + own_objections,
        "sampled": sampled,
        "escalated": escalated,
    }
