"""Queries of evaluation data: current grades, results, runs, and which subjects' inputs changed."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from xinyong.commitments.models import Commitment
from xinyong.evaluation import rules
from xinyong.evaluation.models import (
    EvaluationConsent,
    EvaluationGrade,
    EvaluationGradeChange,
    EvaluationResult,
    EvaluationRun,
)
from xinyong.evaluation.schemas import (
    CommitmentFeature,
    ExternalGradeFeature,
    ModelFile,
    ModelGradeFeature,
    RecordFeature,
)
from xinyong.events.models import DomainEvent
from xinyong.lists.models import ListEntry
from xinyong.records.models import Record
from xinyong.subjects.models import Subject


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(DomainEvent.id))) or 0)


def last_subject_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Subject.id))) or 0)


def last_consent_id(session: Session) -> int:
    return int(session.scalar(select(func.max(EvaluationConsent.id))) or 0)


def last_done_run(session: Session, model: ModelFile) -> EvaluationRun | None:
    return session.scalar(
        select(EvaluationRun)
        .where(
            EvaluationRun.model_code == model.code,
            EvaluationRun.model_version == model.version,
            EvaluationRun.status == "done",
        )
        .order_by(EvaluationRun.id.desc())
        .limit(1)
    )


def current_grades(
    session: Session, model_code: str, subject_ids: Collection[int]
) -> dict[int, EvaluationGrade]:
    found: dict[int, EvaluationGrade] = {}
    ids = sorted(subject_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for grade in session.scalars(
            select(EvaluationGrade).where(
                EvaluationGrade.model_code == model_code, EvaluationGrade.subject_id.in_(chunk)
            )
        ):
            found[grade.subject_id] = grade
    return found


def _window_shift(column: Any, before: dt.date, after: dt.date, months: int) -> ColumnElement[bool]:
    """Rows whose date entered or left a `months` window between the two as-of days."""
    low, high = sorted((rules.months_before(before, months), rules.months_before(after, months)))
    return and_(column > low, column <= high)


def _years_crossed(before: dt.date, after: dt.date) -> list[ColumnElement[bool]]:
    """Registration dates whose full years (days / 365.25, floored) differ between the two as-of days."""
    if after <= before:
        return []
    ranges: list[ColumnElement[bool]] = []
    for k in range(1, 201):
        c = math.ceil(365.25 * k)
        ranges.append(
            Subject.registered_on.between(before - dt.timedelta(days=c - 1), after - dt.timedelta(days=c))
        )
    return ranges


@dataclass
class _Inputs:
    record_items: set[str] = field(default_factory=set)
    windows: set[int] = field(default_factory=set)
    commitment_windows: set[int] = field(default_factory=set)
    input_models: set[str] = field(default_factory=set)
    years: bool = False
    valid_until: set[tuple[str, str]] = field(default_factory=set)  # (item, date field) of outside grades


def _inputs(model: ModelFile) -> _Inputs:
    found = _Inputs()
    for indicator in model.indicators:
        feature = indicator.feature
        if isinstance(feature, RecordFeature):
            found.record_items.update(feature.items)
            if feature.window_months:
                found.windows.add(feature.window_months)
        elif isinstance(feature, ExternalGradeFeature):
            found.record_items.add(feature.item)
            if feature.valid_until_field:
                found.valid_until.add((feature.item, feature.valid_until_field))
        elif isinstance(feature, CommitmentFeature) and feature.window_months:
            found.commitment_windows.add(feature.window_months)
        elif isinstance(feature, ModelGradeFeature):
            found.input_models.add(feature.model)
        elif feature.kind == "years_in_business":
            found.years = True
    return found


def _crossing_time(session: Session, inputs: _Inputs, before: dt.date, after: dt.date) -> set[int]:
    """Subjects with a record, entry, commitment or anniversary that changes a feature between two days."""
    low, high = sorted((before, after))
    found: set[int] = set()
    if inputs.record_items:
        conditions = [
            and_(Record.public_until >= low, Record.public_until < high),
            and_(Record.decision_date > low, Record.decision_date <= high),
            *(_window_shift(Record.decision_date, before, after, m) for m in inputs.windows),
        ]
        found.update(
            session.scalars(
                select(Record.subject_id).where(Record.item_code.in_(inputs.record_items), or_(*conditions))
            )
        )
    for item, key in sorted(inputs.valid_until):  # an outside grade whose validity ended in between
        until = Record.fields[key].as_string()
        found.update(
            session.scalars(
                select(Record.subject_id).where(
                    Record.item_code == item, until >= low.isoformat(), until < high.isoformat()
                )
            )
        )
    found.update(
        session.scalars(
            select(ListEntry.subject_id).where(
                or_(
                    and_(ListEntry.public_until >= low, ListEntry.public_until < high),
                    and_(ListEntry.decided_on > low, ListEntry.decided_on <= high),
                )
            )
        )
    )
    signed = [and_(Commitment.signed_on > low, Commitment.signed_on <= high)]
    signed += [_window_shift(Commitment.signed_on, before, after, m) for m in inputs.commitment_windows]
    found.update(session.scalars(select(Commitment.subject_id).where(or_(*signed))))
    if inputs.years:
        crossed = _years_crossed(before, after)
        if crossed:
            found.update(session.scalars(select(Subject.id).where(or_(*crossed))))
    return found


def changed_subjects(session: Session, model: ModelFile, previous: EvaluationRun, as_of: dt.date) -> set[int]:
    """The subjects whose inputs to the model may have changed since `previous`: domain events after the ones it
    read (records, list entries, commitments), records and entries crossing a window or a publicity end between
    the two as-of days, anniversaries of registration, changed input grades, and applicable subjects with no
    grade yet (new subjects, new consents). Over-inclusive, never under: re-evaluating is idempotent."""
    events = select(DomainEvent.subject_id).where(
        DomainEvent.id > previous.last_event_id, DomainEvent.subject_id.is_not(None)
    )
    found: set[int] = {int(i) for i in session.scalars(events) if i is not None}
    inputs = _inputs(model)
    if previous.as_of != as_of:
        found |= _crossing_time(session, inputs, previous.as_of, as_of)
    if inputs.input_models:
        found.update(
            session.scalars(
                select(EvaluationGradeChange.subject_id).where(
                    EvaluationGradeChange.model_code.in_(inputs.input_models),
                    EvaluationGradeChange.run_id > previous.id,
                )
            )
        )
    # Applicable subjects without a grade: among the subjects (or, for an opt-in model, the consents) added since
    # the previous run read its inputs. A subject that changes in a way that makes it applicable (its industry)
    # is named by the domain event of that change above.
    ungraded = select(Subject.id).where(
        Subject.kind.in_(model.applies_to.subject_kinds),
        ~exists().where(EvaluationGrade.model_code == model.code, EvaluationGrade.subject_id == Subject.id),
    )
    if not model.applies_to.opt_in:
        ungraded = ungraded.where(Subject.id > previous.last_subject_id)
    if model.applies_to.industries:
        ungraded = ungraded.where(
            or_(*(Subject.industry_code.startswith(code) for code in model.applies_to.industries))
        )
    if model.applies_to.opt_in:
        ungraded = ungraded.where(
            Subject.id.in_(
                select(EvaluationConsent.subject_id).where(
                    EvaluationConsent.model_code == model.code,
                    EvaluationConsent.id > previous.last_consent_id,
                )
            )
        )
    found.update(session.scalars(ungraded))
    return found


def run_results(run: EvaluationRun) -> Subquery:
    """A run's results: per subject, the latest result written at or before the run by a run of the same model
    and version (a run writes only new and changed results; an unchanged subject's result is an earlier one)."""
    runs = select(EvaluationRun.id).where(
        EvaluationRun.model_code == run.model_code,
        EvaluationRun.model_version == run.model_version,
        EvaluationRun.id <= run.id,
    )
    latest = (
        select(EvaluationResult.subject_id, func.max(EvaluationResult.run_id).label("run_id"))
        .where(EvaluationResult.run_id.in_(runs))
        .group_by(EvaluationResult.subject_id)
        .subquery("latest")
    )
    results = EvaluationResult.__table__
    return (
        select(results)
        .join(latest, and_(results.c.subject_id == latest.c.subject_id, results.c.run_id == latest.c.run_id))
        .subquery("run_results")
    )


def holds_as_of(session: Session, grade: EvaluationGrade) -> dt.date:
    """The latest data cut-off at which a current grade is known to hold: that of the latest run of the same
    model and version since the one that wrote it. Each of those runs either found the subject's inputs
    unchanged or did not re-evaluate it because none of its inputs changed."""
    version = select(EvaluationRun.model_version).where(EvaluationRun.id == grade.run_id).scalar_subquery()
    latest = session.scalar(
        select(EvaluationRun.as_of)
        .where(
            EvaluationRun.model_code == grade.model_code,
            EvaluationRun.model_version == version,
            EvaluationRun.status == "done",
            EvaluationRun.id >= grade.run_id,
        )
        .order_by(EvaluationRun.id.desc())
        .limit(1)
    )
    return latest or grade.as_of


def result_of(session: Session, run_id: int, subject_id: int) -> EvaluationResult | None:
    return session.scalar(
        select(EvaluationResult).where(
            EvaluationResult.run_id == run_id, EvaluationResult.subject_id == subject_id
        )
    )


def delete_subject_scores(session: Session, model_code: str, subject_id: int) -> int:
    """Every score of a subject under a model: current grade, history and per-run results."""
    runs = select(EvaluationRun.id).where(EvaluationRun.model_code == model_code)
    removed = 0
    for statement in (
        delete(EvaluationGrade).where(
            EvaluationGrade.model_code == model_code, EvaluationGrade.subject_id == subject_id
        ),
        delete(EvaluationGradeChange).where(
            EvaluationGradeChange.model_code == model_code, EvaluationGradeChange.subject_id == subject_id
        ),
        delete(EvaluationResult).where(
            EvaluationResult.run_id.in_(runs), EvaluationResult.subject_id == subject_id
        ),
    ):
        result = session.execute(statement, execution_options={"preserve_rowcount": True})
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def subject_records_in_force(
    session: Session, subject_id: int, items: Iterable[str], as_of: dt.date
) -> list[Record]:
    return list(
        session.scalars(
            select(Record).where(
                Record.subject_id == subject_id,
                Record.item_code.in_(list(items)),
                Record.status == "active",
                or_(Record.public_until.is_(None), Record.public_until >= as_of),
            )
        )
    )


def subject_entries_in_force(session: Session, subject_id: int, as_of: dt.date) -> list[ListEntry]:
    return list(
        session.scalars(
            select(ListEntry).where(
                ListEntry.subject_id == subject_id,
                ListEntry.status == "listed",
                or_(ListEntry.public_until.is_(None), ListEntry.public_until >= as_of),
            )
        )
    )
