"""The evaluation model file (评价模型) as data: a versioned YAML document validated on load.

A model declares the subjects it applies to, its indicators (each a feature over the credit file, scored by
bins or categories), vetoes, the missing-data policy and the grade thresholds. Validation errors name the
file, the path inside it and what is wrong (`ModelFileError`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE = r"^[a-z][a-z0-9_]{1,47}$"
Code = Annotated[str, Field(pattern=CODE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordFeature(Strict):
    """Records in force of some catalog items: their count, or the sum of an amount field."""

    kind: Literal["record_count", "record_amount_sum"]
    items: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")]] = Field(min_length=1)
    severities: list[Literal["轻微", "一般", "严重"]] = []
    window_months: int | None = Field(default=None, ge=1, le=600)  # decided within, counted back from as-of
    field_equals: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")], str] = {}
    # Only records whose field holds one of these values (e.g. JC {result: [发现问题已责令改正, ...]}).
    field_in: dict[
        Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")],
        Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)],
    ] = {}
    amount_field: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,47}$")

    @model_validator(mode="after")
    def _amount(self) -> RecordFeature:
        if (self.kind == "record_amount_sum") != (self.amount_field is not None):
            raise ValueError("amount_field is required by record_amount_sum and only by it")
        return self


class ListFeature(Strict):
    """1 when the subject has an entry in force on the list, else 0."""

    kind: Literal["list_in_force"]
    list_type: Literal["serious_dishonesty", "red", "market_ban"]


class CommitmentFeature(Strict):
    """Commitments signed within the window in the given status (signed, fulfilled, breached); `signed` also
    counts those under verification (核查中, `verifying`): still signed, their outcome not yet found."""

    kind: Literal["commitment_count"]
    status: Literal["signed", "fulfilled", "breached"]
    window_months: int | None = Field(default=None, ge=1, le=600)


class YearsFeature(Strict):
    """Full years since the subject was registered (成立年限); missing when the date is unknown."""

    kind: Literal["years_in_business"]


class ExternalGradeFeature(Strict):
    """The latest grade in force given by a record of a catalog item (e.g. 纳税信用等级), read from a field."""

    kind: Literal["external_grade"]
    item: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    # Only records whose fields hold these values (e.g. WBPJ {source: 税务}: the tax credit grade).
    field_equals: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")], str] = {}
    # A date field after which the grade no longer counts (e.g. WBPJ valid_until): a grade that is not public
    # has no publicity window to end it.
    valid_until_field: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,47}$")


class ModelGradeFeature(Strict):
    """The subject's current grade under another model (industry models take the comprehensive grade)."""

    kind: Literal["model_grade"]
    model: Code


Feature = Annotated[
    RecordFeature | ListFeature | CommitmentFeature | YearsFeature | ExternalGradeFeature | ModelGradeFeature,
    Field(discriminator="kind"),
]


class Bin(Strict):
    """Values up to and including `upto` (the last bin has none: everything above) score `points`."""

    upto: float | None = None
    points: float


class Indicator(Strict):
    code: Code
    name: str = Field(min_length=1, max_length=60)
    feature: Feature
    bins: list[Bin] = []
    categories: dict[str, float] = {}
    weight: float = Field(default=1.0, gt=0, le=100)
    min_points: float | None = None  # caps on the weighted points
    max_points: float | None = None
    missing: Literal["neutral", "worst", "best"] | None = None  # overrides the model's policy
    source: str = Field(min_length=1, max_length=200)  # catalog item(s) or model it reads, as shown
    rationale: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _scoring(self) -> Indicator:
        categorical = self.feature.kind in ("external_grade", "model_grade")
        if categorical and (self.bins or not self.categories):
            raise ValueError("a grade indicator is scored by categories, not bins")
        if not categorical and (self.categories or not self.bins):
            raise ValueError("a numeric indicator is scored by bins")
        if self.bins:
            edges = [b.upto for b in self.bins[:-1]]
            if any(edge is None for edge in edges) or self.bins[-1].upto is not None:
                raise ValueError("every bin but the last needs `upto`; the last has none")
            numbers = [float(e) for e in edges if e is not None]
            if numbers != sorted(set(numbers)):
                raise ValueError("bin edges must increase")
        if self.min_points is not None and self.max_points is not None and self.min_points > self.max_points:
            raise ValueError("min_points is above max_points")
        return self


