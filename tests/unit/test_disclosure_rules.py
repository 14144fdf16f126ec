"""Publicity windows by severity and decision date, across the rule-set changes."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyong.catalog import service as catalog_service
from xinyong.disclosure import service
from xinyong.disclosure.rules import is_public_now, window_for

CATALOG = catalog_service.load()
RULES = service.rule_sets()
CF = CATALOG.item("CF")


def penalty_window(decided: dt.date, severity: str, sector: str | None = None):  # type: ignore[no-untyped-def]
    assert CF is not None
    return window_for(CF, decision_date=decided, severity=severity, sector=sector, rule_sets=RULES)


@pytest.mark.parametrize(
    ("decided", "severity", "rule", "min_until", "until"),
    [
        # 国家发展改革委令第36号, from 2026-04-01
        (dt.date(2026, 4, 1), "一般", "ndrc-2026-36", dt.date(2026, 7, 1), dt.date(2027, 4, 1)),
        (dt.date(2026, 4, 1), "严重", "ndrc-2026-36", dt.date(2027, 4, 1), dt.date(2029, 4, 1)),
        # 国家发展改革委令第58号, 2023-05-01 .. 2026-03-31
        # no corresponding day in June: the month's last day ends the period
        (dt.date(2026, 3, 31), "一般", "ndrc-2023-58", dt.date(2026, 6, 30), dt.date(2029, 3, 31)),
        (dt.date(2023, 5, 1), "严重", "ndrc-2023-58", dt.date(2023, 8, 1), dt.date(2026, 5, 1)),
        # 发改办财金〔2019〕527号, before
        (dt.date(2023, 4, 30), "一般", "ndrc-2019-527", dt.date(2023, 7, 30), dt.date(2024, 4, 30)),
        (dt.date(2022, 1, 31), "严重", "ndrc-2019-527", dt.date(2022, 7, 31), dt.date(2025, 1, 31)),
    ],
)
def test_window_follows_the_rule_in_force_at_the_decision_date(
    decided: dt.date, severity: str, rule: str, min_until: dt.date, until: dt.date
) -> None:
    window = penalty_window(decided, severity)
    assert window.rule == rule
    assert window.public_from == decided
    assert window.min_public_until == min_until
    assert window.public_until == until


@pytest.mark.parametrize("decided", [dt.date(2022, 6, 1), dt.date(2024, 6, 1), dt.date(2026, 6, 1)])
def test_minor_penalties_are_not_published(decided: dt.date) -> None:
    window = penalty_window(decided, "轻微")
    assert not window.published
    assert not window.contains(decided)


def test_special_equipment_penalties_under_order_58_stay_at_least_a_year() -> None:
    window = penalty_window(dt.date(2024, 6, 1), "一般", sector="特种设备")
    assert window.min_public_until == dt.date(2025, 6, 1)


def test_public_only_inside_the_window_and_while_active() -> None:
    window = penalty_window(dt.date(2026, 6, 15), "一般")
    assert window.public_until == dt.date(2027, 6, 15)
    kwargs = {"public_from": window.public_from, "public_until": window.public_until}
    assert is_public_now(status="active", today=dt.date(2027, 6, 15), **kwargs)
    assert not is_public_now(status="active", today=dt.date(2027, 6, 16), **kwargs)
    assert not is_public_now(status="active", today=dt.date(2026, 6, 14), **kwargs)
    assert not is_public_now(status="revoked", today=dt.date(2026, 7, 1), **kwargs)


def test_items_without_public_disclosure_are_never_public() -> None:
    social_insurance = CATALOG.item("QJSB")
    assert social_insurance is not None
    window = window_for(social_insurance, decision_date=dt.date(2026, 1, 1), rule_sets=RULES)
    assert not window.published


def test_a_rule_set_without_its_source_cannot_be_loaded() -> None:
    text = """
rule_sets:
  - id: x
    title: t
    source: ""
    applies_from: null
    applies_until: null
    severities: {一般: {publish: true, min_months: 3, max_months: 12}}
"""
    with pytest.raises(ValueError, match="legal source"):
        service.parse_rule_sets(text)
