"""Commitment templates and the approval catalogue (告知承诺事项目录), validated on load: a template without its
legal basis, what is promised and how and when it is checked cannot be loaded, nor a catalogue without its
legal basis."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PLACEHOLDERS = frozenset({"subject_name", "subject_code", "target", "signer_name", "signed_on"})
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Kind = Literal["approval", "voluntary", "industry", "repair"]
KIND_LABELS: dict[str, str] = {
    "approval": "审批替代型",
    "voluntary": "主动型",
    "industry": "行业自律型",
    "repair": "信用修复型",
}


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Matter(Strict):
    """A matter of a department's approval catalogue that accepts a commitment in place of a proof or a
    licence condition (告知承诺事项)."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9-]{2,31}$")
    name: str = Field(min_length=2, max_length=200)


class DepartmentMatters(Strict):
    department: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    matters: list[Matter] = Field(min_length=1)


class ApprovalCatalogue(Strict):
    """One approval catalogue: 证明事项 (国办发〔2020〕42号) or 涉企经营许可事项 (国发〔2021〕7号), per department."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str = Field(min_length=2)
    legal_basis: str = Field(min_length=4)
    departments: list[DepartmentMatters] = Field(min_length=1)

    def matters_of(self, department: str | None = None) -> list[tuple[str, Matter]]:
        return [
            (d.department, m)
            for d in self.departments
            if department is None or d.department == department
            for m in d.matters
        ]


class Verification(Strict):
    """How a commitment is checked (核查方式) and when: within working days of the signing, or by the date the
    accepting department sets (``verify_by``) when ``working_days`` is absent."""

    method: str = Field(min_length=4)
    working_days: int | None = Field(default=None, ge=1, le=750)


class CommitmentTemplate(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    version: str = Field(min_length=1, max_length=16)
    title: str = Field(min_length=2)
    kind: Kind
    legal_basis: str = Field(min_length=4)
    public: bool = True
    promise: str = Field(min_length=4)  # what is promised, in one sentence
    verification: Verification
    # approval: the catalogue whose matters it applies to; other kinds: the matters it names (none: any matter)
    catalogue: str | None = None
    matters: list[str] = Field(default_factory=list)
    # The department that accepts and checks a commitment signed online when the matter does not name one.
    department: str | None = None
    text: str = Field(min_length=20)

    @model_validator(mode="after")
    def _check(self) -> CommitmentTemplate:
        unknown = set(_PLACEHOLDER.findall(self.text)) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"template {self.code}: unknown placeholders {sorted(unknown)}")
        if (self.kind == "approval") != (self.catalogue is not None):
            raise ValueError(f"template {self.code}: an approval template names its catalogue, and only it")
        return self

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def render(self, **values: str) -> str:
        missing = PLACEHOLDERS - set(values)
        if missing:
            raise ValueError(f"template {self.code}: missing values {sorted(missing)}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)


class TemplateFile(Strict):
    templates: list[CommitmentTemplate] = Field(min_length=1)
    catalogues: list[ApprovalCatalogue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> TemplateFile:
        codes = [t.code for t in self.templates]
        if len(set(codes)) != len(codes):
            raise ValueError("template codes must be unique")
        known = {c.code for c in self.catalogues}
        for t in self.templates:
            if t.catalogue is not None and t.catalogue not in known:
                raise ValueError(f"template {t.code}: unknown catalogue {t.catalogue}")
        return self
