"""Several penalties in one decision: the most serious severity counts, so the longest window applies."""

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
