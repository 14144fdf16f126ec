"""Records API contract: submissions, receipts, rejected rows and records as published."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class RecordsSubmit(BaseModel):
    """A JSON submission: one catalog item, rows keyed by field names as in files (English or national codes)."""

    item: str = Field(max_length=16)
    provider: str | None = Field(default=None, max_length=32, description="Provider department code")
    records: list[dict[str, Any]] = Field(max_length=10_000)


class RejectedRowRead(BaseModel):
    row: int
    errors: list[dict[str, str]]


class Receipt(BaseModel):
    batch_id: str
    item: str
    provider: str
    status: str
    accepted: int
    updated: int
    unchanged: int
    rejected: int
    queued: int
    rejected_rows: list[RejectedRowRead]


class RecordRead(BaseModel):
    id: int
    item: str
    item_name: str
    provider: str
    doc_no: str | None
    version: int
    status: str
    decision_date: dt.date | None
    severity: str | None
    public_from: dt.date | None
    public_until: dt.date | None
    public_now: bool
    fields: dict[str, Any]
    under_objection: bool = Field(
        default=False, description="异议处理中：an objection to this record is open"
    )
