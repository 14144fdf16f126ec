"""How the demo plans its department batches: the volumes per item, the providers and their weights, the
columns of each item's file, the defects planted in a few rows, the date formats, and `Planner` — the state
of one generation (the random source, the population, the pools of subjects each template fits) with the
plan of (item, provider, year) cells and the choices every row builder makes (subject, day, document number,
certificate number). The row builders are `xinyong.demo.generator`."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from xinyong.demo import templates
from xinyong.demo.departments import DemoDepartment, directory
from xinyong.demo.population import (
    CATEGORY,
    Population,
    Subject,
)
from xinyong.kit.dates import add_months

MAX_BATCH_ROWS = 5_000
BAD_ROW_SHARE = 0.0005
# Records per item at scale 1.0 (about 180,000, plus one DJ row per registered subject).
VOLUMES: dict[str, int] = {
    "XK": 70_000, "CF": 30_000, "QZ": 2_500, "JC": 30_000, "QR": 5_000, "JL": 4_000,
    "SXBZX": 3_000, "JYYC": 9_000, "QS": 5_000, "QJSB": 4_500, "CN": 16_000,
}  # fmt: skip
DEFECTS = ("uscc_checksum", "id_checksum", "missing_required", "future_date", "bad_enum", "end_before_start")


@dataclass(frozen=True)
class DemoBatch:
    item_code: str
    provider_code: str
    filename: str
    rows: list[dict[str, str]]


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _slash(day: dt.date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_FORMATS = (_iso, _slash, chinese)

# --- items: templates, providers, headers ----------------------------------------------------------------

_T = TypeVar("_T", bound=templates.Template)
_ANY_ORG = (templates.Template("EI", None),)
TABLES: dict[str, Mapping[str, Sequence[templates.Template]]] = {
    "XK": templates.LICENCES,
    "CF": templates.PENALTIES,
    "QZ": templates.ENFORCEMENTS,
    "JC": templates.INSPECTIONS,
    "QR": templates.CONFIRMATIONS,
    "JL": templates.HONOURS,
    "SXBZX": {"SCGY": (templates.Template("EIPG", None),)},
    "JYYC": {"SCMR": _ANY_ORG},
    "QS": {"SCTAX": _ANY_ORG},
    "QJSB": {"SCRS": _ANY_ORG},
    "CN": templates.COMMITMENTS,
}
# Provider weights per item; "MR" is SCMR, and for XK, CF and JC SCMR (a fifth) plus the prefecture bureaus.
_PROVIDER_WEIGHTS: dict[str, dict[str, float]] = {
    "XK": {"MR": 40, "SCYJJ": 1, "SCSTHJ": 6, "SCYJ": 4, "SCZJ": 8, "SCJT": 10, "SCWJ": 8, "SCXF": 4, "SCRS": 2,
           "SCTAX": 4, "SCCZ": 0.5, "SCFGW": 1, "SCWL": 0.5, "SCNY": 1},
    "CF": {"MR": 40, "SCYJJ": 1, "SCSTHJ": 10, "SCYJ": 7, "SCXF": 9, "SCTAX": 12, "SCJT": 10, "SCZJ": 5, "SCWJ": 4,
           "SCRS": 1.5, "SCWL": 0.3, "SCNY": 0.5},
    "QZ": {"MR": 35, "SCSTHJ": 20, "SCYJ": 10, "SCTAX": 25, "SCJT": 10},
    "JC": {"MR": 60, "SCSTHJ": 8, "SCYJ": 8, "SCXF": 10, "SCZJ": 5, "SCWJ": 4, "SCJT": 3, "SCRS": 2},
    "QR": {"SCRS": 40, "SCTAX": 35, "SCZJ": 15, "MR": 10},
    "JL": {"MR": 45, "SCFGW": 10, "SCZJ": 10, "SCJT": 8, "SCRS": 12, "SCWJ": 5, "SCTAX": 10},
    "SXBZX": {"SCGY": 1},
    "JYYC": {"SCMR": 1},
    "QS": {"SCTAX": 1},
    "QJSB": {"SCRS": 1},
    "CN": {"MR": 45, "SCFGW": 15, "SCZJ": 12, "SCJT": 10, "SCCZ": 12, "SCWJ": 6},
}  # fmt: skip
# Items the prefecture bureaus report themselves (the rest of market regulation goes through SCMR).
_BUREAU_ITEMS = frozenset({"XK", "CF", "JC"})
_FIXED_PROVIDER_ITEMS = frozenset({"SXBZX", "JYYC", "QS", "QJSB"})
# Share of natural persons (and government bodies) among the subjects of an (item, provider group).
_PERSON_SHARE: dict[tuple[str, str], float] = {
    ("XK", "SCJT"): 0.35, ("XK", "SCWJ"): 0.25, ("CF", "SCJT"): 0.3, ("CF", "SCXF"): 0.06,
    ("CF", "SCSTHJ"): 0.05, ("CF", "SCTAX"): 0.05, ("CF", "SCWJ"): 0.15, ("QZ", "SCTAX"): 0.08,
    ("QZ", "SCJT"): 0.3, ("JL", "SCRS"): 1.0, ("JL", "SCWJ"): 1.0, ("SXBZX", "SCGY"): 0.68,
    ("CN", "SCFGW"): 0.15, ("CN", "SCJT"): 0.25,
}  # fmt: skip
_GOV_SHARE: dict[tuple[str, str], float] = {("SXBZX", "SCGY"): 0.02, ("CN", "SCFGW"): 0.05}
_BIAS: dict[str, int] = {"CF": 1, "QZ": 1, "SXBZX": 1, "JYYC": 1, "QS": 1, "QJSB": 1, "JL": 2}
_DOC_WORD: dict[str, str] = {"XK": "许", "CF": "罚", "QZ": "强", "JC": "检", "QR": "确", "JL": "表"}
_DOC_WORD_OVERRIDE: dict[tuple[str, str], str] = {("SCTAX", "CF"): "稽罚", ("SCXF", "CF"): "行罚决字"}


def penalty_part(kind: str, fine: int, confiscated: int, certificate: str) -> str:
    """One penalty of a decision's content (决定给予当事人以下行政处罚：…)."""
    if kind == "罚款":
        return f"罚款人民币{fine}元"
    if kind == "没收违法所得":
        return f"没收违法所得人民币{confiscated}元"
    if kind in ("吊销许可证件", "吊销营业执照"):
        return f"吊销{certificate}"
    return kind


