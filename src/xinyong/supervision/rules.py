"""The pure rules of tiered supervision (分级分类监管): no database, no clock.

- **Tiers.** A tier table maps grades (A/B/C/D of the public comprehensive evaluation) to tiers, each with an
  inspection ratio in per cent and a frequency (at most `per_period` draws in `period_months`). A subject with
  no grade falls in the table's stated `default_tier`. A table without a source (legal basis) is refused.
- **Targets.** Per tier, the number drawn is `ceil(n × ratio / 100)`: at least the ratio, never more than one
  subject above it (exact integer arithmetic on the ratio in hundredths of a per cent).
- **Seed.** A plan publishes, at creation, its inputs (period, region, matters, the frozen tiers, the digest of
  its frozen scope) and `commitment = SHA-256(nonce)` of a random 256-bit nonce it keeps. The draw reveals the
  nonce; `seed = SHA-256(canonical JSON of the published inputs ‖ nonce)`. Anyone can then check the nonce
  against the commitment and recompute seed and draw. *Weakness*: the platform chose the nonce, so an operator
  who can re-create a plan many times before publishing it could grind for a draw he likes; the commitment only
  proves the nonce did not change after the plan was published. A value nobody controls (e.g. a lottery number
  published after the plan's date) would close that gap and can replace the nonce without changing the rest.
- **Draw.** Within each tier subjects are ordered by `SHA-256(seed ‖ uscc)` (hex of the seed as text, then the
  USCC, both UTF-8; ties, which do not happen in practice, by USCC) and the first `target` are drawn. The same
  key is computed by PostgreSQL (`sha256(convert_to(seed || uscc, 'UTF8'))`), so the draw is set-based there.
- **Inspectors.** Each drawn subject, in draw order, gets `INSPECTORS_PER_SUBJECT` inspectors among those
  eligible (active, no declared conflict with its USCC, inside the plan's region when the plan names one): the
  least loaded first, ties by `SHA-256(seed ‖ licence number ‖ # ‖ load)` (a fresh order each round, so pairs
  change). Fewer than two eligible is an error.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.kit.errors import ValidationFailed

GRADES = ("A", "B", "C", "D")
INSPECTORS_PER_SUBJECT = 2
MAX_RATIO = Decimal(100)


@dataclass(frozen=True, slots=True)
class Tier:
    code: str
    name: str
    grades: tuple[str, ...]
    ratio_pct: Decimal  # inspection ratio in per cent, 0–100
    per_period: int  # at most this many draws of a subject ...
    period_months: int  # ... within this many months

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "grades": list(self.grades),
            "ratio_pct": str(self.ratio_pct),
            "per_period": self.per_period,
            "period_months": self.period_months,
        }


@dataclass(frozen=True, slots=True)
class TierTable:
    tiers: tuple[Tier, ...]
    default_tier: str  # the tier of a subject with no grade
    source: str

    def tier_of(self, grade: str | None) -> str:
        if grade is not None:
            for tier in self.tiers:
                if grade in tier.grades:
                    return tier.code
        return self.default_tier

    def by_code(self) -> dict[str, Tier]:
        return {t.code: t for t in self.tiers}

    def to_json(self) -> dict[str, Any]:
        return {
            "tiers": [t.to_json() for t in self.tiers],
            "default_tier": self.default_tier,
            "source": self.source,
        }


def _ratio(value: Any, code: str) -> Decimal:
    try:
        ratio = Decimal(str(value).strip().rstrip("%").strip())
    except InvalidOperation:
        raise ValidationFailed(
            f"分档 {code} 的抽查比例不是数字：{value!r}", code="supervision.ratio_invalid"
        ) from None
    if not ratio.is_finite() or ratio < 0 or ratio > MAX_RATIO:
        raise ValidationFailed(
            f"分档 {code} 的抽查比例须在 0% 到 100% 之间（给出 {value}）",
            code="supervision.ratio_out_of_range",
        )
    if ratio != ratio.quantize(Decimal("0.01")):
        raise ValidationFailed(f"分档 {code} 的抽查比例最多两位小数", code="supervision.ratio_invalid")
    return ratio.quantize(Decimal("0.01"))


def _positive_int(value: Any, what: str, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed(f"分档 {code} 的{what}须为正整数", code="supervision.frequency_invalid")
    return value


def parse_tier_table(document: Mapping[str, Any]) -> TierTable:
    """Validate a tier table (from YAML, a form or a stored version). Every grade must fall in exactly one tier;
    the default tier must exist; the source (legal basis) is required."""
    if not isinstance(document, Mapping):
        raise ValidationFailed("分档表须为映射", code="supervision.tiers_invalid")
    source = str(document.get("source") or "").strip()
    if not source:
        raise ValidationFailed(
            "分档表须写明依据（source），否则不能保存或载入", code="supervision.source_missing"
        )
    raw = document.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("分档表须列出至少一个分档（tiers）", code="supervision.tiers_invalid")
    tiers: list[Tier] = []
    seen_grades: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValidationFailed("每个分档须为映射", code="supervision.tiers_invalid")
        code = str(item.get("code") or "").strip()
        if not code or len(code) > 16 or any(t.code == code for t in tiers):
            raise ValidationFailed(f"分档代码缺失、过长或重复：{code!r}", code="supervision.tiers_invalid")
        grades = tuple(str(g).strip() for g in item.get("grades") or [])
        for grade in grades:
            if grade not in GRADES:
                raise ValidationFailed(f"分档 {code} 含未知等级 {grade!r}", code="supervision.tiers_invalid")
            if grade in seen_grades:
                raise ValidationFailed(
                    f"等级 {grade} 同时属于分档 {seen_grades[grade]} 和 {code}",
                    code="supervision.tiers_invalid",
                )
            seen_grades[grade] = code
        tiers.append(
            Tier(
                code=code,
                name=str(item.get("name") or code).strip(),
                grades=grades,
                ratio_pct=_ratio(item.get("ratio_pct"), code),
                per_period=_positive_int(item.get("per_period", 1), "频次", code),
                period_months=_positive_int(item.get("period_months", 12), "周期月数", code),
            )
        )
    missing = [g for g in GRADES if g not in seen_grades]
    if missing:
        raise ValidationFailed(f"等级 {'、'.join(missing)} 未归入任何分档", code="supervision.tiers_invalid")
    default = str(document.get("default_tier") or "").strip()
    if default not in {t.code for t in tiers}:
        raise ValidationFailed(
            f"未评级主体的默认分档 {default!r} 不在分档表中", code="supervision.default_tier_invalid"
        )
    return TierTable(tiers=tuple(tiers), default_tier=default, source=source)


def target(count: int, ratio_pct: Decimal) -> int:
    """How many of `count` subjects a tier at `ratio_pct` draws: ceil(count × ratio / 100), exactly."""
    hundredths = int(ratio_pct * 100)  # ratio in 1/100 of a per cent
    return min(count, -(-count * hundredths // 10_000))


def targets(table: TierTable, counts: Mapping[str, int]) -> dict[str, int]:
    return {t.code: target(counts.get(t.code, 0), t.ratio_pct) for t in table.tiers}


# --- published inputs and seed ---------------------------------------------------------------------------


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 (what digests and the seed are computed over)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commitment_of(nonce: str) -> str:
    return sha256_hex(nonce.encode())


def scope_line(uscc: str, tier: str) -> str:
    return f"{uscc},{tier}\n"


def scope_digest(lines: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over the frozen scope as published: one line `uscc,tier` per subject, ordered by USCC (byte
    order, as PostgreSQL's `COLLATE "C"`)."""
    digest = hashlib.sha256()
    for uscc, tier in sorted(lines):
        digest.update(scope_line(uscc, tier).encode())
    return digest.hexdigest()


