"""The catalog's public contract: items, fields and disclosure rules, validated when the catalog loads."""

from __future__ import annotations

import datetime as dt
import enum
import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SharingClass(enum.StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享


class DisclosureClass(enum.StrEnum):
    PUBLIC = "public"  # 社会公开
    ON_REQUEST = "on_request"  # 依申请公开
    GOVERNMENT = "government"  # 政务共享


SHARING_LABELS = {"unconditional": "无条件共享", "conditional": "有条件共享", "not_shared": "不予共享"}
DISCLOSURE_LABELS = {"public": "社会公开", "on_request": "依申请公开", "government": "政务共享"}
# Disclosure-period rule kinds (公示期规则) as pages name them.
RULE_KIND_LABELS = {
    "penalty": "按行政处罚信息公示期规定（依处罚决定日期适用的规则和失信程度确定）",
    "valid_period": "至有效期届满",
    "until_end": "至情形消失",
    "fixed": "自决定之日起固定期限",
    "permanent": "长期公示",
    "none": "不公示",
}
FIELD_TYPE_LABELS = {
    "string": "文本",
    "text": "长文本",
    "date": "日期",
    "amount": "金额",
    "integer": "整数",
    "enum": "枚举",
    "uscc": "统一社会信用代码",
    "org_code": "组织机构代码",
    "resident_id": "公民身份号码",
    "region": "行政区划代码",
}
FieldType = Literal[
    "string", "text", "date", "amount", "integer", "enum", "uscc", "org_code", "resident_id", "region"
]
SUBJECT_KINDS = ("legal_person", "individual_business", "natural_person", "gov_body")


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: FieldType
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    enum_aliases: dict[str, str] = Field(default_factory=dict)
    default: str | None = None
    alias: tuple[str, ...] = ()
    unit: str | None = None
    public: bool = True
    future_ok: bool = False
    not_before: str | None = None
    # enum only: "max" accepts several values in one cell (separated by 、 ; , /) and keeps the one latest
    # in `enum` order, e.g. a decision with several penalties keeps its most serious severity.
    combine: Literal["max"] | None = None

    @property
    def sensitive(self) -> bool:
        return self.type == "resident_id"

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if self.type == "enum" and not self.enum:
            raise ValueError(f"field {self.name}: enum type needs `enum` values")
        for target in self.enum_aliases.values():
            if self.enum and target not in self.enum:
                raise ValueError(f"field {self.name}: alias target {target!r} is not an enum value")
        if self.combine and self.type != "enum":
            raise ValueError(f"field {self.name}: `combine` applies to enum fields only")
        if self.type == "amount" and not self.unit:
            raise ValueError(f"field {self.name}: amounts need an explicit `unit`")
        return self


class DisclosureRuleRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["penalty", "valid_period", "until_end", "fixed", "permanent", "none"]
    max_months: int | None = Field(default=None, ge=1)
    min_months: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> DisclosureRuleRef:
        if self.kind in ("fixed", "until_end") and self.max_months is None:
            raise ValueError(f"disclosure rule {self.kind} needs max_months")
        return self

    @property
    def label(self) -> str:
        return RULE_KIND_LABELS[self.kind]


class CatalogItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    name: str
    category: str
    subject_kinds: tuple[str, ...]
    providers: tuple[str, ...]
    sharing_class: SharingClass
    disclosure_class: DisclosureClass
    disclosure_rule: DisclosureRuleRef
    public_for_natural_persons: bool = False
    double_publicity: bool = False
    legal_basis: str = Field(min_length=4)
    update_frequency: str
    key: tuple[str, ...]
    date_field: str
    end_field: str | None = None
    severity_field: str | None = None
    fields: tuple[FieldSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> CatalogItem:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"item {self.code}: duplicate field names")
        for ref in (*self.key, self.date_field, self.end_field, self.severity_field):
            if ref is not None and ref not in names:
                raise ValueError(f"item {self.code}: unknown field {ref!r}")
        for f in self.fields:
            if f.not_before and f.not_before not in names:
                raise ValueError(
                    f"item {self.code}: field {f.name} not_before names unknown {f.not_before!r}"
                )
        unknown = set(self.subject_kinds) - set(SUBJECT_KINDS)
        if unknown:
            raise ValueError(f"item {self.code}: unknown subject kinds {sorted(unknown)}")
        if self.disclosure_rule.kind == "penalty" and not self.severity_field:
            raise ValueError(f"item {self.code}: penalty disclosure needs a severity field")
        return self

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def sharing_label(self) -> str:
        return SHARING_LABELS[self.sharing_class]

    @property
    def disclosure_label(self) -> str:
        return DISCLOSURE_LABELS[self.disclosure_class]


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    effective_from: dt.date
    source: str
    items: tuple[CatalogItem, ...]

    @functools.cached_property
    def item_codes(self) -> frozenset[str]:
        """The codes of the items (computed once: every real-time check batch asks)."""
        return frozenset(i.code for i in self.items)

    def item(self, code: str) -> CatalogItem | None:
        return next((i for i in self.items if i.code == code), None)


class FieldRead(BaseModel):
    name: str
    label: str
    type: str
    required: bool
    max_length: int | None
    enum: list[str] | None
    unit: str | None
    alias: list[str]
    public: bool


class CatalogItemRead(BaseModel):
    code: str
    name: str
    category: str
    subject_kinds: list[str]
    providers: list[str]
    sharing_class: str
    disclosure_class: str
    disclosure_rule: DisclosureRuleRef
    legal_basis: str
    update_frequency: str
    key: list[str]
    fields: list[FieldRead]


class CatalogRead(BaseModel):
    version: str
    effective_from: dt.date
    source: str
    items: list[CatalogItemRead]
