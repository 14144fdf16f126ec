"""Due process for list entries, as a state machine, and escalation rules that propose entries.

An entry is proposed (拟列入); the subject is told the facts, the legal basis and a deadline in working
days to state its case (告知, 陈述申辩); only then may the authority decide (决定列入) or drop it (不予列入).
A listed entry is removed (移出) on expiry, after credit repair or by a court or authority decision.
Entries of the red list (守信激励对象名单) reward the subject, so they skip the notification step.
A removal for credit repair that a re-check finds wrong (错修) is undone: the entry is reinstated (恢复列入).

    proposed ──notify──▶ notified ──decide──▶ listed ──remove──▶ removed (done)
        │  └──decide (red only)───────────────▲  ◀──reinstate── (only a removal for repair)
        └──drop──▶ dropped (final) ◀──drop── notified

Pure rules: no I/O and "today" is always an argument.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from xinyong.kit.dates import add_months
from xinyong.kit.workdays import Deadline, WorkdayCalendar

__all__ = [
    "ILLEGAL_TRANSITION",
    "LIST_TYPE_LABELS",
    "MARKET_BAN",
    "RED",
    "REINSTATE",
    "REMOVAL_REASONS",
    "SERIOUS_DISHONESTY",
    "STATE_LABELS",
    "EscalationRule",
    "ListRuleError",
    "PenaltyRow",
    "Proposal",
    "allowed_events",
    "escalations",
    "statement_deadline",
    "statement_period_closed",
    "transition",
]

# -- list types ---------------------------------------------------------------------------------------------

SERIOUS_DISHONESTY = "serious_dishonesty"
RED = "red"
MARKET_BAN = "market_ban"

LIST_TYPE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        SERIOUS_DISHONESTY: "严重失信主体名单",
        RED: "守信激励对象名单",
        MARKET_BAN: "市场禁入名单",
    }
)

# -- states, events, reasons --------------------------------------------------------------------------------

PROPOSED = "proposed"
NOTIFIED = "notified"
LISTED = "listed"
DROPPED = "dropped"
REMOVED = "removed"

STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        PROPOSED: "拟列入",
        NOTIFIED: "已告知",
        LISTED: "已列入",
        DROPPED: "不予列入",
        REMOVED: "已移出",
    }
)
FINAL_STATES: frozenset[str] = frozenset({DROPPED, REMOVED})

NOTIFY = "notify"
DECIDE = "decide"
DROP = "drop"
REMOVE = "remove"
REINSTATE = "reinstate"

EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        NOTIFY: "告知",
        DECIDE: "决定列入",
        DROP: "不予列入",
        REMOVE: "移出",
        REINSTATE: "恢复列入",
    }
)

REMOVAL_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "expired": "公示期满",
        "repaired": "信用修复",
        "court_decision": "司法裁判",
        "authority_decision": "认定机关决定",
    }
)

# -- error codes (stable; the service layer maps ListRuleError to HTTP 409) --------------------------------

ILLEGAL_TRANSITION = "list.illegal_transition"
STATEMENT_PERIOD_OPEN = "list.statement_period_open"
STATEMENT_DEADLINE_MISSING = "list.statement_deadline_missing"
REMOVAL_REASON_REQUIRED = "list.removal_reason_required"
REMOVAL_REASON_INVALID = "list.removal_reason_invalid"
NOT_REINSTATABLE = "list.not_reinstatable"
UNKNOWN_TYPE = "list.unknown_type"
UNKNOWN_STATE = "list.unknown_state"
UNKNOWN_EVENT = "list.unknown_event"


class ListRuleError(ValueError):
    """A due-process step refused by the rules: a stable ``code`` and a Chinese ``message``."""

    def __init__(self, message: str, *, code: str = ILLEGAL_TRANSITION) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ListRuleError(code={self.code!r}, message={self.message!r})"


def _fmt(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- guards -------------------------------------------------------------------------------------------------


def statement_period_closed(*, today: dt.date, deadline: dt.date | None, statement_received: bool) -> bool:
    """Whether the authority may decide: the statement was received, or the deadline day has passed.

    The subject may state its case up to and including the deadline day, so deciding on that day is early.
    """
    if statement_received:
        return True
    return deadline is not None and today > deadline


def _check_statement_period(*, today: dt.date, deadline: dt.date | None, statement_received: bool) -> None:
    if statement_period_closed(today=today, deadline=deadline, statement_received=statement_received):
        return
    if deadline is None:
        raise ListRuleError(
            "未记录陈述申辩期限，且未收到当事人的陈述申辩，不能作出列入决定", code=STATEMENT_DEADLINE_MISSING
        )
    raise ListRuleError(
        f"陈述申辩期限（{_fmt(deadline)}）尚未届满，且未收到当事人的陈述申辩，不能作出列入决定",
        code=STATEMENT_PERIOD_OPEN,
    )


def _check_removal_reason(reason: str | None) -> None:
    allowed = "、".join(f"{label}（{key}）" for key, label in REMOVAL_REASONS.items())
    if reason is None or not reason.strip():
        raise ListRuleError(f"移出名单须说明理由：{allowed}", code=REMOVAL_REASON_REQUIRED)
    if reason not in REMOVAL_REASONS:
        raise ListRuleError(f"移出理由“{reason}”不在允许范围内：{allowed}", code=REMOVAL_REASON_INVALID)


def _check_reinstatable(removal_reason: str | None) -> None:
    if removal_reason != "repaired":
        label = REMOVAL_REASONS.get(removal_reason or "", removal_reason or "未说明")
        raise ListRuleError(
            f"只有因信用修复移出、复核认定为错修的名单记录可以恢复列入（该记录的移出理由：{label}）",
            code=NOT_REINSTATABLE,
        )


# -- the state machine --------------------------------------------------------------------------------------


class DueProcess(StateMachine):
    """The due process of one list entry. Start it at the entry's state with ``start_value``.

    Every event is sent with ``list_type``, ``today``, ``deadline``, ``statement_received`` and ``reason``;
    each guard takes what it needs. ``cond``/``unless`` pick the transitions that exist for a list type;
    validators refuse a transition that exists but is not due yet, with their own error code.
    """

    proposed = State("拟列入", value=PROPOSED, initial=True)
    notified = State("已告知", value=NOTIFIED)
    listed = State("已列入", value=LISTED)
    dropped = State("不予列入", value=DROPPED, final=True)
    # Not final for the machine: a removal for repair found wrong (错修) is reinstated. Done for the console
    # (FINAL_STATES). So a decided entry never reaches a final state, and the machine is told not to require it.
    removed = State("已移出", value=REMOVED)
    validate_final_reachability = False

    notify = proposed.to(notified, unless="is_red")
    decide = notified.to(listed, validators="statement_period_is_closed") | proposed.to(listed, cond="is_red")
    drop = proposed.to(dropped) | notified.to(dropped)
    remove = listed.to(removed, validators="removal_reason_is_valid")
    reinstate = removed.to(listed, validators="removal_was_for_repair")

    def is_red(self, list_type: str) -> bool:
        return list_type == RED

    def statement_period_is_closed(
        self, today: dt.date, deadline: dt.date | None, statement_received: bool
    ) -> None:
        _check_statement_period(today=today, deadline=deadline, statement_received=statement_received)

    def removal_reason_is_valid(self, reason: str | None) -> None:
        _check_removal_reason(reason)

    def removal_was_for_repair(self, removal_reason: str | None) -> None:
        _check_reinstatable(removal_reason)


def _check_known(list_type: str, state: str, event: str | None = None) -> None:
    if list_type not in LIST_TYPE_LABELS:
        raise ListRuleError(f"名单类型“{list_type}”不存在", code=UNKNOWN_TYPE)
    if state not in STATE_LABELS:
        raise ListRuleError(f"名单状态“{state}”不存在", code=UNKNOWN_STATE)
    if event is not None and event not in EVENT_LABELS:
        raise ListRuleError(f"名单操作“{event}”不存在", code=UNKNOWN_EVENT)


def _illegal(list_type: str, state: str, event: str) -> ListRuleError:
    message = f"当前状态为“{STATE_LABELS[state]}”，不能执行“{EVENT_LABELS[event]}”操作"
    if state == PROPOSED and event == DECIDE:
        message += "：须先告知当事人并听取陈述申辩（仅守信激励对象名单可直接列入）"
    elif state == PROPOSED and event == NOTIFY and list_type == RED:
        message += "：守信激励对象名单无需告知，可直接决定列入"
    elif state in FINAL_STATES:
        message += "：该记录已办结"
    elif event == REINSTATE:
        message += "：只有已移出的名单记录可以恢复列入"
    return ListRuleError(message, code=ILLEGAL_TRANSITION)


def transition(
    list_type: str,
    state: str,
    event: str,
    *,
    today: dt.date,
    deadline: dt.date | None = None,
    statement_received: bool = False,
    reason: str | None = None,
    removal_reason: str | None = None,
) -> str:
    """The state an entry moves to on ``event``; raise ListRuleError when the step is refused.

    ``deadline`` is the statement deadline set on notification, ``statement_received`` whether the
    subject's statement (陈述申辩) has been registered, ``reason`` the removal reason (a key of
    REMOVAL_REASONS), ``removal_reason`` the reason a removed entry was removed for (``reinstate`` needs
    ``repaired``).
    """
    _check_known(list_type, state, event)
    machine = DueProcess(start_value=state)
    try:
        machine.send(
            event,
            list_type=list_type,
            today=today,
            deadline=deadline,
            statement_received=statement_received,
            reason=reason,
            removal_reason=removal_reason,
        )
    except TransitionNotAllowed:
        raise _illegal(list_type, state, event) from None
    return str(machine.current_state_value)


def allowed_events(list_type: str, state: str) -> tuple[str, ...]:
    """Events that exist from ``state`` for this list type (for buttons); their guards may still refuse."""
    _check_known(list_type, state)
    if state in FINAL_STATES:
        return ()
    machine = DueProcess(start_value=state)
    return tuple(str(event.id) for event in machine.enabled_events(list_type=list_type))


def statement_deadline(notified_on: dt.date, calendar: WorkdayCalendar, workdays: int = 5) -> Deadline:
    """The last day the subject may state its case: the ``workdays``-th working day after notification."""
    if workdays < 1:
        raise ValueError(f"陈述申辩期限至少为1个工作日：{workdays}")
    return calendar.add_workdays(notified_on, workdays)


# -- escalation -------------------------------------------------------------------------------------------

PenaltyRow = tuple[int, dt.date, str] | tuple[int, dt.date, str, str]
"""(subject_id, decision_date, severity) or (subject_id, decision_date, severity, item_code).