def seed_of(inputs: Mapping[str, Any], nonce: str) -> str:
    return sha256_hex(canonical(dict(inputs)) + nonce.encode())


def order_key(seed: str, uscc: str) -> str:
    return sha256_hex((seed + uscc).encode())


# --- the draw ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopeSubject:
    uscc: str
    tier: str
    grade: str | None = None


def draw(
    seed: str, scope: Sequence[ScopeSubject], table: TierTable
) -> tuple[list[ScopeSubject], dict[str, int]]:
    """The stratified draw: per tier, the `target` subjects with the smallest keys; returned in tier order
    (as the table lists them), each tier by key. Also the targets per tier."""
    if not scope:
        raise ValidationFailed("抽查范围内没有主体", code="supervision.empty_pool")
    by_tier: dict[str, list[ScopeSubject]] = {t.code: [] for t in table.tiers}
    for subject in scope:
        by_tier.setdefault(subject.tier, []).append(subject)
    wanted = targets(table, {code: len(subjects) for code, subjects in by_tier.items()})
    drawn: list[ScopeSubject] = []
    for code in wanted:
        ordered = sorted(by_tier[code], key=lambda s: (order_key(seed, s.uscc), s.uscc))
        drawn.extend(ordered[: wanted[code]])
    return drawn, wanted


