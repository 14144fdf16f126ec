"""Objection rules without a database: every step (legal and illegal), the field-level correction, the answer
deadline in official working days and when an overdue objection goes to the credit office."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from xinyong.kit.workdays import default_calendar
from xinyong.objections import rules

D = dt.date
CALENDAR = default_calendar()
LABELS = {"fine_wan": "罚款金额", "content": "处罚内容", "decision_date": "处罚决定日期", "remarks": "备注"}
A_CHANGE = [rules.Change("fine_wan", "罚款金额", "5", "3")]
REASON = "经核查，处罚决定书原件载明的罚款金额为3万元。"


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(D(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class TestWorkflow:
    @pytest.mark.parametrize(
        ("event", "kwargs", "state"),
        [
            ("correct", {"changes": A_CHANGE, "reason": REASON}, rules.CORRECTED),
            ("revoke", {"reason": "复议机关已撤销该处罚决定"}, rules.REVOKED),
            ("maintain", {"reason": "与处罚决定书原件一致"}, rules.MAINTAINED),
            ("withdraw", {}, rules.WITHDRAWN),
        ],
    )
    def test_every_answer_and_the_withdrawal_close_an_open_objection(
        self, event: str, kwargs: dict[str, object], state: str
    ) -> None:
        assert rules.transition(rules.OPEN, event, **kwargs) == state  # type: ignore[arg-type]

    @pytest.mark.parametrize("state", [s for s in rules.STATE_LABELS if s != rules.OPEN])
    @pytest.mark.parametrize("event", list(rules.EVENT_LABELS))
    def test_a_closed_objection_refuses_every_step(self, state: str, event: str) -> None:
        with pytest.raises(rules.ObjectionRuleError) as caught:
            rules.transition(state, event, changes=A_CHANGE, reason=REASON)
        assert caught.value.code == rules.ILLEGAL_TRANSITION
        assert rules.STATE_LABELS[state] in caught.value.message
        assert rules.EVENT_LABELS[event] in caught.value.message

    def test_a_correction_must_change_something(self) -> None:
        with pytest.raises(rules.ObjectionRuleError) as caught:
            rules.transition(rules.OPEN, "correct", changes=[], reason=REASON)
        assert caught.value.code == "objection.no_changes"

    @pytest.mark.parametrize("event", ["correct", "revoke", "maintain"])
    @pytest.mark.parametrize("reason", [None, "", "  "])
    def test_an_answer_gives_its_reasons(self, event: str, reason: str | None) -> None:
        with pytest.raises(rules.ObjectionRuleError) as caught:
            rules.transition(rules.OPEN, event, changes=A_CHANGE, reason=reason)
        assert caught.value.code == "objection.reason_required"

    def test_withdrawing_needs_no_reason(self) -> None:
        assert rules.transition(rules.OPEN, "withdraw", reason=None) == rules.WITHDRAWN

    @pytest.mark.parametrize(
        ("state", "event", "code"),
        [
            ("pending", "maintain", "objection.unknown_state"),
            (rules.OPEN, "delete", "objection.unknown_event"),
        ],
    )
    def test_unknown_states_and_events_are_named(self, state: str, event: str, code: str) -> None:
        with pytest.raises(rules.ObjectionRuleError) as caught:
            rules.transition(state, event, reason=REASON)
        assert caught.value.code == code

    def test_answers_are_the_department_events(self) -> None:
        assert set(rules.EVENT_LABELS) - {"withdraw"} == rules.ANSWERS


class TestDiff:
    def test_only_changed_fields_in_label_order_with_before_and_after(self) -> None:
        before = {
            "fine_wan": "5",
            "content": "罚款人民币伍万元",
            "decision_date": "2026-06-15",
            "remarks": "无",
        }
        after = {"remarks": "无", "content": "罚款人民币叁万元", "fine_wan": "3"}
        changes = rules.diff(before, after, LABELS)
        assert [c.as_dict() for c in changes] == [
            {"field": "fine_wan", "label": "罚款金额", "before": "5", "after": "3"},
            {
                "field": "content",
                "label": "处罚内容",
                "before": "罚款人民币伍万元",
                "after": "罚款人民币叁万元",
            },
        ]

    def test_fields_not_sent_are_left_alone(self) -> None:
        assert rules.diff({"fine_wan": "5", "remarks": "无"}, {}, LABELS) == []

    @pytest.mark.parametrize(("old", "new"), [("", None), (None, ""), (None, None), ("", "")])
    def test_empty_and_missing_are_the_same(self, old: str | None, new: str | None) -> None:
        assert rules.diff({"remarks": old}, {"remarks": new}, LABELS) == []

    def test_adding_and_clearing_a_value_are_changes(self) -> None:
        added = rules.diff({}, {"remarks": "补充说明"}, LABELS)
        assert [(c.field, c.before, c.after) for c in added] == [("remarks", None, "补充说明")]
        cleared = rules.diff({"remarks": "说明"}, {"remarks": ""}, LABELS)
        assert [(c.field, c.before, c.after) for c in cleared] == [("remarks", "说明", "")]

    def test_fields_that_may_not_be_corrected_are_ignored(self) -> None:
        assert rules.diff({"uscc": "91510100MA61234567"}, {"uscc": "91510100MA6XXXXXXX"}, LABELS) == []


class TestAnswerDeadline:
    @pytest.mark.parametrize(
        ("filed", "due"),
        [
            # 2026: 中秋 25 September, 国庆 1-7 October off, Sunday 20 September and Saturday 10 October worked
            (D(2026, 9, 28), D(2026, 10, 13)),  # 29, 30, Oct 8, 9, 10 (Sat), 12, 13
            (D(2026, 9, 30), D(2026, 10, 15)),
            (D(2026, 10, 1), D(2026, 10, 15)),  # filed on a holiday
            (D(2026, 9, 18), D(2026, 9, 29)),  # 20 (Sun, worked), 21, 22, 23, 24, 28, 29
            (D(2026, 2, 13), D(2026, 3, 2)),  # 春节: Saturday 14 and Saturday 28 February worked
        ],
    )
    def test_seven_working_days_on_the_official_calendar(self, filed: dt.date, due: dt.date) -> None:
        deadline = rules.answer_deadline(filed, CALENDAR, 7)
        assert (deadline.due, deadline.provisional) == (due, False)

    @pytest.mark.skipif(_package_knows(2027), reason="the installed chinese-calendar already knows 2027")
    def test_a_deadline_reaching_into_2027_is_provisional(self) -> None:
        deadline = rules.answer_deadline(D(2026, 12, 28), CALENDAR, 7)
        # 29, 30, 31, (元旦 Friday 1 January off), 4, 5, 6, 7
        assert (deadline.due, deadline.provisional) == (D(2027, 1, 7), True)

    @pytest.mark.parametrize("workdays", [0, -1])
    def test_a_deadline_needs_at_least_one_working_day(self, workdays: int) -> None:
        with pytest.raises(ValueError, match="至少为1个工作日"):
            rules.answer_deadline(D(2026, 6, 1), CALENDAR, workdays)


class TestEscalation:
    @pytest.mark.parametrize(
        ("state", "due", "escalated", "today", "expected"),
        [
            (rules.OPEN, D(2026, 10, 13), None, D(2026, 10, 14), True),
            (rules.OPEN, D(2026, 10, 13), None, D(2026, 10, 13), False),  # the due day itself is in time
            (rules.OPEN, D(2026, 10, 13), D(2026, 10, 14), D(2026, 10, 20), False),  # escalated once only
            (rules.OPEN, None, None, D(2026, 10, 20), False),
            (rules.MAINTAINED, D(2026, 10, 13), None, D(2026, 10, 20), False),
            (rules.WITHDRAWN, D(2026, 10, 13), None, D(2026, 10, 20), False),
            (rules.CORRECTED, D(2026, 10, 13), None, D(2026, 10, 20), False),
        ],
    )
    def test_only_an_open_overdue_objection_not_yet_escalated(
        self, state: str, due: dt.date | None, escalated: dt.date | None, today: dt.date, expected: bool
    ) -> None:
        assert rules.should_escalate(state, due, escalated, today) is expected
