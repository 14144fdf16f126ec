"""The joint rewards and punishments measure list (联合奖惩措施清单), validated when it loads.

Item codes come from the catalog, which this module does not import: validate with
``MeasureList.model_validate(raw, context={ITEM_CODES: codes})`` (the loader does this).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Collection
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

ITEM_CODES = "item_codes"  # validation context key: the catalog's item codes
MIN_LEGAL_BASIS = 6


class MeasureKind(enum.StrEnum):
    PUNISHMENT = "punishment"  # 惩戒
    INCENTIVE = "incentive"  # 激励


class Nature(enum.StrEnum):
    ADMINISTRATIVE = "administrative"  # 行政性
    MARKET = "market"  # 市场性
    INDUSTRY = "industry"  # 行业性
    SOCIAL = "social"  # 社会性


class Action(enum.StrEnum):
    PROHIBIT = "prohibit"  # 不得参与
    STRICT_REVIEW = "strict_review"  # 从严审核
    REDUCE_INSPECTION = "reduce_inspection"  # 降低抽查比例
    INCREASE_INSPECTION = "increase_inspection"  # 提高抽查比例
    PRIORITY = "priority"  # 优先办理
    ACCEPT_WITH_PENDING_DOCUMENTS = "accept_with_pending_documents"  # 容缺受理
    RESTRICT = "restrict"  # 限制
    REFER = "refer"  # 依法移送


KIND_LABELS = {"punishment": "惩戒", "incentive": "激励"}
NATURE_LABELS = {"administrative": "行政性", "market": "市场性", "industry": "行业性", "social": "社会性"}

TriggerList = Literal["serious_dishonesty", "red", "market_ban"]
Severity = Literal["轻微", "一般", "严重"]

INCENTIVE_ACTIONS = frozenset(
    {Action.PRIORITY, Action.ACCEPT_WITH_PENDING_DOCUMENTS, Action.REDUCE_INSPECTION}
)
PUNISHMENT_ACTIONS = frozenset(Action) - INCENTIVE_ACTIONS
# Lists and items that can only ever justify one kind of measure; other items (DJ, XK, CN...) are neutral.
PUNISHMENT_ONLY_LISTS = frozenset({"serious_dishonesty", "market_ban"})
INCENTIVE_ONLY_LISTS = frozenset({"red"})
INCENTIVE_ONLY_ITEMS = frozenset({"JL"})  # 表彰奖励
PUNISHMENT_ONLY_ITEMS = frozenset({"CF", "QZ", "SXBZX", "JYYC", "QS", "QJSB", "WN"})  # WN: 违背信用承诺

ScenarioCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class Trigger(BaseModel):
    """What makes a measure apply: a list entry, or a record of a catalog item (optionally of given severities)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    list_type: TriggerList | None = None
    item: str | None = None
    severities: tuple[Severity, ...] = ()

    @field_validator("item")
    @classmethod
    def _known_item(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        codes: Collection[str] | None = (info.context or {}).get(ITEM_CODES)
        if codes is None:
            raise ValueError("catalog item codes were not supplied to check the trigger against")
        if value not in codes:
            raise ValueError(f"unknown catalog item {value!r}")
        return value

    @model_validator(mode="after")
    def _check(self) -> Trigger:
        if (self.list_type is None) == (self.item is None):
            raise ValueError("a trigger names exactly one of `list_type` or `item`")
        if self.severities and self.item is None:
            raise ValueError("`severities` only applies to an item trigger")
        if len(set(self.severities)) != len(self.severities):
            raise ValueError("duplicate severities")
        return self

    @property
    def label(self) -> str:
        if self.list_type is not None:
            return self.list_type
        return f"{self.item}({'/'.join(self.severities)})" if self.severities else str(self.item)


class Measure(BaseModel):
    """One measure: who must do what, in which scenarios, on which trigger, and on what legal basis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[PI]-[A-Z0-9]+(-[A-Z0-9]+)*$", max_length=48)
    name: str = Field(min_length=2, max_length=100)
    kind: MeasureKind
    nature: Nature
    triggers: tuple[Trigger, ...] = Field(min_length=1)
    scenarios: tuple[ScenarioCode, ...] = Field(min_length=1)
    implementers: tuple[Annotated[str, StringConstraints(min_length=1, max_length=64)], ...] = Field(
        min_length=1
    )
    action: Action
    description: str = Field(min_length=6)
    legal_basis: str
    valid_from: dt.date
    valid_until: dt.date | None = None

    @field_validator("legal_basis")
    @classmethod
    def _legal_basis(cls, value: str) -> str:
        value = value.strip()
        if len(value) < MIN_LEGAL_BASIS:
            raise ValueError(
                f"legal_basis is required: name the law or regulation (and article where known), "
                f"at least {MIN_LEGAL_BASIS} characters"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Measure:
        where = f"measure {self.code}"
        a_kind = "an incentive" if self.kind is MeasureKind.INCENTIVE else "a punishment"
        prefix = "P-" if self.kind is MeasureKind.PUNISHMENT else "I-"
        if not self.code.startswith(prefix):
            raise ValueError(f"{where}: {a_kind} code starts with {prefix!r}")
        if self.kind is MeasureKind.INCENTIVE:
            wrong_lists, wrong_items, wrong_actions = (
                PUNISHMENT_ONLY_LISTS,
                PUNISHMENT_ONLY_ITEMS,
                PUNISHMENT_ACTIONS,
            )
        else:
            wrong_lists, wrong_items, wrong_actions = (
                INCENTIVE_ONLY_LISTS,
                INCENTIVE_ONLY_ITEMS,
                INCENTIVE_ACTIONS,
            )
        for trigger in self.triggers:
            if trigger.list_type in wrong_lists or trigger.item in wrong_items:
                raise ValueError(f"{where}: {a_kind} cannot be triggered by {trigger.label}")
        if self.action in wrong_actions:
            raise ValueError(f"{where}: action {self.action.value!r} does not fit {a_kind}")
        if len(set(self.triggers)) != len(self.triggers):
            raise ValueError(f"{where}: duplicate triggers")
        if len(set(self.scenarios)) != len(self.scenarios):
            raise ValueError(f"{where}: duplicate scenarios")
        if "*" in self.implementers and len(self.implementers) > 1:
            raise ValueError(f"{where}: implementer '*' (all departments) stands alone")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(f"{where}: valid_until must be after valid_from")
        return self

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)

    def implemented_by(self, department_code: str) -> bool:
        return "*" in self.implementers or department_code in self.implementers


class MeasureList(BaseModel):
    """A version of the measure list: scenarios, action labels and the measures themselves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=32)
    effective_from: dt.date
    source: str = Field(min_length=6)
    scenarios: dict[ScenarioCode, Annotated[str, StringConstraints(min_length=2)]] = Field(min_length=1)
    actions: dict[Action, Annotated[str, StringConstraints(min_length=2)]] = Field(min_length=1)
    measures: tuple[Measure, ...] = Field(min_length=1)

    @functools.cached_property
    def trigger_items(self) -> frozenset[str]:
        """The record items any measure names as a trigger (computed once: every check batch asks)."""
        return frozenset(t.item for m in self.measures for t in m.triggers if t.item)

    @model_validator(mode="after")
    def _check(self) -> MeasureList:
        # Model-level errors carry no location of their own, so each message names it.
        seen: dict[str, int] = {}
        for index, measure in enumerate(self.measures):
            where = f"measures.{index} ({measure.code})"
            if measure.code in seen:
                raise ValueError(
                    f"{where}: duplicate measure code {measure.code!r}, first at measures.{seen[measure.code]}"
                )
            seen[measure.code] = index
            for position, scenario in enumerate(measure.scenarios):
                if scenario not in self.scenarios:
                    raise ValueError(f"{where}.scenarios.{position}: unknown scenario {scenario!r}")
            if measure.action not in self.actions:
                raise ValueError(f"{where}.action: action {measure.action.value!r} has no label in `actions`")
        return self

    def measure(self, code: str) -> Measure | None:
        return next((m for m in self.measures if m.code == code), None)

    def for_scenario(self, scenario: str, on: dt.date) -> tuple[Measure, ...]:
        """The measures that apply in a scenario on a given day."""
        return tuple(m for m in self.measures if scenario in m.scenarios and m.in_force(on))

    def action_label(self, action: Action) -> str:
        return self.actions[action]
