"""Penalty publicity windows at the rule-set boundaries, completing tests/unit/test_disclosure_rules.py.

That file has one row per rule set and severity; this one adds the rows it lacks: both sides of each change
(2023-04-30/2023-05-01: 527号 → 58号令; 2026-03-31/2026-04-01: 58号令 → 36号令) for every severity, the sector
minimums of 58号令 (安全生产, 消防安全), which the other rule sets do not have, and a missing or unknown severity.
"""

from __future__ import annotations

import datetime as dt

import pytest

from xinyong.catalog import service as catalog_service
from xinyong.disclosure import service
from xinyong.disclosure.rules import Window, window_for

D = dt.date
CATALOG = catalog_service.load()
RULES = service.rule_sets()


def penalty_window(decided: dt.date, severity: str | None, sector: str | None = None) -> Window:
    item = CATALOG.item("CF")
    assert item is not None
    return window_for(item, decision_date=decided, severity=severity, sector=sector, rule_sets=RULES)


@pytest.mark.parametrize(
    ("decided", "severity", "sector", "rule", "min_until", "until"),
    [
        # the last day of 527号 and the first of 58号令
        (D(2023, 4, 30), "严重", None, "ndrc-2019-527", D(2023, 10, 30), D(2026, 4, 30)),
        (D(2023, 5, 1), "一般", None, "ndrc-2023-58", D(2023, 8, 1), D(2026, 5, 1)),
        # the last day of 58号令 (3 to 36 months for both) and the first of 36号令
        (D(2026, 3, 31), "严重", None, "ndrc-2023-58", D(2026, 6, 30), D(2029, 3, 31)),
        (D(2026, 4, 1), "一般", None, "ndrc-2026-36", D(2026, 7, 1), D(2027, 4, 1)),
        (D(2026, 4, 1), "严重", None, "ndrc-2026-36", D(2027, 4, 1), D(2029, 4, 1)),
        # 58号令's sector minimum of 12 months; the maximum stays 36
        (D(2024, 6, 1), "一般", "安全生产", "ndrc-2023-58", D(2025, 6, 1), D(2027, 6, 1)),
        (D(2024, 6, 1), "严重", "安全生产", "ndrc-2023-58", D(2025, 6, 1), D(2027, 6, 1)),
        (D(2026, 3, 31), "一般", "消防安全", "ndrc-2023-58", D(2027, 3, 31), D(2029, 3, 31)),
        (D(2023, 5, 1), "一般", "特种设备", "ndrc-2023-58", D(2024, 5, 1), D(2026, 5, 1)),
        # neither 527号 nor 36号令 has sector minimums
        (D(2023, 4, 30), "一般", "安全生产", "ndrc-2019-527", D(2023, 7, 30), D(2024, 4, 30)),
        (D(2026, 4, 1), "一般", "安全生产", "ndrc-2026-36", D(2026, 7, 1), D(2027, 4, 1)),
        # a sector without a minimum changes nothing under 58号令
        (D(2024, 6, 1), "一般", "税务", "ndrc-2023-58", D(2024, 9, 1), D(2027, 6, 1)),
        # no severity sent: 一般
        (D(2026, 4, 1), None, None, "ndrc-2026-36", D(2026, 7, 1), D(2027, 4, 1)),
        (D(2026, 3, 31), None, None, "ndrc-2023-58", D(2026, 6, 30), D(2029, 3, 31)),
    ],
)
def test_window_at_the_rule_set_boundaries(
    decided: dt.date,
    severity: str | None,
    sector: str | None,
    rule: str,
    min_until: dt.date,
    until: dt.date,
) -> None:
    window = penalty_window(decided, severity, sector)
    assert (window.rule, window.public_from, window.min_public_until, window.public_until) == (
        rule,
        decided,
        min_until,
        until,
    )


@pytest.mark.parametrize(
    ("decided", "rule"),
    [
        (D(2023, 4, 30), "ndrc-2019-527"),
        (D(2023, 5, 1), "ndrc-2023-58"),
        (D(2026, 3, 31), "ndrc-2023-58"),
        (D(2026, 4, 1), "ndrc-2026-36"),
    ],
)
@pytest.mark.parametrize("sector", [None, "安全生产"])
def test_minor_penalties_are_not_published_on_either_side_of_a_change(
    decided: dt.date, rule: str, sector: str | None
) -> None:
    window = penalty_window(decided, "轻微", sector)
    assert window.rule == rule
    assert (window.public_from, window.public_until, window.min_public_until) == (None, None, None)
    assert not window.published


@pytest.mark.parametrize("decided", [D(2023, 4, 30), D(2026, 3, 31), D(2026, 4, 1)])
def test_an_unknown_severity_is_not_published(decided: dt.date) -> None:
    assert not penalty_window(decided, "特别严重").published
