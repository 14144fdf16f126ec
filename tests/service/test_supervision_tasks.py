"""Grade-steered supervision on both stores: interview and training tasks generated once per grade change for
the supervising department, overdue logic and alerts, the follow-up with its bad input, another department
refused; inspection results becoming `JC` records in the credit file (entered, or sent through ingestion),
with bad input refused and nothing stored; the public document masks personal names."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import helpers
from tests.conftest import TODAY
from tests.helpers import uscc
from tests.supervision_world import CHENGDU, MIANYANG, SupervisedWorld, build, grade, subject
from xinyong.accounts.models import Department
from xinyong.accounts.policy import ANONYMOUS, Principal
from xinyong.events.models import DomainEvent
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.records import credit_file
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.subjects.models import Subject
from xinyong.supervision import jobs, portal, results, rules, task_followup, tasks, training_sessions
from xinyong.supervision.task_models import InspectionResult, SupervisionTask, TaskState

CLERK = Principal(kind="user", name="cd-reviewer", role="reviewer", department_code=CHENGDU)
OTHER = Principal(kind="user", name="my-reviewer", role="reviewer", department_code=MIANYANG)


@pytest.fixture
def world(platform: Platform, session: Session) -> SupervisedWorld:
    return build(platform, session)


def _generate(platform: Platform, session: Session, day: dt.date = TODAY) -> int:
    return jobs.create_tasks(
        session,
        data_dir=platform.settings.data_dir,
        calendar=platform.calendar,
        today=day,
        credit_office=platform.settings.credit_office_department,
    )


def _tasks(session: Session, subject_id: int) -> list[SupervisionTask]:
    return list(
        session.scalars(
            select(SupervisionTask)
            .where(SupervisionTask.subject_id == subject_id)
            .order_by(SupervisionTask.id)
        )
    )


class TestGeneration:
    def test_each_subject_graded_poor_gets_an_interview_and_a_training_for_its_department(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        assert _generate(platform, session) == 6  # three subjects graded 差, two tasks each
        policy = tasks.load_policy(platform.settings.data_dir)
        poor = {t.kind: t for t in _tasks(session, world.poor)}
        assert set(poor) == {"interview", "training"} and _tasks(session, world.good) == []
        assert {t.department_code for t in poor.values()} == {CHENGDU}
        assert {t.department_code for t in _tasks(session, world.far)} == {MIANYANG}
        assert poor["interview"].due_on == platform.calendar.add_workdays(TODAY, 10).due
        assert poor["training"].due_on == platform.calendar.add_workdays(TODAY, 40).due
        assert poor["interview"].rectification == policy.interview.rectification
        notices = session.scalars(select(Notice).where(Notice.subject_id == world.poor)).all()
        assert {n.kind for n in notices} == {"supervision_task"} and len(notices) == 2

    def test_the_daily_job_is_idempotent_and_a_new_fall_to_poor_makes_new_tasks(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        _generate(platform, session)
        assert _generate(platform, session) == 0
        assert _generate(platform, session, TODAY + dt.timedelta(days=3)) == 0
        grade(session, world.run_id, world.poor, "C", before="D")
        assert _generate(platform, session) == 0  # graded 中 now: nothing new
        grade(session, world.run_id, world.poor, "D", before="C")
        assert _generate(platform, session) == 2
        assert len(_tasks(session, world.poor)) == 4 and len(_tasks(session, world.far)) == 2

    def test_outside_every_pool_the_registration_authority_then_the_credit_office_supervises(
        self, platform: Platform, session: Session, world: SupervisedWorld, ctx: IngestContext
    ) -> None:
        registered, unknown = uscc("513201"), uscc("513201")
        with_record = subject(session, registered, "阿坝登记测试有限公司", "513201")
        without = subject(session, unknown, "阿坝无登记测试有限公司", "513201")
        helpers.department(session, "ABMR", "阿坝州市场监督管理局")
        helpers.department(session, platform.settings.credit_office_department, "四川省发展和改革委员会")
        registration = {
            "subject_name": "阿坝登记测试有限公司",
            "uscc": registered,
            "entity_type": "有限责任公司",
            "legal_rep": "李四",
            "registered_on": "2020-01-01",
            "registration_authority": "阿坝州市场监督管理局",
            "address": "阿坝州马尔康市",
            "operating_status": "存续",
        }
        receipt = helpers.ingest_rows(session, ctx, [registration], "DJ")  # sent by the province's bureau
        assert receipt.accepted == 1, receipt
        for sid in (with_record, without):
            grade(session, world.run_id, sid, "D")
        _generate(platform, session)
        assert {t.department_code for t in _tasks(session, with_record)} == {"ABMR"}
        assert {t.department_code for t in _tasks(session, without)} == {
            platform.settings.credit_office_department
        }

    def test_a_subject_whose_supervising_department_is_not_registered_waits_and_the_others_get_theirs(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        # A store where the credit office's department (the last resort owner) was never registered: the
        # daily job used to stop on a foreign-key error and create no task at all.
        office = platform.settings.credit_office_department
        assert session.get(Department, office) is None
        orphan = subject(session, uscc("513201"), "阿坝无主管部门测试有限公司", "513201")
        grade(session, world.run_id, orphan, "D")
        assert _generate(platform, session) == 6  # the three subjects with a department, two tasks each
        assert _tasks(session, orphan) == []
        assert _generate(platform, session) == 0  # still waiting, nothing twice
        helpers.department(session, office, "四川省发展和改革委员会")
        assert _generate(platform, session) == 2  # once the department exists, its tasks follow
        assert {t.department_code for t in _tasks(session, orphan)} == {office}

    def test_a_policy_without_its_source_is_refused(self) -> None:
        text = "model: public_comprehensive\ninterview: {grades: [D], deadline_working_days: 5}\n"
        with pytest.raises(ValidationFailed) as refused:
            tasks.parse_policy(text)
        assert refused.value.code == "supervision.policy_without_source"


class TestFollowUp:
    def test_overdue_steps_are_alerted_once_to_the_department(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        _generate(platform, session)
        interview = next(t for t in _tasks(session, world.poor) if t.kind == "interview")
        assert task_followup.overdue_step(interview, interview.due_on) is None
        late = interview.due_on + dt.timedelta(days=1)
        assert task_followup.overdue_step(interview, late) == "interview"
        assert jobs.alert_overdue(session, late) == 3  # the three interviews; training has 40 working days
        assert jobs.alert_overdue(session, late) == 0
        rows = task_followup.department_tasks(session, CLERK, late, overdue_only=True).items
        assert {(r.task.department_code, r.overdue) for r in rows} == {(CHENGDU, "interview")}
        assert len(rows) == 2 == task_followup.overdue_count(session, CLERK, late)
        assert task_followup.overdue_count(session, OTHER, late) == 1
        training = next(t for t in _tasks(session, world.poor) if t.kind == "training")
        assert jobs.alert_overdue(session, training.due_on + dt.timedelta(days=1)) == 3
        alerts = session.scalars(select(Notice).where(Notice.kind == "supervision_overdue")).all()
        assert {a.department_code for a in alerts} == {CHENGDU, MIANYANG} and len(alerts) == 6
        assert all(a.subject_id is None for a in alerts)  # to the department, not the subject

    def test_interview_then_rectification_with_its_own_deadline(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        _generate(platform, session)
        policy = tasks.load_policy(platform.settings.data_dir)
        task = next(t for t in _tasks(session, world.poor) if t.kind == "interview")
        day = TODAY + dt.timedelta(days=2)
        with pytest.raises(ValidationFailed) as future:
            task_followup.record_interview(
                session,
                CLERK,
                task,
                day=day,
                notes="约谈",
                policy=policy,
                calendar=platform.calendar,
                today=TODAY,
            )
        assert future.value.code == "supervision.date_in_future" and task.state == TaskState.OPEN
        task_followup.record_interview(
            session,
            CLERK,
            task,
            day=day,
            notes="约谈法定代表人",
            policy=policy,
            calendar=platform.calendar,
            today=day,
        )
        assert task.state == TaskState.INTERVIEWED
        assert task.rectify_by == platform.calendar.add_workdays(day, 30).due
        assert task_followup.overdue_step(task, task.rectify_by + dt.timedelta(days=1)) == "rectification"
        with pytest.raises(Conflict):
            task_followup.record_interview(
                session,
                CLERK,
                task,
                day=day,
                notes="again",
                policy=policy,
                calendar=platform.calendar,
                today=day,
            )
        task_followup.close_interview(
            session, CLERK, task, rectified=False, day=day, notes="未按期整改", today=day
        )
        assert task.state == TaskState.NOT_RECTIFIED
        assert task_followup.overdue_step(task, dt.date(2030, 1, 1)) is None

    def test_another_department_neither_sees_nor_handles_the_task(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        _generate(platform, session)
        policy = tasks.load_policy(platform.settings.data_dir)
        task = next(t for t in _tasks(session, world.poor) if t.kind == "interview")
        with pytest.raises(NotFound):
            task_followup.get_task(session, OTHER, task.id)
        with pytest.raises(Forbidden):
            task_followup.record_interview(
                session,
                OTHER,
                task,
                day=TODAY,
                notes="x",
                policy=policy,
                calendar=platform.calendar,
                today=TODAY,
            )
        assert {r.task.subject_id for r in task_followup.department_tasks(session, OTHER, TODAY).items} == {
            world.far
        }
        counts = task_followup.statistics(session, OTHER, TODAY)
        assert [c.department_code for c in counts["interview"]] == [MIANYANG]

    def test_the_task_list_comes_a_page_at_a_time_and_loses_none(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        _generate(platform, session)
        whole = task_followup.department_tasks(session, CLERK, TODAY, size=1000)
        assert whole.total == len(whole.items) >= 3
        pages = [task_followup.department_tasks(session, CLERK, TODAY, page=n, size=2) for n in (1, 2, 3, 4)]
        assert all(p.total == whole.total for p in pages)
        seen = [r.task.id for p in pages for r in p.items]
        assert seen == [r.task.id for r in whole.items][: len(seen)] and len(seen) == min(8, whole.total)
        assert pages[0].has_next and not pages[0].has_prev

    def test_training_attendance_needs_a_session_held_since_the_task(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        _generate(platform, session)
        task = next(t for t in _tasks(session, world.poor) if t.kind == "training")
        office = Principal(kind="user", name="office", role="credit_office", department_code="SCFGW")
        with pytest.raises(ValidationFailed) as unauthorised:
            training_sessions.add_session(
                session,
                office,
                title="信用修复与信用培训",
                held_on=TODAY,
                place="成都",
                organiser="四川省信用协会",
                organiser_kind="association",
                authorisation="",
                capacity=50,
            )
        assert unauthorised.value.code == "supervision.authorisation_required"
        early = training_sessions.add_session(
            session,
            office,
            title="上月培训",
            held_on=TODAY - dt.timedelta(days=30),
            place="成都",
            organiser="四川省发展和改革委员会",
            organiser_kind="credit_office",
            authorisation=None,
            capacity=50,
        )
        with pytest.raises(ValidationFailed) as before:
            task_followup.record_attendance(session, CLERK, task, session_id=early.id, today=TODAY)
        assert before.value.code == "supervision.session_before_task"
        held = training_sessions.add_session(
            session,
            office,
            title="信用培训第一期",
            held_on=TODAY + dt.timedelta(days=5),
            place="成都市高新区",
            organiser="四川省信用协会",
            organiser_kind="association",
            authorisation="川信用办〔2026〕1号",
            capacity=50,
        )
        with pytest.raises(ValidationFailed) as not_yet:
            task_followup.record_attendance(session, CLERK, task, session_id=held.id, today=TODAY)
        assert not_yet.value.code == "supervision.session_not_held"
        task_followup.record_attendance(session, CLERK, task, session_id=held.id, today=held.held_on)
        assert task.state == TaskState.ATTENDED and training_sessions.attendance_counts(session) == {
            held.id: 1
        }
        done = task_followup.statistics(session, CLERK, held.held_on)["training"]
        assert [(c.open, c.done) for c in done] == [(1, 1)]


def _result(**overrides: object) -> results.ResultInput:
    values: dict[str, object] = {
        "result": "发现问题已责令改正",
        "inspected_on": dt.date(2026, 6, 10),
        "inspection_items": "食品经营许可情况",
        "doc_no": "成市监检〔2026〕7号",
    } | overrides
    return results.ResultInput(**values)  # type: ignore[arg-type]


class TestResults:
    def test_an_entered_result_is_a_jc_record_in_the_credit_file_and_an_event(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        ctx = platform.context(CLERK, TODAY)
        events_before = session.scalar(select(func.max(DomainEvent.id))) or 0
        entered = results.enter_result(
            session,
            ctx,
            platform.ingest_context(TODAY),
            plan_id=world.plan.id,
            uscc=world.poor_uscc,
            data=_result(),
        )
        record = session.get(Record, entered.record_id)
        assert record is not None and record.item_code == "JC" and record.provider_code == CHENGDU
        assert record.subject_id == world.poor and record.fields["inspection_type"] == "双随机抽查"
        assert str(record.fields["plan_id"]) == str(world.plan.id)
        public, view = credit_file.credit_file(session, platform.catalog, ANONYMOUS, world.poor, TODAY)
        assert view == "public" and record.id in {r.id for r in public}
        assert session.scalar(
            select(DomainEvent.id).where(DomainEvent.id > events_before, DomainEvent.subject_id == world.poor)
        )
        corrected = results.enter_result(
            session,
            ctx,
            platform.ingest_context(TODAY),
            plan_id=world.plan.id,
            uscc=world.poor_uscc,
            data=_result(result="未发现问题"),
        )
        assert corrected.id == entered.id and session.get(Record, entered.record_id).version == 2  # type: ignore[union-attr]
        with pytest.raises(Conflict):
            results.enter_result(
                session,
                ctx,
                platform.ingest_context(TODAY),
                plan_id=world.plan.id,
                uscc=world.poor_uscc,
                data=_result(doc_no="另一个编号"),
            )

    @pytest.mark.parametrize(
        ("case", "code"),
        [
            ("not_drawn", "supervision.subject_not_drawn"),
            ("unknown_plan", "supervision.plan_not_found"),
            ("outside_period", "supervision.date_outside_plan"),
            ("bad_result", "supervision.result_invalid"),
            ("other_department", "supervision.other_department"),
        ],
    )
    def test_bad_input_is_refused_with_its_code_and_stores_nothing(
        self, platform: Platform, session: Session, world: SupervisedWorld, case: str, code: str
    ) -> None:
        principal = OTHER if case == "other_department" else CLERK
        target = {"not_drawn": "far"}.get(case, "poor")
        uscc_of = {"poor": world.poor_uscc, "far": _uscc(session, world.far)}
        data = _result(
            inspected_on=dt.date(2025, 12, 31) if case == "outside_period" else dt.date(2026, 6, 10),
            result="查无此项" if case == "bad_result" else "未发现问题",
        )
        with pytest.raises((ValidationFailed, NotFound, Forbidden)) as refused:
            results.enter_result(
                session,
                platform.context(principal, TODAY),
                platform.ingest_context(TODAY),
                plan_id=world.plan.id + 999 if case == "unknown_plan" else world.plan.id,
                uscc=uscc_of[target],
                data=data,
            )
        assert refused.value.code == code
        assert session.scalar(select(func.count(Record.id)).where(Record.item_code == "JC")) == 0
        assert session.scalar(select(func.count(InspectionResult.id))) == 0

    def test_results_sent_through_ingestion_are_linked_once_and_bad_ones_left_alone(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        def row(doc_no: str, code: str, name: str, plan_id: int) -> dict[str, str]:
            return {
                "doc_no": doc_no,
                "subject_name": name,
                "uscc": code,
                "inspection_type": "双随机抽查",
                "plan_id": str(plan_id),
                "inspection_items": "食品安全管理制度",
                "result": "未发现问题",
                "decision_date": "2026-07-01",
                "authority_name": "成都市市场监督管理局",
            }

        receipt = records.ingest_json(
            session,
            platform.ingest_context(TODAY),
            item_code="JC",
            provider_code=CHENGDU,
            records=[
                row("成市监检〔2026〕8号", world.business_uscc, "张三丰", world.plan.id),
                row("成市监检〔2026〕9号", world.good_uscc, "成都优良测试有限公司", world.plan.id + 999),
            ],
        )
        assert receipt.accepted == 2
        assert jobs.link_results(session, platform.catalog, TODAY) == 1
        assert jobs.link_results(session, platform.catalog, TODAY) == 0
        linked = session.scalars(select(InspectionResult)).all()
        assert [(r.subject_id, r.source) for r in linked] == [(world.business, "ingestion")]


def _uscc(session: Session, subject_id: int) -> str:
    found = session.get(Subject, subject_id)
    assert found is not None and found.uscc
    return found.uscc


class TestPublication:
    def test_the_public_document_masks_personal_names_and_lets_a_subject_check_its_place(
        self, platform: Platform, session: Session, world: SupervisedWorld
    ) -> None:
        results.enter_result(
            session,
            platform.context(CLERK, TODAY),
            platform.ingest_context(TODAY),
            plan_id=world.plan.id,
            uscc=world.business_uscc,
            data=_result(),
        )
        document = portal.public_document(session, world.plan, "成都市市场监督管理局")
        text = json.dumps(document, ensure_ascii=False)
        assert "张三丰" not in text and "张**" in text
        assert "成都差评测试有限公司" in text and world.poor_uscc in text
        business = next(d for d in document["drawn"] if d["masked"])
        assert business["result"]["result"] == "发现问题已责令改正"
        assert document["seed"] == rules.seed_of(document["inputs"], document["nonce"])
        assert rules.commitment_of(document["nonce"]) == document["inputs"]["commitment"]
        own = rules.order_key(document["seed"], world.poor_uscc)
        poor_row = next(d for d in document["drawn"] if d["uscc"] == world.poor_uscc)
        assert poor_row["key"] == own
        assert (
            all("tier" not in d for d in document["drawn"]) and "scope" not in document
        )  # grades stay private
