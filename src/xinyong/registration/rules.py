"""Pure rules of voluntary registration: the states and their steps, a declared entry's fields checked against
its kind, and who may see an entry (no I/O; today is an argument)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from xinyong.kit.dates import format_china_date
from xinyong.kit.errors import Conflict, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids
from xinyong.registration.schemas import Kind, KindField

DECLARED, CONFIRMED, REJECTED, WITHDRAWN, FALSE = "declared", "confirmed", "rejected", "withdrawn", "false"

STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        DECLARED: "自主申报",
        CONFIRMED: "已核实",
        REJECTED: "不予核实",
        WITHDRAWN: "已撤回",
        FALSE: "虚假申报",
    }
)
EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "declare": "申报",
        "amend": "修改申报",
        "withdraw": "撤回",
        "confirm": "核实",
        "reject": "不予核实",
        "find_false": "认定虚假申报",
    }
)
# event -> (states it may start from, state it leads to). The subject declares, amends and withdraws what is
# not yet confirmed; the competent department confirms or rejects a declared entry and may later find a
# confirmed one false (a breach of its truthfulness commitment).
TRANSITIONS: Mapping[str, tuple[frozenset[str], str]] = MappingProxyType(
    {
        "amend": (frozenset({DECLARED, REJECTED}), DECLARED),
        "withdraw": (frozenset({DECLARED, REJECTED}), WITHDRAWN),
        "confirm": (frozenset({DECLARED}), CONFIRMED),
        "reject": (frozenset({DECLARED}), REJECTED),
        "find_false": (frozenset({CONFIRMED}), FALSE),
    }
)
SUBJECT_EVENTS = frozenset({"amend", "withdraw"})
DEPARTMENT_EVENTS = frozenset({"confirm", "reject", "find_false"})
NOTE_REQUIRED = frozenset({"reject", "find_false"})
# What the public (and a government reader) may ever see: an entry that stands, as declared or confirmed.
STANDING = frozenset({DECLARED, CONFIRMED})
EARLIEST = dt.date(1949, 10, 1)
MAX_NOTE = 2000


def next_state(status: str, event: str) -> str:
    """The state ``event`` leads to from ``status``; a step the state does not allow is a conflict (409)."""
    if event not in TRANSITIONS:
        raise ValidationFailed(f"操作“{event}”不存在", code="registration.unknown_event")
    starts, after = TRANSITIONS[event]
    if status not in starts:
        raise Conflict(
            f"该信息当前为“{STATE_LABELS.get(status, status)}”，不能{EVENT_LABELS[event]}",
            code="registration.illegal_transition",
            details={"status": status, "event": event},
        )
    return after


def allowed_events(status: str) -> list[str]:
    return [event for event, (starts, _) in TRANSITIONS.items() if status in starts]


def _date(field: KindField, value: str, today: dt.date, errors: dict[str, str]) -> str | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors[field.name] = f"{field.label}不是有效日期（格式如2026-06-15）"
        return None
    if day < EARLIEST:
        errors[field.name] = f"{field.label}不能早于1949年10月1日"
    elif day > today and not field.future:
        errors[field.name] = f"{field.label}不能晚于今天"
    elif day.year > 2100:
        errors[field.name] = f"{field.label}超出可登记的范围"
    return day.isoformat()


def _number(field: KindField, value: str, errors: dict[str, str]) -> int | float | None:
    try:
        number = float(value.replace(",", "").replace("，", ""))
    except ValueError:
        errors[field.name] = f"{field.label}应为数字"
        return None
    if not math.isfinite(number):
        errors[field.name] = f"{field.label}应为数字"
        return None
    if (field.min is not None and number < field.min) or (field.max is not None and number > field.max):
        errors[field.name] = f"{field.label}应在{field.min:g}至{field.max:g}之间"
        return None
    return int(number) if number.is_integer() else round(number, 4)


def _text(field: KindField, value: str, errors: dict[str, str]) -> str:
    assert field.max_length is not None
    if len(value) > field.max_length:
        errors[field.name] = f"{field.label}不能超过{field.max_length}字"
    elif field.type == "text" and any(ch in value for ch in "\r\n"):
        errors[field.name] = f"{field.label}不能换行"
    return mask_embedded_ids(value)[0]


def _value(field: KindField, value: str, today: dt.date, errors: dict[str, str]) -> Any:
    """One field's value as kept, or None with the problem noted in ``errors``."""
    if field.type in ("text", "long_text"):
        return _text(field, value, errors)
    if field.type == "date":
        return _date(field, value, today, errors)
    if field.type == "number":
        return _number(field, value, errors)
    if value in field.options:
        return value
    errors[field.name] = f"{field.label}应为：" + "、".join(field.options)
    return None


