"""Synthetic, deterministic benchmark data: USCCs, Chinese company names, penalty CSV files and search queries.

Everything is derived from a seed, so two runs with the same arguments produce byte-identical files.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xinyong.kit import regions
from xinyong.kit.identifiers import make_uscc
from xinyong.kit.names import core_name, normalize_name

# --- USCC ------------------------------------------------------------------------------------------------
# GB 32100-2015: 17 characters from this alphabet weighted mod 31; the embedded organisation code (GB 11714)
# has its own mod-11 check digit. make_uscc() does the same in ~8 µs; this does it from tables in ~1.5 µs.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # also the allowed characters of the 8-char org body
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_BASE = len(_USCC_ALPHABET)  # 31
_BODY_SPACE = _BASE**8
_MIX = 527_106_513_773  # coprime with 31: n -> n * _MIX mod 31^8 is a bijection, so bodies stay unique


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def _pair_tables() -> list[list[tuple[str, int, int]]]:
    """For each of the 4 two-character blocks of the body: (text, org-code partial sum, USCC partial sum)."""
    tables = []
    for block in range(4):
        ow1, ow2 = _ORG_WEIGHTS[2 * block], _ORG_WEIGHTS[2 * block + 1]
        uw1, uw2 = _USCC_WEIGHTS[8 + 2 * block], _USCC_WEIGHTS[9 + 2 * block]
        table = []
        for i1, c1 in enumerate(_USCC_ALPHABET):
            for i2, c2 in enumerate(_USCC_ALPHABET):
                table.append((c1 + c2, ow1 * _org_value(c1) + ow2 * _org_value(c2), uw1 * i1 + uw2 * i2))
        tables.append(table)
    return tables


class UsccFactory:
    """Fast valid USCCs: `make(prefix, n)` gives a distinct code for each n (prefix = authority+category+region)."""

    def __init__(self) -> None:
        self._tables = _pair_tables()
        self._prefix_sums: dict[str, int] = {}
        self._org_check = {total: self._org_check_char(total) for total in range(11)}

    @staticmethod
    def _org_check_char(remainder: int) -> tuple[str, int]:
        digit = 11 - remainder
        char = {10: "X", 11: "0"}.get(digit, str(digit))
        return char, _USCC_ALPHABET.index(char) * _USCC_WEIGHTS[16]

    def make(self, prefix: str, n: int) -> str:
        psum = self._prefix_sums.get(prefix)
        if psum is None:
            assert len(prefix) == 8 and prefix.isalnum()
            psum = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(prefix, _USCC_WEIGHTS, strict=False))
            self._prefix_sums[prefix] = psum
        m = (n * _MIX + 7_777_777_777) % _BODY_SPACE
        t = self._tables
        m, d3 = divmod(m, 961)
        m, d2 = divmod(m, 961)
        d0, d1 = divmod(m, 961)
        b0, b1, b2, b3 = t[0][d0], t[1][d1], t[2][d2], t[3][d3]
        check, check_sum = self._org_check[(b0[1] + b1[1] + b2[1] + b3[1]) % 11]
        total = psum + b0[2] + b1[2] + b2[2] + b3[2] + check_sum
        return prefix + b0[0] + b1[0] + b2[0] + b3[0] + check + _USCC_ALPHABET[(31 - total) % 31]


def self_check(factory: UsccFactory, samples: int = 2000) -> None:
    """The fast codes must equal the project's make_uscc for the same parts (and so be valid)."""
    rng = random.Random(1)
    for _ in range(samples):
        n = rng.randrange(10_000_000)
        prefix = rng.choice(["91510104", "92510107", "91510000", "11510100"])
        fast = factory.make(prefix, n)
        assert fast == make_uscc(prefix[0], prefix[1], prefix[2:], fast[8:16]), fast


