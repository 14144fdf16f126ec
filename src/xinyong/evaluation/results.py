"""A run's results written where they changed, and the current grades and grade history that follow them.

A result is a function of its inputs (`scoring.inputs_text`: the model's digest and each indicator's value). A
run writes a result only for a subject who has none under the model, or whose inputs differ from those of its
current result; an unchanged subject keeps its result, current grade and history untouched. A run therefore
writes in proportion to what changed, not to the number of subjects, and a run's full results are, per
subject, the latest written at or before it (`repository.run_results`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Date, String, Table, and_, column, func, insert, literal, or_, select, text
from sqlalchemy import table as table_clause
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from xinyong.db import bulk
from xinyong.db.base import UTCDateTime, utcnow
from xinyong.evaluation import compiler, rules, scoring
from xinyong.evaluation.models import EvaluationGrade, EvaluationGradeChange, EvaluationResult, EvaluationRun
from xinyong.evaluation.rules import Feature
from xinyong.evaluation.schemas import ModelFile

CHUNK = 500  # subjects per restricted feature query (incremental runs)
# PostgreSQL's work_mem while a run scores and compares its results (a full run's 1,000,000 subjects: about 100 MB
# of hash table for the current grades); the feature query keeps the server's own.
SCORING_WORK_MEM = "256MB"


def plain_feature(value: Any) -> Feature:
    if value is None or isinstance(value, str):
        return value
    # Rounded: engines sum floating amounts in different orders (10.62 vs 10.620000000000001).
    number = round(float(value), 6)
    return int(number) if number.is_integer() else number


def result_document(result: rules.Evaluation) -> dict[str, Any]:
    return {
        "base": result.base,
        "adjustment": result.adjustment,
        "external": result.external,
        "items": {s.code: [s.value, s.points] for s in result.indicators},
    }


RESULT_CHUNK = 5000  # result rows per bulk insert when scoring in Python (Spark)


def score_in_store(
    session: Session,
    model: ModelFile,
    run_row: EvaluationRun,
    as_of: dt.date,
    subject_ids: Collection[int] | None,
    dialect: str,
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    """The database scores and writes the results: the feature rows into a temporary table (one statement, or
    one per chunk of subjects, compiled once: `compiler.per_subjects`), then one `INSERT … SELECT` of the new
    and changed results, the grades, and the grade counts of every subject evaluated."""
    table = f"evaluation_features_{run_row.id}"

    def features_sql(ids: Collection[int] | None, create: bool) -> str:
        return scoring.features_table_sql(
            model, table=table, as_of=as_of, dialect=dialect, subject_ids=ids, create=create
        )

    if subject_ids is None:
        session.execute(text(features_sql(None, True)))
    else:
        ids = sorted(subject_ids)
        first = compiler.per_subjects(lambda chunk: features_sql(chunk, True))
        more = compiler.per_subjects(lambda chunk: features_sql(chunk, False))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            session.execute(text((more if start else first)(chunk)))
            if progress:
                progress(len(chunk))
    previous = None
    if dialect == "postgres":
        # Scoring reads the features through materialised layers and joins them to every current grade: with the
        # server's default work_mem (4 MB) both spill to disk. Raised for the scoring statements only, then put
        # back for the rest of the caller's transaction.
        previous = session.scalar(text("SELECT current_setting('work_mem')"))
        session.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": SCORING_WORK_MEM})
        if subject_ids is not None:
            # A temporary table has no statistics until analysed: a few chunks' rows are then joined by index,
            # not by reading every current grade (a full run's table is joined whole either way).
            session.execute(text(f'ANALYZE "{table}"'))
    session.execute(
        text(scoring.insert_results_sql(model, run_id=run_row.id, dialect=dialect, features_table=table))
    )
    store_grades(session, model, run_row)
    evaluated = table_clause(table, column("subject_id"))
    counts = {
        str(grade): int(count)
        for grade, count in session.execute(
            select(EvaluationGrade.grade, func.count())
            .join_from(
                evaluated,
                EvaluationGrade,
                and_(
                    EvaluationGrade.model_code == model.code,
                    EvaluationGrade.subject_id == evaluated.c.subject_id,
                ),
            )
            .group_by(EvaluationGrade.grade)
        )
    }
    session.execute(text(f'DROP TABLE "{table}"'))
    if previous is not None:
        session.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": previous})
    if progress and subject_ids is None:
        progress(sum(counts.values()))
    return counts


def score_in_python(
    session: Session,
    model: ModelFile,
    run_row: EvaluationRun,
    rows: Iterable[Mapping[str, Any]],
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    """Feature rows scored by the reference rules as they stream; a chunk at a time, the new and changed results
    are written (those whose inputs differ from the current result's). Returns the grade counts."""
    table = cast(Table, EvaluationResult.__table__)
    digest = scoring.model_digest(model)
    counts: dict[str, int] = {}
    batch: list[dict[str, Any]] = []

    def write() -> None:
        ids = [row["subject_id"] for row in batch]
        current: dict[int, str | None] = {
            int(subject_id): inputs
            for subject_id, inputs in session.execute(
                select(EvaluationGrade.subject_id, EvaluationGrade.inputs).where(
                    EvaluationGrade.model_code == model.code, EvaluationGrade.subject_id.in_(ids)
                )
            )
        }
        changed = [row for row in batch if current.get(row["subject_id"]) != row["inputs"]]
        if changed:
            bulk.bulk_insert(session, table, changed)
        if progress:
            progress(len(batch))
        batch.clear()

    for row in rows:
        values = {i.code: plain_feature(row.get(i.code)) for i in model.indicators}
        result = rules.evaluate(model, values)
        counts[result.grade] = counts.get(result.grade, 0) + 1
        batch.append(
            {
                "run_id": run_row.id,
                "subject_id": int(row["subject_id"]),
                "score": result.score,
                "grade": result.grade,
                "indicators": result_document(result),
                "vetoes": list(result.vetoes),
                "inputs": scoring.inputs_text(model, digest, values),
            }
        )
        if len(batch) >= RESULT_CHUNK:
            write()
    if batch:
        write()
    store_grades(session, model, run_row)
    return counts


def store_grades(session: Session, model: ModelFile, run_row: EvaluationRun) -> None:
    """Set-based, from the results the run wrote (new or changed ones): a history row for each first or changed
    grade, then those subjects' current grades inserted or updated by one upsert."""
    results = cast(Table, EvaluationResult.__table__)
    grades = cast(Table, EvaluationGrade.__table__)
    now = utcnow()
    code = literal(model.code, String())
    as_of = literal(run_row.as_of, Date())
    at = literal(now, UTCDateTime())
    known = grades.alias("g")
    changed = (
        select(
            code,
            results.c.subject_id,
            results.c.run_id,
            as_of,
            known.c.grade,
            results.c.grade,
            results.c.score,
            at,
        )
        .select_from(
            results.outerjoin(
                known, and_(known.c.model_code == model.code, known.c.subject_id == results.c.subject_id)
            )
        )
        .where(
            results.c.run_id == run_row.id,
            or_(known.c.grade.is_(None), known.c.grade != results.c.grade),
        )
    )
    session.execute(
        insert(EvaluationGradeChange).from_select(
            ["model_code", "subject_id", "run_id", "as_of", "grade_from", "grade_to", "score", "at"], changed
        )
    )
    current = select(
        code,
        results.c.subject_id,
        results.c.run_id,
        results.c.score,
        results.c.grade,
        as_of,
        at,
        results.c.inputs,
    ).where(results.c.run_id == run_row.id)
    upsert_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    upsert = upsert_insert(grades).from_select(
        ["model_code", "subject_id", "run_id", "score", "grade", "as_of", "updated_at", "inputs"], current
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[grades.c.model_code, grades.c.subject_id],
            set_={
                name: upsert.excluded[name]
                for name in ("run_id", "score", "grade", "as_of", "updated_at", "inputs")
            },
        )
    )
    for instance in list(session.identity_map.values()):
        if isinstance(instance, EvaluationGrade):
            session.expire(instance)
