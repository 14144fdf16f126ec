"""The demo's departments: the provincial departments (region 510000) and the 21 prefecture market-regulation
bureaus, each with a stable government USCC and the prefix of its document numbers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from xinyong.demo import vocabulary as vocab
from xinyong.kit import regions
from xinyong.kit.identifiers import make_uscc


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    uscc: str | None
    region_code: str
    parent_code: str | None


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
class Departments:
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
def directory() -> Departments:
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
    return Departments(tuple(depts), prefix, bureau_of)


def departments() -> list[DemoDepartment]:
    """Provincial departments (region 510000), then the 21 prefecture market-regulation bureaus."""
    return list(directory().all)
