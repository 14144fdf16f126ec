"""The pure rules of tiered supervision (no database): tier tables, targets, the seeded stratified draw (each
subject's chance is its tier's ratio, within statistical tolerance over many seeds), inspector assignment
(conflicts, region, at least two, balance), the frequency flag and masking."""

from __future__ import annotations

import copy
import hashlib
import math
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from xinyong.kit.errors import ValidationFailed
from xinyong.supervision import rules, tiers

TABLE: dict[str, Any] = {
    "source": "国办发〔2019〕35号",
    "default_tier": "C",
    "tiers": [
        {"code": "A", "grades": ["A"], "ratio_pct": 3},
        {"code": "B", "grades": ["B"], "ratio_pct": "5%"},
        {"code": "C", "grades": ["C"], "ratio_pct": 10},
        {"code": "D", "grades": ["D"], "ratio_pct": 30},
    ],
}


def _scope(sizes: dict[str, int]) -> list[rules.ScopeSubject]:
    return [
        rules.ScopeSubject(f"91510100{tier}{n:09d}", tier)
        for tier, size in sizes.items()
        for n in range(size)
    ]


def test_the_shipped_table_has_its_source_and_the_stated_defaults() -> None:
    table = tiers.shipped()
    assert (
        "国发〔2019〕5号" in table.source and "国办发〔2019〕35号" in table.source and "546号" in table.source
    )
    assert {t.code: t.ratio_pct for t in table.tiers} == {
        "A": Decimal(3),
        "B": Decimal(5),
        "C": Decimal(10),
        "D": Decimal(30),
    }
    assert table.tier_of(None) == table.default_tier == "C" and table.tier_of("D") == "D"


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (("source",), "", "supervision.source_missing"),
        (("tiers", 0, "ratio_pct"), 100.5, "supervision.ratio_out_of_range"),
        (("tiers", 0, "ratio_pct"), -0.01, "supervision.ratio_out_of_range"),
        (("tiers", 0, "ratio_pct"), "NaN", "supervision.ratio_out_of_range"),
        (("tiers", 0, "ratio_pct"), "3.001", "supervision.ratio_invalid"),
        (("tiers", 1, "grades"), ["A"], "supervision.tiers_invalid"),  # A twice, B nowhere
        (("tiers", 0, "per_period"), 0, "supervision.frequency_invalid"),
        (("default_tier",), "X", "supervision.default_tier_invalid"),
    ],
)
def test_bad_tables_are_refused_with_a_code(path: tuple[Any, ...], value: Any, code: str) -> None:
    document = copy.deepcopy(TABLE)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationFailed) as caught:
        rules.parse_tier_table(document)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("count", "ratio", "expected"),
    [(20, "3", 1), (100, "3", 3), (101, "3", 4), (0, "30", 0), (7, "100", 7), (7, "0", 0), (1000, "0.25", 3)],
)
def test_targets_are_at_least_the_ratio(count: int, ratio: str, expected: int) -> None:
    got = rules.target(count, Decimal(ratio))
    assert got == expected == min(count, math.ceil(count * Decimal(ratio) / 100))


def test_the_same_seed_draws_the_same_and_the_key_is_sha256_of_seed_and_uscc() -> None:
    table = rules.parse_tier_table(TABLE)
    scope = _scope({"A": 50, "B": 40, "C": 30, "D": 10})
    first, wanted = rules.draw("ab" * 32, scope, table)
    again, _ = rules.draw("ab" * 32, list(reversed(scope)), table)
    other, _ = rules.draw("cd" * 32, scope, table)
    assert first == again and first != other and wanted == {"A": 2, "B": 2, "C": 3, "D": 3}
    a_tier = sorted(
        (s for s in scope if s.tier == "A"),
        key=lambda s: hashlib.sha256(("ab" * 32 + s.uscc).encode()).hexdigest(),
    )
    assert first[:2] == a_tier[:2]


