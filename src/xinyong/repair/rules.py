"""Credit repair (信用修复): the policy as data, eligibility explained condition by condition, the workflow
as a state machine and its deadlines in working days.

    submitted ──accept──▶ accepted ──review──▶ under_review ──approve──▶ repaired ──revert (错修)──▶ reverted
        │                    │                  │   ▲    └──refuse──▶ refused ──complete (漏修)──▶ repaired
        └──reject──▶ not_accepted ──complete (漏修)──▶ repaired
                                    request_material │   │ supplement
                                                     ▼   │
                                               material_requested ──refuse──▶ refused
    submitted, accepted, under_review, material_requested ──withdraw──▶ withdrawn (final)

The department that made the decision handles the application (谁认定谁修复); the credit office re-checks a
random sample of decided cases and reverts a wrong repair (错修) or completes a missed one (漏修).

Pure rules: no I/O and "today" is always an argument.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from xinyong.kit.dates import add_months
from xinyong.kit.workdays import Deadline, WorkdayCalendar

# -- states and events ---------------------------------------------------------------------------------------

SUBMITTED = "submitted"
ACCEPTED = "accepted"
NOT_ACCEPTED = "not_accepted"
UNDER_REVIEW = "under_review"
MATERIAL_REQUESTED = "material_requested"
REPAIRED = "repaired"
REFUSED = "refused"
WITHDRAWN = "withdrawn"
REVERTED = "reverted"

STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        SUBMITTED: "已提交",
        ACCEPTED: "已受理",
        NOT_ACCEPTED: "不予受理",
        UNDER_REVIEW: "审核中",
        MATERIAL_REQUESTED: "待补正材料",
        REPAIRED: "已修复",
        REFUSED: "不予修复",
        WITHDRAWN: "已撤回",
        REVERTED: "修复已撤销（错修纠正）",
    }
)
OPEN_STATES: frozenset[str] = frozenset({SUBMITTED, ACCEPTED, UNDER_REVIEW, MATERIAL_REQUESTED})
DECIDED_STATES: frozenset[str] = frozenset({NOT_ACCEPTED, REPAIRED, REFUSED})

EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "accept": "受理",
        "reject": "不予受理",
        "review": "开始审核",
        "request_material": "要求补正材料",
        "supplement": "补正材料",
        "approve": "准予修复",
        "refuse": "不予修复",
        "withdraw": "撤回申请",
        "revert": "撤销修复（错修）",
        "complete": "补办修复（漏修）",
    }
)
# Events a department (or the credit office's re-check) performs; the applicant supplements and withdraws.
DEPARTMENT_EVENTS = frozenset({"accept", "reject", "review", "request_material", "approve", "refuse"})
APPLICANT_EVENTS = frozenset({"supplement", "withdraw"})
RECHECK_EVENTS = frozenset({"revert", "complete"})
NOTE_REQUIRED = frozenset({"reject", "request_material", "refuse", "revert", "complete"})

ILLEGAL_TRANSITION = "repair.illegal_transition"
NOT_ELIGIBLE = "repair.not_eligible"
NOTE_MISSING = "repair.note_required"


class RepairRuleError(ValueError):
    """A step refused by the rules: a stable ``code`` and a Chinese ``message``."""

    def __init__(self, message: str, *, code: str = ILLEGAL_TRANSITION) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RepairProcess(StateMachine):
    """One repair application. Start it at the application's state with ``start_value``."""

    submitted = State("已提交", value=SUBMITTED, initial=True)
    accepted = State("已受理", value=ACCEPTED)
    not_accepted = State("不予受理", value=NOT_ACCEPTED)
    under_review = State("审核中", value=UNDER_REVIEW)
    material_requested = State("待补正材料", value=MATERIAL_REQUESTED)
    repaired = State("已修复", value=REPAIRED)
    refused = State("不予修复", value=REFUSED)
    withdrawn = State("已撤回", value=WITHDRAWN, final=True)
    reverted = State("修复已撤销", value=REVERTED, final=True)

    accept = submitted.to(accepted)
    reject = submitted.to(not_accepted)
    review = accepted.to(under_review)
    request_material = under_review.to(material_requested)
    supplement = material_requested.to(under_review)
    approve = under_review.to(repaired, validators="must_be_eligible")
    refuse = under_review.to(refused) | material_requested.to(refused)
    withdraw = (
        submitted.to(withdrawn)
        | accepted.to(withdrawn)
        | under_review.to(withdrawn)
        | material_requested.to(withdrawn)
    )
    revert = repaired.to(reverted)
    complete = refused.to(repaired, validators="must_be_eligible") | not_accepted.to(
        repaired, validators="must_be_eligible"
    )

    def must_be_eligible(self, eligibility: Eligibility | None) -> None:
        if eligibility is not None and not eligibility.eligible:
            raise RepairRuleError(
                "不符合修复条件：" + "；".join(c.explanation for c in eligibility.unmet), code=NOT_ELIGIBLE
            )


