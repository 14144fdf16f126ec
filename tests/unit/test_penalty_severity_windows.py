"""Penalty windows beyond the table: several penalties in one decision (the most serious counts) and minor
penalties published only where an industry rule says so (36号令)."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyong.catalog import service as catalog_service
from xinyong.disclosure import rules as disclosure
from xinyong.disclosure import service as disclosure_service
from xinyong.records import rules

TODAY = dt.date(2026, 11, 28)


def severity_of(cell: str) -> tuple[str | None, list[str]]:
    item = catalog_service.load().item("CF")
    assert item is not None
    converted, errors = rules.validate_fields(item, {"severity": cell}, today=TODAY)
    return converted.get("severity"), [e.code for e in errors]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("一般", "一般"),
        ("一般、严重", "严重"),
        ("轻微；一般", "一般"),
        ("minor, serious", "严重"),
        ("严重/轻微", "严重"),
    ],
)
def test_the_most_serious_value_of_one_decision_counts(cell: str, expected: str) -> None:
    assert severity_of(cell) == (expected, [])


def test_an_unknown_value_among_several_is_still_an_error() -> None:
    value, errors = severity_of("一般、很严重")
    assert value is None and errors == ["enum"]


def test_the_decision_takes_the_longest_window() -> None:
    item = catalog_service.load().item("CF")
    assert item is not None
    rule_sets = disclosure_service.rule_sets()
    decided = dt.date(2026, 6, 15)
    combined, _ = severity_of("一般、严重")
    windows = {
        severity: disclosure.window_for(item, decision_date=decided, severity=severity, rule_sets=rule_sets)
        for severity in ("一般", "严重")
    }
    chosen = disclosure.window_for(item, decision_date=decided, severity=combined, rule_sets=rule_sets)
    assert chosen.public_until == max(w.public_until for w in windows.values() if w.public_until)
    assert chosen.public_until == dt.date(2029, 6, 15)


def test_minor_penalty_is_published_for_three_months_only_where_an_industry_rule_says_so() -> None:
    import dataclasses

    item = catalog_service.load().item("CF")
    assert item is not None
    shipped = disclosure_service.rule_sets()
    decided = dt.date(2026, 6, 15)
    default = disclosure.window_for(
        item, decision_date=decided, severity="轻微", sector="交通运输", rule_sets=shipped
    )
    assert not default.published  # 36号令: 轻微 not published by default
    with_industry_rule = [
        dataclasses.replace(rs, industry_publish=frozenset({"交通运输"})) if rs.id == "ndrc-2026-36" else rs
        for rs in shipped
    ]
    published = disclosure.window_for(
        item, decision_date=decided, severity="轻微", sector="交通运输", rule_sets=with_industry_rule
    )
    assert (published.public_from, published.public_until) == (decided, dt.date(2026, 9, 15))
    assert published.min_public_until == decided  # repairable once the obligations are fulfilled
    other_sector = disclosure.window_for(
        item, decision_date=decided, severity="轻微", sector="税务", rule_sets=with_industry_rule
    )
    assert not other_sector.published


def test_industry_publication_is_read_from_the_rule_set_data() -> None:
    text = """
rule_sets:
  - id: only
    title: t
    source: 国家发展改革委令第36号
    applies_from: null
    applies_until: null
    severities:
      轻微: {publish: false, industry_max_months: 3}
    industry_publish: [交通运输]
"""
    [rule_set] = disclosure_service.parse_rule_sets(text)
    assert rule_set.industry_publish == frozenset({"交通运输"})
    assert rule_set.severities["轻微"].industry_max_months == 3
