"""Credit repair rules without a database: eligibility condition by condition, every workflow step (legal and
illegal), deadlines in official working days (调休 included, provisional beyond the known years), the
re-check sample and the policy's own checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from importlib import resources
from typing import Any

import chinese_calendar
import pytest
import yaml

from xinyong.catalog import service as catalog_service
from xinyong.disclosure import service as disclosure_service
from xinyong.disclosure.rules import window_for
from xinyong.kit.workdays import default_calendar
from xinyong.repair import rules

D = dt.date
CATALOG = catalog_service.load()
RULE_SETS = disclosure_service.rule_sets()
RAW_POLICY: dict[str, Any] = yaml.safe_load(
    resources.files("xinyong.repair").joinpath("data/repair.yaml").read_text(encoding="utf-8")
)
POLICY = rules.Policy.from_mapping(RAW_POLICY)
CALENDAR = default_calendar()
CJK = re.compile(r"[\u4e00-\u9fff]")
CONDITIONS = ("in_force", "legal_bar", "min_period", "obligations", "commitment", "no_pending")


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(D(year, 6, 1))
    except NotImplementedError:
        return False
    return True


# -- eligibility -------------------------------------------------------------------------------------------


def penalty(
    decided: dt.date | None, severity: str = "一般", sector: str | None = None, **kw: Any
) -> rules.Target:
    """A published penalty as ingestion leaves it: its minimum window from the rule set of its decision date."""
    cf = CATALOG.item("CF")
    assert cf is not None
    window = window_for(cf, decision_date=decided, severity=severity, sector=sector, rule_sets=RULE_SETS)
    if decided is not None:
        assert window.min_public_until is not None
    return rules.Target("record", "CF", kw.pop("in_force", True), decided, window.min_public_until, **kw)


def entry(list_type: str, decided: dt.date, *, permanent: bool = False) -> rules.Target:
    return rules.Target("list_entry", list_type, True, decided, permanent=permanent)


def record(item: str, decided: dt.date) -> rules.Target:
    return rules.Target("record", item, True, decided)


# (target, today, evidence, commitment, pending, earliest, unmet condition codes, date named by min_period)
ELIGIBILITY = {
    # 发改办财金〔2019〕527号 (decided up to 2023-04-30): 一般 at least 3 months, 严重 at least 6
    "527-general-last-day-of-minimum": (
        penalty(D(2022, 3, 15)), D(2022, 6, 15), 1, True, False, D(2022, 6, 16), {"min_period"}, "2022年6月16日"
    ),
    "527-general-day-after-minimum": (
        penalty(D(2022, 3, 15)), D(2022, 6, 16), 1, True, False, D(2022, 6, 16), set(), "2022年6月16日"
    ),
    "527-serious-before": (
        penalty(D(2022, 1, 31), "严重"), D(2022, 7, 31), 2, True, False, D(2022, 8, 1), {"min_period"}, "2022年8月1日"
    ),
    "527-serious-after": (
        penalty(D(2022, 1, 31), "严重"), D(2022, 8, 1), 2, True, False, D(2022, 8, 1), set(), "2022年8月1日"
    ),
    # 国家发展改革委令第58号 (2023-05-01 .. 2026-03-31): 3 months for both, 12 in the listed sectors
    "58-general-before": (
        penalty(D(2024, 6, 1)), D(2024, 9, 1), 1, True, False, D(2024, 9, 2), {"min_period"}, "2024年9月2日"
    ),
    "58-general-after": (penalty(D(2024, 6, 1)), D(2024, 9, 2), 1, True, False, D(2024, 9, 2), set(), "2024年9月2日"),
    "58-serious-month-end-before": (
        penalty(D(2025, 11, 30), "严重"), D(2026, 2, 28), 1, True, False, D(2026, 3, 1), {"min_period"}, "2026年3月1日"
    ),
    "58-serious-month-end-after": (
        penalty(D(2025, 11, 30), "严重"), D(2026, 3, 1), 1, True, False, D(2026, 3, 1), set(), "2026年3月1日"
    ),
    "58-work-safety-sector-3-months-is-not-enough": (
        penalty(D(2024, 6, 1), sector="安全生产"), D(2024, 9, 2), 1, True, False, D(2025, 6, 2), {"min_period"},
        "2025年6月2日",
    ),
    "58-work-safety-sector-last-day": (
        penalty(D(2024, 6, 1), sector="安全生产"), D(2025, 6, 1), 1, True, False, D(2025, 6, 2), {"min_period"},
        "2025年6月2日",
    ),
    "58-work-safety-sector-after-12-months": (
        penalty(D(2024, 6, 1), "严重", sector="安全生产"), D(2025, 6, 2), 1, True, False, D(2025, 6, 2), set(),
        "2025年6月2日",
    ),
    # 国家发展改革委令第36号 (from 2026-04-01): 一般 at least 3 months, 严重 at least 12
    "36-general-before": (
        penalty(D(2026, 4, 1)), D(2026, 7, 1), 1, True, False, D(2026, 7, 2), {"min_period"}, "2026年7月2日"
    ),
    "36-general-after": (penalty(D(2026, 4, 1)), D(2026, 7, 2), 1, True, False, D(2026, 7, 2), set(), "2026年7月2日"),
    "36-serious-before": (
        penalty(D(2026, 6, 15), "严重"), D(2026, 11, 28), 1, True, False, D(2027, 6, 16), {"min_period"},
        "2027年6月16日",
    ),
    "36-serious-after": (
        penalty(D(2026, 6, 15), "严重"), D(2027, 6, 16), 1, True, False, D(2027, 6, 16), set(), "2027年6月16日"
    ),
    # list entries: 12 months from the listing decision
    "serious-dishonesty-list-before": (
        entry("serious_dishonesty", D(2025, 3, 10)), D(2026, 3, 10), 1, True, False, D(2026, 3, 11),
        {"min_period"}, "2026年3月11日",
    ),
    "serious-dishonesty-list-after": (
        entry("serious_dishonesty", D(2025, 3, 10)), D(2026, 3, 11), 1, True, False, D(2026, 3, 11), set(),
        "2026年3月11日",
    ),
    "market-ban-for-a-period-after": (
        entry("market_ban", D(2025, 1, 31)), D(2026, 2, 1), 1, True, False, D(2026, 2, 1), set(), "2026年2月1日"
    ),
    # legal bars and what is not repairable at all
    "permanent-market-ban-is-barred": (
        entry("market_ban", D(2020, 1, 1), permanent=True), D(2026, 11, 28), 1, True, False, D(2021, 1, 2),
        {"legal_bar"}, None,
    ),
    "court-enforcement-is-barred": (
        record("SXBZX", D(2024, 1, 1)), D(2026, 11, 28), 1, True, False, D(2024, 1, 1), {"legal_bar"}, None
    ),
    "licence-is-not-dishonesty-information": (
        record("XK", D(2024, 1, 1)), D(2026, 11, 28), 1, True, False, D(2024, 1, 1), {"legal_bar"}, None
    ),
    "red-list-is-not-repaired": (
        entry("red", D(2024, 1, 1)), D(2026, 11, 28), 1, True, False, D(2024, 1, 1), {"legal_bar"}, None
    ),
    "administrative-enforcement-has-no-minimum": (
        record("QZ", D(2026, 11, 28)), D(2026, 11, 28), 1, True, False, D(2026, 11, 28), set(), "2026年11月28日"
    ),
    # what the applicant provides, and the record's own state
    "missing-evidence": (
        penalty(D(2024, 6, 1)), D(2026, 1, 5), 0, True, False, D(2024, 9, 2), {"obligations"}, "2024年9月2日"
    ),
    "missing-commitment": (
        penalty(D(2024, 6, 1)), D(2026, 1, 5), 1, False, False, D(2024, 9, 2), {"commitment"}, "2024年9月2日"
    ),
    "pending-application": (
        penalty(D(2024, 6, 1)), D(2026, 1, 5), 1, True, True, D(2024, 9, 2), {"no_pending"}, "2024年9月2日"
    ),
    "record-not-in-force": (
        penalty(D(2024, 6, 1), in_force=False), D(2026, 1, 5), 1, True, False, D(2024, 9, 2), {"in_force"},
        "2024年9月2日",
    ),
    "no-decision-date": (penalty(None), D(2026, 1, 5), 1, True, False, None, {"min_period"}, None),
    "too-early-and-nothing-provided": (
        penalty(D(2026, 6, 15), "严重"), D(2026, 11, 28), 0, False, True, D(2027, 6, 16),
        {"min_period", "obligations", "commitment", "no_pending"}, "2027年6月16日",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("target", "today", "evidence", "commitment", "pending", "earliest", "unmet", "named"),
    list(ELIGIBILITY.values()),
    ids=list(ELIGIBILITY),
)
def test_eligibility_explains_every_condition(
    target: rules.Target,
    today: dt.date,
    evidence: int,
    commitment: bool,
    pending: bool,
    earliest: dt.date | None,
    unmet: set[str],
    named: str | None,
) -> None:
    result = rules.eligibility(
        target,
        POLICY,
        today=today,
        evidence_count=evidence,
        commitment_signed=commitment,
        pending_application=pending,
    )
    assert result.eligible is (not unmet)
    assert {c.code for c in result.unmet} == unmet
    assert tuple(c.code for c in result.conditions) == CONDITIONS
    assert result.earliest == earliest
    for condition in result.conditions:
        assert CJK.search(condition.explanation), condition
        assert CJK.search(condition.label), condition
    period = next(c for c in result.conditions if c.code == "min_period")
    if named is not None:
        assert named in period.explanation
    if target.decided_on is None:
        assert "缺少决定日期" in period.explanation
    assert result.as_dict()["eligible"] is result.eligible


def test_a_bar_names_its_legal_source() -> None:
    barred = rules.eligibility(
        entry("market_ban", D(2020, 1, 1), permanent=True),
        POLICY,
        today=D(2026, 11, 28),
        evidence_count=1,
        commitment_signed=True,
    )
    bar = next(c for c in barred.conditions if c.code == "legal_bar")
    assert "终身市场禁入" in bar.explanation and "《信用修复管理办法》第二条" in bar.explanation
    assert [b.id for b in barred.bars] == ["permanent_ban"]
    court = rules.eligibility(
        record("SXBZX", D(2024, 1, 1)), POLICY, today=D(2026, 1, 1), evidence_count=1, commitment_signed=True
    )
    assert "最高人民法院" in next(c for c in court.conditions if c.code == "legal_bar").explanation


def test_without_an_evidence_requirement_no_file_is_needed() -> None:
    relaxed = dataclasses.replace(POLICY, evidence_required=False)
    result = rules.eligibility(
        penalty(D(2024, 6, 1)), relaxed, today=D(2026, 1, 5), evidence_count=0, commitment_signed=True
    )
    assert result.eligible


# -- the workflow --------------------------------------------------------------------------------------------

LEGAL: dict[tuple[str, str], str] = {
    (rules.SUBMITTED, "accept"): rules.ACCEPTED,
    (rules.SUBMITTED, "reject"): rules.NOT_ACCEPTED,
    (rules.SUBMITTED, "withdraw"): rules.WITHDRAWN,
    (rules.ACCEPTED, "review"): rules.UNDER_REVIEW,
    (rules.ACCEPTED, "withdraw"): rules.WITHDRAWN,
    (rules.UNDER_REVIEW, "request_material"): rules.MATERIAL_REQUESTED,
    (rules.UNDER_REVIEW, "approve"): rules.REPAIRED,
    (rules.UNDER_REVIEW, "refuse"): rules.REFUSED,
    (rules.UNDER_REVIEW, "withdraw"): rules.WITHDRAWN,
    (rules.MATERIAL_REQUESTED, "supplement"): rules.UNDER_REVIEW,
    (rules.MATERIAL_REQUESTED, "refuse"): rules.REFUSED,
    (rules.MATERIAL_REQUESTED, "withdraw"): rules.WITHDRAWN,
    (rules.REPAIRED, "revert"): rules.REVERTED,
    (rules.REFUSED, "complete"): rules.REPAIRED,
    (rules.NOT_ACCEPTED, "complete"): rules.REPAIRED,
}
ILLEGAL = [(s, e) for s in rules.STATE_LABELS for e in rules.EVENT_LABELS if (s, e) not in LEGAL]
NOTE = "经核查，理由如下"


def met() -> rules.Eligibility:
    return rules.eligibility(
        penalty(D(2024, 6, 1)), POLICY, today=D(2026, 1, 5), evidence_count=1, commitment_signed=True
    )


def unmet() -> rules.Eligibility:
    return rules.eligibility(
        penalty(D(2026, 6, 15), "严重"),
        POLICY,
        today=D(2026, 11, 28),
        evidence_count=0,
        commitment_signed=True,
    )


@pytest.mark.parametrize(("state", "event"), list(LEGAL), ids=[f"{s}-{e}" for s, e in LEGAL])
def test_every_legal_step_reaches_its_state(state: str, event: str) -> None:
    assert rules.transition(state, event, eligibility=met(), note=NOTE) == LEGAL[(state, event)]


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=[f"{s}-{e}" for s, e in ILLEGAL])
def test_every_other_step_is_refused_with_its_code(state: str, event: str) -> None:
    with pytest.raises(rules.RepairRuleError) as caught:
        rules.transition(state, event, eligibility=met(), note=NOTE)
    assert caught.value.code == rules.ILLEGAL_TRANSITION
    assert rules.STATE_LABELS[state] in caught.value.message
    assert rules.EVENT_LABELS[event] in caught.value.message


def test_the_tables_cover_the_whole_cross_product() -> None:
    assert len(LEGAL) + len(ILLEGAL) == len(rules.STATE_LABELS) * len(rules.EVENT_LABELS)
    assert ILLEGAL  # the final states alone refuse every event


@pytest.mark.parametrize("state", list(rules.STATE_LABELS))
def test_allowed_events_are_the_legal_steps(state: str) -> None:
    assert set(rules.allowed_events(state)) == {e for s, e in LEGAL if s == state}


@pytest.mark.parametrize("state", [rules.WITHDRAWN, rules.REVERTED])
def test_withdrawn_and_reverted_are_final(state: str) -> None:
    assert rules.allowed_events(state) == ()


NOTE_STEPS = [(s, e) for (s, e) in LEGAL if e in rules.NOTE_REQUIRED]


@pytest.mark.parametrize(("state", "event"), NOTE_STEPS, ids=[f"{s}-{e}" for s, e in NOTE_STEPS])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_step_that_needs_reasons_is_refused_without_them(state: str, event: str, note: str | None) -> None:
    with pytest.raises(rules.RepairRuleError) as caught:
        rules.transition(state, event, eligibility=met(), note=note)
    assert caught.value.code == rules.NOTE_MISSING
    assert rules.EVENT_LABELS[event] in caught.value.message


def test_accepting_and_approving_need_no_reasons() -> None:
    assert rules.transition(rules.SUBMITTED, "accept") == rules.ACCEPTED
    assert rules.transition(rules.UNDER_REVIEW, "approve") == rules.REPAIRED


@pytest.mark.parametrize(("state", "event"), [(rules.UNDER_REVIEW, "approve"), (rules.REFUSED, "complete")])
def test_approval_and_completion_are_refused_when_not_eligible(state: str, event: str) -> None:
    with pytest.raises(rules.RepairRuleError) as caught:
        rules.transition(state, event, eligibility=unmet(), note=NOTE)
    assert caught.value.code == rules.NOT_ELIGIBLE
    assert "2027年6月16日" in caught.value.message and "证明材料" in caught.value.message


@pytest.mark.parametrize(
    ("state", "event", "code"),
    [("draft", "accept", "repair.unknown_state"), (rules.SUBMITTED, "delete", "repair.unknown_event")],
)
def test_unknown_states_and_events_are_named(state: str, event: str, code: str) -> None:
    with pytest.raises(rules.RepairRuleError) as caught:
        rules.transition(state, event, note=NOTE)
    assert caught.value.code == code


def test_each_event_belongs_to_one_actor() -> None:
    actors = (rules.DEPARTMENT_EVENTS, rules.APPLICANT_EVENTS, rules.RECHECK_EVENTS)
    assert set().union(*actors) == set(rules.EVENT_LABELS)
    assert sum(len(a) for a in actors) == len(rules.EVENT_LABELS)


# -- deadlines -----------------------------------------------------------------------------------------------
# 2026 official schedule (国办发明电〔2025〕7号): 春节 15-23 February off, Saturday 14 and Saturday 28 February
# worked; 中秋节 25-27 September; 国庆节 1-7 October off, Sunday 20 September and Saturday 10 October worked.


@pytest.mark.parametrize(
    ("event", "on", "due"),
    [
        # National Day: Oct 8 (Thu), Oct 9 (Fri), Oct 10 (Saturday, worked)
        ("submit", D(2026, 9, 30), D(2026, 10, 10)),
        ("accept", D(2026, 9, 30), D(2026, 10, 15)),
        ("supplement", D(2026, 9, 30), D(2026, 10, 15)),
        ("request_material", D(2026, 9, 30), D(2026, 10, 20)),
        # 中秋 (Fri 25 September) then the National Day week
        ("submit", D(2026, 9, 24), D(2026, 9, 30)),
        ("accept", D(2026, 9, 24), D(2026, 10, 12)),
        # Sunday 20 September is worked
        ("submit", D(2026, 9, 18), D(2026, 9, 22)),
        # Spring Festival: Saturday 14 February worked, 15-23 off, Saturday 28 February worked
        ("submit", D(2026, 2, 13), D(2026, 2, 25)),
        ("accept", D(2026, 2, 13), D(2026, 3, 2)),
        ("request_material", D(2026, 2, 13), D(2026, 3, 5)),
        ("submit", D(2026, 2, 12), D(2026, 2, 24)),
        # an application made on a rest day: the count starts the next day
        ("submit", D(2026, 10, 3), D(2026, 10, 10)),
    ],
)
def test_deadlines_follow_the_official_2026_schedule(event: str, on: dt.date, due: dt.date) -> None:
    deadline = rules.due_after(event, on, POLICY, CALENDAR)
    assert deadline is not None
    assert (deadline.due, deadline.provisional) == (due, False)


@pytest.mark.skipif(_package_knows(2027), reason="the installed chinese-calendar already knows 2027")
@pytest.mark.parametrize(
    ("event", "on", "due", "provisional"),
    [
        ("submit", D(2026, 12, 28), D(2026, 12, 31), False),  # every counted day is in 2026
        ("submit", D(2026, 12, 30), D(2027, 1, 5), True),  # 元旦 2027 from the statutory rule
        # 春节 2027 (初一 Saturday 6 February): 除夕 Friday 5 to 初三 Monday 8 off, no worked weekend known
        ("accept", D(2027, 2, 4), D(2027, 2, 17), True),
    ],
)
def test_a_deadline_in_a_year_without_a_schedule_is_provisional(
    event: str, on: dt.date, due: dt.date, provisional: bool
) -> None:
    deadline = rules.due_after(event, on, POLICY, CALENDAR)
    assert deadline is not None
    assert (deadline.due, deadline.provisional) == (due, provisional)


@pytest.mark.parametrize(
    "event", ["review", "approve", "refuse", "reject", "withdraw", "revert", "complete", "recheck"]
)
def test_steps_after_which_nobody_owes_a_new_deadline(event: str) -> None:
    assert rules.due_after(event, D(2026, 6, 1), POLICY, CALENDAR) is None


@pytest.mark.parametrize(
    ("state", "due", "today", "overdue"),
    [
        (rules.SUBMITTED, D(2026, 10, 10), D(2026, 10, 10), False),  # the due day itself is in time
        (rules.SUBMITTED, D(2026, 10, 10), D(2026, 10, 11), True),
        (rules.UNDER_REVIEW, D(2026, 10, 15), D(2026, 11, 1), True),
        (rules.MATERIAL_REQUESTED, D(2026, 10, 20), D(2026, 10, 21), True),
        (rules.REPAIRED, D(2026, 10, 15), D(2026, 11, 1), False),
        (rules.WITHDRAWN, D(2026, 10, 15), D(2026, 11, 1), False),
        (rules.ACCEPTED, None, D(2026, 11, 1), False),
    ],
)
def test_overdue_only_while_a_step_is_owed(
    state: str, due: dt.date | None, today: dt.date, overdue: bool
) -> None:
    assert rules.is_overdue(state, due, today) is overdue


# -- the re-check sample -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("population", "rate", "minimum", "size"),
    [
        (0, 0.1, 1, 0),
        (-3, 0.1, 1, 0),
        (1, 0.1, 1, 1),  # the minimum
        (4, 0.1, 1, 1),
        (9, 0.1, 1, 1),
        (16, 0.1, 1, 2),  # the rate, rounded up: at least that share
        (25, 0.1, 1, 3),  # 2.5 -> 3 (never 2, as rounding half to even would give)
        (26, 0.1, 1, 3),
        (20, 0.1, 1, 2),  # exactly 10 %
        (100, 0.1, 1, 10),
        (1000, 0.1, 1, 100),
        (3, 0.1, 5, 3),  # never more than all
        (40, 1.0, 1, 40),
        (40, 0.0, 1, 1),
        (40, 0.0, 0, 0),
    ],
)
def test_sample_size_is_the_rate_at_least_the_minimum_at_most_all(
    population: int, rate: float, minimum: int, size: int
) -> None:
    policy = dataclasses.replace(POLICY, recheck_rate=rate, recheck_minimum=minimum)
    assert rules.sample_size(population, policy) == size


# -- the policy as data -------------------------------------------------------------------------------------


def test_the_shipped_policy_loads_with_its_deadlines_and_bars() -> None:
    assert (POLICY.accept_workdays, POLICY.decide_workdays, POLICY.supplement_workdays) == (3, 7, 10)
    assert POLICY.objection_workdays == 7
    assert POLICY.item_minimums["CF"] is None  # the penalty's own minimum window
    assert POLICY.list_minimums == {"serious_dishonesty": 12, "market_ban": 12}
    assert {b.id for b in POLICY.bars} == {"court_enforcement", "permanent_ban"}
    assert all(b.source.strip() for b in POLICY.bars)


@pytest.mark.parametrize("source", [None, "", "   "])
def test_a_bar_without_its_legal_source_is_refused(source: str | None) -> None:
    raw = {**RAW_POLICY, "bars": [{"id": "x", "label": "某情形不可修复", "items": ["CF"], "source": source}]}
    with pytest.raises(ValueError, match="法律依据"):
        rules.Policy.from_mapping(raw)


@pytest.mark.parametrize(("name", "value"), [("accept", 0), ("decide", 0), ("supplement", -1)])
def test_a_deadline_of_less_than_one_working_day_is_refused(name: str, value: int) -> None:
    raw = {**RAW_POLICY, "deadlines": {**RAW_POLICY["deadlines"], name: value}}
    with pytest.raises(ValueError, match="至少为1个工作日"):
        rules.Policy.from_mapping(raw)


def test_a_permanent_only_bar_spares_a_ban_for_a_period() -> None:
    bar = next(b for b in POLICY.bars if b.id == "permanent_ban")
    assert bar.applies(entry("market_ban", D(2024, 1, 1), permanent=True))
    assert not bar.applies(entry("market_ban", D(2024, 1, 1)))
    assert not bar.applies(record("CF", D(2024, 1, 1)))
