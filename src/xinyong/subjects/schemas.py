"""Subject API contract."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class SubjectSummary(BaseModel):
    uscc: str | None
    name: str
    kind: str
    kind_label: str
    region_code: str | None
    region_name: str
    legal_rep: str | None
    registered_on: dt.date | None
    operating_status: str | None


class SubjectPage(BaseModel):
    items: list[SubjectSummary]
    total: int
    page: int
    size: int