# --- Names -----------------------------------------------------------------------------------------------
# Characters of 字号 (trade names), most popular first: the draw is Zipf-like, so 鑫源, 华通 ... repeat a lot,
# as in real registers. Many have a traditional form (华/華, 发/發, 龙/龍 ...) so traditional queries differ.
_TRADE_CHARS = "".join(
    dict.fromkeys(
        "鑫华盛达兴源恒泰宏通金隆旺德福瑞祥安康新天海博佳创诚信汇丰美荣嘉顺和昌耀晟辉中正宇锦蜀川峰森林云星光明"
        "东西南立业永大万鼎凯力腾飞卓越品优联合骏豪伟强利元亿家乐欣益君邦鸿展智启仁睿圣同润富贵宝玉银龙凤鹏聚尚致"
        "道悦航程拓思维发红长乡万圆义会农开广厂丽乔书买亚亲仓众优伦传体儿党兰关兴军农冯凤刘则刚创刹务动劳勋区协单"
    )
)
_INDUSTRIES = (
    ("科技", 14),
    ("商贸", 10),
    ("贸易", 6),
    ("餐饮管理", 6),
    ("建筑工程", 6),
    ("建材", 3),
    ("物流", 4),
    ("农业开发", 3),
    ("食品", 4),
    ("医药", 2),
    ("房地产开发", 2),
    ("装饰工程", 4),
    ("信息技术", 4),
    ("文化传媒", 4),
    ("电子", 2),
    ("机械设备", 2),
    ("汽车销售服务", 2),
    ("酒业", 2),
    ("茶业", 1),
    ("旅游开发", 1),
    ("环保科技", 2),
    ("教育咨询", 2),
    ("劳务", 2),
    ("物业管理", 2),
    ("电力工程", 1),
    ("化工", 1),
    ("服饰", 1),
    ("家具", 1),
    ("广告", 2),
    ("酒店管理", 1),
    ("企业管理咨询", 2),
    ("网络科技", 3),
    ("生物科技", 1),
    ("实业", 3),
    ("投资", 1),
    ("园林绿化工程", 1),
)
_SUFFIXES = (
    ("有限公司", 70),
    ("有限责任公司", 16),
    ("股份有限公司", 6),
    ("集团有限公司", 3),
    ("个人独资企业", 3),
    ("合伙企业(有限合伙)", 2),
)
_SHOPS = ("小吃店", "便利店", "火锅店", "五金店", "副食店", "理发店", "服装店", "汽车修理部", "茶馆", "药店")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌宇浩凯鹏飞欣怡思雨晨阳"


