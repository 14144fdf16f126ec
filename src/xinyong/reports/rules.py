"""Pure rules of credit reports: what goes in which section of the standard report, the special report's
verdict per field and category, the 已修复 mark, the empty-section text, report numbers and codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from xinyong.catalog.schemas import Catalog
from xinyong.creditfile.rules import field_text, public_fields
from xinyong.creditfile.schemas import FileLayout
from xinyong.kit.dates import format_china_date
from xinyong.kit.identifiers import mask_ids
from xinyong.lists.rules import LIST_TYPE_LABELS
from xinyong.reports.schemas import SpecialSpec

EMPTY = "查询期内无相关信息"
NOT_COLLECTED = "平台未归集该类信息"
# The issuer may not see an item feeding the category: said so, never a false 无.
NOT_VISIBLE = "出具单位无权查询该类信息"
REPAIRED = "已修复"
REPORT_FORMAT = "xinyong.report/1"
ATTACHMENT = "report.json"  # the signed JSON inside the PDF, by this name
KIND_TITLES = {"standard": "公共信用信息报告", "special": "专项信用报告"}
MAX_PERIOD_DAYS = 366 * 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


def report_title(kind: str, subject_kind: str) -> str:
    """The report's title: a natural person's standard report is the personal one (to that person only)."""
    if kind == "standard" and subject_kind == "natural_person":
        return "个人公共信用信息报告"
    return KIND_TITLES[kind]


def report_number(as_of: dt.date, random_part: int) -> str:
    """XY + the issue day + 8 digits (of a random number the caller draws): 18 characters."""
    return f"XY{as_of:%Y%m%d}{random_part % 100_000_000:08d}"


def verification_code(random_bytes: bytes) -> str:
    """A 10-character code (50 bits) printed on the report, from the caller's random bytes."""
    value = int.from_bytes(random_bytes, "big")
    chars = []
    for _ in range(10):
        value, n = divmod(value, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[n])
    return "".join(chars)


def in_force(record: Any, as_of: dt.date) -> bool:
    """A record counts as current on `as_of`: active (never repaired or revoked) and inside its window."""
    if record.status != "active":
        return False
    if record.public_from is not None and record.public_from > as_of:
        return False
    return record.public_until is None or record.public_until >= as_of


def entry_in_force(entry: Mapping[str, Any], as_of: dt.date) -> bool:
    if entry.get("status") != "listed":
        return False
    start, end = entry.get("public_from"), entry.get("public_until")
    return (start is None or start <= as_of) and (end is None or end >= as_of)


def _date(value: dt.date | None) -> str:
    return format_china_date(value) if value else "—"


def record_item(catalog: Catalog, record: Any, department: str) -> dict[str, Any]:
    """A record as the report prints it: public fields only, labelled, IDs masked in any text."""
    item = catalog.item(record.item_code)
    shown = public_fields(catalog, record)
    labels = {f.name: (f.label, f.type) for f in item.fields} if item else {}
    lines = [
        [labels[name][0], mask_ids(field_text(labels[name][1], value))[:500]]
        for name, value in shown.items()
        if name in labels
        and value not in (None, "")
        and name not in ("subject_name", "uscc", "subject_category")
    ]
    return {
        "type": "record",
        "title": item.name if item else record.item_code,
        "doc_no": mask_ids(record.doc_no or ""),
        "date": _date(record.decision_date),
        "department": department,
        "repaired": record.status == "repaired",
        "lines": lines,
    }


