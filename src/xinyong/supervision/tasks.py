"""Interviews (约谈) and credit training (信用培训) steered by the public credit grade (546号 表3 第1项): the
policy, who supervises a subject, and the tasks generated from current grades.

The policy is data (`data/tasks.yaml`, overridable by `DATA_DIR/supervision_tasks.yaml`; no source, no load).
Tasks are generated from current grades by the daily job, once per grade change that put a subject in a
policy's grades, so the job may re-run; each goes to the subject's supervising department
(`supervising_departments`) with a deadline in working days, and the subject's account gets a notice.

The follow-up of a task (its steps, overdue alerts, the department's lists and statistics) is in
`task_followup`; the training sessions a training task is attended at are in `training_sessions`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.evaluation.models import EvaluationGrade, EvaluationGradeChange
from xinyong.kit.errors import ValidationFailed
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.notices import service as notices
from xinyong.records.models import Record
from xinyong.subjects.models import Subject
from xinyong.supervision import rules as supervision_rules
from xinyong.supervision.models import SupervisionScope
from xinyong.supervision.task_models import SupervisionTask, TaskKind, TaskState

log = logging.getLogger(__name__)

OVERRIDE_NAME = "supervision_tasks.yaml"
REGISTRATION_ITEM = "DJ"  # 登记注册基本信息: its provider registered the subject
KIND_LABELS = {TaskKind.INTERVIEW: "约谈", TaskKind.TRAINING: "信用培训"}
STATE_LABELS = {
    TaskState.OPEN: "待处理",
    TaskState.INTERVIEWED: "已约谈，整改中",
    TaskState.RECTIFIED: "已整改",
    TaskState.NOT_RECTIFIED: "未整改",
    TaskState.ATTENDED: "已参加培训",
}
STEP_LABELS = {"interview": "约谈", "training": "信用培训", "rectification": "整改"}
DONE_STATES = frozenset({TaskState.RECTIFIED, TaskState.NOT_RECTIFIED, TaskState.ATTENDED})


class TaskError(ValidationFailed):
    pass


@dataclass(frozen=True, slots=True)
class TaskRule:
    grades: frozenset[str]
    deadline_working_days: int
    rectification_working_days: int = 0
    rectification: str | None = None


@dataclass(frozen=True, slots=True)
class TaskPolicy:
    source: str
    model: str
    interview: TaskRule
    training: TaskRule

    def rule(self, kind: str) -> TaskRule:
        return self.interview if kind == TaskKind.INTERVIEW else self.training


def _rule(data: Any, what: str, *, interview: bool) -> TaskRule:
    if not isinstance(data, dict):
        raise TaskError(f"任务政策缺少 {what}", code="supervision.policy_invalid")
    grades = data.get("grades")
    days = data.get("deadline_working_days")
    if not grades or not isinstance(grades, list) or not isinstance(days, int) or days < 1:
        raise TaskError(f"任务政策 {what} 须有等级和期限（工作日）", code="supervision.policy_invalid")
    rectify = data.get("rectification_working_days", 0)
    text = data.get("rectification")
    if interview and (not isinstance(rectify, int) or rectify < 1 or not text):
        raise TaskError("约谈须写明整改要求和整改期限（工作日）", code="supervision.policy_invalid")
    return TaskRule(frozenset(str(g) for g in grades), days, int(rectify or 0), str(text) if text else None)


def parse_policy(text: str) -> TaskPolicy:
    """The task policy from its YAML text; refused without a source (legal basis first)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not str(data.get("source") or "").strip():
        raise TaskError("任务政策须注明来源（政策依据）", code="supervision.policy_without_source")
    return TaskPolicy(
        source=str(data["source"]).strip(),
        model=str(data.get("model") or "public_comprehensive"),
        interview=_rule(data.get("interview"), "interview", interview=True),
        training=_rule(data.get("training"), "training", interview=False),
    )


