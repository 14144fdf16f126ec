"""The reinstate transition (恢复列入): only a removal for credit repair, found wrong on re-check (错修), is undone."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyong.lists import rules
from xinyong.lists.rules import LIST_TYPE_LABELS, REMOVAL_REASONS, STATE_LABELS, ListRuleError, transition

TODAY = dt.date(2026, 10, 14)


@pytest.mark.parametrize("list_type", sorted(LIST_TYPE_LABELS))
def test_an_entry_removed_for_repair_is_listed_again(list_type: str) -> None:
    assert transition(list_type, "removed", "reinstate", today=TODAY, removal_reason="repaired") == "listed"


@pytest.mark.parametrize("reason", sorted(set(REMOVAL_REASONS) - {"repaired"}))
def test_an_entry_removed_for_any_other_reason_stays_removed(reason: str) -> None:
    with pytest.raises(ListRuleError) as refused:
        transition("serious_dishonesty", "removed", "reinstate", today=TODAY, removal_reason=reason)
    assert refused.value.code == rules.NOT_REINSTATABLE
    assert REMOVAL_REASONS[reason] in refused.value.message  # the reason it was removed for, by name


@pytest.mark.parametrize("removal_reason", [None, "", "made_up"])
def test_an_entry_without_a_known_removal_reason_is_not_reinstated(removal_reason: str | None) -> None:
    with pytest.raises(ListRuleError) as refused:
        transition("market_ban", "removed", "reinstate", today=TODAY, removal_reason=removal_reason)
    assert refused.value.code == rules.NOT_REINSTATABLE


@pytest.mark.parametrize("state", sorted(set(STATE_LABELS) - {"removed"}))
def test_only_a_removed_entry_is_reinstated(state: str) -> None:
    with pytest.raises(ListRuleError) as refused:
        transition("serious_dishonesty", state, "reinstate", today=TODAY, removal_reason="repaired")
    assert refused.value.code == rules.ILLEGAL_TRANSITION
    assert STATE_LABELS[state] in refused.value.message and "恢复列入" in refused.value.message


def test_a_removed_entry_still_offers_no_step_in_the_console() -> None:
    # Reinstating is the repair re-check's decision, not a button on the list console.
    assert rules.allowed_events("serious_dishonesty", "removed") == ()
    assert "removed" in rules.FINAL_STATES


def test_a_removed_entry_cannot_be_removed_twice() -> None:
    with pytest.raises(ListRuleError) as refused:
        transition("red", "removed", "remove", today=TODAY, reason="expired")
    assert refused.value.code == rules.ILLEGAL_TRANSITION


def test_reinstate_has_a_chinese_label() -> None:
    assert rules.EVENT_LABELS[rules.REINSTATE] == "恢复列入"
