"""Evaluation use cases: loading models, running them (full or incremental), results, consents.

Services flush and never commit: the CLI command, the job or the request owns the transaction. A run is
idempotent: re-running a model on the same data gives the same results and changes no current grade.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from xinyong.db.base import utcnow
from xinyong.evaluation import compiler, repository, results, rules, scoring
from xinyong.evaluation.models import (
    EvaluationConsent,
    EvaluationGrade,
    EvaluationGradeChange,
    EvaluationModelVersion,
    EvaluationRun,
)
from xinyong.evaluation.rules import ModelFileError
from xinyong.evaluation.schemas import ModelFile, ModelSummary
from xinyong.kit.errors import NotFound, ValidationFailed
from xinyong.subjects.models import Subject

ENGINES = ("sqlite", "postgresql", "spark")
DIALECT_OF = {"sqlite": "sqlite", "postgresql": "postgres", "spark": "spark"}
CHUNK = results.CHUNK

FeatureRows = Callable[[ModelFile, dt.date, Collection[int] | None], Iterable[Mapping[str, Any]]]


class EvaluationError(ValidationFailed):
    """A run or consent that cannot be done as asked."""


class ModelNotFound(NotFound):
    """No such model or run."""


def _shipped() -> dict[str, tuple[str, str]]:
    folder = resources.files("xinyong.evaluation") / "data" / "models"
    return {
        entry.name.removesuffix(".yaml"): (
            f"xinyong/evaluation/data/models/{entry.name}",
            entry.read_text("utf-8"),
        )
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def model_texts(data_dir: Path | None) -> dict[str, tuple[str, str]]:
    """Each model's file name and text: shipped in the package, overridden by `DATA_DIR/evaluation/models/`."""
    texts = _shipped()
    if data_dir is not None:
        folder = data_dir / "evaluation" / "models"
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                texts[path.stem] = (str(path), path.read_text("utf-8"))
    return texts


def load_models(
    session: Session | None, item_codes: Collection[str], data_dir: Path | None
) -> dict[str, ModelFile]:
    """Every model, validated against the catalog: files first, then the credit office's published versions."""
    found: dict[str, ModelFile] = {}
    for code, (filename, body) in model_texts(data_dir).items():
        model = rules.parse_model(body, filename, item_codes)
        if model.code != code:
            raise ModelFileError(filename, [("code", f"the file is named {code} but declares {model.code}")])
        found[code] = model
    if session is not None:
        published = session.scalars(
            select(EvaluationModelVersion)
            .where(EvaluationModelVersion.status == "published")
            .order_by(EvaluationModelVersion.published_at, EvaluationModelVersion.id)
        )
        for row in published:
            model = rules.parse_model(row.text, f"{row.model_code}@{row.version}", item_codes)
            found[model.code] = model.model_copy(update={"publish_grades": row.publish_grades})
    return found


def get_model(models: Mapping[str, ModelFile], code: str) -> ModelFile:
    try:
        return models[code]
    except KeyError:
        raise ModelNotFound(f"评价模型“{code[:48]}”不存在", code="evaluation.model_not_found") from None


def run_order(models: Mapping[str, ModelFile]) -> list[ModelFile]:
    """Models ordered so that a model's input models run before it."""
    ordered: list[ModelFile] = []
    seen: set[str] = set()

    def visit(model: ModelFile) -> None:
        if model.code in seen:
            return
        seen.add(model.code)
        for indicator in model.indicators:
            if indicator.feature.kind == "model_grade" and indicator.feature.model in models:
                visit(models[indicator.feature.model])
        ordered.append(model)

    for model in models.values():
        visit(model)
    return ordered


def engine_of(session: Session) -> str:
    name = session.get_bind().dialect.name
    return "postgresql" if name == "postgresql" else "sqlite"