def _cum(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


@dataclass(frozen=True, slots=True)
class Place:
    county_code: str
    county: str  # 武侯区
    prefecture: str  # 成都市
    short: str  # 成都
    prefecture_code: str


def sichuan_places() -> list[Place]:
    places = []
    for pref in regions.current_prefectures():
        full = pref.name
        short = full[:-1] if full.endswith("市") else full[:2]
        for county in regions.current_counties(pref.code):
            places.append(Place(county.code, county.name, full, short, pref.code))
    assert places
    return places


@dataclass(frozen=True, slots=True)
class SubjectRow:
    kind: str  # legal_person | individual_business
    uscc: str
    name: str
    region_code: str


class NameMaker:
    """Synthetic subjects: region prefix + 2-char 字号 + industry + legal-form suffix, with realistic repetition."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.places = sichuan_places()
        # Chengdu holds about a third of Sichuan's companies: weight its districts up.
        self._place_cum = _cum([6.0 if p.prefecture_code == "510100" else 1.0 for p in self.places])
        self._char_cum = _cum([1.0 / (rank + 8) for rank in range(len(_TRADE_CHARS))])
        self._ind_cum = _cum([float(w) for _, w in _INDUSTRIES])
        self._suf_cum = _cum([float(w) for _, w in _SUFFIXES])
        self.uscc = UsccFactory()
        self_check(self.uscc)  # the fast codes are the project's own (20 ms)

    def _pick(self, cum: list[float]) -> int:
        return bisect.bisect_right(cum, self.rng.random() * cum[-1])

    def trade_name(self) -> str:
        return _TRADE_CHARS[self._pick(self._char_cum)] + _TRADE_CHARS[self._pick(self._char_cum)]

    def subject(self, n: int) -> SubjectRow:
        """The n-th subject (n distinct => USCC distinct)."""
        rng = self.rng
        place = self.places[self._pick(self._place_cum)]
        trade = self.trade_name()
        industry = _INDUSTRIES[self._pick(self._ind_cum)][0]
        suffix = _SUFFIXES[self._pick(self._suf_cum)][0]
        form = rng.random()
        if form < 0.10:
            shop = _SHOPS[rng.randrange(len(_SHOPS))]
            name = f"{place.prefecture}{place.county}{trade}{shop}"
            return SubjectRow(
                "individual_business", self.uscc.make("92" + place.county_code, n), name, place.county_code
            )
        if form < 0.50:
            name = f"{place.short}{trade}{industry}{suffix}"
        elif form < 0.65:
            name = f"{place.prefecture}{trade}{industry}{suffix}"
        elif form < 0.82:
            name = f"四川{trade}{industry}{suffix}"
        elif form < 0.95:
            name = f"{place.prefecture}{place.county}{trade}{industry}{suffix}"
        else:
            name = f"{place.short}{trade}{industry}有限公司{place.county[:-1] or place.county}分公司"
        return SubjectRow(
            "legal_person", self.uscc.make("91" + place.county_code, n), name, place.county_code
        )

    def person(self) -> str:
        return _SURNAMES[self.rng.randrange(len(_SURNAMES))] + "".join(
            self.rng.choice(_GIVEN) for _ in range(self.rng.choice((1, 2)))
        )


def subjects(count: int, seed: int = 20261128) -> Iterator[SubjectRow]:
    maker = NameMaker(seed)
    for n in range(count):
        yield maker.subject(n)


def matching_forms(name: str) -> tuple[str, str]:
    """(name_norm, core_name) exactly as the project computes them."""
    norm = normalize_name(name)
    return norm, core_name(norm)


# --- Penalty CSV -----------------------------------------------------------------------------------------
PENALTY_HEADERS = (
    "CF_WSH",
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_XDR_SHXYM",
    "CF_FRDB",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_NR_FK",
    "CF_JDRQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "severity",
)
_VIOLATIONS = (
    ("销售不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条"),
    ("未按规定公示年度报告", "《企业信息公示暂行条例》第十八条"),
    ("虚假宣传", "《中华人民共和国反不正当竞争法》第二十条"),
    ("销售不合格产品", "《中华人民共和国产品质量法》第四十九条"),
    ("未取得许可从事经营活动", "《无证无照经营查处办法》第十三条"),
    ("违法发布广告", "《中华人民共和国广告法》第五十八条"),
    ("价格违法行为", "《价格违法行为行政处罚规定》第七条"),
    ("使用未经检验的特种设备", "《中华人民共和国特种设备安全法》第八十四条"),
    ("侵犯注册商标专用权", "《中华人民共和国商标法》第六十条"),
    ("计量器具未经检定", "《中华人民共和国计量法》第三十五条"),
)
_DETAILS = (
    "涉案货值金额{v}元，违法所得{g}元",
    "经现场检查并调取销售记录，当事人对上述事实无异议",
    "当事人系初次违法且危害后果轻微，但未及时改正",
    "执法人员于{d}进行复查，当事人仍未整改到位",
)
_SEVERITIES = ("轻微", "一般", "一般", "一般", "一般", "一般", "一般", "一般", "严重", "严重")
_FIRST_DAY = dt.date(2023, 5, 1)
_LAST_DAY = dt.date(2026, 11, 27)  # ingest "today" is 2026-11-28


def penalty_rows(rows: int, subject_count: int, seed: int = 20261128) -> Iterator[list[str]]:
    """`rows` valid penalty rows about `subject_count` subjects (some subjects have many penalties)."""
    maker = NameMaker(seed)
    subject_list = [maker.subject(n) for n in range(subject_count)]
    rng = random.Random(seed + 1)
    authorities = {
        p.prefecture_code: (
            f"{p.prefecture}市场监督管理局",
            make_uscc("1", "1", p.prefecture_code, f"M{i:07d}"),
        )
        for i, p in enumerate(maker.places)
    }
    span = (_LAST_DAY - _FIRST_DAY).days
    places = {p.county_code: p for p in maker.places}
    for n in range(rows):
        # Skewed: a quarter of the subjects carry about half of the penalties.
        subject = subject_list[int(subject_count * rng.random() ** 1.6)]
        place = places[subject.region_code]
        authority_name, authority_uscc = authorities[place.prefecture_code]
        day = _FIRST_DAY + dt.timedelta(days=rng.randrange(span + 1))
        violation, basis = _VIOLATIONS[rng.randrange(len(_VIOLATIONS))]
        detail = _DETAILS[rng.randrange(len(_DETAILS))].format(
            v=rng.randrange(100, 500_000), g=rng.randrange(0, 50_000), d=day.isoformat()
        )
        fine = rng.choice(("0.2", "0.5", "1", "2", "3", "5", "8", "10", "20", "50"))
        yield [
            f"{place.short}市监罚〔{day.year}〕{n + 1}号",
            subject.name,
            "个体工商户" if subject.kind == "individual_business" else "法人及非法人组织",
            subject.uscc,
            maker.person(),
            violation,
            f"经查，当事人于{day.year}年{day.month}月{violation}。{detail}。",
            basis,
            "警告;罚款" if rng.random() < 0.2 else "罚款",
            f"罚款人民币{fine}万元",
            fine,
            day.isoformat(),
            authority_name,
            authority_uscc,
            _SEVERITIES[rng.randrange(len(_SEVERITIES))],
        ]


def penalty_csv(directory: Path, rows: int, subject_count: int, seed: int = 20261128) -> Path:
    """Write (once; cached by parameters) the penalty CSV file and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"penalties-{rows}-{subject_count}-{seed}-v1.csv"
    if path.exists():
        return path
    partial = path.with_suffix(".part")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PENALTY_HEADERS)
        writer.writerows(penalty_rows(rows, subject_count, seed))
    partial.rename(path)
    return path


