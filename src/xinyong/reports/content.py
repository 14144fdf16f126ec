"""What a credit report says: the credit file as its issuer may see it, laid out as the standard report's
sections (records, list entries, commitments, registered information, the grade) or as the special report's
findings per field of activity and period."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog, SharingClass
from xinyong.commitments import service as commitments
from xinyong.creditfile import service as credit_files
from xinyong.evaluation import service as evaluation
from xinyong.kit.dates import format_china_date
from xinyong.reports import rules
from xinyong.reports.schemas import SpecialSpec
from xinyong.subjects.models import Subject

ISSUER = "xinyong 公共信用信息平台"
GRADE_MODEL = "public_comprehensive"  # the grade a standard report shows under 信用评价 (organisations)


@functools.cache
def special_spec() -> SpecialSpec:
    """The special report's categories and fields (`reports/data/special.yaml`), validated."""
    text = resources.files("xinyong.reports").joinpath("data/special.yaml").read_text(encoding="utf-8")
    return SpecialSpec.model_validate(yaml.safe_load(text))


def subject_block(subject: Subject) -> dict[str, Any]:
    return {
        "name": subject.name,
        "uscc": subject.uscc,
        "kind": subject.kind,
        "id_masked": subject.id_masked,  # natural persons: never the ID in clear
        "region_code": subject.region_code,
        "legal_rep": subject.legal_rep,
        "registered_on": subject.registered_on.isoformat() if subject.registered_on else None,
        "operating_status": subject.operating_status,
    }


def body(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    subject: Subject,
    found: credit_files.CreditFile,
    *,
    kind: str,
    today: dt.date,
    period: tuple[dt.date, dt.date] | None,
    fields: Sequence[str],
    authorized: bool,
) -> dict[str, Any]:
    """The report's body from the credit file its issuer read: the standard report's sections, or the special
    report's period, fields and findings (`period` chosen by then)."""
    departments = _departments(session)

    def name_of(code: str) -> str:
        return departments[code].name if code in departments else code

    if kind == "standard":
        layout = credit_files.file_layout()
        commitment_section = next((s.code for s in layout.sections if s.commitments), None)
        extra = {commitment_section: _commitment_items(session, subject.id)} if commitment_section else {}
        extra["evaluation"] = _grade_items(session, subject)
        registration_section = next((s.code for s in layout.sections if s.registrations), None)
        if registration_section is not None:
            extra[registration_section] = _registration_items(found.registrations)
        return {
            "sections": rules.standard_sections(
                layout, catalog, found.records, found.entries, today, department=name_of, extra=extra
            )
        }
    assert period is not None
    return {
        "period": {"from": period[0].isoformat(), "to": period[1].isoformat()},
        "fields": list(fields),
        "findings": rules.special_findings(
            special_spec(),
            catalog,
            found.records,
            [*found.entries, *found.history],
            fields=fields,
            period=period,
            root_of=lambda c: _root(departments, c),
            department=name_of,
            unseen_items=_unseen_items(session, catalog, principal, today, authorized),
        ),
    }


def _departments(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.scalars(select(Department))}


def _root(departments: dict[str, Department], code: str) -> str:
    seen = set()
    while code in departments and departments[code].parent_code and code not in seen:
        seen.add(code)
        code = departments[code].parent_code or code
    return code


def _commitment_items(session: Session, subject_id: int) -> list[dict[str, Any]]:
    items = []
    for c in commitments.public_of_subject(session, subject_id):
        unit = accounts.get_department(session, c.department_code).name if c.department_code else "—"
        lines = [
            ["承诺类型", c.title],
            ["承诺事项", c.ref or "—"],
            ["受理单位", unit],
            ["履约情况", commitments.STATUS_LABELS.get(c.status, c.status)],
        ]
        items.append(
            {
                "type": "commitment",
                "title": "信用承诺",
                "doc_no": "",
                "date": format_china_date(c.signed_on),
                "department": unit,
                "repaired": False,
                "lines": lines,
            }
        )
    return items


def _registration_items(registrations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The subject's registered information (自主申报信息) that stands and may be public, each marked 自主申报
    or 已核实 (with the confirming department and day)."""
    items = []
    for r in registrations:
        if r["status"] not in ("declared", "confirmed") or not r["public"]:
            continue
        confirmed = r["status"] == "confirmed"
        lines = [["信息种类", r["kind_label"]], ["状态", r["status_label"]]]
        if confirmed:
            lines.append(["核实单位", r["confirmed_by"] or "—"])
        items.append(
            {
                "type": "registration",
                "title": r["title"],
                "doc_no": "",
                "date": format_china_date(r["confirmed_on"] if confirmed else r["declared_on"]),
                "department": (r["confirmed_by"] or "—") if confirmed else "主体自主申报",
                "repaired": False,
                "lines": lines,
            }
        )
    return items


def _grade_items(session: Session, subject: Subject) -> list[dict[str, Any]]:
    """The subject's current public comprehensive grade (公共信用综合评价), never a natural person's."""
    if subject.kind == "natural_person":
        return []
    grade = evaluation.current_grade(session, GRADE_MODEL, subject.id)
    if grade is None:
        return []
    return [
        {
            "type": "grade",
            "title": "公共信用综合评价",
            "doc_no": f"等级 {grade.grade}",
            "date": format_china_date(evaluation.holds_as_of(session, grade)),
            "department": ISSUER,
            "repaired": False,
            "lines": [["评价结果", f"{grade.grade}（{grade.score:.1f} 分）"]],
        }
    ]


def _unseen_items(
    session: Session, catalog: Catalog, principal: Principal, today: dt.date, authorized: bool
) -> set[str]:
    """Items whose records a department's desk may not see (`records.repository.visible_filter`): those not
    shared, and conditionally shared ones not granted to its department. The subject, an organisation it
    authorised, the credit office and the platform see them all."""
    if authorized or principal.kind == "system" or principal.is_credit_office or not principal.is_government:
        return set()
    granted = accounts.granted_items(session, principal.department_code, today)
    return {
        i.code
        for i in catalog.items
        if i.sharing_class == SharingClass.NOT_SHARED
        or (i.sharing_class == SharingClass.CONDITIONAL and i.code not in granted)
    }