def sql_feature_rows(session: Session) -> FeatureRows:
    """Feature rows computed by the store the session is connected to (SQLite or PostgreSQL)."""
    dialect = DIALECT_OF[engine_of(session)]

    def rows(
        model: ModelFile, as_of: dt.date, subject_ids: Collection[int] | None
    ) -> Iterable[Mapping[str, Any]]:
        if subject_ids is None:
            sql = compiler.feature_query(model, as_of=as_of, dialect=dialect)
            for row in session.execute(text(sql)).mappings():
                yield dict(row)
            return
        ids = sorted(subject_ids)
        restricted = compiler.per_subjects(
            lambda chunk: compiler.feature_query(model, as_of=as_of, dialect=dialect, subject_ids=chunk)
        )
        for start in range(0, len(ids), CHUNK):
            for row in session.execute(text(restricted(ids[start : start + CHUNK]))).mappings():
                yield dict(row)

    return rows


@dataclass(frozen=True, slots=True)
class Receipt:
    run_id: int
    model: str
    model_version: str
    engine: str
    as_of: dt.date
    subjects: int
    grade_counts: dict[str, int]
    duration_s: float
    incremental: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "model": self.model,
            "model_version": self.model_version,
            "engine": self.engine,
            "as_of": self.as_of.isoformat(),
            "subjects": self.subjects,
            "grade_counts": self.grade_counts,
            "duration_s": self.duration_s,
        }


def run(
    session: Session,
    model: ModelFile,
    *,
    as_of: dt.date,
    engine: str | None = None,
    incremental: bool = False,
    features: FeatureRows | None = None,
    progress: Callable[[int], None] | None = None,
) -> Receipt:
    """Evaluate the model's subjects as of a day and store results, current grades and grade changes.

    Incremental: only subjects whose inputs changed since the last run of this model version (see
    `repository.changed_subjects`); without such a run it is a full run. `features` computes the feature rows
    (another engine, e.g. Spark over a Parquet snapshot); by default the session's own store does.

    A result is written only where it is new or changed: a subject whose inputs (the model's digest and its
    indicator values) are those of its current result keeps that result, grade and history untouched, so a run
    writes in proportion to what changed, not to the number of subjects. The receipt counts every subject
    evaluated.

    On the session's own store the model is scored by the database (`scoring`: the feature rows into a
    temporary table, then one `INSERT … SELECT` of the new and changed results), so no feature row or result is
    held in memory. Feature rows from elsewhere are scored by `rules.evaluate` as they stream and written a
    chunk at a time (COPY on PostgreSQL). Either way the current grades and the grade history are then updated
    set-based from the results the run wrote (`results.store_grades`)."""
    started = time.perf_counter()
    store = engine_of(session)
    engine = engine or store
    if engine not in ENGINES:
        raise EvaluationError(f"未知的计算引擎“{engine[:16]}”", code="evaluation.unknown_engine")
    if engine != "spark" and engine != store:
        raise EvaluationError(
            f"数据存储在 {store} 中，不能用 {engine} 引擎计算", code="evaluation.engine_mismatch"
        )
    if features is None and engine == "spark":
        raise EvaluationError("Spark 引擎需要 Parquet 快照目录", code="evaluation.spark_needs_snapshot")
    previous = repository.last_done_run(session, model) if incremental else None
    run_row = EvaluationRun(
        model_code=model.code,
        model_version=model.version,
        engine=engine,
        as_of=as_of,
        incremental=previous is not None,
        last_event_id=repository.last_event_id(session),
        last_subject_id=repository.last_subject_id(session),
        last_consent_id=repository.last_consent_id(session),
    )
    session.add(run_row)
    session.flush()
    subject_ids = None if previous is None else repository.changed_subjects(session, model, previous, as_of)
    counts = rules.grade_counts(model, [])
    if subject_ids is None or subject_ids:
        if features is None and scoring.supported(model):
            counts.update(
                results.score_in_store(
                    session, model, run_row, as_of, subject_ids, DIALECT_OF[store], progress
                )
            )
        else:
            rows = (features or sql_feature_rows(session))(model, as_of, subject_ids)
            counts.update(results.score_in_python(session, model, run_row, rows, progress))
    subjects = sum(counts.values())
    duration = round(time.perf_counter() - started, 3)
    run_row.status = "done"
    run_row.subjects = subjects
    run_row.grade_counts = counts
    run_row.finished_at = utcnow()
    run_row.duration_s = duration
    session.flush()
    return Receipt(
        run_row.id,
        model.code,
        model.version,
        engine,
        as_of,
        subjects,
        counts,
        duration,
        run_row.incremental,
    )


