"""The purpose kinds of authorisations as data (`authorizations/data/purposes.yaml`), validated on load."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PurposeKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z_]{2,32}$")
    label: str = Field(min_length=1, max_length=20)


class PurposeKinds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    purposes: tuple[PurposeKind, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> PurposeKinds:
        codes = [p.code for p in self.purposes]
        if len(set(codes)) != len(codes):
            raise ValueError("purpose kind codes must be unique")
        return self

    def label(self, code: str) -> str | None:
        return next((p.label for p in self.purposes if p.code == code), None)
