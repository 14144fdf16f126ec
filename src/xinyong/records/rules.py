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

MAX_CELL_CHARS = 10_000
KIND_BY_CATEGORY = {
    "法人及非法人组织": "legal_person",
    "个体工商户": "individual_business",
    "自然人": "natural_person",
}
KIND_LABELS = {
    "legal_person": "法人和非法人组织",
    "individual_business": "个体工商户",
    "natural_person": "自然人",
    "gov_body": "政府机构",
}
REVOKED = "撤销"
_AMOUNT_CLEAN = re.compile(r"[,，\s]|万元$|元$")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class SubjectClaim:
    """Who a row is about, as far as the row itself tells."""

    kind: str
    name: str
    name_norm: str
    region_code: str | None
    uscc: str | None = None
    resident_id: str | None = None
    business_reg_no: str | None = None
    org_code: str | None = None
    legal_rep: str | None = None

    def identity(self, hash_id: Callable[[str], str]) -> str:
        """A stable identity string for the natural key: the strongest identifier the row carries."""
        if self.uscc:
            return f"uscc:{self.uscc}"
        if self.resident_id:
            return f"rid:{hash_id(self.resident_id)}"
        if self.business_reg_no:
            return f"regno:{self.business_reg_no}"
        if self.org_code:
            return f"org:{self.org_code}"
        return f"name:{self.name_norm}|{self.region_code or ''}"


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
        self.unknown = [h for h in headers if h not in self.mapping and h != "__extra__"]
        present = set(self.mapping.values())
        self.missing_required = [
            f.name for f in item.fields if f.required and f.default is None and f.name not in present
        ]

    def _target(self, header: str) -> str | None:
        return self._lookup.get(header.strip().lower()) or self._lookup.get(header.strip())

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


def _clean_text(spec: FieldSpec, value: Any) -> str:
    text = str(value).strip() if not isinstance(value, float) or not value.is_integer() else str(int(value))
    limit = spec.max_length or MAX_CELL_CHARS
    if len(text) > limit:
        raise _Invalid("too_long", f"{spec.label}超过{limit}个字符（实为{len(text)}个）")
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        raise _Invalid("format", f"{spec.label}格式错误")
    return text


_ENUM_SEPARATORS = re.compile(r"[;；,，、/\s]+")


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


def _convert(spec: FieldSpec, value: Any, today: dt.date, result: RowResult) -> Any:
    if spec.type in ("string", "text"):
        text = _clean_text(spec, value)
        hidden, found = identifiers.mask_embedded_ids(text)
        if found:
            # A personal ID written into free text is kept only encrypted; the stored text is masked.
            result.sensitive[spec.name] = text
        return hidden
    if spec.type == "date":
        try:
            day = parse_date(value)
        except ValueError:
            raise _Invalid("date", f"{spec.label}不是有效日期：{str(value)[:40]}") from None
        if not spec.future_ok and day > today:
            raise _Invalid("future_date", f"{spec.label}（{day.isoformat()}）晚于今天")
        if day.year < 1949:
            raise _Invalid("date", f"{spec.label}（{day.isoformat()}）早于1949年")
        return day.isoformat()
    if spec.type == "amount":
        text = _AMOUNT_CLEAN.sub("", str(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise _Invalid("amount", f"{spec.label}不是有效金额：{str(value)[:40]}") from None
        if not amount.is_finite() or amount < 0 or amount > Decimal("1e12"):
            raise _Invalid("amount", f"{spec.label}超出范围")
        return format(amount.normalize(), "f")
    if spec.type == "integer":
        try:
            return int(str(value).strip())
        except ValueError:
            raise _Invalid("integer", f"{spec.label}应为整数") from None
    if spec.type == "enum":
        text = str(value).strip()
        assert spec.enum is not None
        if text in spec.enum:
            return text
        aliased = spec.enum_aliases.get(text) or spec.enum_aliases.get(text.lower())
        if aliased:
            return aliased
        if spec.combine == "max" and _ENUM_SEPARATORS.search(text):
            # Several values in one decision (e.g. several penalties): the one latest in enum order counts,
            # so a decision with 一般 and 严重 penalties takes the longest publicity window.
            parts = [p for p in _ENUM_SEPARATORS.split(text) if p]
            values = [_convert(spec, part, today, result) for part in parts]
            return max(values, key=spec.enum.index)
        raise _Invalid("enum", f"{spec.label}“{text[:40]}”不在允许值内（{'/'.join(spec.enum)}）")
    if spec.type == "uscc":
        try:
            return identifiers.validate_uscc(str(value))
        except identifiers.IdentifierError as exc:
            raise _Invalid(exc.code, f"{spec.label}：{exc.message}") from None
    if spec.type == "org_code":
        try:
            return identifiers.validate_org_code(str(value))
        except identifiers.IdentifierError as exc:
            raise _Invalid(exc.code, f"{spec.label}：{exc.message}") from None
    if spec.type == "resident_id":
        try:
            info = identifiers.validate_resident_id(str(value), today=today)
        except identifiers.IdentifierError as exc:
            raise _Invalid(exc.code, f"{spec.label}：{exc.message}") from None
        result.sensitive[spec.name] = info.number
        return identifiers.mask_resident_id(info.number)
    if spec.type == "region":
        code = identifiers.normalize_code(str(value))
        if not re.fullmatch(r"\d{6}", code) or not regions.is_known(code):
            raise _Invalid("region", f"{spec.label}“{code[:20]}”不是有效的行政区划代码")
        return code
    raise AssertionError(spec.type)


def validate_row(item: CatalogItem, values: Mapping[str, Any], *, today: dt.date) -> RowResult:
    """Validate one row (already keyed by catalog field names) and work out who it is about."""
    result = RowResult()
    for spec in item.fields:
        value = values.get(spec.name)
        if _blank(value):
            if spec.default is not None:
                result.values[spec.name] = spec.default
            elif spec.required:
                result.errors.append(FieldError(spec.name, "required", f"缺少必填项：{spec.label}"))
            continue
        try:
            result.values[spec.name] = _convert(spec, value, today, result)
        except _Invalid as invalid:
            result.errors.append(FieldError(spec.name, invalid.code, invalid.message))
    for spec in item.fields:
        other = spec.not_before
        if other and other in result.values and result.values.get(spec.name, "9999") < result.values[other]:
            other_label = item.field(other).label  # type: ignore[union-attr]
            result.errors.append(FieldError(spec.name, "date_order", f"{spec.label}早于{other_label}"))
    if not result.errors:
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
            converted[name] = _convert(spec, value, today, scratch)
        except _Invalid as invalid:
            errors.append(FieldError(name, invalid.code, invalid.message))
    return converted, errors
