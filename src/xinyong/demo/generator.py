"""Deterministic synthetic Sichuan: demo departments and the batches they would send.

`batches()` yields department files as rows of cell text (header -> value), the way a department's CSV or
XLSX export would carry them: registration (DJ) first, then licences, penalties and the other catalog items
of the last five years before `today`. Everything derives from one `random.Random(seed)`, so the same
(scale, today, seed) gives the same batches. Rows are valid against the catalog except a handful of
deliberately defective ones (wrong check digits, a missing required field, a future date, an unknown enum
value, an end date before its start) and a few rows that name a company without any code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TypeVar

from xinyong.demo import vocabulary as vocab
from xinyong.demo.population import (
    CATEGORY,
    ORG_ALPHABET,
    Population,
    Subject,
    court_name,
    mr_bureau_name,
    tax_bureau_name,
    wan,
    weighted,
)
from xinyong.kit import regions
from xinyong.kit.dates import add_months, parse_date
from xinyong.kit.identifiers import make_uscc

MAX_BATCH_ROWS = 5_000
BAD_ROW_SHARE = 0.0005
# Records per item at scale 1.0 (about 180,000, plus one DJ row per registered subject).
VOLUMES: dict[str, int] = {
    "XK": 70_000, "CF": 30_000, "QZ": 2_500, "JC": 30_000, "QR": 5_000, "JL": 4_000,
    "SXBZX": 3_000, "JYYC": 9_000, "QS": 5_000, "QJSB": 4_500, "CN": 16_000,
}  # fmt: skip
DEFECTS = ("uscc_checksum", "id_checksum", "missing_required", "future_date", "bad_enum", "end_before_start")


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    uscc: str | None
    region_code: str
    parent_code: str | None


@dataclass(frozen=True)
class DemoBatch:
    item_code: str
    provider_code: str
    filename: str
    rows: list[dict[str, str]]


# --- departments -----------------------------------------------------------------------------------------

# code, name, document-number prefix
_PROVINCIAL: tuple[tuple[str, str, str], ...] = (
    ("SCFGW", "四川省发展和改革委员会", "川发改"),
    ("SCMR", "四川省市场监督管理局", "川市监"),
    ("SCTAX", "国家税务总局四川省税务局", "川税"),
    ("SCRS", "四川省人力资源和社会保障厅", "川人社"),
    ("SCGY", "四川省高级人民法院", "川高法"),
    ("SCSTHJ", "四川省生态环境厅", "川环"),
    ("SCYJ", "四川省应急管理厅", "川应急"),
    ("SCZJ", "四川省住房和城乡建设厅", "川建"),
    ("SCJT", "四川省交通运输厅", "川交"),
    ("SCWJ", "四川省卫生健康委员会", "川卫"),
    ("SCXF", "四川省消防救援总队", "川消"),
    ("SCCZ", "四川省财政厅", "川财"),
    ("SCYJJ", "四川省药品监督管理局", "川药监"),
    ("SCWL", "四川省文化和旅游厅", "川文旅"),
    ("SCNY", "四川省农业农村厅", "川农"),
)
_PROVINCE = "510000"


@dataclass(frozen=True)
class _Departments:
    all: tuple[DemoDepartment, ...]
    doc_prefix: dict[str, str]
    bureau_of: dict[str, str]  # prefecture code -> market-regulation bureau code


def _gov_uscc(code: str, region: str, taken: set[str]) -> str:
    salt = 0
    while True:
        digest = int(hashlib.sha256(f"{code}:{salt}".encode()).hexdigest(), 16)
        uscc = make_uscc("1", "1", region, f"00{digest % 1_000_000:06d}")
        if uscc not in taken:
            taken.add(uscc)
            return uscc
        salt += 1


@cache
def _departments() -> _Departments:
    taken: set[str] = set()
    depts = [DemoDepartment(c, n, _gov_uscc(c, _PROVINCE, taken), _PROVINCE, None) for c, n, _ in _PROVINCIAL]
    prefix = {c: p for c, _, p in _PROVINCIAL}
    bureau_of: dict[str, str] = {}
    for pref in regions.current_prefectures():
        ascii_code, _, doc, _ = vocab.PREFECTURES.get(
            pref.code, (f"P{pref.code[:4]}", "", pref.name[:1], 1.0)
        )
        code = f"{ascii_code}-MR"
        depts.append(
            DemoDepartment(
                code, f"{pref.name}市场监督管理局", _gov_uscc(code, pref.code, taken), pref.code, "SCMR"
            )
        )
        prefix[code] = f"{doc}市监"
        bureau_of[pref.code] = code
    return _Departments(tuple(depts), prefix, bureau_of)


def departments() -> list[DemoDepartment]:
    """Provincial departments (region 510000), then the 21 prefecture market-regulation bureaus."""
    return list(_departments().all)


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _slash(day: dt.date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def _chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_FORMATS = (_iso, _slash, _chinese)

# --- items: templates, providers, headers ----------------------------------------------------------------

_T = TypeVar("_T", bound=vocab.Template)
_ANY_ORG = (vocab.Template("EI", None),)
_TABLES: dict[str, Mapping[str, Sequence[vocab.Template]]] = {
    "XK": vocab.LICENCES,
    "CF": vocab.PENALTIES,
    "QZ": vocab.ENFORCEMENTS,
    "JC": vocab.INSPECTIONS,
    "QR": vocab.CONFIRMATIONS,
    "JL": vocab.HONOURS,
    "SXBZX": {"SCGY": (vocab.Template("EIPG", None),)},
    "JYYC": {"SCMR": _ANY_ORG},
    "QS": {"SCTAX": _ANY_ORG},
    "QJSB": {"SCRS": _ANY_ORG},
    "CN": vocab.COMMITMENTS,
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


def _penalty_part(kind: str, fine: int, confiscated: int, certificate: str) -> str:
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
                 "entity_type", "address", "business_scope", "operating_status", "registration_authority", "record_status"),
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
_BLANK: dict[str, str] = {
    "XK": "authority_name", "CF": "facts", "QZ": "content", "JC": "result", "QR": "content", "JL": "honour_name",
    "SXBZX": "obligation", "JYYC": "reason", "QS": "arrears_wan", "QJSB": "arrears_period", "CN": "matter",
}  # fmt: skip
_BAD_ENUM: dict[str, tuple[str, str]] = {
    "CF": ("severity", "特别严重"), "JC": ("result", "基本合格"), "JYYC": ("reason", "其他原因"),
    "QJSB": ("insurance_type", "大病保险"), "CN": ("commitment_type", "其他承诺"), "XK": ("licence_category", "备案"),
    "JL": ("honour_level", "乡镇级"), "SXBZX": ("performance", "已履行"),
}  # fmt: skip
_END: dict[str, tuple[str, str]] = {
    "XK": ("valid_until", "valid_from"), "QR": ("valid_until", "decision_date"), "JL": ("valid_until", "decision_date"),
    "CN": ("valid_until", "decision_date"), "SXBZX": ("removed_on", "decision_date"),
    "JYYC": ("removed_on", "decision_date"), "QS": ("settled_on", "decision_date"),
    "QJSB": ("settled_on", "decision_date"),
}  # fmt: skip
_CERTIFICATE_NUMBERS = {
    "食品经营许可证": "JY", "药品经营许可证": "YP", "医疗机构执业许可证": "YL", "公共场所卫生许可证": "GC",
    "农药经营许可证": "NY",
}  # fmt: skip


@dataclass(frozen=True)
class _Cell:
    item: str
    provider: DemoDepartment
    year: int
    start: dt.date
    end: dt.date
    count: int


@dataclass
class _Pool:
    orgs: list[Subject] = field(default_factory=list)
    risky: list[Subject] = field(default_factory=list)
    good: list[Subject] = field(default_factory=list)
    persons: list[Subject] = field(default_factory=list)
    risky_persons: list[Subject] = field(default_factory=list)
    govs: list[Subject] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.orgs or self.persons or self.govs)


class _Generator:
    def __init__(self, scale: float, today: dt.date, seed: int) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale = scale
        self.today = today
        self.rng = random.Random(seed)
        self.depts = _departments()
        self.by_code = {d.code: d for d in self.depts.all}
        self.bureau_pref = {code: pref for pref, code in self.depts.bureau_of.items()}
        self.pop = Population(self.rng, today)
        self.window_start = add_months(today, -60)
        self.pools: dict[tuple[str, str], _Pool] = {}
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
            return _chinese
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

    def _templates(self, provider: str, item: str) -> Sequence[vocab.Template]:
        return _TABLES[item].get(self._group(provider, item), ())

    def _pool(self, provider: str, item: str) -> _Pool:
        key = (provider, item)
        if key in self.pools:
            return self.pools[key]
        templates = self._templates(provider, item)
        only = self.bureau_pref.get(provider) if item not in _FIXED_PROVIDER_ITEMS else None
        pool = _Pool()
        for (pref, kind, industry), members in self.pop.index.items():
            if (only is None or pref == only) and any(t.fits(kind, industry) for t in templates):
                (pool.persons if kind == "P" else pool.orgs).extend(members)
        pool.risky = [s for s in pool.orgs if s.risk == 1]
        pool.good = [s for s in pool.orgs if s.risk == 2]
        pool.risky_persons = [s for s in pool.persons if s.risk == 1]
        if any(t.fits("G", "") for t in templates):
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

    def _plan(self) -> list[_Cell]:
        years = []
        for year in range(self.window_start.year, self.today.year + 1):
            lo = max(dt.date(year, 1, 1), self.window_start)
            hi = min(dt.date(year, 12, 31), self.today)
            years.append((year, lo, hi, ((hi - lo).days + 1) * 1.08 ** (year - self.window_start.year)))
        cells: list[_Cell] = []
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
                _Cell(item, d, y, lo, hi, n) for (d, y, lo, hi, _), n in zip(slots, counts, strict=True) if n
            )
        return cells

    def _plan_specials(self, cells: Sequence[_Cell]) -> None:
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

    def _doc_no(self, cell: _Cell) -> str:
        code = cell.provider.code
        word = _DOC_WORD_OVERRIDE.get((code, cell.item), _DOC_WORD.get(cell.item, ""))
        return f"{self.depts.doc_prefix[code]}{word}〔{cell.year}〕{self._next(code, cell.item, str(cell.year))}号"

    def _pick(self, cell: _Cell, table: Mapping[str, Sequence[_T]]) -> tuple[_T, Subject]:
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

    def _day(self, cell: _Cell, s: Subject) -> dt.date:
        lo = max(cell.start, s.registered_on)
        return self.pop.between(lo if lo <= cell.end else cell.start, cell.end)

    def _who(self, s: Subject) -> dict[str, str]:
        row = {"subject_name": s.name, "subject_category": CATEGORY[s.kind], "region_code": s.region}
        if s.kind == "P":
            row["id_type"], row["id_no"] = "身份证", s.id_no
        else:
            row["uscc"], row["legal_rep"] = s.uscc, s.legal_rep
        return row

    def _authority(self, cell: _Cell) -> dict[str, str]:
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

    def _xk(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        tpl, s = self._pick(cell, vocab.LICENCES)
        day = self._day(cell, s)
        doc_no = self._doc_no(cell)
        until = add_months(day, 12 * tpl.years) - dt.timedelta(days=1) if tpl.years else None
        return {
            **self._who(s), **self._authority(cell), "doc_name": tpl.doc_name, "doc_no": doc_no,
            "licence_category": tpl.category, "certificate_name": tpl.certificate,
            "certificate_no": self._certificate_no(tpl.number, s, day, self.counters[(cell.provider.code, "XK", str(cell.year))]),
            "content": rng.choice(tpl.contents).format(project=rng.choice(vocab.PROJECTS)),
            "decision_date": f(day), "valid_from": f(day), "valid_until": f(until) if until else "",
            "record_status": "撤销" if rng.random() < 0.003 else "正常",
        }  # fmt: skip

    def _cf(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        severity = weighted(rng, (("轻微", 45), ("一般", 45), ("严重", 10)))
        tpl, s = self._pick(cell, vocab.PENALTIES)
        day = self._day(cell, s)
        person = s.kind == "P"
        fine = confiscated = 0
        types: list[str] = []
        revoked = ""
        if severity == "轻微":
            if rng.random() < 0.4:
                types.append("警告")
            else:
                fine = rng.randint(2, 50) * 100
                types += ["警告", "罚款"] if rng.random() < 0.3 else ["罚款"]
        elif severity == "一般":
            fine = rng.randint(10, 100) * 500
            types.append("罚款")
            if rng.random() < 0.3:
                confiscated = rng.randint(5, 200) * 100
                types.append("没收违法所得")
        else:
            fine = rng.randint(50, 1000) * 1000
            types.append("罚款")
            if rng.random() < 0.6:
                confiscated = rng.randint(50, 3000) * 100
                types.append("没收违法所得")
            if not person and rng.random() < 0.3:
                if tpl.certificate == "营业执照" and self._group(cell.provider.code, "CF") != "MR":
                    types.append("责令停产停业")
                else:
                    types.append("吊销许可证件" if tpl.certificate != "营业执照" else "吊销营业执照")
                    kind = _CERTIFICATE_NUMBERS.get(tpl.certificate, "")
                    number = (
                        s.uscc if tpl.certificate == "营业执照" else self._certificate_no(kind, s, day, fine)
                    )
                    revoked = f"{tpl.certificate}（{number}）"
        if person and fine:
            fine = max(200, fine // 1000 * 100)
        parts = [_penalty_part(kind, fine, confiscated, tpl.certificate) for kind in types]
        content = (
            "决定给予当事人以下行政处罚：" + "；".join(f"{i}. {p}" for i, p in enumerate(parts, 1)) + "。"
        )
        value = rng.randint(5, 500) * 100
        facts = tpl.facts.format(
            d=_chinese(day - dt.timedelta(days=rng.randint(15, 90))), place=s.address or self._area(s),
            area=self._area(s), n=rng.randint(2, 60), value=value, gain=value * rng.randint(5, 40) // 100,
            goods=rng.choice(vocab.GOODS.get(tpl.sector, vocab.GOODS["市场监管"])), year=day.year - 1,
        )  # fmt: skip
        return {
            **self._who(s), **self._authority(cell), "doc_no": self._doc_no(cell), "violation_type": tpl.violation,
            "facts": facts, "penalty_basis": tpl.basis, "penalty_types": ";".join(types), "content": content,
            "fine_wan": wan(fine) if fine else "", "confiscated_wan": wan(confiscated) if confiscated else "",
            "licence_revoked": revoked, "decision_date": f(day), "severity": severity, "sector": tpl.sector,
            "remarks": "当事人已缴纳罚款" if fine and rng.random() < 0.2 else "",
        }  # fmt: skip

    def _area(self, s: Subject) -> str:
        return regions.name(s.region)

    def _qz(self, cell: _Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, vocab.ENFORCEMENTS)
        day = self._day(cell, s)
        content = tpl.content.format(
            goods=rng.choice(vocab.GOODS["食品药品"]), amount=rng.randint(10, 5000) * 100
        )
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "enforcement_type": tpl.measure, "content": content,
            "decision_date": self.fmt(day), "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _jc(self, cell: _Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, vocab.INSPECTIONS)
        day = self._day(cell, s)
        result = weighted(rng, vocab.INSPECTION_RESULTS)
        if self._group(cell.provider.code, "JC") != "MR" and result in (
            "未按规定公示年报",
            "通过登记的住所无法联系",
        ):
            result = "未发现问题"
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "inspection_type": rng.choice(tpl.types),
            "inspection_items": rng.choice(tpl.matters), "result": result, "decision_date": self.fmt(day),
            "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _qr(self, cell: _Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, vocab.CONFIRMATIONS)
        day = self._day(cell, s)
        worker = self.pop.person_name(s.pref, s.county, rng.random() < 0.6)
        content = tpl.content.format(
            person=worker, d=_chinese(day - dt.timedelta(days=rng.randint(20, 60))), year=day.year - 1,
            project=rng.choice(vocab.PROJECTS), goods=rng.choice(vocab.GOODS["市场监管"]),
        )  # fmt: skip
        until = add_months(day, 12 * tpl.years) if tpl.years else None
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "confirmation_type": tpl.confirmation, "content": content,
            "decision_date": self.fmt(day), "valid_until": self.fmt(until) if until else "",
            "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _jl(self, cell: _Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, vocab.HONOURS)
        day = self._day(cell, s)
        level = rng.choice(tpl.levels)
        pref = self.bureau_pref.get(cell.provider.code)
        if pref is not None:
            level = "市级" if rng.random() < 0.8 else "县级"
        elif level in ("市级", "县级"):
            level = "省级"
        honour = tpl.honour
        if not honour.startswith("四川省"):
            lead = {"国家级": "全国", "省级": "四川省", "市级": s.pref.name, "县级": s.county}[level]
            honour = f"{day.year - 1}年度{lead}{honour}"
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "honour_name": honour, "honour_level": level,
            "decision_date": self.fmt(day), "valid_until": self.fmt(add_months(day, 12 * rng.choice((2, 3)))),
            "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _sxbzx(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        _, s = self._pick(cell, _TABLES["SXBZX"])
        day = self._day(cell, s)
        filed = day - dt.timedelta(days=rng.randint(30, 240))
        if rng.random() < 0.8:
            court, code = court_name(s.pref, s.county), "川" + s.region[2:6]
        else:
            court, code = f"{s.pref.name}中级人民法院", "川" + s.region[2:4]
        case_no = f"（{filed.year}）{code}执{self._next('SCGY', 'SXBZX', str(filed.year))}号"
        creditor = self.pop.subjects[rng.randrange(len(self.pop.subjects))].name
        obligation = rng.choice(vocab.OBLIGATIONS).format(
            who=s.name, creditor=creditor, amount=rng.randint(5, 5000) * 1000
        )
        removed = day + dt.timedelta(days=rng.randint(30, 400)) if rng.random() < 0.3 else None
        return {
            **self._who(s), "case_no": case_no, "court_name": court,
            "basis_doc_no": f"（{filed.year - 1}）{code}民初{rng.randint(100, 9999)}号", "obligation": obligation,
            "performance": "全部未履行" if rng.random() < 0.75 else "部分未履行",
            "dishonest_behaviour": weighted(rng, vocab.DISHONEST_BEHAVIOURS), "filed_on": f(filed),
            "decision_date": f(day), "removed_on": f(removed) if removed and removed <= self.today else "",
            "record_status": "正常",
        }  # fmt: skip

    def _jyyc(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        _, s = self._pick(cell, _TABLES["JYYC"])
        reason = weighted(rng, vocab.JYYC_REASONS)
        lo, hi = (
            max(dt.date(cell.year, 7, 1), cell.start, s.registered_on),
            min(dt.date(cell.year, 9, 30), cell.end),
        )
        day = (
            self.pop.between(lo, hi) if reason == "未按规定公示年度报告" and lo <= hi else self._day(cell, s)
        )
        removed = day + dt.timedelta(days=rng.randint(20, 500)) if rng.random() < 0.45 else None
        if removed and removed > self.today:
            removed = None
        return {
            **self._who(s), "reason": reason, "decision_date": f(day),
            "doc_no": f"{s.county}市监异列〔{cell.year}〕{self._next('SCMR', 'JYYC', str(cell.year))}号",
            "authority_name": mr_bureau_name(s.pref, s.county), "removed_on": f(removed) if removed else "",
            "removal_reason": vocab.JYYC_REMOVALS[reason] if removed else "", "record_status": "正常",
        }  # fmt: skip

    def _arrears(self, cell: _Cell, kinds: Sequence[str]) -> tuple[Subject, dt.date, str, str]:
        """A subject, date, type and period never used together before (the natural key of QS and QJSB)."""
        rng = self.rng
        for _ in range(50):
            _, s = self._pick(cell, _TABLES[cell.item])
            day = self._day(cell, s)
            kind = rng.choice(kinds)
            if cell.item == "QS":
                quarter_end = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)
                back = add_months(quarter_end, -3 * rng.randint(0, 3))
                period = f"{back.year}年第{(back.month - 1) // 3 + 1}季度"
            else:
                back = add_months(day, -rng.randint(1, 6))
                period = f"{back.year}年{back.month:02d}月"
            key = (cell.item, s.uscc, kind, period)
            if key not in self.keys:
                self.keys.add(key)
                return s, day, kind, period
        raise RuntimeError("no free arrears period")

    def _qs(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        s, day, tax, period = self._arrears(cell, vocab.TAX_TYPES)
        settled = day + dt.timedelta(days=rng.randint(10, 300)) if rng.random() < 0.4 else None
        return {
            **self._who(s), "tax_type": tax, "tax_period": period, "arrears_wan": wan(int(10 ** rng.uniform(2.7, 6.7))),
            "decision_date": f(day), "authority_name": tax_bureau_name(s.pref, s.county),
            "settled_on": f(settled) if settled and settled <= self.today else "", "record_status": "正常",
        }  # fmt: skip

    def _qjsb(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        s, day, insurance, period = self._arrears(cell, vocab.INSURANCE_TYPES)
        settled = day + dt.timedelta(days=rng.randint(10, 200)) if rng.random() < 0.5 else None
        return {
            **self._who(s), "insurance_type": insurance, "arrears_period": period,
            "arrears_wan": wan(int(10 ** rng.uniform(3.0, 5.7))), "decision_date": f(day),
            "authority_name": f"{s.pref.name}社会保险事业管理局",
            "settled_on": f(settled) if settled and settled <= self.today else "", "record_status": "正常",
        }  # fmt: skip

    def _cn(self, cell: _Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        tpl, s = self._pick(cell, vocab.COMMITMENTS)
        day = self._day(cell, s)
        until = add_months(day, 12 * rng.choice((1, 2, 3)))
        fulfilment = weighted(rng, (("履约中", 55), ("已履约", 38), ("违诺", 7)))
        if fulfilment == "履约中" and until < self.today:
            fulfilment = "已履约"
        checked = (
            min(day + dt.timedelta(days=rng.randint(30, 365)), self.today) if fulfilment != "履约中" else None
        )
        no = self._next(cell.provider.code, "CN", str(cell.year))
        return {
            **self._who(s), "commitment_no": f"XYCN-{cell.provider.code}-{cell.year}-{no:06d}",
            "commitment_type": tpl.commitment, "matter": tpl.matter, "content": tpl.content, "decision_date": f(day),
            "valid_until": f(until), "accepting_body": cell.provider.name, "fulfilment": fulfilment,
            "fulfilment_checked_on": f(checked) if checked else "", "record_status": "正常",
        }  # fmt: skip

    # -- defects and name-only rows --

    def _special(self, kind: str, item: str, row: dict[str, str]) -> bool:
        """Apply one defect or name-only change to a row when it fits; False when it does not."""
        rng = self.rng
        if kind in ("name_only", "unknown_name"):
            if item not in ("XK", "CF") or not row.get("uscc", "").startswith("91"):
                return False
            row["uscc"] = ""
            if kind == "unknown_name":
                row["subject_name"] = self.pop.unknown_company()
            return True
        if kind == "uscc_checksum" or kind == "id_checksum":
            column = "uscc" if kind == "uscc_checksum" else "id_no"
            value = row.get(column, "")
            if not value:
                return False
            alphabet = ORG_ALPHABET if column == "uscc" else "0123456789X"
            row[column] = value[:-1] + alphabet[(alphabet.index(value[-1]) + 1) % len(alphabet)]
            return True
        if kind == "missing_required":
            row[_BLANK[item]] = ""
            return True
        if kind == "future_date":
            # Only where no other date must follow the decision date, so that the row has this one defect.
            follows, after = _END.get(item, ("", ""))
            if (after == "decision_date" and row.get(follows)) or row.get("fulfilment_checked_on"):
                return False
            row["decision_date"] = self.fmt(self.today + dt.timedelta(days=rng.randint(5, 90)))
            return True
        if kind == "bad_enum":
            if item not in _BAD_ENUM:
                return False
            column, value = _BAD_ENUM[item]
            row[column] = value
            return True
        if kind == "end_before_start" and item in _END:
            follows, after = _END[item]
            row[follows] = self.fmt(parse_date(row[after]) - dt.timedelta(days=rng.randint(10, 200)))
            return True
        return False

    def _row(self, cell: _Cell, build: Callable[[_Cell], dict[str, str]]) -> dict[str, str]:
        row = build(cell)
        while self.queue and self.queue[-1][0] <= self.position:
            self.pending.append(self.queue.pop()[1])
        self.position += 1
        for i, kind in enumerate(self.pending):
            if self._special(kind, cell.item, row):
                del self.pending[i]
                break
        return {header: row.get(name, "") for name, header in HEADERS[cell.item]}

    def run(self, on_plan: Callable[[str, int], None] | None = None) -> Iterator[DemoBatch]:
        self.pop.populate(self.scale)
        if on_plan is not None:
            on_plan(REGISTRATIONS, len(self.pop.subjects))
        yield from self._dj_batches()
        builders: dict[str, Callable[[_Cell], dict[str, str]]] = {
            "XK": self._xk, "CF": self._cf, "QZ": self._qz, "JC": self._jc, "QR": self._qr, "JL": self._jl,
            "SXBZX": self._sxbzx, "JYYC": self._jyyc, "QS": self._qs, "QJSB": self._qjsb, "CN": self._cn,
        }  # fmt: skip
        cells = self._plan()
        self._plan_specials(cells)
        if on_plan is not None:
            on_plan(RECORDS, sum(cell.count for cell in cells))
        for cell in cells:
            build = builders[cell.item]
            parts = math.ceil(cell.count / MAX_BATCH_ROWS)
            for part in range(parts):
                size = cell.count // parts + (1 if part < cell.count % parts else 0)
                self.fmt = self._formatter()
                rows = [self._row(cell, build) for _ in range(size)]
                suffix = f"-{part + 1}" if parts > 1 else ""
                filename = f"{cell.item.lower()}-{cell.provider.code.lower()}-{cell.year}{suffix}.csv"
                yield DemoBatch(cell.item, cell.provider.code, filename, rows)


REGISTRATIONS = "registrations"  # the registration (DJ) batches, one row per subject
RECORDS = "records"  # every other item's batches


def batches(
    scale: float = 1.0,
    *,
    today: dt.date,
    seed: int = 546,
    on_plan: Callable[[str, int], None] | None = None,
) -> Iterator[DemoBatch]:
    """Department batches of a synthetic Sichuan, deterministic for (scale, today, seed).

    Scale 1.0 gives about 20,000 subjects and 200,000 rows. Registration (DJ) batches come first; the others
    are split per (item, provider, year) into batches of at most 5,000 rows, generated one at a time.
    ``on_plan(part, rows)`` is told, before each part's first batch, how many rows the part's batches hold
    (`REGISTRATIONS`, then `RECORDS`): enough for a progress bar, without changing what is generated.
    """
    yield from _Generator(scale, today, seed).run(on_plan)