def _plain(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, n) for n in names)


_WHO = ("subject_name", "subject_category", "uscc", "region_code")
_WHO_IDS = (*_WHO, "id_type", "id_no")
# item -> ((catalog field, header), ...). XK and CF use the national 双公示 field codes.
HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "DJ": _plain(*_WHO, "legal_rep", "legal_rep_id_type", "legal_rep_id_no", "registered_on", "registered_capital_wan",
                 "entity_type", "address", "business_scope", "operating_status", "registration_authority", "record_status",
                 "industry_code"),
    "XK": (("doc_name", "XK_XKWS"), ("doc_no", "XK_WSH"), ("licence_category", "XK_XKLB"), ("certificate_name", "XK_XKZS"),
           ("certificate_no", "XK_XKBH"), ("content", "XK_NR"), ("subject_name", "XK_XDR_MC"),
           ("subject_category", "XK_XDR_LB"), ("uscc", "XK_XDR_SHXYM"), ("legal_rep", "XK_FRDB"),
           ("id_type", "XK_XDR_ZJLX"), ("id_no", "XK_XDR_ZJHM"), ("decision_date", "XK_JDRQ"), ("valid_from", "XK_YXQZ"),
           ("valid_until", "XK_YXQZI"), ("authority_name", "XK_XKJG"), ("authority_uscc", "XK_XKJGDM"),
           ("record_status", "XK_ZT"), ("source_unit", "XK_LYDW"), ("source_unit_uscc", "XK_LYDWDM"), ("remarks", "BZ"),
           ("region_code", "region_code")),
    "CF": (("doc_no", "CF_WSH"), ("subject_name", "CF_XDR_MC"), ("subject_category", "CF_XDR_LB"),
           ("uscc", "CF_XDR_SHXYM"), ("legal_rep", "CF_FRDB"), ("id_type", "CF_XDR_ZJLX"), ("id_no", "CF_XDR_ZJHM"),
           ("violation_type", "CF_WFXW"), ("facts", "CF_SY"), ("penalty_basis", "CF_YJ"), ("penalty_types", "CF_CFLB"),
           ("content", "CF_NR"), ("fine_wan", "CF_NR_FK"), ("confiscated_wan", "CF_NR_WFFF"),
           ("licence_revoked", "CF_NR_ZKDX"), ("decision_date", "CF_JDRQ"), ("authority_name", "CF_CFJG"),
           ("authority_uscc", "CF_CFJGDM"), ("source_unit", "CF_SJLY"), ("source_unit_uscc", "CF_SJLYDM"),
           ("remarks", "BZ"), ("severity", "severity"), ("sector", "sector"), ("region_code", "region_code")),
    "QZ": _plain("doc_no", *_WHO_IDS, "enforcement_type", "content", "decision_date", "authority_name", "record_status"),
    "JC": _plain("doc_no", *_WHO, "inspection_type", "inspection_items", "result", "decision_date", "authority_name",
                 "record_status"),
    "QR": _plain("doc_no", *_WHO_IDS, "confirmation_type", "content", "decision_date", "valid_until", "authority_name",
                 "record_status"),
    "JL": _plain("doc_no", *_WHO_IDS, "honour_name", "honour_level", "decision_date", "valid_until", "authority_name",
                 "record_status"),
    "SXBZX": _plain("case_no", *_WHO_IDS, "legal_rep", "court_name", "basis_doc_no", "obligation", "performance",
                    "dishonest_behaviour", "filed_on", "decision_date", "removed_on", "record_status"),
    "JYYC": _plain("doc_no", *_WHO, "reason", "decision_date", "authority_name", "removed_on", "removal_reason",
                   "record_status"),
    "QS": _plain(*_WHO, "tax_type", "tax_period", "arrears_wan", "decision_date", "authority_name", "settled_on",
                 "record_status"),
    "QJSB": _plain(*_WHO, "insurance_type", "arrears_period", "arrears_wan", "decision_date", "authority_name",
                   "settled_on", "record_status"),
    "CN": _plain("commitment_no", *_WHO_IDS, "commitment_type", "matter", "content", "decision_date", "valid_until",
                 "accepting_body", "fulfilment", "fulfilment_checked_on", "record_status"),
}  # fmt: skip