def load_policy(data_dir: Path | None) -> TaskPolicy:
    """The credit office's copy in `data_dir` when there is one, else the shipped policy."""
    override = data_dir / OVERRIDE_NAME if data_dir is not None else None
    if override is not None and override.is_file():
        return parse_policy(override.read_text(encoding="utf-8"))
    shipped = resources.files("xinyong.supervision").joinpath("data/tasks.yaml")
    return parse_policy(shipped.read_text(encoding="utf-8"))


# --- who supervises a subject ---------------------------------------------------------------------------


def _registration_authorities(session: Session, subject_ids: Collection[int]) -> dict[int, str]:
    """The department that registered each subject: the one named in its latest `DJ` record's 登记机关
    (`registration_authority`) when the platform knows a department of that name, else that record's provider."""
    by_name = dict(session.execute(select(Department.name, Department.code)).all())
    found: dict[int, str] = {}
    ids = sorted(subject_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Record.subject_id, Record.provider_code, Record.fields)
            .where(Record.item_code == REGISTRATION_ITEM, Record.subject_id.in_(ids[start : start + 500]))
            .order_by(Record.subject_id, Record.decision_date, Record.id)
        )
        for subject_id, provider, fields in rows:  # the latest registration wins
            named = str((fields or {}).get("registration_authority") or "").strip()
            found[subject_id] = by_name.get(named, provider)
    return found


def supervising_departments(
    session: Session, subject_ids: Collection[int], *, fallback: str
) -> dict[int, str]:
    """The department that supervises each subject (its supervising department):

    1. the department whose supervision pool covers the subject (`pool_departments`), the one with the most
       specific region when several do (a prefecture's bureau before the province's department);
    2. else the subject's registration authority (谁登记谁监管): the department named as 登记机关 in its latest
       `DJ` record, or that record's provider;
    3. else `fallback` (the credit office), so no task is left without an owner.
    """
    pooled = pool_departments(session, subject_ids)
    registered = _registration_authorities(session, set(subject_ids) - set(pooled))
    return {i: pooled.get(i) or registered.get(i) or fallback for i in subject_ids}


def _holders(session: Session, item: str, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            session.scalars(
                select(Record.subject_id).where(Record.item_code == item, Record.subject_id.in_(chunk))
            )
        )
    return found


