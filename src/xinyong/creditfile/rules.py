"""Pure presentation rules of the credit file (信用档案): a record or list entry as one reader sees it, the
file arranged in its sections, the list badges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from xinyong.catalog.schemas import Catalog
from xinyong.creditfile.schemas import FileLayout
from xinyong.disclosure.rules import is_public_now
from xinyong.kit.dates import format_china_date
from xinyong.kit.pagination import Page
from xinyong.lists.rules import (
    LIST_TYPE_LABELS,
    MARKET_BAN,
    RED,
    REMOVAL_REASONS,
    SERIOUS_DISHONESTY,
    STATE_LABELS,
)
from xinyong.subjects.rules import public_person

SECTION_PAGE_SIZE = 10


def public_fields(catalog: Catalog, record: Any) -> dict[str, Any]:
    """A record's fields as published: only fields the catalog marks public, personal IDs never in clear."""
    item = catalog.item(record.item_code)
    if item is None:
        return {}
    shown = {f.name: record.fields[f.name] for f in item.fields if f.public and f.name in record.fields}
    if shown.get("legal_rep"):  # an individual business's operator is a person the registration does not name
        shown["legal_rep"] = public_person(record.subject_kind, shown["legal_rep"])
    return shown


def field_text(field_type: str, value: Any) -> str:
    """A record's field as a reader sees it: dates in Chinese (2026年6月15日), anything else as stored."""
    if field_type == "date" and isinstance(value, str):
        try:
            return format_china_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return "" if value is None else str(value)


def record_read(
    catalog: Catalog, record: Any, today: dt.date, *, under_objection: bool = False
) -> dict[str, Any]:
    item = catalog.item(record.item_code)
    return {
        "id": record.id,
        "item": record.item_code,
        "item_name": item.name if item else record.item_code,
        "provider": record.provider_code,
        "doc_no": record.doc_no,
        "version": record.version,
        "status": record.status,
        "decision_date": record.decision_date,
        "severity": record.severity,
        "public_from": record.public_from,
        "public_until": record.public_until,
        "public_now": is_public_now(
            status=record.status,
            public_from=record.public_from,
            public_until=record.public_until,
            today=today,
        ),
        "fields": public_fields(catalog, record),
        "under_objection": under_objection,
    }


# -- the credit file: list entries, badges, sections ---------------------------------------------------------

# The badge near a subject's name for each list it is on, most serious first: (label, tone for the page).
LIST_BADGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        SERIOUS_DISHONESTY: ("严重失信主体", "serious"),
        MARKET_BAN: ("市场禁入", "ban"),
        RED: ("守信激励", "good"),
    }
)


def list_entry_read(entry: Any, department_name: str) -> dict[str, Any]:
    """A list entry as shown on the file and in the API: types and states by label, the authority by name."""
    return {
        "id": entry.id,
        "list_type": entry.list_type,
        "list_type_label": LIST_TYPE_LABELS.get(entry.list_type, entry.list_type),
        "status": entry.status,
        "status_label": STATE_LABELS.get(entry.status, entry.status),
        "department_code": entry.department_code,
        "department_name": department_name,
        "decision_no": entry.decision_no,
        "legal_basis": entry.legal_basis,
        "facts": entry.facts,
        "scope": entry.scope,
        "permanent": entry.permanent,
        "decided_on": entry.decided_on,
        "public_from": entry.public_from,
        "public_until": entry.public_until,
    }


def list_standing(entry: Any, today: dt.date) -> str:
    """Why an entry does not count today, in words: its stage of due process, its removal or its period."""
    if entry.status == "proposed":
        return "拟列入，尚未告知，不产生名单效力"
    if entry.status == "notified":
        deadline = entry.statement_deadline
        until = f"，陈述申辩截止{format_china_date(deadline)}" if deadline else ""
        return f"已告知{until}，尚未决定，不产生名单效力"
    if entry.status == "dropped":
        return "不予列入"
    if entry.status == "removed":
        reason = REMOVAL_REASONS.get(entry.removal_reason or "", "")
        return f"已于{format_china_date(entry.removed_on)}移出" + (f"（{reason}）" if reason else "")
    if entry.public_until is not None and entry.public_until < today:
        return f"有效期已于{format_china_date(entry.public_until)}届满"
    if entry.public_from is not None and entry.public_from > today:
        return f"自{format_china_date(entry.public_from)}起生效"
    return STATE_LABELS.get(entry.status, entry.status)