# --- Search queries --------------------------------------------------------------------------------------
QUERY_KINDS = ("full_name", "without_suffix", "traditional", "fragment4", "uscc")


def search_queries(sample: list[SubjectRow], count: int, seed: int = 7) -> list[tuple[str, str, SubjectRow]]:
    """`count` queries (kind, text, the subject it came from), kinds interleaved so any prefix is mixed."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    out: list[tuple[str, str, SubjectRow]] = []
    for i in range(count):
        kind = QUERY_KINDS[i % len(QUERY_KINDS)]
        subject = sample[rng.randrange(len(sample))]
        while kind == "without_suffix" and (
            subject.kind != "legal_person" or subject.name.endswith("分公司")
        ):
            # A name typed without its legal form: only meaningful for names that end with one.
            subject = sample[rng.randrange(len(sample))]
        if kind == "full_name":
            text = subject.name
        elif kind == "without_suffix":
            text = core_name(normalize_name(subject.name))
        elif kind == "traditional":
            text = s2t.convert(subject.name)
        elif kind == "fragment4":
            core = core_name(normalize_name(subject.name))
            start = rng.randrange(max(len(core) - 3, 1))
            text = core[start : start + 4]
        else:
            text = subject.uscc
        out.append((kind, text, subject))
    return out


def trade_name_queries(count: int, seed: int = 9) -> list[str]:
    """Bare 2-character 字号 such as 鑫源, drawn with the same popularity as in the names (a common search)."""
    maker = NameMaker(seed)
    return [maker.trade_name() for _ in range(count)]