def pool_departments(session: Session, subject_ids: Collection[int]) -> dict[int, str]:
    """For each subject some supervision pool (检查对象名录库) covers, the covering department with the most
    specific region (ties: the smaller department code). A pool covers a subject in one of its regions (its
    department's own region when it names none) that, when the pool names licence items, has a record of one
    of them. Industries are not a subject attribute here and do not narrow the choice."""
    scopes = session.execute(
        select(SupervisionScope, Department.region_code).join(
            Department, Department.code == SupervisionScope.department_code
        )
    ).all()
    if not scopes or not subject_ids:
        return {}
    ids = sorted(subject_ids)
    regions: dict[int, str | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        regions.update(
            session.execute(select(Subject.id, Subject.region_code).where(Subject.id.in_(chunk))).all()
        )
    items_named = {item for scope, _ in scopes for item in scope.licence_items or []}
    holders = {item: _holders(session, item, ids) for item in items_named}
    best: dict[int, tuple[int, str]] = {}
    for scope, own_region in scopes:
        areas = list(scope.region_codes or []) or ([own_region] if own_region else [])
        items = list(scope.licence_items or [])
        for subject_id, region in regions.items():
            if items and not any(subject_id in holders[i] for i in items):
                continue
            for area in areas:
                if not supervision_rules.within(region, area):
                    continue
                rank = (-len(supervision_rules.region_prefix(area)), scope.department_code)
                if subject_id not in best or rank < best[subject_id]:
                    best[subject_id] = rank
    return {subject_id: code for subject_id, (_, code) in best.items()}


# --- generation -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Due:
    subject_id: int
    grade: str
    change_id: int
    as_of: dt.date


def _due(session: Session, policy: TaskPolicy, kind: str) -> list[_Due]:
    """Current grades in the kind's grades whose latest change to that grade has no task of the kind yet."""
    rule = policy.rule(kind)
    latest = (
        select(
            EvaluationGradeChange.subject_id.label("subject_id"),
            EvaluationGradeChange.grade_to.label("grade"),
            func.max(EvaluationGradeChange.id).label("change_id"),
        )
        .where(
            EvaluationGradeChange.model_code == policy.model,
            EvaluationGradeChange.grade_to.in_(sorted(rule.grades)),
        )
        .group_by(EvaluationGradeChange.subject_id, EvaluationGradeChange.grade_to)
        .subquery()
    )
    done = select(SupervisionTask.id).where(
        SupervisionTask.kind == kind, SupervisionTask.grade_change_id == latest.c.change_id
    )
    rows = session.execute(
        select(latest.c.subject_id, latest.c.grade, latest.c.change_id, EvaluationGrade.as_of)
        .join(
            EvaluationGrade,
            and_(
                EvaluationGrade.subject_id == latest.c.subject_id,
                EvaluationGrade.model_code == policy.model,
                EvaluationGrade.grade == latest.c.grade,
            ),
        )
        .where(~done.exists())
        .order_by(latest.c.subject_id)
    )
    return [_Due(int(s), str(g), int(c), a) for s, g, c, a in rows]


def generate(
    session: Session,
    policy: TaskPolicy,
    calendar: WorkdayCalendar,
    today: dt.date,
    *,
    credit_office: str,
) -> int:
    """Create the interview and training tasks current grades call for, each with a notice to its subject.

    Idempotent: one task per kind and grade change (a subject that leaves 差 and falls back gets a new one).
    A subject whose supervising department is not a registered department (the credit office's, configured
    as `credit_office` but never added) gets no task yet and is logged: its task follows on the first run after
    the department is added, and the other subjects' tasks are not held up by it."""
    created = 0
    known = set(session.scalars(select(Department.code)))
    for kind in (TaskKind.INTERVIEW, TaskKind.TRAINING):
        due = _due(session, policy, kind)
        if not due:
            continue
        rule = policy.rule(kind)
        deadline = calendar.add_workdays(today, rule.deadline_working_days)
        owners = supervising_departments(session, {d.subject_id for d in due}, fallback=credit_office)
        waiting = sorted({owners[d.subject_id] for d in due} - known)
        if waiting:
            log.warning(
                "%s tasks of %d subjects wait for their supervising department to be registered: %s",
                kind,
                sum(1 for d in due if owners[d.subject_id] not in known),
                ", ".join(waiting),
            )
        for item in due:
            if owners[item.subject_id] not in known:
                continue
            task = SupervisionTask(
                kind=kind,
                subject_id=item.subject_id,
                department_code=owners[item.subject_id],
                model_code=policy.model,
                grade=item.grade,
                grade_change_id=item.change_id,
                grade_as_of=item.as_of,
                state=TaskState.OPEN,
                created_on=today,
                due_on=deadline.due,
                due_provisional=deadline.provisional,
                rectification=rule.rectification if kind == TaskKind.INTERVIEW else None,
            )
            session.add(task)
            session.flush()
            _notify_subject(session, task)
            created += 1
    return created


def _notify_subject(session: Session, task: SupervisionTask) -> None:
    label = KIND_LABELS[task.kind]
    if task.kind == TaskKind.INTERVIEW:
        body = (
            f"根据公共信用综合评价结果（差），主管部门将于 {task.due_on:%Y年%m月%d日} 前对您进行信用约谈，"
            f"督促全面整改。整改要求：{task.rectification}"
        )
    else:
        body = (
            f"根据公共信用综合评价结果（差），请于 {task.due_on:%Y年%m月%d日} 前参加一次信用培训"
            "（信用办或经授权的信用行业协会举办）。"
        )
    notices.send(
        session,
        kind="supervision_task",
        ref=f"supervision_task:{task.id}",
        title=f"分级分类监管：{label}通知",
        body=body,
        link="/account/supervision",
        subject_id=task.subject_id,
    )
