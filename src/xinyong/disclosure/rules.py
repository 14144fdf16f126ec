"""Publicity windows (公示期): pure rules over catalog disclosure rules and dated penalty rule sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from xinyong.catalog.schemas import CatalogItem, DisclosureClass
from xinyong.kit.dates import add_months


@dataclass(frozen=True, slots=True)
class SeverityRule:
    publish: bool
    min_months: int = 0
    max_months: int | None = None
    # Not published by default, but at most this long where an industry rule publishes it (36号令: 轻微).
    industry_max_months: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    title: str
    source: str
    applies_from: dt.date | None
    applies_until: dt.date | None
    severities: dict[str, SeverityRule]
    sector_minimums: dict[str, int]
    industry_publish: frozenset[str] = frozenset()  # sectors whose industry rule publishes such penalties

    def applies_to(self, decision_date: dt.date) -> bool:
        return (self.applies_from is None or self.applies_from <= decision_date) and (
            self.applies_until is None or decision_date <= self.applies_until
        )


@dataclass(frozen=True, slots=True)
class Window:
    """When a record is public. public_from None: never public; public_until None: no end date."""

    public_from: dt.date | None
    public_until: dt.date | None
    min_public_until: dt.date | None
    rule: str

    @property
    def published(self) -> bool:
        return self.public_from is not None

    def contains(self, day: dt.date) -> bool:
        if self.public_from is None or day < self.public_from:
            return False
        return self.public_until is None or day <= self.public_until


NOT_PUBLIC = Window(None, None, None, "none")


def rule_set_for(rule_sets: list[RuleSet], decision_date: dt.date) -> RuleSet:
    for rule_set in rule_sets:
        if rule_set.applies_to(decision_date):
            return rule_set
    raise LookupError(f"no penalty rule set covers {decision_date}")


def _end(start: dt.date, months: int) -> dt.date:
    # Civil Code art. 201-203: the start day is not counted and the period ends on the corresponding day of
    # the final month (its last day if it has none): 2026-04-01 + 3 months ends on 2026-07-01.
    return add_months(start, months)


def window_for(
    item: CatalogItem,
    *,
    decision_date: dt.date | None,
    end_date: dt.date | None = None,
    severity: str | None = None,
    sector: str | None = None,
    rule_sets: list[RuleSet],
) -> Window:
    """The publicity window of a record from its item's rule (and, for penalties, the rule set in force)."""
    rule = item.disclosure_rule
    if item.disclosure_class != DisclosureClass.PUBLIC or rule.kind == "none" or decision_date is None:
        return NOT_PUBLIC
    start = decision_date
    if rule.kind == "permanent":
        return Window(start, None, None, "permanent")
    if rule.kind == "fixed":
        assert rule.max_months is not None
        return Window(start, _end(start, rule.max_months), None, f"fixed:{rule.max_months}")
    if rule.kind in ("valid_period", "until_end"):
        cap = _end(start, rule.max_months) if rule.max_months else None
        until = end_date if end_date is not None else (cap if rule.kind == "valid_period" else None)
        if until is not None and cap is not None:
            until = min(until, cap)
        elif cap is not None and rule.kind == "until_end":
            until = cap
        return Window(start, until, None, f"{rule.kind}:{rule.max_months}")
    rule_set = rule_set_for(rule_sets, decision_date)
    severity_rule = rule_set.severities.get(severity or "一般")
    if (
        severity_rule is not None
        and not severity_rule.publish
        and severity_rule.industry_max_months
        and sector in rule_set.industry_publish
    ):
        # Published only because the sector's industry rule says so, for at most the industry maximum; the
        # subject may apply for repair as soon as its obligations are fulfilled (no minimum period).
        return Window(start, _end(start, severity_rule.industry_max_months), start, f"{rule_set.id}:industry")
    if severity_rule is None or not severity_rule.publish or severity_rule.max_months is None:
        return Window(None, None, None, rule_set.id)
    min_months = max(severity_rule.min_months, rule_set.sector_minimums.get(sector or "", 0))
    max_months = max(severity_rule.max_months, min_months)
    return Window(start, _end(start, max_months), _end(start, min_months), rule_set.id)


def is_public_now(
    *,
    status: str,
    public_from: dt.date | None,
    public_until: dt.date | None,
    today: dt.date,
) -> bool:
    """A record is public today only if active and inside its window."""
    if status != "active" or public_from is None or today < public_from:
        return False
    return public_until is None or today <= public_until


def describe_window_rule(rule: str, severity: str | None, rule_sets: Sequence[RuleSet]) -> str:
    """Why a window made by ``rule`` (a record's `disclosure_rule`) ends, in a few words."""
    kind, _, detail = rule.partition(":")
    if kind == "fixed":
        return f"fixed period of {detail} months after the decision"
    if kind == "valid_period":
        return f"end of the validity period (at most {detail} months after the decision)"
    if kind == "until_end":
        return f"end of the situation (at most {detail} months after the decision)"
    if kind == "permanent":
        return "never ends"
    rule_set = next((r for r in rule_sets if r.id == kind), None)
    if rule_set is None:
        return f"rule {rule}"
    if detail == "industry":
        return f"{rule_set.source}: minor penalty published under an industry rule"
    level = severity or "一般"
    severity_rule = rule_set.severities.get(level)
    if severity_rule is None or severity_rule.max_months is None:
        return rule_set.source
    return f"{rule_set.source}: {level} penalties public for {severity_rule.max_months} months"
