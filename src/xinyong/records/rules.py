"""Pure ingestion rules: map headers, validate a row against its catalog item, identify its subject and key.

Each cell is converted by its field type in `field_types.py` (which also defines `RowResult` and `FieldError`).
No I/O and no clock: "today" and the identifier hash function are arguments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from xinyong.catalog.schemas import CatalogItem, FieldSpec
from xinyong.kit import names
from xinyong.records.field_types import MAX_CELL_CHARS as MAX_CELL_CHARS
from xinyong.records.field_types import Converter, Invalid, blank, converter
from xinyong.records.field_types import FieldError as FieldError
from xinyong.records.field_types import RowResult as RowResult
from xinyong.subjects.rules import KIND_LABELS, SubjectClaim

KIND_BY_CATEGORY = {
    "法人及非法人组织": "legal_person",
    "个体工商户": "individual_business",
    "自然人": "natural_person",
}
REVOKED = "撤销"
_LABELLED_CODE = re.compile(r"(.+?)\s*[(（]\s*([A-Za-z][A-Za-z0-9_]*)\s*[)）]")


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
            if target not in out or blank(out[target]):
                out[target] = value
        return out


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
    converters = {spec.name: converter(spec) for spec in item.fields}
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
        except Invalid as invalid:
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
        if blank(value):
            if spec.required:
                errors.append(FieldError(name, "required", f"缺少必填项：{spec.label}"))
            else:
                converted[name] = None
            continue
        try:
            converted[name] = _plan(item).converters[name](value, today, scratch)
        except Invalid as invalid:
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