def list_badges(list_types: Sequence[str]) -> list[dict[str, str]]:
    """One badge per list the subject is on (entries in force), most serious first."""
    present = set(list_types)
    return [
        {"list_type": code, "label": label, "tone": tone}
        for code, (label, tone) in LIST_BADGES.items()
        if code in present
    ]


@dataclass(slots=True)
class FileSectionView:
    """A section of the file as one reader sees it: its entries, one page of its records, its counts."""

    code: str
    title: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    records: Page[dict[str, Any]] = field(default_factory=lambda: Page([], 0, 1, SECTION_PAGE_SIZE))
    item_counts: list[tuple[str, int]] = field(default_factory=list)  # (item name, records) in catalog order
    commitments: bool = False
    commitment_count: int = 0
    registrations: bool = False
    registration_count: int = 0
    requested: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)  # entries not in force: not counted

    @property
    def count(self) -> int:
        return len(self.entries) + self.records.total + self.commitment_count + self.registration_count

    @property
    def groups(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """This page's records by item, in order: (item code, item name, records)."""
        groups: list[tuple[str, str, list[dict[str, Any]]]] = []
        for record in self.records.items:
            if not groups or groups[-1][0] != record["item"]:
                groups.append((record["item"], record["item_name"], []))
            groups[-1][2].append(record)
        return groups


def arrange_file(
    layout: FileLayout,
    catalog: Catalog,
    records: Sequence[Any],
    entries: Sequence[dict[str, Any]],
    *,
    read: Callable[[Any], dict[str, Any]],
    history: Sequence[dict[str, Any]] = (),
    commitment_count: int = 0,
    registration_count: int = 0,
    section: str | None = None,
    page: int = 1,
    size: int = SECTION_PAGE_SIZE,
) -> list[FileSectionView]:
    """Sort a file into the layout's sections, in its order (that of the national public credit report).

    Records (anything with an `item_code`) go to their item's section, in catalog order, the order given kept
    within an item; entries in force and, apart, entries that are not (`history`, never counted) to their
    list type's section. Each section shows one page of records, made
    readable by `read` (only the records shown are read): page `page` of the requested `section`, the first
    page of every other (a page past the end shows the last).
    """
    order = {item.code: n for n, item in enumerate(catalog.items)}
    names = {item.code: item.name for item in catalog.items}
    by_section: dict[str, list[Any]] = {s.code: [] for s in layout.sections}
    for record in records:
        by_section[layout.section_of_item(record.item_code)].append(record)
    entries_by_section: dict[str, list[dict[str, Any]]] = {s.code: [] for s in layout.sections}
    for entry in entries:
        entries_by_section[layout.section_of_list(entry["list_type"])].append(entry)
    history_by_section: dict[str, list[dict[str, Any]]] = {s.code: [] for s in layout.sections}
    for entry in history:
        history_by_section[layout.section_of_list(entry["list_type"])].append(entry)

    views = []
    for spec in layout.sections:
        held = sorted(by_section[spec.code], key=lambda r: order.get(r.item_code, len(order)))
        counts: dict[str, int] = {}
        for record in held:
            counts[record.item_code] = counts.get(record.item_code, 0) + 1
        requested = spec.code == section
        pages = max(1, -(-len(held) // size))
        current = min(max(page, 1), pages) if requested else 1
        start = (current - 1) * size
        views.append(
            FileSectionView(
                code=spec.code,
                title=spec.title,
                entries=entries_by_section[spec.code],
                records=Page([read(r) for r in held[start : start + size]], len(held), current, size),
                item_counts=[(names.get(code, code), n) for code, n in counts.items()],
                commitments=spec.commitments,
                commitment_count=commitment_count if spec.commitments else 0,
                registrations=spec.registrations,
                registration_count=registration_count if spec.registrations else 0,
                requested=requested,
                history=history_by_section[spec.code],
            )
        )
    return views


# -- the credit file paged in SQL: counts per item, one page of records per section ---------------------------


@dataclass(frozen=True, slots=True)
class SectionSlice:
    """Which records a section shows: its items present in the file (in the file's order), how many records
    they hold, the page shown and where it starts."""

    code: str
    items: tuple[str, ...]
    total: int
    page: int
    offset: int


def item_rank(catalog: Catalog) -> dict[str, int]:
    """Each catalog item's place in the file: catalog order (items unknown to the catalog come after, by code)."""
    return {item.code: n for n, item in enumerate(catalog.items)}


def slice_file(
    layout: FileLayout,
    catalog: Catalog,
    counts: Mapping[str, int],
    *,
    section: str | None = None,
    page: int = 1,
    size: int = SECTION_PAGE_SIZE,
) -> list[SectionSlice]:
    """From the records counted per item, what each section shows: page `page` of the requested `section`, the
    first page of every other (a page past the end shows the last), as `arrange_file` pages them."""
    rank = item_rank(catalog)
    held: dict[str, list[str]] = {s.code: [] for s in layout.sections}
    for code in sorted(counts, key=lambda c: (rank.get(c, len(rank)), c)):
        if counts[code] > 0:
            held[layout.section_of_item(code)].append(code)
    slices = []
    for spec in layout.sections:
        total = sum(counts[c] for c in held[spec.code])
        pages = max(1, -(-total // size))
        current = min(max(page, 1), pages) if spec.code == section else 1
        slices.append(SectionSlice(spec.code, tuple(held[spec.code]), total, current, (current - 1) * size))
    return slices


def arrange_counted(
    layout: FileLayout,
    catalog: Catalog,
    slices: Sequence[SectionSlice],
    counts: Mapping[str, int],
    shown: Mapping[str, Sequence[Any]],
    entries: Sequence[dict[str, Any]],
    *,
    read: Callable[[Any], dict[str, Any]],
    history: Sequence[dict[str, Any]] = (),
    commitment_count: int = 0,
    registration_count: int = 0,
    section: str | None = None,
    size: int = SECTION_PAGE_SIZE,
) -> list[FileSectionView]:
    """The file's sections as `arrange_file` gives them, from counts per item (`counts`) and the page of
    records each section shows (`shown`, by section code, fetched as `slices` say) instead of every record."""
    names = {item.code: item.name for item in catalog.items}
    by_code = {s.code: s for s in slices}
    entries_by_section: dict[str, list[dict[str, Any]]] = {s.code: [] for s in layout.sections}
    for entry in entries:
        entries_by_section[layout.section_of_list(entry["list_type"])].append(entry)
    history_by_section: dict[str, list[dict[str, Any]]] = {s.code: [] for s in layout.sections}
    for entry in history:
        history_by_section[layout.section_of_list(entry["list_type"])].append(entry)
    views = []
    for spec in layout.sections:
        cut = by_code[spec.code]
        views.append(
            FileSectionView(
                code=spec.code,
                title=spec.title,
                entries=entries_by_section[spec.code],
                records=Page([read(r) for r in shown.get(spec.code, ())], cut.total, cut.page, size),
                item_counts=[(names.get(code, code), counts[code]) for code in cut.items],
                commitments=spec.commitments,
                commitment_count=commitment_count if spec.commitments else 0,
                registrations=spec.registrations,
                registration_count=registration_count if spec.registrations else 0,
                requested=spec.code == section,
                history=history_by_section[spec.code],
            )
        )
    return views