def get_run(session: Session, run_id: int) -> EvaluationRun:
    found = session.get(EvaluationRun, run_id)
    if found is None:
        raise ModelNotFound(f"评价批次 {run_id} 不存在", code="evaluation.run_not_found")
    return found


def write_results_csv(session: Session, model: ModelFile, run_id: int, out: TextIO) -> int:
    """One row per subject with a result as of the run (`repository.run_results`): uscc, score, grade, then
    each indicator's points. Returns the rows."""
    codes = [i.code for i in model.indicators]
    writer = csv.writer(out)
    writer.writerow(["uscc", "score", "grade", *codes])
    found = repository.run_results(get_run(session, run_id))
    rows = session.execute(
        select(Subject.uscc, found.c.score, found.c.grade, found.c.indicators)
        .join(Subject, Subject.id == found.c.subject_id)
        .order_by(found.c.subject_id)
    )
    count = 0
    for uscc, score, grade, document in rows:
        items = document.get("items", {})
        writer.writerow([uscc or "", score, grade, *(items.get(c, [None, 0])[1] for c in codes)])
        count += 1
    return count


def give_consent(session: Session, model: ModelFile, subject_id: int, user_id: int | None) -> None:
    """Record a natural person's consent to an opt-in model (idempotent)."""
    if not model.applies_to.opt_in:
        raise EvaluationError("该评价模型无需授权", code="evaluation.not_opt_in")
    exists = session.scalar(
        select(EvaluationConsent).where(
            EvaluationConsent.model_code == model.code, EvaluationConsent.subject_id == subject_id
        )
    )
    if exists is None:
        session.add(EvaluationConsent(model_code=model.code, subject_id=subject_id, user_id=user_id))
        session.flush()


def withdraw_consent(session: Session, model: ModelFile, subject_id: int) -> int:
    """Withdraw consent: the consent and every score of the subject under the model are deleted."""
    consent = session.scalar(
        select(EvaluationConsent).where(
            EvaluationConsent.model_code == model.code, EvaluationConsent.subject_id == subject_id
        )
    )
    if consent is not None:
        session.delete(consent)
    removed = repository.delete_subject_scores(session, model.code, subject_id)
    session.flush()
    return removed


def has_consent(session: Session, model_code: str, subject_id: int) -> bool:
    return (
        session.scalar(
            select(EvaluationConsent.id).where(
                EvaluationConsent.model_code == model_code, EvaluationConsent.subject_id == subject_id
            )
        )
        is not None
    )


def current_grade(session: Session, model_code: str, subject_id: int) -> EvaluationGrade | None:
    return repository.current_grades(session, model_code, [subject_id]).get(subject_id)


holds_as_of = repository.holds_as_of


def grade_history(session: Session, model_code: str, subject_id: int) -> list[EvaluationGradeChange]:
    return list(
        session.scalars(
            select(EvaluationGradeChange)
            .where(
                EvaluationGradeChange.model_code == model_code, EvaluationGradeChange.subject_id == subject_id
            )
            .order_by(EvaluationGradeChange.id)
        )
    )


def summary(model: ModelFile) -> ModelSummary:
    return ModelSummary(
        code=model.code,
        version=model.version,
        name=model.name,
        use=model.use,
        publish_grades=model.publish_grades,
        subject_kinds=list(model.applies_to.subject_kinds),
    )


def run_all(session: Session, models: Mapping[str, ModelFile], as_of: dt.date) -> int:
    """Run every model incrementally, input models first (the daily job). Returns the subjects evaluated.
    Idempotent: a second run the same day re-evaluates nobody whose inputs did not change."""
    return sum(run(session, model, as_of=as_of, incremental=True).subjects for model in run_order(models))
