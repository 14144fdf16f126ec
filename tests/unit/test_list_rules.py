"""Due process of list entries (state machine, guards, removal reasons) and escalation rules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from xinyong.kit.workdays import Deadline, WorkdayCalendar, YearSchedule, default_calendar
from xinyong.lists import rules
from xinyong.lists.rules import (
    LIST_TYPE_LABELS,
    MARKET_BAN,
    RED,
    REMOVAL_REASONS,
    SERIOUS_DISHONESTY,
    STATE_LABELS,
    EscalationRule,
    ListRuleError,
    Proposal,
    escalations,
    statement_deadline,
    transition,
)

D = dt.date
TODAY = D(2026, 10, 14)
PASSED = D(2026, 10, 13)  # a statement deadline that has passed by TODAY
EVENTS = ("notify", "decide", "drop", "remove")
PUNITIVE = (SERIOUS_DISHONESTY, MARKET_BAN)

# every legal step: (list type, state, event) -> new state
LEGAL: dict[tuple[str, str, str], str] = {}
for _type in PUNITIVE:
    LEGAL |= {
        (_type, "proposed", "notify"): "notified",
        (_type, "proposed", "drop"): "dropped",
        (_type, "notified", "decide"): "listed",
        (_type, "notified", "drop"): "dropped",
        (_type, "listed", "remove"): "removed",
    }
LEGAL |= {
    (RED, "proposed", "decide"): "listed",
    (RED, "proposed", "drop"): "dropped",
    # a red entry is never notified; one that was (data from before) can still be concluded
    (RED, "notified", "decide"): "listed",
    (RED, "notified", "drop"): "dropped",
    (RED, "listed", "remove"): "removed",
}
ALL_STEPS = list(itertools.product(LIST_TYPE_LABELS, STATE_LABELS, EVENTS))
ILLEGAL = [step for step in ALL_STEPS if step not in LEGAL]


def step(list_type: str, state: str, event: str, **kwargs: object) -> str:
    """A step with every guard satisfied, so only the state and the event decide."""
    arguments: dict[str, object] = {"today": TODAY, "deadline": PASSED, "reason": "expired"} | kwargs
    return transition(list_type, state, event, **arguments)  # type: ignore[arg-type]


def test_the_tables_cover_every_pair() -> None:
    assert set(STATE_LABELS) == {"proposed", "notified", "listed", "dropped", "removed"}
    assert list(STATE_LABELS.values()) == ["拟列入", "已告知", "已列入", "不予列入", "已移出"]
    assert (SERIOUS_DISHONESTY, RED, MARKET_BAN) == ("serious_dishonesty", "red", "market_ban")
    assert LIST_TYPE_LABELS[SERIOUS_DISHONESTY] == "严重失信主体名单"
    assert LIST_TYPE_LABELS[RED] == "守信激励对象名单"
    assert len(LEGAL) + len(ILLEGAL) == 3 * 5 * 4
    assert len(ILLEGAL) == 45


@pytest.mark.parametrize(("list_type", "state", "event"), list(LEGAL))
def test_every_legal_transition(list_type: str, state: str, event: str) -> None:
    assert step(list_type, state, event) == LEGAL[(list_type, state, event)]


@pytest.mark.parametrize(("list_type", "state", "event"), ILLEGAL)
def test_every_illegal_transition_is_refused_with_a_stable_code(
    list_type: str, state: str, event: str
) -> None:
    with pytest.raises(ListRuleError) as refused:
        step(list_type, state, event, statement_received=True)
    error = refused.value
    assert error.code == "list.illegal_transition"
    assert isinstance(error, ValueError)
    assert STATE_LABELS[state] in error.message  # names the current state ...
    assert rules.EVENT_LABELS[event] in error.message  # ... and the attempted action
    assert str(error) == error.message


@pytest.mark.parametrize(("list_type", "state"), list(itertools.product(LIST_TYPE_LABELS, STATE_LABELS)))
def test_allowed_events_agree_with_the_table(list_type: str, state: str) -> None:
    expected = {event for (t, s, event) in LEGAL if (t, s) == (list_type, state)}
    assert set(rules.allowed_events(list_type, state)) == expected


def test_the_full_path_of_a_serious_dishonesty_entry() -> None:
    calendar = default_calendar()
    notified_on = D(2026, 9, 30)
    deadline = statement_deadline(notified_on, calendar)
    state = transition(SERIOUS_DISHONESTY, "proposed", "notify", today=notified_on)
    state = transition(SERIOUS_DISHONESTY, state, "decide", today=D(2026, 10, 14), deadline=deadline.due)
    state = transition(SERIOUS_DISHONESTY, state, "remove", today=D(2029, 10, 14), reason="expired")
    assert state == "removed"


def test_decide_before_the_deadline_is_refused() -> None:
    with pytest.raises(ListRuleError) as refused:
        transition(SERIOUS_DISHONESTY, "notified", "decide", today=D(2026, 10, 12), deadline=PASSED)
    assert refused.value.code == "list.statement_period_open"
    assert "2026年10月13日" in refused.value.message


def test_decide_on_the_deadline_day_is_still_early() -> None:
    with pytest.raises(ListRuleError, match="尚未届满"):
        transition(MARKET_BAN, "notified", "decide", today=PASSED, deadline=PASSED)


def test_decide_after_the_deadline_is_allowed() -> None:
    assert transition(MARKET_BAN, "notified", "decide", today=D(2026, 10, 14), deadline=PASSED) == "listed"


def test_decide_before_the_deadline_with_the_statement_received_is_allowed() -> None:
    state = transition(
        SERIOUS_DISHONESTY,
        "notified",
        "decide",
        today=D(2026, 10, 9),
        deadline=PASSED,
        statement_received=True,
    )
    assert state == "listed"


def test_decide_without_a_recorded_deadline_needs_the_statement() -> None:
    with pytest.raises(ListRuleError) as refused:
        transition(SERIOUS_DISHONESTY, "notified", "decide", today=TODAY)
    assert refused.value.code == "list.statement_deadline_missing"
    assert (
        transition(SERIOUS_DISHONESTY, "notified", "decide", today=TODAY, statement_received=True) == "listed"
    )


def test_the_guard_as_a_function() -> None:
    guard = rules.statement_period_closed
    assert not guard(today=D(2026, 10, 13), deadline=D(2026, 10, 13), statement_received=False)
    assert guard(today=D(2026, 10, 14), deadline=D(2026, 10, 13), statement_received=False)
    assert guard(today=D(2026, 10, 1), deadline=D(2026, 10, 13), statement_received=True)
    assert not guard(today=D(2026, 10, 14), deadline=None, statement_received=False)


def test_red_list_skips_notification() -> None:
    assert transition(RED, "proposed", "decide", today=TODAY) == "listed"
    with pytest.raises(ListRuleError, match="无需告知") as refused:
        transition(RED, "proposed", "notify", today=TODAY)
    assert refused.value.code == "list.illegal_transition"


@pytest.mark.parametrize("list_type", PUNITIVE)
def test_punitive_lists_cannot_skip_notification(list_type: str) -> None:
    with pytest.raises(ListRuleError, match="须先告知") as refused:
        transition(list_type, "proposed", "decide", today=TODAY, statement_received=True, deadline=PASSED)
    assert refused.value.code == "list.illegal_transition"


@pytest.mark.parametrize("reason", sorted(REMOVAL_REASONS))
@pytest.mark.parametrize("list_type", list(LIST_TYPE_LABELS))
def test_removal_reasons(list_type: str, reason: str) -> None:
    assert transition(list_type, "listed", "remove", today=TODAY, reason=reason) == "removed"


def test_removal_reason_values() -> None:
    assert set(REMOVAL_REASONS) == {"expired", "repaired", "court_decision", "authority_decision"}


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (None, "list.removal_reason_required"),
        ("", "list.removal_reason_required"),
        ("  ", "list.removal_reason_required"),
        ("because", "list.removal_reason_invalid"),
        ("Expired", "list.removal_reason_invalid"),
    ],
)
def test_removal_without_a_valid_reason_is_refused(reason: str | None, code: str) -> None:
    with pytest.raises(ListRuleError) as refused:
        transition(SERIOUS_DISHONESTY, "listed", "remove", today=TODAY, reason=reason)
    assert refused.value.code == code
    assert "信用修复" in refused.value.message


@pytest.mark.parametrize(
    ("list_type", "state", "event", "code"),
    [
        ("blacklist", "proposed", "notify", "list.unknown_type"),
        (SERIOUS_DISHONESTY, "pending", "notify", "list.unknown_state"),
        (SERIOUS_DISHONESTY, "proposed", "statement", "list.unknown_event"),
        (SERIOUS_DISHONESTY, "proposed", "__init__", "list.unknown_event"),
    ],
)
def test_unknown_names_are_refused(list_type: str, state: str, event: str, code: str) -> None:
    with pytest.raises(ListRuleError) as refused:
        transition(list_type, state, event, today=TODAY)
    assert refused.value.code == code


def test_statement_deadline_across_national_day_2026() -> None:
    calendar = default_calendar()
    deadline = statement_deadline(D(2026, 9, 30), calendar)
    assert deadline == Deadline(due=D(2026, 10, 13), provisional=False)
    with pytest.raises(ListRuleError, match="尚未届满"):
        transition(SERIOUS_DISHONESTY, "notified", "decide", today=D(2026, 10, 13), deadline=deadline.due)
    after = transition(SERIOUS_DISHONESTY, "notified", "decide", today=D(2026, 10, 14), deadline=deadline.due)
    assert after == "listed"
    # three working days end on a worked Saturday
    assert statement_deadline(D(2026, 9, 30), calendar, workdays=3).due == D(2026, 10, 10)
    with pytest.raises(ValueError, match="至少"):
        statement_deadline(D(2026, 9, 30), calendar, workdays=0)


def test_statement_deadline_follows_a_loaded_schedule() -> None:
    # a loaded schedule overrides everything else (here: an illustrative 2027 spring festival notice)
    notice = YearSchedule.build(2027, holidays=[(D(2027, 2, 5), D(2027, 2, 13))], workdays=[D(2027, 2, 20)])
    loaded = WorkdayCalendar({2027: notice})
    assert statement_deadline(D(2027, 2, 4), loaded) == Deadline(D(2027, 2, 19), provisional=False)


# -- escalation ---------------------------------------------------------------------------------------------

SERIOUS_3_IN_24 = EscalationRule(
    id="cf-serious-3-24",
    list_type=SERIOUS_DISHONESTY,
    item_code="CF",
    severity="严重",
    count=3,
    within_months=24,
    legal_basis="《四川省社会信用条例》第三十二条",
)


def test_three_serious_penalties_within_24_months_propose() -> None:
    penalties = [
        (7, D(2024, 11, 1), "严重"),
        (7, D(2025, 6, 1), "严重"),
        (7, D(2026, 3, 15), "严重"),
        (7, D(2026, 4, 1), "一般"),  # other severity: does not count
    ]
    proposals = escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 15))
    assert proposals == [
        Proposal(
            subject_id=7,
            rule=SERIOUS_3_IN_24,
            record_dates=(D(2024, 11, 1), D(2025, 6, 1), D(2026, 3, 15)),
        )
    ]
    assert proposals[0].list_type == SERIOUS_DISHONESTY


def test_two_do_not() -> None:
    penalties = [(7, D(2025, 6, 1), "严重"), (7, D(2026, 3, 15), "严重"), (8, D(2026, 3, 15), "严重")]
    assert escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 15)) == []


def test_old_penalties_outside_the_window_do_not_count() -> None:
    penalties = [(7, D(2024, 6, 14), "严重"), (7, D(2025, 6, 1), "严重"), (7, D(2026, 3, 15), "严重")]
    assert escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 15)) == []
    # the window's last day: decided 2024-06-15, 24 months, still counts on 2026-06-15 ...
    penalties[0] = (7, D(2024, 6, 15), "严重")
    assert len(escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 15))) == 1
    # ... and not the day after
    assert escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 16)) == []


def test_future_dated_penalties_do_not_count() -> None:
    penalties = [(7, D(2025, 6, 1), "严重"), (7, D(2026, 3, 15), "严重"), (7, D(2026, 7, 1), "严重")]
    assert escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 15)) == []


def test_each_subject_is_counted_on_its_own_and_results_are_ordered() -> None:
    market_ban = EscalationRule(
        id="cf-serious-2-12-ban",
        list_type=MARKET_BAN,
        item_code="CF",
        severity="严重",
        count=2,
        within_months=12,
        legal_basis="《中华人民共和国食品安全法》第一百三十五条",
    )
    penalties = [
        (9, D(2026, 1, 5), "严重"),
        (9, D(2026, 2, 5), "严重"),
        (9, D(2026, 3, 5), "严重"),
        (4, D(2026, 5, 1), "严重"),
        (4, D(2026, 5, 2), "严重"),
        (5, D(2026, 5, 2), "严重"),
    ]
    proposals = escalations([SERIOUS_3_IN_24, market_ban], penalties, D(2026, 6, 15))
    assert [(p.subject_id, p.rule.id) for p in proposals] == [
        (4, "cf-serious-2-12-ban"),
        (9, "cf-serious-3-24"),
        (9, "cf-serious-2-12-ban"),
    ]
    assert proposals[0].record_dates == (D(2026, 5, 1), D(2026, 5, 2))


def test_rows_with_an_item_code_only_count_for_rules_of_that_item() -> None:
    penalties: list[rules.PenaltyRow] = [
        (7, D(2025, 6, 1), "严重", "CF"),
        (7, D(2026, 1, 1), "严重", "SXBZX"),
        (7, D(2026, 3, 15), "严重", "CF"),
        (7, D(2026, 3, 16), "严重"),  # no item code: counts for any rule
    ]
    proposals = escalations([SERIOUS_3_IN_24], penalties, D(2026, 6, 15))
    assert [p.record_dates for p in proposals] == [(D(2025, 6, 1), D(2026, 3, 15), D(2026, 3, 16))]


def test_nothing_to_escalate() -> None:
    assert escalations([SERIOUS_3_IN_24], [], D(2026, 6, 15)) == []
    assert escalations([], [(7, D(2026, 3, 15), "严重")], D(2026, 6, 15)) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("legal_basis", "", "法律依据"),
        ("legal_basis", "   ", "法律依据"),
        ("id", " ", "编号"),
        ("list_type", "blacklist", "不存在"),
        ("list_type", RED, "守信激励"),
        ("count", 0, "次数"),
        ("within_months", 0, "统计期"),
        ("severity", "", "严重程度"),
    ],
)
def test_bad_rules_are_refused(field: str, value: object, message: str) -> None:
    fields: dict[str, object] = {
        "id": "r",
        "list_type": SERIOUS_DISHONESTY,
        "item_code": "CF",
        "severity": "严重",
        "count": 3,
        "within_months": 24,
        "legal_basis": "《四川省社会信用条例》第三十二条",
    }
    fields[field] = value
    with pytest.raises(ValueError, match=message):
        EscalationRule(**fields)  # type: ignore[arg-type]


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="重复"):
        escalations([SERIOUS_3_IN_24, SERIOUS_3_IN_24], [], D(2026, 6, 15))
