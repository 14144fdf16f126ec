"""The measures' pure rules: which measures of the list apply in a scenario on a day, the hits their triggers
fire, what a department may see of a record that fires one, and how a check shows its subject. No database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import SharingClass
from xinyong.kit.errors import ValidationFailed
from xinyong.measures.schemas import Measure, MeasureList


def require_scenario(measure_list: MeasureList, scenario: str) -> None:
    """Refuse a scenario the list does not name."""
    if scenario not in measure_list.scenarios:
        raise ValidationFailed(
            f"未知的应用场景“{scenario}”",
            code="check.unknown_scenario",
            details={"scenarios": sorted(measure_list.scenarios)},
        )


def measure_applies(measure: Measure, scenario: str, today: dt.date) -> bool:
    """Whether a measure applies in the scenario and is valid on `today`."""
    return (
        scenario in measure.scenarios
        and measure.valid_from <= today
        and (measure.valid_until is None or today <= measure.valid_until)
    )


def measure_hits(
    measure_list: MeasureList, found: Sequence[Any], scenario: str, today: dt.date
) -> list[dict[str, Any]]:
    """The measures of the list that apply in the scenario today, each with the trigger that fires it."""
    if not found:  # every hit is fired by a trigger: most subjects have none
        return []
    entries = [t for t in found if t.source == "list_entry"]
    records = [t for t in found if t.source == "record"]
    hits: list[dict[str, Any]] = []
    for measure in measure_list.measures:
        if not measure_applies(measure, scenario, today):
            continue
        for trigger in measure.triggers:
            if trigger.list_type:
                for entry in entries:
                    if entry.code == trigger.list_type:
                        hits.append(
                            hit(
                                measure_list,
                                measure,
                                {
                                    "type": "list_entry",
                                    "id": entry.id,
                                    "list_type": entry.code,
                                    "decision_no": entry.doc_no,
                                    "department": entry.department,
                                    "legal_basis": entry.legal_basis,
                                    "scope": entry.scope,
                                    "decided_on": iso(entry.day),
                                    "public_until": iso(entry.public_until),
                                },
                            )
                        )
            else:
                for record in records:
                    if record.code == trigger.item and (
                        not trigger.severities or record.severity in trigger.severities
                    ):
                        hits.append(
                            hit(
                                measure_list,
                                measure,
                                {
                                    "type": "record",
                                    "id": record.id,
                                    "item": record.code,
                                    "doc_no": record.doc_no,
                                    "severity": record.severity,
                                    "provider": record.department,
                                    "decision_date": iso(record.day),
                                    "public_until": iso(record.public_until),
                                },
                            )
                        )
    return hits


def iso(day: dt.date | None) -> str | None:
    """The day in ISO form, or None."""
    return day.isoformat() if day else None


def hit(measure_list: MeasureList, measure: Measure, trigger: dict[str, Any]) -> dict[str, Any]:
    """A hit as a check shows it: the measure, its action and legal basis, and the trigger that fires it."""
    return {
        "measure": measure.code,
        "name": measure.name,
        "kind": str(measure.kind),
        "nature": str(measure.nature),
        "action": str(measure.action),
        "action_label": measure_list.actions.get(measure.action, measure.action),
        "description": measure.description,
        "legal_basis": measure.legal_basis,
        "trigger": trigger,
    }


def record_visible(
    sharing: SharingClass | None,
    provider: str | None,
    principal: Principal,
    granted: Collection[str],
    item: str,
) -> bool:
    """Whether a department may see a record that fires a hit (the sharing classes, as `records.repository.
    visible_filter`): the credit office everything, a department its own records, 无条件共享 items, and
    有条件共享 items granted to it; 不予共享 items stay with their provider."""
    if principal.kind == "system" or principal.is_credit_office or provider == principal.department_code:
        return True
    if sharing == SharingClass.UNCONDITIONAL:
        return True
    return sharing == SharingClass.CONDITIONAL and item in granted


def withheld_trigger(trigger: dict[str, Any], item_name: str) -> dict[str, Any]:
    """A record trigger as a department without the right to see the record gets it: the measure the law
    requires still applies, but the trigger names only the item and the decision date."""
    return {
        "type": "record",
        "item": trigger["item"],
        "item_name": item_name,
        "decision_date": trigger["decision_date"],
        "withheld": True,
    }


def subject_view(subject: Any) -> dict[str, Any]:
    """The subject as a check answer shows it (the resident ID masked), or that none was found."""
    if subject is None:
        return {"found": False}
    return {
        "found": True,
        "uscc": subject.uscc,
        "name": subject.name,
        "kind": subject.kind,
        "region_code": subject.region_code,
        "resident_id": subject.id_masked,
    }


class SubjectRow(NamedTuple):
    """A subject as a check reads it (`repository.SUBJECT_COLUMNS`)."""

    id: int
    uscc: str | None
    name: str
    kind: str
    region_code: str | None
    id_masked: str | None


class TriggerRow(NamedTuple):
    """A list entry or record that can trigger a measure (`repository.ENTRY_TRIGGERS`, `repository.RECORD_TRIGGERS`)."""

    source: str
    subject_id: int
    id: int
    code: str
    doc_no: str | None
    department: str | None
    legal_basis: str | None
    scope: str | None
    severity: str | None
    day: dt.date | None
    public_until: dt.date | None
