"""Kinds of registered information (data/kinds.yaml), validated on load: a kind without its source, or with a
field that makes no sense, cannot be loaded. And the credit file's view of an entry (the API contract)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class KindField(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=40)
    type: Literal["text", "long_text", "date", "number", "choice"]
    required: bool = False
    max_length: int | None = Field(default=None, ge=1, le=4000)
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] = ()
    future: bool = False  # a date field: may it be after the day of declaration (e.g. a validity's end)
    after: str | None = None  # a date field: the date field it may not precede

    @model_validator(mode="after")
    def _check(self) -> KindField:
        if self.type in ("text", "long_text") and self.max_length is None:
            raise ValueError(f"field {self.name}: a text field needs max_length")
        if self.type == "choice" and not self.options:
            raise ValueError(f"field {self.name}: a choice needs options")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"field {self.name}: min above max")
        return self


class Kind(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    label: str = Field(min_length=2, max_length=20)
    confirmer: Literal["issuer", "credit_office"]
    public: Literal["always", "subject_choice", "never"]
    source: str = Field(min_length=4)
    title_field: str
    fields: tuple[KindField, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Kind:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"kind {self.code}: field names must be unique")
        if self.title_field not in names:
            raise ValueError(f"kind {self.code}: title_field {self.title_field} is not a field")
        for f in self.fields:
            if f.after is not None and f.after not in names:
                raise ValueError(f"kind {self.code}: field {f.name} comes after unknown field {f.after}")
        return self

    def field(self, name: str) -> KindField | None:
        return next((f for f in self.fields if f.name == name), None)


class KindSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    source: str = Field(min_length=4)
    kinds: tuple[Kind, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> KindSet:
        codes = [k.code for k in self.kinds]
        if len(set(codes)) != len(codes):
            raise ValueError("kind codes must be unique")
        return self

    def get(self, code: str) -> Kind | None:
        return next((k for k in self.kinds if k.code == code), None)


class RegistrationRead(BaseModel):
    """An entry of registered information (自主申报信息) as the caller may see it on the credit file."""

    id: int
    kind: str
    kind_label: str
    title: str
    status: str
    status_label: str = Field(description="自主申报、已核实；主体本身另见不予核实、已撤回、虚假申报")
    version: int
    declared_on: dt.date
    public: bool = Field(description="是否向社会公开（按信息种类及主体的选择）")
    fields: dict[str, str | int | float | None]
    confirmed_by: str | None = Field(description="核实部门（已核实时）")
    confirmed_on: dt.date | None = Field(description="核实日期（已核实时）")
    reason: str | None = Field(description="不予核实的理由或虚假申报的事实（仅主体本身和政府用户可见）")
