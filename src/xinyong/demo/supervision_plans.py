"""Demo of tiered supervision (分级分类监管) after the grades: two departments with their pools (scope and
inspectors), a published and drawn plan of the provincial bureau with results (most entered in the console,
one sent through ingestion), a published plan of the Chengdu bureau not yet drawn, training sessions, and the
interview and training tasks of subjects graded 差 — open, overdue, interviewed, rectified, attended.

Task dates are set back two months (generated then, from the grades the seed just computed) so that the
follow-up and the overdue alerts have something to show. Everything goes through the services departments
use (scope, inspectors, plan, draw, result entry, task generation and follow-up), so every invariant holds
(at least two inspectors, no conflict, results inside the plan's period, deadlines in working days).
Idempotent: does nothing when the demo plan exists.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import SYSTEM, Principal
from xinyong.demo import departments, vocabulary
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.subjects.models import Subject
from xinyong.supervision import plans, pools, results, task_followup, tasks, training_sessions
from xinyong.supervision.models import InspectionDrawSubject, InspectionPlan
from xinyong.supervision.task_models import SupervisionTask, TaskKind, TaskState

PROVINCE = "SCMR"
PLAN_NAME = "2026年度食品经营主体双随机抽查"
MATTERS = ["食品经营许可及公示情况", "从业人员健康管理", "进货查验记录", "食品贮存条件"]
RESULTS = ("未发现问题", "未发现问题", "发现问题已责令改正", "未发现问题", "发现问题已立案")


def _showcase_region(session: Session) -> str:
    """The district of the demo enterprise's file (the first company with a serious penalty), so that the
    province's plan covers it; 锦江区 when there is none."""
    from xinyong.accounts.models import User

    region = session.scalar(
        select(Subject.region_code)
        .join(User, User.subject_id == Subject.id)
        .where(User.username == "enterprise")
    )
    return region if region and region.startswith("51") and not region.endswith("00") else "510104"


def _inspectors(
    session: Session, ctx: UseCaseContext, department: str, region: str, prefix: str, rng: random.Random
) -> None:
    conflict = session.scalar(
        select(Subject.uscc).where(Subject.region_code == region, Subject.uscc.is_not(None))
    )
    for n in range(6):
        surname = rng.choice(vocabulary.SURNAMES)
        given = "".join(rng.choice(vocabulary.MALE_CHARS + vocabulary.FEMALE_CHARS) for _ in range(2))
        data = pools.parse_inspector(
            f"{surname}{given}",
            f"{prefix}{n + 1:04d}",
            region,
            conflict if n == 0 and conflict else "",  # one declared conflict (回避)
            "食品安全;市场监管综合执法",
        )
        pools.add_inspector(session, ctx, department, data)


def _handler(department_code: str) -> Principal:
    """Who handles a department's task: the demo reviewer's account where it is that department's."""
    name = "reviewer" if department_code == PROVINCE else f"demo-{department_code.lower()}"
    return Principal(kind="user", name=name, role="reviewer", department_code=department_code)


