"""Cells converted by field type (text, date, amount, integer, enum, USCC and organisation code, resident ID,
region): one converter per field of a catalog item, made once (`rules._plan`), giving the checked,
JSON-ready value or `Invalid`; and what a validated row is (`RowResult`, its `FieldError`s).

No I/O and no clock: "today" is an argument.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.catalog.schemas import FieldSpec
from xinyong.kit import identifiers, regions
from xinyong.kit.dates import parse_date
from xinyong.subjects.rules import SubjectClaim

MAX_CELL_CHARS = 10_000
_AMOUNT_CLEAN = re.compile(r"[,，\s]|万元$|元$")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(slots=True)
class RowResult:
    values: dict[str, Any] = field(default_factory=dict)  # JSON-ready; personal IDs masked
    sensitive: dict[str, str] = field(
        default_factory=dict
    )  # field -> clear personal ID (encrypt before storing)
    errors: list[FieldError] = field(default_factory=list)
    subject: SubjectClaim | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_ENUM_SEPARATORS = re.compile(r"[;；,，、/\s]+")


class Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


Converter = Callable[[Any, dt.date, RowResult], Any]


def converter(spec: FieldSpec) -> Converter:
    """The conversion of one field's non-blank cell: the checked, JSON-ready value, or `Invalid`.

    Made once per field (see `rules._plan`), so a row pays only for the checks its field type needs."""
    make = _CONVERTERS.get(spec.type)
    if make is None:
        raise AssertionError(spec.type)
    return make(spec)


def _text_converter(spec: FieldSpec) -> Converter:
    name, label = spec.name, spec.label
    limit = spec.max_length or MAX_CELL_CHARS
    pattern = re.compile(spec.pattern) if spec.pattern else None

    def text(value: Any, _today: dt.date, result: RowResult) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = str(int(value))
        cleaned = str(value).strip()
        if len(cleaned) > limit:
            raise Invalid("too_long", f"{label}超过{limit}个字符（实为{len(cleaned)}个）")
        if pattern is not None and not pattern.fullmatch(cleaned):
            raise Invalid("format", f"{label}格式错误")
        hidden, found = identifiers.mask_embedded_ids(cleaned)
        if found:
            # A personal ID written into free text is kept only encrypted; the stored text is masked.
            result.sensitive[name] = cleaned
        return hidden

    return text


def _date_converter(spec: FieldSpec) -> Converter:
    label, future_ok = spec.label, spec.future_ok

    def date(value: Any, today: dt.date, _result: RowResult) -> Any:
        try:
            day = parse_date(value)
        except ValueError:
            raise Invalid("date", f"{label}不是有效日期：{str(value)[:40]}") from None
        if not future_ok and day > today:
            raise Invalid("future_date", f"{label}（{day.isoformat()}）晚于今天")
        if day.year < 1949:
            raise Invalid("date", f"{label}（{day.isoformat()}）早于1949年")
        return day.isoformat()

    return date


def _amount_converter(spec: FieldSpec) -> Converter:
    label = spec.label

    def amount(value: Any, _today: dt.date, _result: RowResult) -> Any:
        try:
            number = Decimal(_AMOUNT_CLEAN.sub("", str(value)))
        except InvalidOperation:
            raise Invalid("amount", f"{label}不是有效金额：{str(value)[:40]}") from None
        if not number.is_finite() or number < 0 or number > _MAX_AMOUNT:
            raise Invalid("amount", f"{label}超出范围")
        return format(number.normalize(), "f")

    return amount


def _integer_converter(spec: FieldSpec) -> Converter:
    label = spec.label

    def integer(value: Any, _today: dt.date, _result: RowResult) -> Any:
        try:
            return int(str(value).strip())
        except ValueError:
            raise Invalid("integer", f"{label}应为整数") from None

    return integer


def _enum_converter(spec: FieldSpec) -> Converter:
    assert spec.enum is not None
    label = spec.label
    allowed, order, aliases = frozenset(spec.enum), spec.enum.index, spec.enum_aliases
    combine = spec.combine == "max"
    refused = f"不在允许值内（{'/'.join(spec.enum)}）"

    def enum(value: Any, today: dt.date, result: RowResult) -> Any:
        text = str(value).strip()
        if text in allowed:
            return text
        aliased = aliases.get(text) or aliases.get(text.lower())
        if aliased:
            return aliased
        if combine and _ENUM_SEPARATORS.search(text):
            # Several values in one decision (e.g. several penalties): the one latest in enum order
            # counts, so a decision with 一般 and 严重 penalties takes the longest publicity window.
            parts = [p for p in _ENUM_SEPARATORS.split(text) if p]
            return max((enum(part, today, result) for part in parts), key=order)
        raise Invalid("enum", f"{label}“{text[:40]}”{refused}")

    return enum


def _code_converter(spec: FieldSpec) -> Converter:
    label = spec.label
    check = identifiers.validate_uscc if spec.type == "uscc" else identifiers.validate_org_code

    def code(value: Any, _today: dt.date, _result: RowResult) -> Any:
        try:
            return check(str(value))
        except identifiers.IdentifierError as exc:
            raise Invalid(exc.code, f"{label}：{exc.message}") from None

    return code


def _resident_id_converter(spec: FieldSpec) -> Converter:
    name, label = spec.name, spec.label

    def resident_id(value: Any, today: dt.date, result: RowResult) -> Any:
        try:
            info = identifiers.validate_resident_id(str(value), today=today)
        except identifiers.IdentifierError as exc:
            raise Invalid(exc.code, f"{label}：{exc.message}") from None
        result.sensitive[name] = info.number
        return identifiers.mask_resident_id(info.number)

    return resident_id


def _region_converter(spec: FieldSpec) -> Converter:
    label = spec.label

    def region(value: Any, _today: dt.date, _result: RowResult) -> Any:
        code = identifiers.normalize_code(str(value))
        if not _REGION_SHAPE.fullmatch(code) or not regions.is_known(code):
            raise Invalid("region", f"{label}“{code[:20]}”不是有效的行政区划代码")
        return code

    return region


_CONVERTERS: dict[str, Callable[[FieldSpec], Converter]] = {
    "string": _text_converter,
    "text": _text_converter,
    "date": _date_converter,
    "amount": _amount_converter,
    "integer": _integer_converter,
    "enum": _enum_converter,
    "uscc": _code_converter,
    "org_code": _code_converter,
    "resident_id": _resident_id_converter,
    "region": _region_converter,
}


_MAX_AMOUNT = Decimal("1e12")
_REGION_SHAPE = re.compile(r"\d{6}")
