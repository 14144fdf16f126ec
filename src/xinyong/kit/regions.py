"""Administrative division codes (行政区划代码) of every period, read from python-stdnum's table.

Sichuan is fully covered (every code since the 1980s with its validity years); the rest of China resolves
from the same table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

SICHUAN = "51"
_GROUPINGS = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
_ENTRY = re.compile(r"(?:\[(\d*)-(\d*)\])?([^,]+)")


@dataclass(frozen=True, slots=True)
class Period:
    start: int | None
    end: int | None
    name: str


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    periods: tuple[Period, ...]

    @property
    def current(self) -> bool:
        return any(p.end is None for p in self.periods)

    @property
    def name(self) -> str:
        """The newest name of the area."""
        return self.periods[-1].name

    def name_in(self, year: int) -> str | None:
        for period in self.periods:
            if (period.start is None or period.start <= year) and (period.end is None or year <= period.end):
                return period.name
        return None


@cache
def _table() -> dict[str, Region]:
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    table: dict[str, Region] = {}
    province = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        sub, _, rest = line.strip().partition(" ")
        value = rest.split("=", 1)[1].strip('"')
        periods = tuple(
            Period(int(m[1]) if m[1] else None, int(m[2]) if m[2] else None, m[3])
            for m in (_ENTRY.fullmatch(part) for part in value.split(","))
            if m
        )
        table[province + sub] = Region(province + sub, periods)
    return table


def is_known(code: str) -> bool:
    """True if the six-digit code was a division code in any period."""
    return code in _table()


def get(code: str) -> Region | None:
    return _table().get(code)


def name(code: str) -> str:
    """A readable name, including the province and prefecture, for any known code ('' if unknown)."""
    region = _table().get(code)
    if region is None:
        return ""
    parts = []
    for prefix in (code[:2] + "0000", code[:4] + "00"):
        parent = _table().get(prefix)
        if parent and prefix != code and parent.name not in parts and parent.name not in _GROUPINGS:
            parts.append(parent.name)
    if region.name not in _GROUPINGS:
        parts.append(region.name)
    return "".join(parts)


def prefecture_of(code: str) -> str:
    return code[:4] + "00"


def current_prefectures(province: str = SICHUAN) -> list[Region]:
    """Current prefecture-level divisions (地级) of a province, in code order."""
    return [
        r
        for c, r in sorted(_table().items())
        if c.startswith(province) and c.endswith("00") and not c.endswith("0000") and r.current
    ]


def current_counties(prefecture: str) -> list[Region]:
    """Current county-level divisions under a prefecture (districts, counties, county-level cities)."""
    return [
        r
        for c, r in sorted(_table().items())
        if c.startswith(prefecture[:4]) and not c.endswith("00") and r.current and r.name != "市辖区"
    ]
