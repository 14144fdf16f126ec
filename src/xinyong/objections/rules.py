"""Objections (异议处理): the workflow as a state machine, its deadline and the field-level correction.

    open ──correct──▶ corrected    (a new version of the record, field by field)
      ├──revoke───▶ revoked        (the record is revoked: 撤销)
      ├──maintain─▶ maintained     (kept, with the department's reasons)
      └──withdraw─▶ withdrawn      (the objector withdraws)

While open, the record shows "异议处理中" on the portal. The provider department answers within a deadline in
working days; an overdue objection is escalated to the credit office (a flag, the state stays open).

Pure rules: no I/O and "today" is always an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from xinyong.kit.workdays import Deadline, WorkdayCalendar
from xinyong.records.rules import FieldChange, field_changes

# A correction's field-level before/after, as the record's owner (`records.lifecycle`) computes it.
Change = FieldChange
diff = field_changes

OPEN = "open"
CORRECTED = "corrected"
REVOKED = "revoked"
MAINTAINED = "maintained"
WITHDRAWN = "withdrawn"

STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        OPEN: "异议处理中",
        CORRECTED: "已更正",
        REVOKED: "已撤销记录",
        MAINTAINED: "维持原记录",
        WITHDRAWN: "已撤回",
    }
)
EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {"correct": "更正", "revoke": "撤销记录", "maintain": "维持原记录", "withdraw": "撤回异议"}
)
ANSWERS = frozenset({"correct", "revoke", "maintain"})

ILLEGAL_TRANSITION = "objection.illegal_transition"


class ObjectionRuleError(ValueError):
    def __init__(self, message: str, *, code: str = ILLEGAL_TRANSITION) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ObjectionProcess(StateMachine):
    open = State("异议处理中", value=OPEN, initial=True)
    corrected = State("已更正", value=CORRECTED, final=True)
    revoked = State("已撤销记录", value=REVOKED, final=True)
    maintained = State("维持原记录", value=MAINTAINED, final=True)
    withdrawn = State("已撤回", value=WITHDRAWN, final=True)

    correct = open.to(corrected, validators="has_changes")
    revoke = open.to(revoked, validators="has_reason")
    maintain = open.to(maintained, validators="has_reason")
    withdraw = open.to(withdrawn)

    def has_changes(self, changes: list[Change], reason: str | None) -> None:
        if not changes:
            raise ObjectionRuleError("更正须至少修改一个字段", code="objection.no_changes")
        self.has_reason(reason)

    def has_reason(self, reason: str | None) -> None:
        if not (reason or "").strip():
            raise ObjectionRuleError("答复须写明理由和依据", code="objection.reason_required")


def transition(
    state: str, event: str, *, changes: list[Change] | None = None, reason: str | None = None
) -> str:
    if state not in STATE_LABELS:
        raise ObjectionRuleError(f"异议状态“{state}”不存在", code="objection.unknown_state")
    if event not in EVENT_LABELS:
        raise ObjectionRuleError(f"异议操作“{event}”不存在", code="objection.unknown_event")
    machine = ObjectionProcess(start_value=state)
    try:
        machine.send(event, changes=changes or [], reason=reason)
    except TransitionNotAllowed:
        raise ObjectionRuleError(
            f"当前状态为“{STATE_LABELS[state]}”，不能执行“{EVENT_LABELS[event]}”操作", code=ILLEGAL_TRANSITION
        ) from None
    return str(machine.current_state_value)


def answer_deadline(filed_on: dt.date, calendar: WorkdayCalendar, workdays: int) -> Deadline:
    """The last day the provider department may answer."""
    if workdays < 1:
        raise ValueError(f"答复期限至少为1个工作日：{workdays}")
    return calendar.add_workdays(filed_on, workdays)


def should_escalate(state: str, due_on: dt.date | None, escalated_on: dt.date | None, today: dt.date) -> bool:
    """An open objection past its deadline and not yet escalated goes to the credit office."""
    return state == OPEN and escalated_on is None and due_on is not None and today > due_on