# Defects: the required field to blank, the enum to spoil, the end date (and its start) to invert.
BLANK: dict[str, str] = {
    "XK": "authority_name", "CF": "facts", "QZ": "content", "JC": "result", "QR": "content", "JL": "honour_name",
    "SXBZX": "obligation", "JYYC": "reason", "QS": "arrears_wan", "QJSB": "arrears_period", "CN": "matter",
}  # fmt: skip
BAD_ENUM: dict[str, tuple[str, str]] = {
    "CF": ("severity", "特别严重"), "JC": ("result", "基本合格"), "JYYC": ("reason", "其他原因"),
    "QJSB": ("insurance_type", "大病保险"), "CN": ("commitment_type", "其他承诺"), "XK": ("licence_category", "备案"),
    "JL": ("honour_level", "乡镇级"), "SXBZX": ("performance", "已履行"),
}  # fmt: skip
END: dict[str, tuple[str, str]] = {
    "XK": ("valid_until", "valid_from"), "QR": ("valid_until", "decision_date"), "JL": ("valid_until", "decision_date"),
    "CN": ("valid_until", "decision_date"), "SXBZX": ("removed_on", "decision_date"),
    "JYYC": ("removed_on", "decision_date"), "QS": ("settled_on", "decision_date"),
    "QJSB": ("settled_on", "decision_date"),
}  # fmt: skip
CERTIFICATE_NUMBERS = {
    "食品经营许可证": "JY", "药品经营许可证": "YP", "医疗机构执业许可证": "YL", "公共场所卫生许可证": "GC",
    "农药经营许可证": "NY",
}  # fmt: skip


