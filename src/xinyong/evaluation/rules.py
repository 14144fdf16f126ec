"""Pure evaluation rules: parsing a model file, scoring feature rows, grades, vetoes and what changes them.

Scoring is done here, in Python, from the feature rows an engine returns (`compiler.feature_query`), so every
engine (SQLite, PostgreSQL, Spark) gives the same scores once it gives the same features.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import yaml
from pydantic import ValidationError

from xinyong.evaluation.schemas import Indicator, ModelFile

Feature = float | str | None

# The commitment states a `commitment_count` feature's status counts. A commitment under verification (核查中,
# `verifying`: the accepting department's task is open) is still a signed commitment whose outcome is not yet
# found, so it counts with `signed` until it is fulfilled or breached.
COMMITMENT_STATUSES: Mapping[str, tuple[str, ...]] = {
    "signed": ("signed", "verifying"),
    "fulfilled": ("fulfilled",),
    "breached": ("breached",),
}


class ModelFileError(ValueError):
    """A model file that cannot be used: each error names the file, the path inside it and the problem."""

    def __init__(self, filename: str, errors: list[tuple[str, str]]) -> None:
        self.filename = filename
        self.errors = errors
        super().__init__("; ".join(f"{filename}: {path}: {message}" for path, message in errors))


def parse_model(text: str, filename: str, known_items: Collection[str] | None = None) -> ModelFile:
    """Validate a model file's text; indicators may only read catalog items in `known_items` (when given)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise ModelFileError(filename, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(raw, dict):
        raise ModelFileError(filename, [("(document)", "a model file is a mapping")])
    try:
        model = ModelFile.model_validate(raw)
    except ValidationError as exc:
        errors = [(".".join(str(p) for p in err["loc"]) or "(document)", err["msg"]) for err in exc.errors()]
        raise ModelFileError(filename, errors) from None
    if known_items is not None:
        errors = []
        for n, indicator in enumerate(model.indicators):
            for item in items_of(indicator):
                if item not in known_items:
                    errors.append(
                        (
                            f"indicators.{n}.feature",
                            f"catalog item {item} does not exist: not credit information",
                        )
                    )
        if errors:
            raise ModelFileError(filename, errors)
    return model


def items_of(indicator: Indicator) -> list[str]:
    """The catalog items an indicator reads."""
    feature = indicator.feature
    if feature.kind in ("record_count", "record_amount_sum"):
        return list(feature.items)
    if feature.kind == "external_grade":
        return [feature.item]
    if feature.kind == "commitment_count":
        return ["CN"]
    return []


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the last day of the month when that day does not exist)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_after(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    code: str
    value: Feature
    points: float
    missing: bool


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One subject's result: base + indicator points (+ a cap adjustment) = score; grade after vetoes."""

    score: float
    grade: str
    base: float
    adjustment: float  # what the model's score range took off or added (0 when inside it)
    indicators: tuple[IndicatorScore, ...]
    vetoes: tuple[str, ...] = field(default=())
    external: bool = False  # the grade was taken from an external evaluation


def _number(value: Feature) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def bin_points(indicator: Indicator, value: float) -> float:
    """The points of the first bin whose `upto` the value does not exceed (the last bin catches the rest)."""
    for b in indicator.bins:
        if b.upto is None or value <= b.upto:
            return b.points
    raise AssertionError("a validated indicator ends with an open bin")


def _extreme(indicator: Indicator, worst: bool) -> float:
    points = [b.points for b in indicator.bins] or list(indicator.categories.values())
    return min(points) if worst else max(points)


def indicator_score(indicator: Indicator, value: Feature, policy: str) -> IndicatorScore:
    """Score one indicator's raw value: bins or categories, times the weight, within its caps."""
    if indicator.categories:
        key = None if value is None else str(value).strip()
        raw = indicator.categories.get(key) if key else None
    else:
        number = _number(value)
        raw = None if number is None else bin_points(indicator, number)
    missing = raw is None
    if raw is None:
        rule = indicator.missing or policy
        raw = 0.0 if rule == "neutral" else _extreme(indicator, worst=rule == "worst")
    points = raw * indicator.weight
    if indicator.min_points is not None:
        points = max(points, indicator.min_points)
    if indicator.max_points is not None:
        points = min(points, indicator.max_points)
    return IndicatorScore(indicator.code, value, round(points, 4), missing)


def grade_for(model: ModelFile, score: float) -> str:
    for g in model.grades:
        if score >= g.min_score:
            return g.grade
    return model.grades[-1].grade


def worse(model: ModelFile, a: str, b: str) -> str:
    order = [g.grade for g in model.grades]
    return a if order.index(a) >= order.index(b) else b


def evaluate(model: ModelFile, features: Mapping[str, Feature]) -> Evaluation:
    """Score one subject's feature row (indicator code → raw value) under the model."""
    scores = tuple(indicator_score(i, features.get(i.code), model.missing_data) for i in model.indicators)
    total = model.base_score + sum(s.points for s in scores)
    adjustment = 0.0
    if model.score_range is not None:
        low, high = model.score_range
        adjustment = min(max(total, low), high) - total
    score = round(total + adjustment, 4)
    grade = grade_for(model, score)
    external = False
    if model.grade_from_indicator is not None:
        given = features.get(model.grade_from_indicator)
        if given is not None and str(given) in {g.grade for g in model.grades}:
            grade, external = str(given), True
    vetoed = []
    for veto in model.vetoes:
        number = _number(features.get(veto.indicator))
        if number is not None and number >= veto.at_least:
            grade = worse(model, grade, veto.grade)
            vetoed.append(veto.code)
    return Evaluation(score, grade, model.base_score, round(adjustment, 4), scores, tuple(vetoed), external)


def grade_counts(model: ModelFile, grades: Collection[str]) -> dict[str, int]:
    """How many subjects got each grade, every grade of the model named (best first)."""
    counts = {g.grade: 0 for g in model.grades}
    for grade in grades:
        counts[grade] = counts.get(grade, 0) + 1
    return counts


def record_exit_dates(
    model: ModelFile,
    item_code: str,
    severity: str | None,
    decision_date: dt.date | None,
    public_until: dt.date | None,
    as_of: dt.date,
) -> list[dt.date]:
    """The days after `as_of` on which a record in force stops counting for some indicator of the model:
    the end of its publicity window, or its decision leaving an indicator's time window."""
    days = set()
    if public_until is not None and public_until >= as_of:
        days.add(public_until + dt.timedelta(days=1))
    for indicator in model.indicators:
        feature = indicator.feature
        if feature.kind not in ("record_count", "record_amount_sum"):
            continue
        if item_code not in feature.items:
            continue
        if feature.severities and severity not in feature.severities:
            continue
        window = feature.window_months
        if window is not None and decision_date is not None:
            leaves = months_after(decision_date, window)
            if leaves > as_of:
                days.add(leaves)
    return sorted(d for d in days if d > as_of)
