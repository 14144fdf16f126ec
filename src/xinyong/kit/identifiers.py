"""Identifiers: unified social credit codes (USCC, GB 32100-2015) and resident IDs (GB 11643-1999).

Validation is python-stdnum's, plus what it does not check: the USCC's registration-authority and category
codes and the check digit of the embedded organisation code (GB 11714). Resident IDs are checked for format,
birth date, checksum and an area code that existed in *any* period: stdnum.cn.ric.validate also demands that
the area code existed in the birth year, which rejects many real IDs (see DESIGN.md, "Identifiers").
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from xinyong.kit import regions

# GB 32100-2015 table 1: registration authority -> allowed category codes.
USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}
# Central bodies register with the national pseudo-region 100000.
NATIONAL_REGION = "100000"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_SPACES = re.compile(r"\s+")


class IdentifierError(ValueError):
    """An identifier failed validation; `code` is stable, `message` is Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalize_code(value: str) -> str:
    """Fold width, case and spacing of a submitted code; never touch any other character."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def _char_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check_digit(body: str) -> str:
    """GB 11714 check digit of the first eight characters of an organisation code."""
    total = sum(w * _char_value(c) for w, c in zip(_ORG_WEIGHTS, body, strict=True))
    digit = 11 - total % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


def validate_org_code(value: str) -> str:
    """Validate a 9-character organisation code (组织机构代码), with or without its hyphen."""
    code = normalize_code(value).replace("-", "")
    if len(code) != 9 or not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", code):
        raise IdentifierError("org_code.format", "组织机构代码应为9位数字或大写字母")
    if org_code_check_digit(code[:8]) != code[8]:
        raise IdentifierError("org_code.checksum", "组织机构代码校验位错误")
    return code


def validate_uscc(value: str) -> str:
    """Return the compact USCC or raise IdentifierError explaining which part is wrong."""
    code, error = _checked_uscc(value)
    if error is not None:
        raise IdentifierError(*error)
    return code


@lru_cache(maxsize=1 << 16)
def _checked_uscc(value: str) -> tuple[str, tuple[str, str] | None]:
    # Cached: department files repeat the same codes (the deciding authority's on every row).
    try:
        return _validate_uscc(value), None
    except IdentifierError as exc:
        return "", (exc.code, exc.message)


def _validate_uscc(value: str) -> str:
    code = normalize_code(value)
    if len(code) != 18:
        raise IdentifierError("uscc.length", f"统一社会信用代码应为18位，实为{len(code)}位")
    # stdnum's own validate() insists the first eight characters are digits, which refuses the lawful
    # authority codes A, N and Y; its check-digit calculation is used, the structure is checked here.
    if any(c not in stdnum_uscc._alphabet for c in code) or not code[2:8].isdigit():
        raise IdentifierError("uscc.format", "统一社会信用代码含有不允许的字符")
    if stdnum_uscc.calc_check_digit(code[:17]) != code[17]:
        raise IdentifierError("uscc.checksum", "统一社会信用代码校验位错误")
    authority = USCC_AUTHORITIES.get(code[0])
    if authority is None:
        raise IdentifierError("uscc.authority", f"登记管理部门代码“{code[0]}”不存在")
    if code[1] not in authority[1]:
        raise IdentifierError("uscc.category", f"机构类别代码“{code[1]}”不属于{authority[0]}登记管理部门")
    if code[2:8] != NATIONAL_REGION and not regions.is_known(code[2:8]):
        raise IdentifierError("uscc.region", f"登记管理机关行政区划码“{code[2:8]}”不存在")
    org = code[8:17]
    if org_code_check_digit(org[:8]) != org[8]:
        raise IdentifierError("uscc.org_code_checksum", "统一社会信用代码中的组织机构代码校验位错误")
    return code


def make_uscc(authority: str, category: str, region: str, org_body: str) -> str:
    """Assemble a valid USCC from its parts (used by the demo data generator and tests)."""
    org = org_body + org_code_check_digit(org_body)
    partial = authority + category + region + org
    return partial + str(stdnum_uscc.calc_check_digit(partial))


@dataclass(frozen=True, slots=True)
class ResidentIdInfo:
    number: str
    birth_date: dt.date
    region_code: str
    male: bool


def validate_resident_id(value: str, *, today: dt.date | None = None) -> ResidentIdInfo:
    """Validate an 18-character resident ID: format, birth date, checksum and an area code of any period."""
    number = normalize_code(value)
    if len(number) != 18:
        raise IdentifierError("resident_id.length", f"公民身份号码应为18位，实为{len(number)}位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdentifierError("resident_id.format", "公民身份号码格式错误")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError("resident_id.birth_date", "公民身份号码中的出生日期无效") from None
    if birth.year < 1880 or (today is not None and birth > today):
        raise IdentifierError("resident_id.birth_date", "公民身份号码中的出生日期无效")
    if stdnum_ric.calc_check_digit(number) != number[17]:
        raise IdentifierError("resident_id.checksum", "公民身份号码校验位错误")
    if not regions.is_known(number[:6]):
        raise IdentifierError("resident_id.region", f"公民身份号码中的地址码“{number[:6]}”不存在")
    return ResidentIdInfo(
        number=number, birth_date=birth, region_code=number[:6], male=int(number[16]) % 2 == 1
    )


def make_resident_id(region: str, birth: dt.date, sequence: int) -> str:
    """Assemble a valid resident ID (demo data and tests)."""
    partial = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return partial + str(stdnum_ric.calc_check_digit(partial + "0"))  # stdnum expects a placeholder digit


def mask_resident_id(number: str) -> str:
    """Mask a resident ID for display: first four and last four characters only."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