def transition(
    state: str, event: str, *, eligibility: Eligibility | None = None, note: str | None = None
) -> str:
    """The state an application moves to on ``event``; raise RepairRuleError when the step is refused."""
    if state not in STATE_LABELS:
        raise RepairRuleError(f"修复申请状态“{state}”不存在", code="repair.unknown_state")
    if event not in EVENT_LABELS:
        raise RepairRuleError(f"修复操作“{event}”不存在", code="repair.unknown_event")
    if event in NOTE_REQUIRED and not (note or "").strip():
        raise RepairRuleError(f"“{EVENT_LABELS[event]}”须写明理由", code=NOTE_MISSING)
    machine = RepairProcess(start_value=state)
    try:
        machine.send(event, eligibility=eligibility)
    except TransitionNotAllowed:
        raise RepairRuleError(
            f"当前状态为“{STATE_LABELS[state]}”，不能执行“{EVENT_LABELS[event]}”操作", code=ILLEGAL_TRANSITION
        ) from None
    return str(machine.current_state_value)


def allowed_events(state: str) -> tuple[str, ...]:
    """Events that exist from ``state`` (for buttons); their validators may still refuse."""
    machine = RepairProcess(start_value=state)
    return tuple(str(event.id) for event in machine.allowed_events)


# -- policy ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """A legal bar (不可修复的情形): the items or list types it covers, and its source."""

    id: str
    label: str
    source: str
    items: frozenset[str] = frozenset()
    list_types: frozenset[str] = frozenset()
    permanent_only: bool = False

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise ValueError(f"不可修复情形“{self.id}”未写明法律依据，不能保存")

    def applies(self, target: Target) -> bool:
        if target.kind == "record":
            return target.code in self.items
        return target.code in self.list_types and (not self.permanent_only or target.permanent)


@dataclass(frozen=True, slots=True)
class Policy:
    source: str
    accept_workdays: int
    decide_workdays: int
    supplement_workdays: int
    recheck_workdays: int
    objection_workdays: int
    item_minimums: Mapping[str, int | None]  # item -> months; None: the record's own minimum window
    list_minimums: Mapping[str, int]
    bars: tuple[Bar, ...]
    evidence_required: bool = True
    recheck_rate: float = 0.1
    recheck_minimum: int = 1

    def repairable_item(self, item_code: str) -> bool:
        return item_code in self.item_minimums

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Policy:
        deadlines = raw["deadlines"]
        for name, value in deadlines.items():
            if int(value) < 1:
                raise ValueError(f"期限“{name}”至少为1个工作日：{value}")
        items: dict[str, int | None] = {}
        for code, spec in (raw.get("items") or {}).items():
            items[code] = None if spec.get("min") == "window" else int(spec.get("min_months", 0))
        bars = tuple(
            Bar(
                id=b["id"],
                label=b["label"],
                source=b.get("source") or "",
                items=frozenset(b.get("items") or ()),
                list_types=frozenset(b.get("list_types") or ()),
                permanent_only=bool(b.get("permanent_only")),
            )
            for b in raw.get("bars") or ()
        )
        recheck = raw.get("recheck") or {}
        return cls(
            source=raw["source"],
            accept_workdays=int(deadlines["accept"]),
            decide_workdays=int(deadlines["decide"]),
            supplement_workdays=int(deadlines["supplement"]),
            recheck_workdays=int(deadlines.get("recheck", 10)),
            objection_workdays=int((raw.get("objections") or {}).get("answer", 7)),
            item_minimums=MappingProxyType(items),
            list_minimums=MappingProxyType(
                {k: int(v.get("min_months", 0)) for k, v in (raw.get("list_types") or {}).items()}
            ),
            bars=bars,
            evidence_required=bool(raw.get("evidence_required", True)),
            recheck_rate=float(recheck.get("rate", 0.1)),
            recheck_minimum=int(recheck.get("minimum", 1)),
        )


# -- eligibility -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What is to be repaired: a record (``code`` = item code) or a list entry (``code`` = list type)."""

    kind: str  # record, list_entry
    code: str
    in_force: bool  # public or listed today (there is something to repair)
    decided_on: dt.date | None
    min_until: dt.date | None = None  # a record's own minimum publicity end (penalties)
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class Condition:
    code: str
    label: str
    met: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class Eligibility:
    conditions: tuple[Condition, ...]
    earliest: dt.date | None = None  # the first day the minimum period allows an application
    bars: tuple[Bar, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def unmet(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if not c.met)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "conditions": [
                {"code": c.code, "label": c.label, "met": c.met, "explanation": c.explanation}
                for c in self.conditions
            ],
        }