def seed_supervision_plans(session: Session, platform: Platform, today: dt.date) -> dict[str, int]:
    """Pools, plans, a draw with results, training sessions and tasks; returns counts for the seed's log."""
    if session.scalar(select(InspectionPlan.id).where(InspectionPlan.name == PLAN_NAME)) is not None:
        return {"plans": 0, "drawn": 0, "results": 0, "tasks": 0}
    rng = random.Random(5462019)
    chengdu = departments.directory().bureau_of.get("510100", PROVINCE)
    region = _showcase_region(session)
    other_region = "510107" if region != "510107" else "510106"
    system = platform.context(SYSTEM, today)

    # Pools: the province's bureau supervises the whole province, Chengdu's bureau its city.
    pools.set_scope(session, system, PROVINCE, region_codes=["510000"])
    pools.set_scope(session, system, chengdu, region_codes=["510100"])
    _inspectors(session, system, PROVINCE, region, "川市监执", rng)
    _inspectors(session, system, chengdu, other_region, "成市监执", rng)

    # The province's plan, published three months ago and drawn the next day; results since.
    start = today - dt.timedelta(days=90)
    plan = plans.create_plan(
        session,
        replace(system, today=start),
        PROVINCE,
        name=PLAN_NAME,
        period_from=start,
        period_to=today + dt.timedelta(days=90),
        region=region,
        matters=MATTERS,
    )
    plans.draw_plan(session, replace(system, today=start + dt.timedelta(days=1)), plan.id)
    drawn = [
        (str(uscc), int(position))
        for uscc, position in session.execute(
            select(InspectionDrawSubject.uscc, InspectionDrawSubject.position)
            .where(InspectionDrawSubject.plan_id == plan.id)
            .order_by(InspectionDrawSubject.position)
        )
    ]
    clerk = Principal(kind="user", name="reviewer", role="reviewer", department_code=PROVINCE)
    entered = 0
    for uscc, position in drawn[: max(1, len(drawn) // 2)]:
        day = start + dt.timedelta(days=2 + (position * 7) % 80)
        results.enter_result(
            session,
            platform.context(clerk, today),
            platform.ingest_context(today),
            plan_id=plan.id,
            uscc=uscc,
            data=results.ResultInput(
                result=RESULTS[position % len(RESULTS)],
                inspected_on=min(day, today),
                inspection_items="；".join(MATTERS[: 2 + position % 3]),
                doc_no=f"川市监检〔{start.year}〕{position}号",
            ),
        )
        entered += 1
    entered += _one_result_through_ingestion(session, platform, plan, drawn, start, today)

    # The Chengdu bureau's plan: published, to be drawn in the console.
    plans.create_plan(
        session,
        system,
        chengdu,
        name="2026年度成都市特种设备使用单位双随机抽查",
        period_from=today + dt.timedelta(days=7),
        period_to=today + dt.timedelta(days=120),
        region=other_region,
        matters=["特种设备使用登记", "定期检验情况", "作业人员持证情况"],
    )
    created = _tasks(session, platform, today)
    return {"plans": 2, "drawn": len(drawn), "results": entered, "tasks": created}


def _one_result_through_ingestion(
    session: Session,
    platform: Platform,
    plan: InspectionPlan,
    drawn: list[tuple[str, int]],
    start: dt.date,
    today: dt.date,
) -> int:
    """The last drawn subject's result as a department system sends it: a `JC` row naming the plan."""
    if len(drawn) < 2:
        return 0
    uscc, position = drawn[-1]
    subject = session.scalar(select(Subject).where(Subject.uscc == uscc))
    if subject is None:
        return 0
    records.ingest_json(
        session,
        platform.ingest_context(today),
        item_code="JC",
        provider_code=plan.department_code,
        records=[
            {
                "doc_no": f"川市监检〔{start.year}〕{position}号",
                "subject_name": subject.name,
                "uscc": uscc,
                "inspection_type": results.RANDOM_INSPECTION,
                "plan_id": str(plan.id),
                "inspection_items": "；".join(MATTERS),
                "result": "未发现问题",
                "decision_date": min(start + dt.timedelta(days=40), today).isoformat(),
                "authority_name": "四川省市场监督管理局",
            }
        ],
    )
    return results.link_ingested(session, platform.catalog, today)


def _tasks(session: Session, platform: Platform, today: dt.date) -> int:
    """Tasks generated two months ago from the grades, then followed up: some interviewed (one rectified, one
    not), some trained; the rest are overdue and alerted to their departments."""
    settings = platform.settings
    policy = tasks.load_policy(settings.data_dir)
    generated_on = today - dt.timedelta(days=60)
    created = tasks.generate(
        session, policy, platform.calendar, generated_on, credit_office=settings.credit_office_department
    )
    office = Principal(kind="user", name="admin", role="credit_office", department_code="SCFGW")
    held = training_sessions.add_session(
        session,
        office,
        title="失信主体信用修复与合规经营培训（第一期）",
        held_on=today - dt.timedelta(days=20),
        place="成都市锦江区红星路二段某会议中心",
        organiser="四川省发展和改革委员会",  # its kind reads 信用办 beside it
        organiser_kind="credit_office",
        authorisation=None,
        capacity=120,
    )
    training_sessions.add_session(
        session,
        office,
        title="信用培训（第二期）",
        held_on=today + dt.timedelta(days=10),
        place="绵阳市涪城区某培训中心",
        organiser="四川省信用协会",
        organiser_kind="association",
        authorisation="川信用办〔2026〕12号",
        capacity=80,
    )
    generated = session.scalars(
        select(SupervisionTask).where(SupervisionTask.created_on == generated_on).order_by(SupervisionTask.id)
    ).all()
    interviews = [t for t in generated if t.kind == TaskKind.INTERVIEW]
    trainings = [t for t in generated if t.kind == TaskKind.TRAINING]
    for n, task in enumerate(interviews[: max(0, len(interviews) // 2)]):
        handler = _handler(task.department_code)
        # Half interviewed early (their rectification now due or overdue), half lately (rectification under way).
        day = (
            generated_on + dt.timedelta(days=5 + n % 5)
            if n % 2 == 0
            else today - dt.timedelta(days=3 + n % 5)
        )
        task_followup.record_interview(
            session,
            handler,
            task,
            day=day,
            notes="约谈法定代表人，告知失信记录及其影响，明确整改要求和期限。",
            policy=policy,
            calendar=platform.calendar,
            today=day,
        )
        if n % 3 == 0 and task.rectify_by is not None and task.rectify_by < today:
            task_followup.close_interview(
                session,
                handler,
                task,
                rectified=n % 4 == 0,
                day=task.rectify_by,
                notes="现场核查整改报告及证明材料。" if n % 4 == 0 else "逾期未提交整改报告。",
                today=today,
            )
    for task in trainings[: max(0, len(trainings) // 3)]:
        handler = _handler(task.department_code)
        if task.state == TaskState.OPEN:
            task_followup.record_attendance(session, handler, task, session_id=held.id, today=today)
    task_followup.alert_overdue(session, today)
    return created