A 3-tuple counts for every rule given (the caller passes the records of the rules' item); a 4-tuple only
for rules of its item code.
"""


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """``count`` records of ``item_code`` with ``severity`` within ``within_months`` propose a list entry.

    A rule has a legal basis or cannot exist (负面清单思维); it only ever proposes, never lists.
    """

    id: str
    list_type: str
    item_code: str
    severity: str
    count: int
    within_months: int
    legal_basis: str

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("升级规则须有编号")
        if not self.legal_basis.strip():
            raise ValueError(f"升级规则“{self.id}”未写明法律依据，不能保存")
        if self.list_type not in LIST_TYPE_LABELS:
            raise ValueError(f"升级规则“{self.id}”的名单类型“{self.list_type}”不存在")
        if self.list_type == RED:
            raise ValueError(f"升级规则“{self.id}”：失信记录不能提出列入守信激励对象名单")
        if not self.item_code.strip() or not self.severity.strip():
            raise ValueError(f"升级规则“{self.id}”须写明信息项和严重程度")
        if self.count < 1:
            raise ValueError(f"升级规则“{self.id}”的次数至少为1：{self.count}")
        if self.within_months < 1:
            raise ValueError(f"升级规则“{self.id}”的统计期至少为1个月：{self.within_months}")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A subject to propose (拟列入) under a rule, with the decision dates of the records that triggered it."""

    subject_id: int
    rule: EscalationRule
    record_dates: tuple[dt.date, ...]

    @property
    def list_type(self) -> str:
        return self.rule.list_type


def _in_window(decided: dt.date, today: dt.date, months: int) -> bool:
    # The period runs from the decision (start day not counted) to the corresponding day ``months`` later
    # (the month's last day if it has none), as for the publicity windows: decided 2024-06-15, 24 months,
    # still counts on 2026-06-15 and no longer on 2026-06-16. Records dated after today do not count.
    return decided <= today <= add_months(decided, months)


def escalations(
    rules: Sequence[EscalationRule], penalties: Sequence[PenaltyRow], today: dt.date
) -> list[Proposal]:
    """Which subjects the rules propose today, ordered by subject then by rule order.

    Pure: the caller removes subjects already proposed or listed under the same list type.
    """
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ValueError(f"升级规则编号重复：{rule.id}")
        seen.add(rule.id)
    proposals: list[tuple[int, int, Proposal]] = []
    for order, rule in enumerate(rules):
        dates_by_subject: defaultdict[int, list[dt.date]] = defaultdict(list)
        for row in penalties:
            subject_id, decided, severity = row[0], row[1], row[2]
            if len(row) == 4 and row[3] != rule.item_code:
                continue
            if severity == rule.severity and _in_window(decided, today, rule.within_months):
                dates_by_subject[subject_id].append(decided)
        for subject_id, dates in dates_by_subject.items():
            if len(dates) >= rule.count:
                proposal = Proposal(subject_id=subject_id, rule=rule, record_dates=tuple(sorted(dates)))
                proposals.append((subject_id, order, proposal))
    proposals.sort(key=lambda item: (item[0], item[1]))
    return [proposal for _, _, proposal in proposals]