def _fmt(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def earliest_application(target: Target, policy: Policy) -> dt.date | None:
    """The first day an application may be made: the day after the minimum period ends."""
    if target.decided_on is None:
        return None
    if target.kind == "record":
        months = policy.item_minimums.get(target.code)
        if months is None:
            end = target.min_until or target.decided_on
        else:
            end = add_months(target.decided_on, months)
    else:
        end = add_months(target.decided_on, policy.list_minimums.get(target.code, 0))
    return end + dt.timedelta(days=1) if end > target.decided_on else target.decided_on


def eligibility(
    target: Target,
    policy: Policy,
    *,
    today: dt.date,
    evidence_count: int,
    commitment_signed: bool,
    pending_application: bool = False,
) -> Eligibility:
    """Every condition of a repair, met or not, each with its explanation in Chinese."""
    known = (
        policy.repairable_item(target.code)
        if target.kind == "record"
        else target.code in policy.list_minimums
    )
    bars = tuple(b for b in policy.bars if b.applies(target))
    earliest = earliest_application(target, policy)
    conditions = [
        Condition(
            "in_force",
            "信息正在公示或使用",
            target.in_force,
            "该信息正在公示或用于失信约束"
            if target.in_force
            else "该信息当前未公示、已修复或已撤销，无需修复",
        ),
        Condition(
            "legal_bar",
            "无不可修复的情形",
            known and not bars,
            "无法律、法规规定不可修复的情形"
            if known and not bars
            else (
                "；".join(f"{b.label}（{b.source}）" for b in bars)
                if bars
                else "该类信息不属于可修复的失信信息"
            ),
        ),
        Condition(
            "min_period",
            "已满最短公示期",
            earliest is not None and today >= earliest,
            (
                f"最短公示期已满，自{_fmt(earliest)}起可申请"
                if today >= earliest
                else f"最短公示期未满，{_fmt(earliest)}起方可申请"
            )
            if earliest is not None
            else "缺少决定日期，无法计算最短公示期",
        ),
        Condition(
            "obligations",
            "已履行法定责任和义务",
            evidence_count > 0 or not policy.evidence_required,
            f"已上传{evidence_count}份履行义务的证明材料（如罚款缴纳凭证）"
            if evidence_count > 0
            else "须上传已履行法定责任和义务的证明材料（如罚款缴纳凭证、整改报告）",
        ),
        Condition(
            "commitment",
            "已签署信用修复承诺书",
            commitment_signed,
            "已在线签署信用修复承诺书，将随申请公示" if commitment_signed else "须在线签署信用修复承诺书",
        ),
        Condition(
            "no_pending",
            "无正在办理的修复申请",
            not pending_application,
            "该信息有正在办理的修复申请，请勿重复申请" if pending_application else "无正在办理的修复申请",
        ),
    ]
    return Eligibility(conditions=tuple(conditions), earliest=earliest, bars=bars)


# -- deadlines ---------------------------------------------------------------------------------------------------


def due_after(event: str, on: dt.date, policy: Policy, calendar: WorkdayCalendar) -> Deadline | None:
    """The next deadline once ``event`` happened on ``on`` (None: nobody owes a step any more).

    Submission: the department accepts or not within ``accept`` working days. Acceptance and a supplement:
    it decides within ``decide`` working days. A request for material: the applicant supplements within
    ``supplement`` working days.
    """
    days = {
        "submit": policy.accept_workdays,
        "accept": policy.decide_workdays,
        "supplement": policy.decide_workdays,
        "request_material": policy.supplement_workdays,
    }
    if event not in days:
        return None
    return calendar.add_workdays(on, days[event])


KEEPS_DEADLINE = frozenset({"review"})
"""Events after which the running deadline stays (starting the review does not restart the clock)."""


def is_overdue(state: str, due_on: dt.date | None, today: dt.date) -> bool:
    """Overdue: a step is owed (the application is open) and the due day has passed."""
    return state in OPEN_STATES and due_on is not None and today > due_on


def sample_size(population: int, policy: Policy) -> int:
    """How many decided cases of a period the re-check draws: the rate rounded up (at least that share),
    at least the minimum, at most all."""
    if population <= 0:
        return 0
    wanted = max(policy.recheck_minimum, math.ceil(population * policy.recheck_rate - 1e-9))
    return min(population, wanted)