def mask_person_name(name: str) -> str:
    """Mask a person's name for publication: its first character, then one * for each other (at least two)."""
    name = name.strip()
    return name[:1] + "*" * max(2, len(name) - 1) if name else name


def looks_like_resident_id(candidate: str) -> bool:
    """An 18-character run shaped like a resident ID: a known area code and a plausible birth date.

    Used to catch personal IDs in the wrong column or in free text, whatever their check digit; an
    all-digit USCC does not match (its first six digits are no area code).
    """
    if not regions.is_known(candidate[:6]):
        return False
    year, month, day = int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14])
    return 1880 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31


def mask_embedded_ids(text: str) -> tuple[str, bool]:
    """Mask every resident ID inside a text; returns the text and whether anything was masked (`mask_ids`)."""
    clusters = _id_patterns().cluster
    if clusters.search(text) is None:  # the common case: no 17 digits together
        return text, False
    spans: list[tuple[int, int, str]] = []
    for match in clusters.finditer(text):
        spans.extend(_ids_in_cluster(match))
    if not spans:
        return text, False
    parts: list[str] = []
    last = 0
    for start, end, masked in spans:
        parts += [text[last:start], masked]
        last = end
    parts.append(text[last:])
    return "".join(parts), True


def mask_ids(text: str) -> str:
    """The one masking of resident IDs in free text, applied wherever text is stored or logged.

    An ID is found however it is written: NFKC forms (full-width, superscript or circled digits, a full-width
    or multiplication-sign X), invisible characters inside it (zero-width spaces, joiners, bidi marks,
    combining marks, tags), hyphens, dashes and spaces of any kind between its characters, and letters or
    digits glued before or after it. An 18-character run on its own is masked whatever its check digit (a
    mistyped ID is personal data all the same); inside a longer run of digits a window is masked when it is a
    valid ID (area code, birth date and check digit). The masked form keeps the first and last four.
    """
    return mask_embedded_ids(text)[0]


