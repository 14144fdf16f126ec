"""Pure ingestion rules: map headers, validate a row against its catalog item, identify its subject and key.

No I/O and no clock: "today" and the identifier hash function are arguments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.catalog.schemas import CatalogItem, FieldSpec
from xinyong.kit import identifiers, names, regions
from xinyong.kit.dates import parse_date
from xinyong.subjects.rules import KIND_LABELS, SubjectClaim

MAX_CELL_CHARS = 10_000
KIND_BY_CATEGORY = {
    "法人及非法人组织": "legal_person",
    "个体工商户": "individual_business",
    "自然人": "natural_person",
}
REVOKED = "撤销"
_AMOUNT_CLEAN = re.compile(r"[,，\s]|万元$|元$")
_LABELLED_CODE = re.compile(r"(.+?)\s*[(（]\s*([A-Za-z][A-Za-z0-9_]*)\s*[)）]")


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


class HeaderMap:
    """Maps a file's headers (catalog field names or national codes such as CF_WSH) to catalog fields."""

    def __init__(self, item: CatalogItem, headers: list[str]) -> None:
        lookup: dict[str, str] = {}
        for spec in item.fields:
            lookup[spec.name.lower()] = spec.name
            lookup[spec.label] = spec.name
            for alias in spec.alias:
                lookup[alias.lower()] = spec.name
        self._lookup = lookup
        self.mapping: dict[str, str] = {}
        for header in headers:
            target = self._target(header)
            if target and target not in self.mapping.values():
                self.mapping[header] = target
        self.unknown = [h for h in headers if h not in self.mapping and h not in ("__extra__", "__invalid__")]
        present = set(self.mapping.values())
        self.missing_required = [
            f.name for f in item.fields if f.required and f.default is None and f.name not in present
        ]

    def _target(self, header: str) -> str | None:
        text = header.strip()
        found = self._lookup.get(text.lower()) or self._lookup.get(text)
        if found is None and (labelled := _LABELLED_CODE.fullmatch(text)):
            # The catalog's templates head each column "name (national code)": 行政处罚决定书文号(CF_WSH).
            found = self._lookup.get(labelled[2].lower()) or self._lookup.get(labelled[1])
        return found

    def apply(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Key a row by catalog field names; a header first seen in this row is mapped too."""
        out: dict[str, Any] = {}
        for header, value in raw.items():
            target = self.mapping.get(header)
            if target is None:
                target = self._target(header)
                if target is None:
                    continue
                self.mapping[header] = target
            if target not in out or _blank(out[target]):
                out[target] = value
        return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_ENUM_SEPARATORS = re.compile(r"[;；,，、/\s]+")


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


Converter = Callable[[Any, dt.date, RowResult], Any]


def _converter(spec: FieldSpec) -> Converter:
    """The conversion of one field's non-blank cell: the checked, JSON-ready value, or `_Invalid`.

    Made once per field (see `_plan`), so a row pays only for the checks its field type needs."""
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
            raise _Invalid("too_long", f"{label}超过{limit}个字符（实为{len(cleaned)}个）")
        if pattern is not None and not pattern.fullmatch(cleaned):
            raise _Invalid("format", f"{label}格式错误")
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
            raise _Invalid("date", f"{label}不是有效日期：{str(value)[:40]}") from None
        if not future_ok and day > today:
            raise _Invalid("future_date", f"{label}（{day.isoformat()}）晚于今天")
        if day.year < 1949:
            raise _Invalid("date", f"{label}（{day.isoformat()}）早于1949年")
        return day.isoformat()

    return date


def _amount_converter(spec: FieldSpec) -> Converter:
    label = spec.label

    def amount(value: Any, _today: dt.date, _result: RowResult) -> Any:
        try:
            number = Decimal(_AMOUNT_CLEAN.sub("", str(value)))
        except InvalidOperation:
            raise _Invalid("amount", f"{label}不是有效金额：{str(value)[:40]}") from None
        if not number.is_finite() or number < 0 or number > _MAX_AMOUNT:
            raise _Invalid("amount", f"{label}超出范围")
        return format(number.normalize(), "f")

    return amount


def _integer_converter(spec: FieldSpec) -> Converter:
    label = spec.label

    def integer(value: Any, _today: dt.date, _result: RowResult) -> Any:
        try:
            return int(str(value).strip())
        except ValueError:
            raise _Invalid("integer", f"{label}应为整数") from None

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
        raise _Invalid("enum", f"{label}“{text[:40]}”{refused}")

    return enum


def _code_converter(spec: FieldSpec) -> Converter:
    label = spec.label
    check = identifiers.validate_uscc if spec.type == "uscc" else identifiers.validate_org_code

    def code(value: Any, _today: dt.date, _result: RowResult) -> Any:
        try:
            return check(str(value))
        except identifiers.IdentifierError as exc:
            raise _Invalid(exc.code, f"{label}：{exc.message}") from None

    return code


def _resident_id_converter(spec: FieldSpec) -> Converter:
    name, label = spec.name, spec.label

    def resident_id(value: Any, today: dt.date, result: RowResult) -> Any:
        try:
            info = identifiers.validate_resident_id(str(value), today=today)
        except identifiers.IdentifierError as exc:
            raise _Invalid(exc.code, f"{label}：{exc.message}") from None
        result.sensitive[name] = info.number
        return identifiers.mask_resident_id(info.number)

    return resident_id


def _region_converter(spec: FieldSpec) -> Converter:
    label = spec.label

    def region(value: Any, _today: dt.date, _result: RowResult) -> Any:
        code = identifiers.normalize_code(str(value))
        if not _REGION_SHAPE.fullmatch(code) or not regions.is_known(code):
            raise _Invalid("region", f"{label}“{code[:20]}”不是有效的行政区划代码")
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


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    name: str
    convert: Converter
    default: str | None
    missing: FieldError | None  # the error of a blank required field


@dataclass(frozen=True, slots=True)
class _Plan:
    """An item's fields made ready for validating many rows: a converter each, and the date-order checks."""

    fields: tuple[_FieldPlan, ...]
    order: tuple[tuple[str, str, str], ...]  # (field, field it may not precede, error message)
    converters: dict[str, Converter]


_PLANS: dict[int, tuple[CatalogItem, _Plan]] = {}


def _plan(item: CatalogItem) -> _Plan:
    known = _PLANS.get(id(item))
    if known is not None and known[0] is item:
        return known[1]
    converters = {spec.name: _converter(spec) for spec in item.fields}
    fields = tuple(
        _FieldPlan(
            spec.name,
            converters[spec.name],
            spec.default,
            FieldError(spec.name, "required", f"缺少必填项：{spec.label}") if spec.required else None,
        )
        for spec in item.fields
    )
    order = tuple(
        (spec.name, spec.not_before, f"{spec.label}早于{item.field(spec.not_before).label}")  # type: ignore[union-attr]
        for spec in item.fields
        if spec.not_before
    )
    plan = _Plan(fields, order, converters)
    if len(_PLANS) >= 256:  # catalogs are few and long-lived; this only bounds a process that loads many
        _PLANS.clear()
    _PLANS[id(item)] = (item, plan)
    return plan


def validate_row(item: CatalogItem, values: Mapping[str, Any], *, today: dt.date) -> RowResult:
    """Validate one row (already keyed by catalog field names) and work out who it is about."""
    plan = _plan(item)
    result = RowResult()
    converted, errors, get = result.values, result.errors, values.get
    for spec in plan.fields:
        value = get(spec.name)
        if value is None or (isinstance(value, str) and (not value or value.isspace())):
            if spec.default is not None:
                converted[spec.name] = spec.default
            elif spec.missing is not None:
                errors.append(spec.missing)
            continue
        try:
            converted[spec.name] = spec.convert(value, today, result)
        except _Invalid as invalid:
            errors.append(FieldError(spec.name, invalid.code, invalid.message))
    for name, other, message in plan.order:
        if other in converted and converted.get(name, "9999") < converted[other]:
            errors.append(FieldError(name, "date_order", message))
    if not errors:
        _claim_subject(item, result)
    return result


def _claim_subject(item: CatalogItem, result: RowResult) -> None:
    v = result.values
    uscc = v.get("uscc")
    resident_id = result.sensitive.get("id_no")
    category = v.get("subject_category")
    if category:
        kind = KIND_BY_CATEGORY[category]
    elif resident_id and not uscc:
        kind = "natural_person"
    elif uscc and uscc.startswith("92"):
        kind = "individual_business"
    else:
        kind = "legal_person"
    if kind == "legal_person" and uscc and uscc.startswith("11"):
        kind = "gov_body"
    if kind == "natural_person" and not resident_id:
        result.errors.append(FieldError("id_no", "subject.id_required", "自然人须提供公民身份号码"))
        return
    if kind != "natural_person" and resident_id and not uscc:
        # An organisation identified only by a personal ID is a data error, not a person.
        result.errors.append(
            FieldError("uscc", "subject.code_required", "法人和非法人组织须提供统一社会信用代码")
        )
        return
    if kind not in item.subject_kinds:
        result.errors.append(
            FieldError(
                "subject_category",
                "subject.kind_not_allowed",
                f"信息项“{item.name}”不适用于{KIND_LABELS[kind]}",
            )
        )
        return
    region = v.get("region_code") or (uscc[2:8] if uscc and uscc[2:8] != "100000" else None)
    if kind == "natural_person" and not region and resident_id:
        region = resident_id[:6]
    norm = names.normalize_name(v["subject_name"])
    result.subject = SubjectClaim(
        kind=kind,
        name=v["subject_name"],
        name_norm=norm,
        region_code=region,
        uscc=uscc,
        resident_id=resident_id,
        business_reg_no=v.get("business_reg_no"),
        org_code=v.get("org_code"),
        legal_rep=v.get("legal_rep"),
    )


def natural_key(
    item: CatalogItem, provider_code: str, result: RowResult, hash_id: Callable[[str], str]
) -> str:
    """provider + item + document number (or the item's key fields) + subject identity, hashed."""
    assert result.subject is not None
    parts = [provider_code, item.code, *(str(result.values.get(k, "")) for k in item.key)]
    parts.append(result.subject.identity(hash_id))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def content_hash(result: RowResult, hash_id: Callable[[str], str]) -> str:
    """Hash of the row's content; a re-sent identical row has the same hash and changes nothing."""
    canonical = dict(result.values)
    for name, clear in result.sensitive.items():
        canonical[name] = hash_id(clear)
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def raw_row(catalog_version: str, item_code: str, provider_code: str, values: Mapping[str, Any]) -> bytes:
    """The submitted row as bytes, before any conversion: what makes a re-sent row the same row.

    Everything validation and storage depend on is in it: the catalog version, the item, the provider, each
    header with its raw cell and the cell's type (an XLSX date and the text of it are different cells). Only
    `today` is not, and it cannot turn a row that was valid invalid (dates must not be in the future)."""
    parts = [catalog_version, item_code, provider_code]
    for header, value in values.items():
        parts.append(f"{header}\x1f{type(value).__name__}\x1f{'' if value is None else value}")
    return "\x1e".join(parts).encode()


def is_revocation(result: RowResult) -> bool:
    return bool(result.values.get("record_status") == REVOKED)


IDENTITY_FIELDS = frozenset(
    {
        "subject_name",
        "subject_category",
        "uscc",
        "business_reg_no",
        "org_code",
        "id_type",
        "id_no",
        "region_code",
    }
)


def correctable_fields(item: CatalogItem) -> list[FieldSpec]:
    """Fields a correction (异议更正) may change: not the natural key, not who the record is about, and not
    a personal ID (those change only through a new submission by the provider)."""
    return [
        spec
        for spec in item.fields
        if spec.name not in item.key
        and spec.name not in IDENTITY_FIELDS
        and spec.name != "record_status"
        and not spec.sensitive
        and spec.public
    ]


def validate_fields(
    item: CatalogItem, values: Mapping[str, Any], *, today: dt.date
) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate only the given fields (a correction), with the same conversions as ingestion."""
    converted: dict[str, Any] = {}
    errors: list[FieldError] = []
    scratch = RowResult()
    for name, value in values.items():
        spec = item.field(name)
        if spec is None:
            errors.append(FieldError(name, "unknown_field", f"未知字段：{name}"))
            continue
        if _blank(value):
            if spec.required:
                errors.append(FieldError(name, "required", f"缺少必填项：{spec.label}"))
            else:
                converted[name] = None
            continue
        try:
            converted[name] = _plan(item).converters[name](value, today, scratch)
        except _Invalid as invalid:
            errors.append(FieldError(name, invalid.code, invalid.message))
    return converted, errors


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One corrected field of a record: its name and label, the value before and after."""

    field: str
    label: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "label": self.label, "before": self.before, "after": self.after}


def field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], labels: Mapping[str, str]
) -> list[FieldChange]:
    """Field-level changes from ``before`` to ``after`` (only fields named in ``after``), in label order."""
    changes = []
    for name, label in labels.items():
        if name not in after:
            continue
        old, new = before.get(name), after[name]
        if (old if old not in ("", None) else None) != (new if new not in ("", None) else None):
            changes.append(FieldChange(name, label, old, new))
    return changes
