"""The credit office's model editor: a draft is saved (validated against the catalog), dry-run against the
current data without storing anything, then published; runs use the published version from then on."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.db.base import utcnow
from xinyong.evaluation import repository, results, rules, service
from xinyong.evaluation.models import EvaluationModelVersion
from xinyong.evaluation.rules import ModelFileError
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed

MAX_TEXT = 200_000  # characters of YAML a draft may hold


def save_draft(
    session: Session, item_codes: Collection[str], current: dict[str, ModelFile], text: str, saved_by: str
) -> EvaluationModelVersion:
    """Validate and save a draft; a version already saved or in use for that model cannot be reused."""
    if len(text) > MAX_TEXT:
        raise ValidationFailed("模型文件过大", code="evaluation.model_too_large")
    try:
        model = rules.parse_model(text, "草稿", item_codes)
    except ModelFileError as exc:
        raise ValidationFailed(
            "模型文件有误", code="evaluation.model_invalid", details=[f"{p}: {m}" for p, m in exc.errors]
        ) from None
    known = current.get(model.code)
    taken = session.scalar(
        select(EvaluationModelVersion.id).where(
            EvaluationModelVersion.model_code == model.code, EvaluationModelVersion.version == model.version
        )
    )
    if taken is not None or (known is not None and known.version == model.version):
        raise Conflict(
            f"模型 {model.code} 的版本 {model.version} 已存在，请使用新的版本号",
            code="evaluation.version_taken",
        )
    draft = EvaluationModelVersion(
        model_code=model.code,
        version=model.version,
        status="draft",
        text=text,
        publish_grades=model.publish_grades,
        saved_by=saved_by[:64],
    )
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, draft_id: int) -> EvaluationModelVersion:
    draft = session.get(EvaluationModelVersion, draft_id)
    if draft is None:
        raise NotFound("模型草稿不存在", code="evaluation.draft_not_found")
    return draft


def parsed(draft: EvaluationModelVersion, item_codes: Collection[str]) -> ModelFile:
    return rules.parse_model(draft.text, f"{draft.model_code}@{draft.version}", item_codes)


@dataclass(frozen=True, slots=True)
class DryRun:
    subjects: int
    grade_counts: dict[str, int]
    changed: int  # subjects whose grade would differ from their current one
    transitions: dict[str, int]  # "B→C": subjects


def dry_run(session: Session, model: ModelFile, as_of: dt.date) -> DryRun:
    """Evaluate every applicable subject with the draft, storing nothing, and compare with current grades."""
    rows = service.sql_feature_rows(session)(model, as_of, None)
    grades: dict[int, str] = {}
    for row in rows:
        values = {i.code: results.plain_feature(row.get(i.code)) for i in model.indicators}
        grades[int(row["subject_id"])] = rules.evaluate(model, values).grade
    current = repository.current_grades(session, model.code, grades.keys())
    moves: Counter[str] = Counter()
    for subject_id, grade in grades.items():
        known = current.get(subject_id)
        if known is not None and known.grade != grade:
            moves[f"{known.grade}→{grade}"] += 1
    return DryRun(len(grades), rules.grade_counts(model, grades.values()), sum(moves.values()), dict(moves))


def publish(session: Session, draft: EvaluationModelVersion) -> None:
    """Publish a draft: from now on it is the model's version (earlier published versions are retired)."""
    if draft.status != "draft":
        raise Conflict("只有草稿可以发布", code="evaluation.not_a_draft")
    for older in session.scalars(
        select(EvaluationModelVersion).where(
            EvaluationModelVersion.model_code == draft.model_code,
            EvaluationModelVersion.status == "published",
        )
    ):
        older.status = "retired"
    draft.status = "published"
    draft.published_at = utcnow()
    session.flush()


def drafts(session: Session) -> list[EvaluationModelVersion]:
    return list(
        session.scalars(select(EvaluationModelVersion).order_by(EvaluationModelVersion.id.desc()).limit(50))
    )
