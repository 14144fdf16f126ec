"""Repair notices (信用修复告知书, 两书同达): their content, and the reaction that issues them."""

from __future__ import annotations

from typing import Any

from xinyong.repair import rules
from xinyong.repair.targets import (
    TargetInfo,
)


def notice_view(repair_policy: rules.Policy, info: TargetInfo) -> dict[str, Any]:
    """The repair notice's content, from the record as it stands: what, how long public, from when, how."""
    record = info.record
    assert record is not None, "repair notices are about records"
    earliest = rules.earliest_application(info.target, repair_policy)
    return {
        "item": info.label,
        "doc_no": record.doc_no,
        "decision_date": record.decision_date,
        "department_code": record.provider_code,
        "severity": record.severity,
        "public_from": record.public_from,
        "public_until": record.public_until,
        "earliest": earliest,
        "status": record.status,
        "deadlines": {
            "accept": repair_policy.accept_workdays,
            "decide": repair_policy.decide_workdays,
        },
        "source": repair_policy.source,
    }
