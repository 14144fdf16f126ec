"""The population of the synthetic Sichuan: prefectures and counties, people and organisations.

Names are unique among organisations (also without their legal form), USCCs and resident IDs are valid and
unique; everything is drawn from the random generator handed in, so the population is deterministic.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from xinyong.demo import vocabulary as vocab
from xinyong.kit import regions
from xinyong.kit.identifiers import make_resident_id, make_uscc

SUBJECTS_AT_SCALE_1 = 20_000
ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 11714: no I, O, S, V, Z


@dataclass(frozen=True)
class Pref:
    code: str
    name: str
    short: str
    weight: float
    counties: tuple[tuple[str, str], ...]  # (code, name)
    county_cum: tuple[float, ...]


@cache
def geography() -> tuple[Pref, ...]:
    prefs = []
    for region in regions.current_prefectures():
        _, short, _, weight = vocab.PREFECTURES.get(region.code, ("", region.name[:2], "", 1.0))
        counties = tuple((c.code, c.name) for c in regions.current_counties(region.code))
        if not counties:
            continue
        weights = [2.0 if name.endswith("区") else 1.0 for _, name in counties]
        cum = tuple(sum(weights[: i + 1]) for i in range(len(weights)))
        prefs.append(Pref(region.code, region.name, short, weight, counties, cum))
    return tuple(prefs)


CATEGORY = {"E": "法人及非法人组织", "I": "个体工商户", "G": "法人及非法人组织", "P": "自然人"}


@dataclass(slots=True)
class Subject:
    kind: str  # E enterprise, I individual business, G government body, P natural person
    name: str
    pref: Pref
    region: str
    county: str
    industry: str
    registered_on: dt.date
    risk: int  # 0 ordinary, 1 risky (more penalties and lists), 2 exemplary (honours)
    uscc: str = ""
    id_no: str = ""
    legal_rep: str = ""
    legal_rep_id: str = ""
    address: str = ""
    capital_yuan: int = 0
    form: str = ""


def mr_bureau_name(pref: Pref, county: str) -> str:
    return f"{pref.name}{county}市场监督管理局" if county.endswith("区") else f"{county}市场监督管理局"


def tax_bureau_name(pref: Pref, county: str) -> str:
    return (
        f"国家税务总局{pref.name}{county}税务局" if county.endswith("区") else f"国家税务总局{county}税务局"
    )


def court_name(pref: Pref, county: str) -> str:
    return f"{pref.name}{county}人民法院" if county.endswith("区") else f"{county}人民法院"


def wan(yuan: int) -> str:
    """Yuan as a 万元 decimal with four places: 5000 -> '0.5000'."""
    return f"{yuan // 10_000}.{yuan % 10_000:04d}"


def weighted(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class Population:
    """Market subjects, people and government bodies, indexed by (prefecture, kind, industry)."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.geo = geography()
        self.geo_cum = tuple(sum(p.weight for p in self.geo[: i + 1]) for i in range(len(self.geo)))
        self.subjects: list[Subject] = []  # organisations, in registration (DJ) order
        self.persons: list[Subject] = []
        self.govs: list[Subject] = []
        self.index: dict[tuple[str, str, str], list[Subject]] = {}
        self.org_names: set[str] = set()  # organisation names without their legal form
        self.usccs: set[str] = set()
        self.ids: set[str] = set()
        self.reg_years = list(range(1995, today.year + 1))
        self.reg_weights = [1.12 ** (y - 1995) for y in self.reg_years]

    def _pref(self) -> Pref:
        return self.rng.choices(self.geo, cum_weights=self.geo_cum)[0]

    def _county(self, pref: Pref) -> tuple[str, str]:
        return self.rng.choices(pref.counties, cum_weights=pref.county_cum)[0]

    def between(self, lo: dt.date, hi: dt.date) -> dt.date:
        if hi <= lo:
            return lo
        return lo + dt.timedelta(days=self.rng.randrange((hi - lo).days + 1))

    def _registration_date(self) -> dt.date:
        year = self.rng.choices(self.reg_years, weights=self.reg_weights)[0]
        return self.between(dt.date(year, 1, 1), min(dt.date(year, 12, 31), self.today))

    def person_name(self, pref: Pref, county: str, male: bool) -> str:
        rng = self.rng
        if pref.code == "513400" and county != "西昌市" and rng.random() < 0.4:
            return rng.choice(vocab.YI_SURNAMES) + rng.choice(vocab.YI_GIVEN)
        if pref.code in ("513200", "513300") and rng.random() < 0.5:
            first, second = rng.sample(vocab.TIBETAN_NAMES, 2)
            return first + second
        surname = rng.choice(vocab.COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(vocab.SURNAMES)
        chars = vocab.MALE_CHARS if male else vocab.FEMALE_CHARS
        given = rng.choice(chars) if rng.random() < 0.3 else rng.choice(chars) + rng.choice(chars)
        return surname + given

    def person(self, pref: Pref | None = None) -> tuple[str, str, Pref, str, str, dt.date]:
        """A new person: name, resident ID, prefecture, county code and name of residence, birth date."""
        rng = self.rng
        pref = pref or self._pref()
        county_code, county = self._county(pref)
        birth = self.between(dt.date(1955, 1, 1), dt.date(self.today.year - 20, 12, 31))
        area = county_code
        if pref.code == "510100" and birth.year < 1990 and rng.random() < 0.5:
            area = rng.choice(vocab.CHENGDU_OLD_DISTRICTS)  # valid although the district dates from 1990
        male = rng.random() < 0.55
        name = self.person_name(pref, county, male)
        for _ in range(100):
            number = make_resident_id(area, birth, rng.randrange(500) * 2 + int(male))
            if number not in self.ids:
                break
            birth += dt.timedelta(days=1)
        self.ids.add(number)
        return name, number, pref, county_code, county, birth

    def _new_uscc(self, authority: str, category: str, region: str, modern: bool) -> str:
        rng = self.rng
        while True:
            if authority == "1":
                body = "00" + "".join(rng.choices("0123456789", k=6))
            elif modern:
                body = "MA6" + "".join(rng.choices(ORG_ALPHABET, k=5))
            elif category == "2":
                body = "L" + "".join(rng.choices(ORG_ALPHABET, k=7))
            else:
                body = str(rng.randint(2, 7)) + "".join(rng.choices("0123456789", k=7))
            uscc = make_uscc(authority, category, region, body)
            if uscc not in self.usccs:
                self.usccs.add(uscc)
                return uscc

    def _address(self, pref: Pref, county: str) -> str:
        rng = self.rng
        tail = (
            f"{rng.randint(1, 30)}栋{rng.randint(1, 28)}楼{rng.randint(1, 20)}号"
            if rng.random() < 0.4
            else ""
        )
        return f"四川省{pref.name}{county}{rng.choice(vocab.STREETS)}{rng.randint(1, 999)}号{tail}"

    def _company_core(self, pref: Pref, industry: vocab.Industry) -> str:
        rng = self.rng
        for attempt in range(1000):
            prefix = "四川" if rng.random() < 0.15 else pref.short
            trade = rng.choice(vocab.TRADE_NAMES)
            if attempt > 20 or rng.random() < 0.5:
                trade += rng.choice(vocab.TRADE_NAMES)
            if attempt > 50:  # only at large scales
                trade += rng.choice(vocab.TRADE_NAMES)
            core = prefix + trade + rng.choice(industry.words)
            if core not in self.org_names:
                self.org_names.add(core)
                return core
        raise RuntimeError("company names exhausted")

    def _risk(self) -> int:
        r = self.rng.random()
        return 1 if r < 0.08 else 2 if r < 0.14 else 0

    def _enterprise(self) -> Subject:
        rng = self.rng
        industry = rng.choices(vocab.INDUSTRIES, weights=[i.weight for i in vocab.INDUSTRIES])[0]
        pref = self._pref()
        county_code, county = self._county(pref)
        form = weighted(rng, vocab.ORG_FORMS)
        name = self._company_core(pref, industry) + form
        registered = self._registration_date()
        rep, rep_id, *_ = self.person(pref if rng.random() < 0.8 else None)
        capital = rng.choice((10, 30, 50, 100, 100, 200, 300, 500, 500, 1000, 2000, 5000, 10000)) * 10_000
        if form == "股份有限公司":
            capital *= 5
        return Subject(
            "E", name, pref, county_code, county, industry.key, registered, self._risk(),
            uscc=self._new_uscc("9", "1", county_code, registered.year >= 2016), legal_rep=rep, legal_rep_id=rep_id,
            address=self._address(pref, county), capital_yuan=capital, form=form,
        )  # fmt: skip

    def _individual_business(self) -> Subject:
        rng = self.rng
        pref = self._pref()
        county_code, county = self._county(pref)
        rep, rep_id, *_ = self.person(pref)
        shop, industry = rng.choice(vocab.SHOPS)
        surname = rep[0] if rep[0] in vocab.SURNAMES else ""
        for attempt in range(1000):
            r = rng.random()
            if surname and shop == "诊所" and attempt < 5:
                label = surname + "氏"
            elif surname and r < 0.4 and attempt < 5:
                label = surname + "记"
            elif surname and r < 0.55 and attempt < 5:
                label = "老" + surname
            else:
                label = rng.choice(vocab.TRADE_NAMES)
                if attempt > 5:
                    label += rng.choice(vocab.TRADE_NAMES)
            name = f"{county}{label}{shop}"
            if name not in self.org_names:
                self.org_names.add(name)
                break
        else:
            raise RuntimeError("shop names exhausted")
        registered = self._registration_date()
        capital = rng.choice((0, 0, 1, 2, 3, 5, 10, 20, 50)) * 10_000
        return Subject(
            "I", name, pref, county_code, county, industry, registered, self._risk(),
            uscc=self._new_uscc("9", "2", county_code, registered.year >= 2016 or rng.random() < 0.5),
            legal_rep=rep, legal_rep_id=rep_id, address=self._address(pref, county), capital_yuan=capital,
        )  # fmt: skip

    def populate(self, scale: float) -> None:
        """Create about 20,000 x scale subjects: enterprises, individual businesses, government bodies, people."""
        rng = self.rng
        total = max(20, round(SUBJECTS_AT_SCALE_1 * scale))
        n_person = max(3, round(total * 0.05))
        n_ib = max(3, round(total * 0.15))
        counties = [(p, c) for p in self.geo for c in p.counties]
        n_gov = min(len(counties), max(1, round(total * 0.001)))
        kinds = ["E"] * (total - n_person - n_ib - n_gov) + ["I"] * n_ib
        rng.shuffle(kinds)
        for kind in kinds:
            self.subjects.append(self._enterprise() if kind == "E" else self._individual_business())
        for pref, (county_code, county) in rng.sample(counties, n_gov):
            name = f"{pref.name}{county}人民政府" if county.endswith("区") else f"{county}人民政府"
            self.org_names.add(name)
            rep, rep_id, *_ = self.person(pref)
            gov = Subject(
                "G", name, pref, county_code, county, "", self.between(dt.date(1990, 1, 1), dt.date(2005, 12, 31)), 0,
                uscc=self._new_uscc("1", "1", county_code, True), legal_rep=rep, legal_rep_id=rep_id,
                address=self._address(pref, county),
            )  # fmt: skip
            self.subjects.append(gov)
            self.govs.append(gov)
        for _ in range(n_person):
            name, number, pref, county_code, county, birth = self.person()
            adult = dt.date(birth.year + 18, birth.month, min(birth.day, 28))
            risk = 1 if rng.random() < 0.3 else 2 if rng.random() < 0.15 else 0
            self.persons.append(Subject("P", name, pref, county_code, county, "", adult, risk, id_no=number))
        for s in (*self.subjects, *self.persons):
            if s.kind != "G":
                self.index.setdefault((s.pref.code, s.kind, s.industry), []).append(s)

    # -- registration (DJ) --

    def registration_row(self, s: Subject, fmt: Callable[[dt.date], str]) -> dict[str, str]:
        """The DJ row of an organisation, in catalog field names."""
        rng = self.rng
        if s.kind == "E":
            entity = rng.choice(vocab.ENTITY_TYPES[s.form])
            status = weighted(
                rng, (("存续", 85), ("在业", 7), ("吊销", 3), ("注销", 4), ("迁出", 0.5), ("停业", 0.5))
            )
            authority = mr_bureau_name(s.pref, s.county)
            scope = next(i.scope for i in vocab.INDUSTRIES if i.key == s.industry)
        elif s.kind == "I":
            entity, authority = "个体工商户", mr_bureau_name(s.pref, s.county)
            status = weighted(rng, (("在业", 70), ("存续", 22), ("注销", 7), ("吊销", 1)))
            scope = next(i.scope for i in vocab.INDUSTRIES if i.key == s.industry).split("；")[0]
        else:
            entity, status, scope, authority = "机关法人", "存续", "", f"{s.pref.name}机构编制委员会办公室"
        return {
            "subject_name": s.name, "subject_category": CATEGORY[s.kind], "uscc": s.uscc, "region_code": s.region,
            "legal_rep": s.legal_rep, "legal_rep_id_type": "身份证", "legal_rep_id_no": s.legal_rep_id,
            "registered_on": fmt(s.registered_on), "entity_type": entity, "address": s.address,
            "registered_capital_wan": wan(s.capital_yuan) if s.capital_yuan else "", "business_scope": scope,
            "operating_status": status, "registration_authority": authority, "record_status": "正常",
            "industry_code": "S92" if s.kind == "G" else vocab.INDUSTRY_CODES[s.industry][s.kind == "I"],
        }  # fmt: skip

    def unknown_company(self) -> str:
        """A company name that belongs to no subject."""
        rng = self.rng
        while True:
            core = "四川" + rng.choice(vocab.TRADE_NAMES) + rng.choice(vocab.TRADE_NAMES) + "实业"
            if core not in self.org_names:
                self.org_names.add(core)
                return core + "有限公司"