def _check_order(kind: Kind, cleaned: Mapping[str, Any], errors: dict[str, str]) -> None:
    """A date that may not precede another (a validity's end its start)."""
    for field in kind.fields:
        if field.after and field.name not in errors and field.after not in errors:
            later, earlier = cleaned.get(field.name), cleaned.get(field.after)
            if later and earlier and later < earlier:
                other = kind.field(field.after)
                errors[field.name] = f"{field.label}不能早于{other.label if other else field.after}"


def clean_fields(kind: Kind, raw: Mapping[str, str], today: dt.date) -> dict[str, Any]:
    """The fields of a declaration as kept: each checked against its kind (required, length, date, number,
    choice), free text trimmed with any resident ID typed into it masked. Every problem is reported at once,
    by field (``details``), and nothing is kept."""
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - {f.name for f in kind.fields})
    if unknown:
        errors["_"] = "包含该信息种类没有的字段：" + "、".join(unknown)[:200]
    cleaned: dict[str, Any] = {}
    for field in kind.fields:
        value = (raw.get(field.name) or "").strip()
        if value:
            cleaned[field.name] = _value(field, value, today, errors)
        else:
            cleaned[field.name] = None
            if field.required:
                errors[field.name] = f"请填写{field.label}"
    _check_order(kind, cleaned, errors)
    if errors:
        raise ValidationFailed(
            "申报信息有误：" + "；".join(errors.values()), code="registration.invalid_fields", details=errors
        )
    return cleaned


def title_of(kind: Kind, fields: Mapping[str, Any]) -> str:
    """What names an entry (its kind's title field; a year as 2025年度)."""
    value = fields.get(kind.title_field)
    text = f"{value}年度{kind.label}" if isinstance(value, int) else str(value or kind.label)
    return text[:200]


def is_public(kind: Kind, publish: bool) -> bool:
    """Whether an entry of this kind may be shown to the public: by its kind, or by the subject's choice."""
    return kind.public == "always" or (kind.public == "subject_choice" and publish)


def may_see(view: str, kind: Kind, status: str, publish: bool, *, natural_person: bool) -> bool:
    """Whether one reader of the credit file sees an entry.

    ``own``: the subject sees every entry, also pending, rejected, withdrawn or found false. ``government``
    (a stated, audited purpose): every entry that stands or was found false, of any kind. ``public``: entries
    that stand, of kinds the public may see (or the subject chose to publish), never a natural person's.
    """
    if view == "own":
        return True
    if view == "government":
        return status in STANDING or status == FALSE
    return not natural_person and status in STANDING and is_public(kind, publish)


def clean_note(event: str, note: str) -> str | None:
    """A department's note (the reason of a rejection, the facts of a false declaration): required for those,
    at most 2000 characters, any resident ID in it masked."""
    text = note.strip()
    if event in NOTE_REQUIRED and not text:
        raise ValidationFailed(
            "不予核实须说明理由" if event == "reject" else "认定虚假申报须说明查明的事实",
            code="registration.note_required",
        )
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"说明不能超过{MAX_NOTE}字", code="registration.note_too_long")
    return mask_embedded_ids(text)[0] if text else None


def display(field: KindField, value: Any) -> str:
    """A field as a reader sees it: dates in Chinese (2026年6月15日), amounts with their unit, — when empty."""
    if value is None or value == "":
        return "—"
    if field.type == "date" and isinstance(value, str):
        try:
            return format_china_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    if field.type == "number":
        return (
            f"{value:g}{' ' + field.unit if field.unit else ''}"
            if isinstance(value, int | float)
            else str(value)
        )
    return str(value)
