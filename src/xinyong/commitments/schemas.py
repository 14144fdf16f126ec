"""Commitment templates, validated on load (a template without its legal basis cannot be loaded)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

PLACEHOLDERS = frozenset({"subject_name", "subject_code", "target", "signer_name", "signed_on"})
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class CommitmentTemplate(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    version: str = Field(min_length=1, max_length=16)
    title: str = Field(min_length=2)
    kind: str
    legal_basis: str = Field(min_length=4)
    public: bool = True
    text: str = Field(min_length=20)

    @model_validator(mode="after")
    def _check(self) -> CommitmentTemplate:
        unknown = set(_PLACEHOLDER.findall(self.text)) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"template {self.code}: unknown placeholders {sorted(unknown)}")
        return self

    def render(self, **values: str) -> str:
        missing = PLACEHOLDERS - set(values)
        if missing:
            raise ValueError(f"template {self.code}: missing values {sorted(missing)}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)
