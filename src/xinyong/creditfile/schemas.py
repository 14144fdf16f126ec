"""The credit file's API contract, and its layout (its sections, loaded from data)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xinyong.records.schemas import RecordRead
from xinyong.registration.schemas import RegistrationRead
from xinyong.subjects.schemas import SubjectSummary


class ListEntryRead(BaseModel):
    """A list entry in force (严重失信主体名单, 市场禁入, 守信激励), as the caller may see it."""

    id: int
    list_type: str
    list_type_label: str
    status: str
    status_label: str
    department_code: str
    department_name: str  # 认定单位
    decision_no: str | None  # 认定文号
    legal_basis: str  # 认定依据
    facts: str  # 主要失信（守信）事实
    scope: str | None  # 市场禁入: the industry or activity banned
    permanent: bool
    decided_on: dt.date | None  # 列入日期
    public_from: dt.date | None
    public_until: dt.date | None  # None: until removed (or permanent)


class ListEntryPastRead(ListEntryRead):
    """A list entry that does not count today (in due process, dropped, removed, past its period)."""

    standing: str  # why it does not count, in words


class SectionCount(BaseModel):
    """One section of the file, in the order of the national public credit report, with what it holds."""

    code: str
    title: str
    count: int


class SubjectDetail(SubjectSummary):
    records: list[RecordRead]
    lists: list[ListEntryRead] = Field(description="名单信息：调用者可见的、当前有效的名单记录")
    list_history: list[ListEntryPastRead] = Field(
        description="当前不具名单效力的名单记录（程序中、不予列入、已移出、期满）：仅主体本身和说明事由的政府用户可见"
    )
    sections: list[SectionCount] = Field(description="信用档案各部分及其条数，按全国公共信用信息报告顺序")
    objections_pending: int = Field(description="调用者可见记录中异议处理中的条数")
    registrations: list[RegistrationRead] = Field(
        default_factory=list,
        description="自主申报信息：公众可见已核实或自主申报中且按种类可公开的；主体本身可见全部（含不予核实、已撤回）",
    )


class FileSection(BaseModel):
    """A section of the credit file: which catalog items and list types it holds (data, not code)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    title: str = Field(min_length=1, max_length=40)
    items: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    commitments: bool = False
    registrations: bool = False  # true: the section holds the subject's registered information (自主申报信息)
    catch_all: bool = False


class FileLayout(BaseModel):
    """The sections of a credit file in reading order; every catalog item lands in exactly one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    source: str
    sections: tuple[FileSection, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> FileLayout:
        codes = [s.code for s in self.sections]
        if len(set(codes)) != len(codes):
            raise ValueError("section codes must be unique")
        if sum(s.catch_all for s in self.sections) != 1:
            raise ValueError("exactly one section must be the catch-all (catch_all: true)")
        items = [i for s in self.sections for i in s.items]
        if len(set(items)) != len(items):
            raise ValueError("a catalog item may be in one section only")
        lists = [t for s in self.sections for t in s.lists]
        if len(set(lists)) != len(lists):
            raise ValueError("a list type may be in one section only")
        if sum(s.commitments for s in self.sections) > 1:
            raise ValueError("commitments may be in one section only")
        if sum(s.registrations for s in self.sections) > 1:
            raise ValueError("registered information may be in one section only")
        return self

    def section_of_item(self, item_code: str) -> str:
        """The section a catalog item's records belong to; unmapped items fall into the catch-all."""
        for section in self.sections:
            if item_code in section.items:
                return section.code
        return next(s.code for s in self.sections if s.catch_all)

    def section_of_list(self, list_type: str) -> str:
        for section in self.sections:
            if list_type in section.lists:
                return section.code
        return next(s.code for s in self.sections if s.catch_all)
