"""Loading the penalty rule sets (shipped data, or the credit office's corrected copy)."""

from __future__ import annotations

import datetime as dt
import itertools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from xinyong.disclosure.rules import RuleSet, SeverityRule
from xinyong.kit.datafiles import ParsedFiles

OVERRIDE_NAME = "disclosure_rule_sets.yaml"


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def parse_rule_sets(text: str) -> list[RuleSet]:
    """Parse rule sets; every set must cite its source and the periods must not overlap."""
    raw = yaml.safe_load(text)
    sets = []
    for entry in raw["rule_sets"]:
        if not entry.get("source"):
            raise ValueError(f"rule set {entry.get('id')}: a rule without its legal source cannot be saved")
        severities = {
            name: SeverityRule(
                publish=bool(spec.get("publish")),
                min_months=int(spec.get("min_months", 0)),
                max_months=spec.get("max_months"),
                industry_max_months=spec.get("industry_max_months"),
            )
            for name, spec in entry["severities"].items()
        }
        sets.append(
            RuleSet(
                id=entry["id"],
                title=entry["title"],
                source=entry["source"],
                applies_from=_date(entry.get("applies_from")),
                applies_until=_date(entry.get("applies_until")),
                severities=severities,
                sector_minimums={k: int(v) for k, v in (entry.get("sector_minimums") or {}).items()},
                industry_publish=frozenset(entry.get("industry_publish") or ()),
            )
        )
    ordered = sorted(sets, key=lambda s: s.applies_from or dt.date.min)
    for earlier, later in itertools.pairwise(ordered):
        if earlier.applies_until is None or (
            later.applies_from and later.applies_from <= earlier.applies_until
        ):
            raise ValueError(f"rule sets {earlier.id} and {later.id} overlap")
    return ordered


def _shipped() -> str:
    return resources.files("xinyong.disclosure").joinpath("data/rule_sets.yaml").read_text(encoding="utf-8")


class RuleSetStore:
    """The penalty rule sets in force, parsed once per version of their file (the data directory's corrected
    copy, else the shipped one). The platform owns one (`Platform.rule_sets`)."""

    def __init__(self) -> None:
        self._files = ParsedFiles(OVERRIDE_NAME, _shipped, lambda text: tuple(parse_rule_sets(text)))

    def get(self, data_dir: Path | None = None) -> list[RuleSet]:
        return list(self._files.get(data_dir))  # a list of its own for each caller, as before


def rule_sets(data_dir: Path | None = None) -> list[RuleSet]:
    """The rule sets in force read now (no cache). The platform keeps its parsed rule sets in a `RuleSetStore`."""
    return RuleSetStore().get(data_dir)