class Veto(Strict):
    """When the indicator's value reaches `at_least`, the grade is at most `grade` (一票否决)."""

    code: Code
    name: str = Field(min_length=1, max_length=60)
    indicator: Code
    at_least: float
    grade: str


class Grade(Strict):
    grade: str = Field(pattern=r"^[A-Z][A-Z+-]{0,3}$")
    label: str = Field(min_length=1, max_length=10)
    min_score: float


class Applicability(Strict):
    subject_kinds: list[Literal["legal_person", "individual_business", "natural_person", "gov_body"]] = Field(
        min_length=1
    )
    # GB/T 4754-2017 industry codes (门类 letter, or 门类 + 大类 digits: E, C14): only subjects whose
    # `industry_code` starts with one of them; none: every industry (and subjects of unknown industry).
    industries: list[Annotated[str, Field(pattern=r"^[A-T]([0-9]{2,4})?$")]] = []
    opt_in: bool = False  # only subjects who consented through their account (personal models)


class ModelFile(Strict):
    """One evaluation model, exactly as its YAML file declares it."""

    code: Code
    version: str = Field(pattern=r"^[0-9A-Za-z.\-]{1,16}$")
    name: str = Field(min_length=1, max_length=60)
    effective_from: dt.date
    use: Literal["supervision", "incentive"] = "supervision"  # incentive: never a ground for punishment
    publish_grades: bool = False  # the credit office publishes grades on the portal
    source_note: str = Field(min_length=1, max_length=2000)
    # What the pages tell a reader about the model, in Chinese (the source note is for developers, in English).
    note: str = Field(default="", max_length=500)
    applies_to: Applicability
    base_score: float = 0
    score_range: tuple[float, float] | None = None
    missing_data: Literal["neutral", "worst", "best"] = "neutral"
    indicators: list[Indicator] = Field(min_length=1, max_length=200)
    vetoes: list[Veto] = []
    grades: list[Grade] = Field(min_length=2, max_length=10)  # best first
    grade_from_indicator: Code | None = None  # take an external grade as the result when present

    @field_validator("grades")
    @classmethod
    def _grades_descend(cls, grades: list[Grade]) -> list[Grade]:
        scores = [g.min_score for g in grades]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise ValueError("grades go from best to worst with strictly falling min_score")
        if len({g.grade for g in grades}) != len(grades):
            raise ValueError("grade names repeat")
        return grades

    @model_validator(mode="after")
    def _references(self) -> ModelFile:
        codes = [i.code for i in self.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError("indicator codes repeat")
        names = {g.grade for g in self.grades}
        for veto in self.vetoes:
            if veto.indicator not in codes:
                raise ValueError(f"veto {veto.code} names unknown indicator {veto.indicator}")
            if veto.grade not in names:
                raise ValueError(f"veto {veto.code} names unknown grade {veto.grade}")
        if self.grade_from_indicator is not None:
            found = [i for i in self.indicators if i.code == self.grade_from_indicator]
            if not found or found[0].feature.kind != "external_grade":
                raise ValueError("grade_from_indicator must name an external_grade indicator")
        if self.applies_to.opt_in and self.use != "incentive":
            raise ValueError("an opt-in (personal) model may only be used for incentives")
        return self


class IndicatorExplained(BaseModel):
    code: str
    name: str
    value: int | float | str | None  # a count stays a whole number (2, not 2.0)
    points: float
    source: str | None


class VetoExplained(BaseModel):
    code: str
    name: str
    grade: str


class NextChange(BaseModel):
    on: dt.date
    what: str
    grade_after: str


class EvaluationRead(BaseModel):
    """A subject's grade under one model, explained item by item: the points add up to the score."""

    model: str
    model_version: str
    as_of: dt.date
    score: float
    grade: str
    indicators: list[IndicatorExplained]
    vetoes: list[VetoExplained]
    next_changes: list[NextChange]
    objection_pending: bool = False  # an objection to this grade is being handled (异议处理中)


class ModelSummary(BaseModel):
    code: str
    version: str
    name: str
    use: str
    publish_grades: bool
    subject_kinds: list[str]