def counts_by_tier(table: TierTable, drawn: Iterable[ScopeSubject]) -> dict[str, int]:
    counted = Counter(s.tier for s in drawn)
    return {t.code: counted.get(t.code, 0) for t in table.tiers}


# --- inspectors --------------------------------------------------------------------------------------------


def region_prefix(code: str) -> str:
    """`510000` → `51`, `510100` → `5101`, `510104` → `510104`: the prefix every code inside the area has."""
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def within(region: str | None, area: str) -> bool:
    return region is not None and region.startswith(region_prefix(area))


@dataclass(frozen=True, slots=True)
class InspectorEntry:
    id: int
    licence_no: str
    region_code: str | None
    conflicts: frozenset[str] = field(default_factory=frozenset)


def _slot(seed: str, inspector: InspectorEntry, load: int) -> tuple[int, str, int]:
    """An inspector's place in the queue: by load, then by a seeded key drawn afresh for each load level (so
    that pairs change from round to round), then by id."""
    return (load, order_key(seed, f"{inspector.licence_no}#{load}"), inspector.id)


def assign(
    seed: str,
    drawn: Sequence[ScopeSubject],
    inspectors: Sequence[InspectorEntry],
    *,
    region: str | None,
    per_subject: int = INSPECTORS_PER_SUBJECT,
) -> list[list[int]]:
    """Inspector ids for each drawn subject, in order: never one with a declared conflict, never from outside
    `region` when given, the least loaded first (ties by a seeded key per load level, `_slot`). Raises when
    fewer than `per_subject` are eligible for a subject, naming it. A priority queue: O(log n) a subject."""
    pool = {i.id: i for i in inspectors if region is None or within(i.region_code, region)}
    queue = [_slot(seed, i, 0) for i in pool.values()]
    heapq.heapify(queue)
    result: list[list[int]] = []
    for subject in drawn:
        chosen: list[tuple[int, str, int]] = []
        skipped: list[tuple[int, str, int]] = []
        while queue and len(chosen) < per_subject:
            slot = heapq.heappop(queue)
            (chosen if subject.uscc not in pool[slot[2]].conflicts else skipped).append(slot)
        if len(chosen) < per_subject:
            raise ValidationFailed(
                f"主体 {subject.uscc} 可选的执法检查人员只有 {len(chosen)} 名（回避、地区限制之后），"
                f"至少需要 {per_subject} 名",
                code="supervision.too_few_inspectors",
                details={"uscc": subject.uscc, "eligible": len(chosen)},
            )
        for slot in skipped:
            heapq.heappush(queue, slot)
        for load, _key, inspector_id in chosen:
            heapq.heappush(queue, _slot(seed, pool[inspector_id], load + 1))
        result.append([inspector_id for _load, _key, inspector_id in chosen])
    return result


# --- fairness ----------------------------------------------------------------------------------------------


def realised(
    targets_: Mapping[str, int], counts: Mapping[str, int], sizes: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Per tier: scope size, target, drawn, and the realised ratio in per cent."""
    rows = []
    for code, wanted in targets_.items():
        size = sizes.get(code, 0)
        got = counts.get(code, 0)
        rows.append(
            {
                "tier": code,
                "scope": size,
                "target": wanted,
                "drawn": got,
                "realised_pct": round(100 * got / size, 2) if size else 0.0,
            }
        )
    return rows


def over_frequency(draw_months: Sequence[int], per_period: int, period_months: int) -> bool:
    """True when, within some window of `period_months` months, a subject was drawn more than `per_period`
    times. `draw_months` are the months (year × 12 + month) of the periods it was drawn in."""
    months = sorted(draw_months)
    for index, start in enumerate(months):
        inside = sum(1 for m in months[index:] if m - start < period_months)
        if inside > per_period:
            return True
    return False


# --- masking -----------------------------------------------------------------------------------------------

PERSONAL_KINDS = frozenset({"individual_business", "natural_person"})


def public_name(kind: str, name: str) -> str:
    """A drawn subject's name as published: a natural person's, or an individual business's (often a personal
    name), keeps its first character only."""
    if kind in PERSONAL_KINDS:
        return name[:1] + "*" * max(2, len(name) - 1)
    return name


def public_uscc(kind: str, uscc: str) -> str:
    if kind == "natural_person":
        return uscc[:2] + "*" * (len(uscc) - 4) + uscc[-2:]
    return uscc