def mask_ids_in(value: Any) -> Any:
    """`mask_ids` over every string inside a JSON-like value (dicts, lists, strings), keys included."""
    if isinstance(value, str):
        return mask_ids(value)
    if isinstance(value, dict):
        return {mask_ids_in(k): mask_ids_in(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_ids_in(v) for v in value]
    return value


class MaskIdsFilter(logging.Filter):
    """A logging filter that masks resident IDs in a record's message, arguments and traceback (a query
    string in the access log, a purpose, an error message), whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_ids(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_ids(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask_ids(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_ids(record.exc_text)
        return True


def install_log_masking(names: Iterable[str] = ("", "uvicorn", "uvicorn.access", "uvicorn.error")) -> None:
    """Mask resident IDs in everything these loggers and their handlers emit (the root logger's handlers see
    every record that propagates; uvicorn's access log does not propagate). Idempotent."""
    mask = MaskIdsFilter()
    for name in names:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, MaskIdsFilter) for f in target.filters):
                target.addFilter(mask)


ID_LENGTH = 18
_HYPHENS = "-\u00ad\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\uff5e"
_X_CHARS = "Xx\u00d7\u02e3\u2093\u2169\u2179\u24cd\u24e7\uff38\uff58"
# Invisible characters outside the Basic Multilingual Plane: tags and variation selectors, musical and
# Egyptian format controls.
_ASTRAL_IGNORABLE = "\U000e0000-\U000e0fff\U0001d173-\U0001d17a\U000110bd\U000110cd\U00013430-\U0001343f"


@dataclass(frozen=True, slots=True)
class _IdPatterns:
    cluster: re.Pattern[str]
    ignorable: frozenset[str]


def _char_class(chars: Iterable[str]) -> str:
    """A regular-expression character class body for `chars`, consecutive code points as ranges."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        parts.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
        start = prev = code
    return "".join(parts)


@lru_cache(maxsize=1)
def _id_patterns() -> _IdPatterns:
    """Built on first use (a scan of the Basic Multilingual Plane, some milliseconds), never at import."""
    ignorable: set[str] = set(_HYPHENS)
    digits: set[str] = set()
    for code in range(0x10000):
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Mn", "Me", "Zs", "Zl", "Zp") or char.isspace():
            ignorable.add(char)
        elif category == "No" and unicodedata.digit(char, None) is not None:
            digits.add(char)  # superscript, subscript and circled digits (Nd digits are \d already)
    ignore = f"[{_char_class(ignorable)}{_ASTRAL_IGNORABLE}]"
    digit = f"[\\d{_char_class(digits)}]"
    check = f"[\\d{_char_class(_X_CHARS)}]"
    # At least 17 digits with nothing but invisible characters, spaces and hyphens between them, and what
    # may be a check character (a digit or an X) after them.
    cluster = re.compile(f"{digit}(?:{ignore}*{digit}){{16,}}(?:{ignore}*{check})?")
    return _IdPatterns(cluster, frozenset(ignorable))


def _ids_in_cluster(match: re.Match[str]) -> list[tuple[int, int, str]]:
    """The IDs in a run of digits (with separators): their spans in the text and their masked forms."""
    kept: list[tuple[str, int]] = []  # (the character as a plain digit or X, its position in the text)
    for offset, char in enumerate(match.group()):
        if char in _X_CHARS:
            kept.append(("X", match.start() + offset))
            continue
        value = unicodedata.digit(char, None)
        if value is not None:
            kept.append((str(value), match.start() + offset))
    plain = "".join(c for c, _ in kept)
    found: list[tuple[int, int, str]] = []
    if len(plain) == ID_LENGTH:  # on its own: any ID-shaped run, whatever its check digit
        if "X" not in plain[:-1] and looks_like_resident_id(plain):
            found.append((kept[0][1], kept[-1][1] + 1, mask_resident_id(plain)))
        return found
    start = 0
    while start + ID_LENGTH <= len(plain):
        window = plain[start : start + ID_LENGTH]
        if (
            "X" not in window[:-1]
            and looks_like_resident_id(window)
            and stdnum_ric.calc_check_digit(window) == window[-1]
        ):
            found.append((kept[start][1], kept[start + ID_LENGTH - 1][1] + 1, mask_resident_id(window)))
            start += ID_LENGTH
        else:
            start += 1
    return found