@dataclass(frozen=True)
class Cell:
    item: str
    provider: DemoDepartment
    year: int
    start: dt.date
    end: dt.date
    count: int


@dataclass
class Pool:
    orgs: list[Subject] = field(default_factory=list)
    risky: list[Subject] = field(default_factory=list)
    good: list[Subject] = field(default_factory=list)
    persons: list[Subject] = field(default_factory=list)
    risky_persons: list[Subject] = field(default_factory=list)
    govs: list[Subject] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.orgs or self.persons or self.govs)


class Planner:
    """One generation's state and choices; `generator._Generator` adds the rows of each item."""

    def __init__(self, scale: float, today: dt.date, seed: int) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale = scale
        self.today = today
        self.rng = random.Random(seed)
        self.depts = directory()
        self.by_code = {d.code: d for d in self.depts.all}
        self.bureau_pref = {code: pref for pref, code in self.depts.bureau_of.items()}
        self.pop = Population(self.rng, today)
        self.window_start = add_months(today, -60)
        self.pools: dict[tuple[str, str], Pool] = {}
        self.counters: dict[tuple[str, ...], int] = {}
        self.keys: set[tuple[str, ...]] = set()
        self.fmt: Callable[[dt.date], str] = _iso
        self.queue: list[tuple[int, str]] = []
        self.pending: list[str] = []
        self.position = 0

    # -- date formats --

    def _mixed(self, day: dt.date) -> str:
        return self.rng.choice(_FORMATS)(day)

    def _formatter(self) -> Callable[[dt.date], str]:
        r = self.rng.random()
        if r < 0.72:
            return _iso
        if r < 0.86:
            return _slash
        if r < 0.96:
            return chinese
        return self._mixed

    # -- registration (DJ) --

    def _dj_batches(self) -> Iterator[DemoBatch]:
        orgs = self.pop.subjects
        parts = max(1, math.ceil(len(orgs) / MAX_BATCH_ROWS))
        headers = HEADERS["DJ"]
        for part in range(parts):
            self.fmt = self._formatter()
            chunk = orgs[part * len(orgs) // parts : (part + 1) * len(orgs) // parts]
            rows = []
            for s in chunk:
                row = self.pop.registration_row(s, self.fmt)
                rows.append({h: row.get(f, "") for f, h in headers})
            yield DemoBatch("DJ", "SCMR", f"dj-scmr-{self.today:%Y%m%d}-{part + 1}.csv", rows)

    # -- planning --

    def _group(self, provider: str, item: str) -> str:
        if item in _FIXED_PROVIDER_ITEMS or (provider != "SCMR" and provider not in self.bureau_pref):
            return provider
        return "MR"

    def _templates(self, provider: str, item: str) -> Sequence[templates.Template]:
        return TABLES[item].get(self._group(provider, item), ())

    def _pool(self, provider: str, item: str) -> Pool:
        key = (provider, item)
        if key in self.pools:
            return self.pools[key]
        fitting = self._templates(provider, item)
        only = self.bureau_pref.get(provider) if item not in _FIXED_PROVIDER_ITEMS else None
        pool = Pool()
        for (pref, kind, industry), members in self.pop.index.items():
            if (only is None or pref == only) and any(t.fits(kind, industry) for t in fitting):
                (pool.persons if kind == "P" else pool.orgs).extend(members)
        pool.risky = [s for s in pool.orgs if s.risk == 1]
        pool.good = [s for s in pool.orgs if s.risk == 2]
        pool.risky_persons = [s for s in pool.persons if s.risk == 1]
        if any(t.fits("G", "") for t in fitting):
            pool.govs = list(self.pop.govs)
        self.pools[key] = pool
        return pool

    def _providers(self, item: str) -> list[tuple[DemoDepartment, float]]:
        out: list[tuple[DemoDepartment, float]] = []
        for group, weight in _PROVIDER_WEIGHTS[item].items():
            if group != "MR" or item not in _BUREAU_ITEMS:
                out.append((self.by_code["SCMR" if group == "MR" else group], weight))
                continue
            out.append((self.by_code["SCMR"], weight * 0.2))
            pref_weight = {p.code: p.weight for p in self.pop.geo}
            total = sum(pref_weight.get(p, 0.0) for p in self.depts.bureau_of)
            for pref, code in self.depts.bureau_of.items():
                out.append((self.by_code[code], weight * 0.8 * pref_weight.get(pref, 0.0) / total))
        return [(d, w) for d, w in out if w > 0 and self._pool(d.code, item)]

    def _plan(self) -> list[Cell]:
        years = []
        for year in range(self.window_start.year, self.today.year + 1):
            lo = max(dt.date(year, 1, 1), self.window_start)
            hi = min(dt.date(year, 12, 31), self.today)
            years.append((year, lo, hi, ((hi - lo).days + 1) * 1.08 ** (year - self.window_start.year)))
        cells: list[Cell] = []
        for item, volume in VOLUMES.items():
            wanted = max(1, round(volume * self.scale))
            providers = self._providers(item)
            slots = [(d, y, lo, hi, w * yw) for y, lo, hi, yw in years for d, w in providers]
            total = sum(s[4] for s in slots)
            if not slots or total <= 0:
                continue
            exact = [wanted * s[4] / total for s in slots]
            counts = [math.floor(x) for x in exact]
            order = sorted(range(len(slots)), key=lambda i: (counts[i] - exact[i], i))
            for i in order[: wanted - sum(counts)]:
                counts[i] += 1
            cells.extend(
                Cell(item, d, y, lo, hi, n) for (d, y, lo, hi, _), n in zip(slots, counts, strict=True) if n
            )
        return cells

    def _plan_specials(self, cells: Sequence[Cell]) -> None:
        """Spread the defective rows over the records and the name-only rows over XK and CF."""
        rng = self.rng
        total = sum(c.count for c in cells)
        named = sum(c.count for c in cells if c.item in ("XK", "CF"))  # XK and CF come first
        n_bad = max(len(DEFECTS), round(total * BAD_ROW_SHARE))
        limit = max(int(total * 0.9), min(total, n_bad))
        kinds = [DEFECTS[i % len(DEFECTS)] for i in range(n_bad)]
        rng.shuffle(kinds)
        queue = list(zip(sorted(rng.sample(range(limit), min(n_bad, limit))), kinds, strict=False))
        names = ["name_only"] * max(3, round(10 * self.scale)) + ["unknown_name"] * max(
            2, round(5 * self.scale)
        )
        rng.shuffle(names)
        span = max(len(names), int(named * 0.9))
        queue += zip(sorted(rng.sample(range(span), min(len(names), span))), names, strict=False)
        self.queue = sorted(queue, key=lambda p: p[0], reverse=True)

    # -- record rows --

    def _next(self, *key: str) -> int:
        value = self.counters.get(key)
        value = self.rng.randint(1, 60) if value is None else value + self.rng.randint(1, 3)
        self.counters[key] = value
        return value

    def _doc_no(self, cell: Cell) -> str:
        code = cell.provider.code
        word = _DOC_WORD_OVERRIDE.get((code, cell.item), _DOC_WORD.get(cell.item, ""))
        return f"{self.depts.doc_prefix[code]}{word}〔{cell.year}〕{self._next(code, cell.item, str(cell.year))}号"

    def _pick(self, cell: Cell, table: Mapping[str, Sequence[_T]]) -> tuple[_T, Subject]:
        rng = self.rng
        code = cell.provider.code
        group = self._group(code, cell.item)
        pool = self._pool(code, cell.item)
        person_share = _PERSON_SHARE.get((cell.item, group), 0.0)
        gov_share = _GOV_SHARE.get((cell.item, group), 0.0)
        r = rng.random()
        bias = _BIAS.get(cell.item, 0)
        if pool.persons and (r < person_share or not pool.orgs):
            candidates = pool.persons
            if bias == 1 and pool.risky_persons and rng.random() < 0.5:
                candidates = pool.risky_persons
        elif pool.govs and (r < person_share + gov_share or not pool.orgs):
            candidates = pool.govs
        else:
            candidates = pool.orgs
            if bias == 1 and pool.risky and rng.random() < 0.45:
                candidates = pool.risky
            elif bias == 2 and pool.good and rng.random() < 0.6:
                candidates = pool.good
        subject = candidates[rng.randrange(len(candidates))]
        for _ in range(8):
            if subject.registered_on <= cell.end:
                break
            subject = candidates[rng.randrange(len(candidates))]
        fitting = [t for t in table.get(group, ()) if t.fits(subject.kind, subject.industry)]
        return rng.choice(fitting), subject

    def _day(self, cell: Cell, s: Subject) -> dt.date:
        lo = max(cell.start, s.registered_on)
        return self.pop.between(lo if lo <= cell.end else cell.start, cell.end)

    def _who(self, s: Subject) -> dict[str, str]:
        row = {"subject_name": s.name, "subject_category": CATEGORY[s.kind], "region_code": s.region}
        if s.kind == "P":
            row["id_type"], row["id_no"] = "身份证", s.id_no
        else:
            row["uscc"], row["legal_rep"] = s.uscc, s.legal_rep
        return row

    def _authority(self, cell: Cell) -> dict[str, str]:
        d = cell.provider
        return {"authority_name": d.name, "authority_uscc": d.uscc or "", "source_unit": d.name,
                "source_unit_uscc": d.uscc or ""}  # fmt: skip

    def _certificate_no(self, kind: str, s: Subject, day: dt.date, no: int) -> str:
        rng, y, r = self.rng, day.year, s.region
        numbers: dict[str, Callable[[], str]] = {
            "JY": lambda: f"JY{rng.choice('123')}{r}{no % 1_000_000:06d}{rng.randrange(10)}",
            "SC": lambda: (
                f"SC{rng.choice(('101', '103', '106', '114', '115', '124'))}{r}{no % 10_000:04d}{rng.randrange(10)}"
            ),
            "GY": lambda: f"（川）XK{rng.randint(1, 40):02d}-{rng.randint(1, 30):03d}-{no % 100_000:05d}",
            "TS": lambda: f"TS3{rng.randint(1, 3)}51{no % 1000:03d}-{y + 4}",
            "YP": lambda: f"川{rng.choice(('AA', 'CA', 'CB'))}{r[2:4]}{no % 100_000:05d}",
            "PW": lambda: f"{s.uscc}001P",
            "WF": lambda: f"川环危第{r}{no % 1000:03d}号",
            "FS": lambda: f"川环辐证[{no % 100_000:05d}]",
            "AX": lambda: f"（川）{rng.choice(('WH', 'FM'))}安许证字〔{y}〕{no % 10_000:04d}",
            "WH": lambda: f"川{r[2:4]}危化经字〔{y}〕{no % 1_000_000:06d}",
            "ZZ": lambda: f"D{rng.choice('23')}51{no % 1_000_000:06d}",
            "JZ": lambda: f"（川）JZ安许证字〔{y}〕{no % 1_000_000:06d}",
            "FD": lambda: f"川建房开{r[:4]}{no % 10_000:04d}",
            "DY": lambda: f"川交运管许可字{r}{no % 1_000_000:06d}号",
            "CY": lambda: f"{r}{y}{no % 1_000_000:06d}",
            "YL": lambda: f"PDY{no % 100_000:05d}{r}{rng.randint(11, 52)}A{no % 10_000:04d}",
            "GC": lambda: f"川卫公证字〔{y}〕第{r}{no % 1_000_000:06d}号",
            "YS": lambda: f"1{rng.randint(10, 30)}{r}{no % 1_000_000:06d}",
            "XF": lambda: f"川消安检字〔{y}〕第{no % 10_000:04d}号",
            "LP": lambda: f"{r}{y}{no % 10_000:04d}",
            "RL": lambda: f"{r}{no % 1_000_000:06d}",
            "DL": lambda: f"DLJZ{r}{y}{no % 10_000:04d}",
            "LS": lambda: f"L-SC-{rng.choice(('CJ', 'GN'))}{no % 100_000:05d}",
            "NY": lambda: f"农药经许（川）{r}{y}{no % 10_000:04d}",
        }
        maker = numbers.get(kind)
        return maker() if maker else ""