def list_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A list entry as the report prints it."""
    lines = [
        ["认定依据", mask_ids(entry.get("legal_basis") or "")],
        ["主要事实", mask_ids(entry.get("facts") or "")],
        ["有效期至", "永久" if entry.get("permanent") else _date(entry.get("public_until"))],
    ]
    if entry.get("scope"):
        lines.append(["禁入范围", mask_ids(entry["scope"])])
    return {
        "type": "list",
        "title": LIST_TYPE_LABELS.get(entry["list_type"], entry["list_type"]),
        "doc_no": entry.get("decision_no") or "",
        "date": _date(entry.get("decided_on")),
        "department": entry.get("department_name") or "",
        "repaired": False,
        "lines": lines,
    }


def standard_sections(
    layout: FileLayout,
    catalog: Catalog,
    records: Sequence[Any],
    entries: Sequence[Mapping[str, Any]],
    as_of: dt.date,
    *,
    department: Callable[[str], str],
    extra: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """The standard report's sections in the layout's order (that of the national report): records in force
    on `as_of` to their item's section (catalog order, newest first within an item), list entries in force to
    their list type's, `extra` items (commitments, grades) to the section named; an empty section says so."""
    order = {item.code: n for n, item in enumerate(catalog.items)}
    held: dict[str, list[Any]] = {s.code: [] for s in layout.sections}
    for record in records:
        if in_force(record, as_of):
            held[layout.section_of_item(record.item_code)].append(record)
    listed: dict[str, list[dict[str, Any]]] = {s.code: [] for s in layout.sections}
    for entry in entries:
        if entry_in_force(entry, as_of):
            listed[layout.section_of_list(entry["list_type"])].append(list_item(entry))
    sections = []
    for spec in layout.sections:
        ordered = sorted(
            held[spec.code],
            key=lambda r: (order.get(r.item_code, len(order)), -(r.decision_date or dt.date.min).toordinal()),
        )
        items = [
            *listed[spec.code],
            *(record_item(catalog, r, department(r.provider_code)) for r in ordered),
            *((extra or {}).get(spec.code, ())),
        ]
        sections.append({"code": spec.code, "title": spec.title, "items": items, "empty": EMPTY})
    return sections


def special_findings(
    spec: SpecialSpec,
    catalog: Catalog,
    records: Sequence[Any],
    entries: Sequence[Mapping[str, Any]],
    *,
    fields: Sequence[str],
    period: tuple[dt.date, dt.date],
    root_of: Callable[[str], str],
    department: Callable[[str], str],
    unseen_items: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Per chosen field of activity and per category: what the platform holds decided in the period.

    `unseen_items` are items the issuer may not see (a department without the grant of a conditionally shared
    item): a category they feed that shows nothing says so (NOT_VISIBLE) rather than 无.

    A record counts when decided inside the period by a department of the field (any department, for a
    category that counts in every field: criminal judgments come from the courts), unless revoked (withdrawn,
    as if never decided); a repaired one is listed and marked 已修复. A list entry counts when decided in the
    period by a department of the field and listed (in force or since removed, marked by its standing)."""
    start, end = period
    findings = []
    for code in fields:
        activity = spec.field(code)
        if activity is None:
            continue
        departments = set(activity.departments)
        categories = []
        for category in spec.categories:
            hits: list[dict[str, Any]] = []
            for record in records:
                if (
                    record.item_code in category.items
                    and record.status != "revoked"
                    and record.decision_date is not None
                    and start <= record.decision_date <= end
                    and (category.every_field or root_of(record.provider_code) in departments)
                ):
                    hits.append(record_item(catalog, record, department(record.provider_code)))
            for entry in entries:
                decided = entry.get("decided_on")
                if (
                    entry["list_type"] in category.lists
                    and entry.get("status") in ("listed", "removed")
                    and decided is not None
                    and start <= decided <= end
                    and (category.every_field or root_of(entry["department_code"]) in departments)
                ):
                    item = list_item(entry)
                    item["repaired"] = entry.get("status") == "removed"
                    hits.append(item)
            collected = bool(category.items or category.lists)
            unseen = any(item in unseen_items for item in category.items)
            verdict = "有相关记录" if hits else NOT_VISIBLE if unseen else EMPTY
            categories.append(
                {
                    "code": category.code,
                    "title": category.title,
                    "found": bool(hits),
                    "verdict": verdict if collected else NOT_COLLECTED,
                    "items": hits,
                }
            )
        findings.append({"code": activity.code, "title": activity.title, "categories": categories})
    return findings


def check_period(start: dt.date, end: dt.date, as_of: dt.date) -> str | None:
    """Why a special report's period is not acceptable, or None."""
    if start > end:
        return "查询期的起始日期不能晚于截止日期"
    if end > as_of:
        return "查询期不能晚于出具日"
    if (end - start).days > MAX_PERIOD_DAYS:
        return "查询期不能超过五年"
    return None