def test_each_subjects_chance_is_its_tiers_ratio_over_many_seeds() -> None:
    table = rules.parse_tier_table(TABLE)
    sizes = {"A": 100, "B": 100, "C": 60, "D": 20}
    scope = _scope(sizes)
    seeds = 1500
    hits: Counter[str] = Counter()
    for n in range(seeds):
        drawn, wanted = rules.draw(hashlib.sha256(str(n).encode()).hexdigest(), scope, table)
        assert rules.counts_by_tier(table, drawn) == wanted
        hits.update(s.uscc for s in drawn)
    for tier in table.tiers:
        members = [s.uscc for s in scope if s.tier == tier.code]
        p = rules.target(len(members), tier.ratio_pct) / len(members)  # at least the ratio
        assert p >= float(tier.ratio_pct) / 100
        rates = [hits[u] / seeds for u in members]
        mean = sum(rates) / len(rates)
        assert mean == pytest.approx(p, abs=1e-9)  # exactly the target share on average
        bound = 5 * math.sqrt(p * (1 - p) / seeds)  # each subject within five standard errors
        assert max(abs(r - p) for r in rates) < bound, tier.code


def test_an_empty_scope_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.draw("00", [], rules.parse_tier_table(TABLE))
    assert caught.value.code == "supervision.empty_pool"


def _inspector(n: int, region: str = "510104", conflicts: tuple[str, ...] = ()) -> rules.InspectorEntry:
    return rules.InspectorEntry(n, f"L{n:04d}", region, frozenset(conflicts))


def test_inspectors_avoid_conflicts_stay_in_the_region_and_share_the_load() -> None:
    scope = _scope({"C": 40})
    bad = scope[0].uscc
    pool = [_inspector(n, conflicts=(bad,) if n < 3 else ()) for n in range(6)] + [_inspector(99, "510700")]
    assigned = rules.assign("ee" * 32, scope, pool, region="510100")
    assert all(len(set(ids)) == 2 for ids in assigned)
    assert not {0, 1, 2} & set(assigned[0]) and all(99 not in ids for ids in assigned)
    load = Counter(i for ids in assigned for i in ids)
    assert max(load.values()) - min(load.values()) <= 1
    assert rules.assign("ee" * 32, scope, pool, region="510100") == assigned  # reproducible
    assert any(99 in ids for ids in rules.assign("ee" * 32, scope, pool, region=None))


def test_fewer_than_two_eligible_inspectors_names_the_subject() -> None:
    scope = _scope({"D": 1})
    pool = [_inspector(1), _inspector(2, conflicts=(scope[0].uscc,)), _inspector(3, "510700")]
    with pytest.raises(ValidationFailed) as caught:
        rules.assign("00", scope, pool, region="510104")
    assert caught.value.code == "supervision.too_few_inspectors" and scope[0].uscc in caught.value.message


def test_region_prefixes() -> None:
    assert [rules.region_prefix(c) for c in ("510000", "510100", "510104")] == ["51", "5101", "510104"]
    assert (
        rules.within("510104", "510100")
        and not rules.within("510703", "510100")
        and not rules.within(None, "51")
    )


def test_a_subject_drawn_more_often_than_its_tier_allows_is_flagged() -> None:
    assert rules.over_frequency([2026 * 12, 2027 * 12], per_period=1, period_months=24)
    assert not rules.over_frequency([2026 * 12, 2028 * 12], per_period=1, period_months=24)
    assert not rules.over_frequency([2026 * 12, 2026 * 12 + 6], per_period=2, period_months=12)
    assert rules.over_frequency([2026 * 12, 2026 * 12 + 3, 2026 * 12 + 6], per_period=2, period_months=12)


def test_persons_and_individual_businesses_are_masked() -> None:
    assert rules.public_name("individual_business", "张三丰") == "张**"
    assert rules.public_name("natural_person", "李四") == "李**"
    assert rules.public_name("legal_person", "成都某某有限公司") == "成都某某有限公司"
    assert rules.public_uscc("natural_person", "91510100MA0000000X").count("*") == 14


def test_the_seed_commits_to_inputs_and_nonce() -> None:
    inputs = {"plan_id": 1, "scope_digest": "x", "commitment": rules.commitment_of("n1")}
    seed = rules.seed_of(inputs, "n1")
    assert seed == hashlib.sha256(rules.canonical(inputs) + b"n1").hexdigest()
    assert seed != rules.seed_of(inputs | {"plan_id": 2}, "n1") and seed != rules.seed_of(inputs, "n2")
    assert rules.scope_digest([("B", "1"), ("A", "2")]) == hashlib.sha256(b"A,2\nB,1\n").hexdigest()
