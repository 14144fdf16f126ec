"""The special report's categories and fields of activity (data, `reports/data/special.yaml`), and the API
contract of reports."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SpecialCategory(BaseModel):
    """What a special report answers per field: which catalog items and list types feed it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    title: str = Field(min_length=1, max_length=40)
    items: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    every_field: bool = False  # its records count in every field, whichever department decided them


class ActivityField(BaseModel):
    """A field of activity (领域) and the departments (root codes) whose decisions belong to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    title: str = Field(min_length=1, max_length=40)
    departments: tuple[str, ...] = Field(min_length=1)


class SpecialSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    source: str
    categories: tuple[SpecialCategory, ...] = Field(min_length=1)
    fields: tuple[ActivityField, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SpecialSpec:
        for codes in ([c.code for c in self.categories], [f.code for f in self.fields]):
            if len(set(codes)) != len(codes):
                raise ValueError("category and field codes must be unique")
        departments = [d for f in self.fields for d in f.departments]
        if len(set(departments)) != len(departments):
            raise ValueError("a department may belong to one field only")
        return self

    def field(self, code: str) -> ActivityField | None:
        return next((f for f in self.fields if f.code == code), None)


class SubjectRef(BaseModel):
    uscc: str = Field(min_length=18, max_length=18)


class Period(BaseModel):
    from_: dt.date = Field(alias="from")
    to: dt.date

    model_config = ConfigDict(populate_by_name=True)


class ReportRequest(BaseModel):
    subject: SubjectRef
    kind: Literal["standard", "special"] = "standard"
    period: Period | None = None
    fields: list[str] = Field(default_factory=list, max_length=40)
    purpose: str | None = Field(default=None, max_length=200)


class ReportIssued(BaseModel):
    report_number: str
    pdf_url: str
    json_url: str
    sha256: str


class VerifyByCode(BaseModel):
    report_number: str = Field(min_length=1, max_length=24)
    verification_code: str = Field(min_length=1, max_length=16)
