"""The pure rules of voluntary registration: its kinds load only with a source, the steps each state allows,
and fields as kept and shown."""

from __future__ import annotations

import copy
import datetime as dt
from importlib import resources
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from xinyong.kit.errors import Conflict
from xinyong.registration import rules
from xinyong.registration.schemas import KindSet

TODAY = dt.date(2026, 11, 28)


def shipped() -> dict[str, Any]:
    text = resources.files("xinyong.registration").joinpath("data/kinds.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["kinds"][0].pop("source"),
        lambda d: d["kinds"][0].update(source=""),
        lambda d: d.pop("source"),
        lambda d: d["kinds"][0].update(public="sometimes"),
        lambda d: d["kinds"][0].update(title_field="nothing"),
        lambda d: d["kinds"][1]["fields"][0].pop("max_length"),
        lambda d: d["kinds"].append(copy.deepcopy(d["kinds"][0])),
    ],
)
def test_a_kind_without_its_source_or_with_a_broken_field_cannot_be_loaded(breakage: Any) -> None:
    data = shipped()
    KindSet.model_validate(data)
    breakage(data)
    with pytest.raises(ValidationError):
        KindSet.model_validate(data)


def test_each_state_allows_only_its_steps() -> None:
    assert rules.allowed_events("declared") == ["amend", "withdraw", "confirm", "reject"]
    assert rules.allowed_events("confirmed") == ["find_false"]
    assert rules.allowed_events("false") == [] and rules.allowed_events("withdrawn") == []
    assert rules.next_state("rejected", "amend") == "declared"
    with pytest.raises(Conflict) as refused:
        rules.next_state("withdrawn", "amend")
    assert refused.value.code == "registration.illegal_transition" and "已撤回" in refused.value.message


def test_fields_are_kept_typed_and_shown_in_chinese() -> None:
    kinds = KindSet.model_validate(shipped())
    finance = kinds.get("financial_summary")
    assert finance is not None
    kept = rules.clean_fields(finance, {"year": "2025", "revenue": "1,234.5", "employees": ""}, TODAY)
    assert kept == {
        "year": 2025,
        "revenue": 1234.5,
        "net_profit": None,
        "total_assets": None,
        "employees": None,
        "audited_by": None,
    }
    assert rules.title_of(finance, kept) == "2025年度财务概况"
    revenue = finance.field("revenue")
    assert revenue is not None and rules.display(revenue, 1234.5) == "1234.5 万元"
    honour = kinds.get("honour")
    assert honour is not None
    awarded = honour.field("awarded_on")
    assert awarded is not None and rules.display(awarded, "2025-06-30") == "2025年6月30日"
    assert rules.display(awarded, None) == "—"
