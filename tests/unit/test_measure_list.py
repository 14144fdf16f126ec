"""The shipped measure list loads against the catalog; broken lists are refused with a readable location."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
import yaml

from xinyong.catalog import service as catalog
from xinyong.measures.loader import MeasureListError, load_shipped, parse_measure_list, validate_document
from xinyong.measures.schemas import Measure, MeasureList

REQUIRED_SCENARIOS = {
    "administrative_approval": "行政审批",
    "government_procurement": "政府采购",
    "public_bidding": "招标投标",
    "fiscal_funding": "财政资金",
    "honours": "评优评先",
    "public_service": "公共服务",
    "credit_loans": "信易贷",
}


def _item_codes() -> set[str]:
    return {i.code for i in catalog.load().items}


def _shipped() -> MeasureList:
    return load_shipped(_item_codes())


def _shipped_raw() -> dict[str, Any]:
    text = resources.files("xinyong.measures").joinpath("data/measures.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


def _index(raw: dict[str, Any], code: str) -> int:
    return next(i for i, m in enumerate(raw["measures"]) if m["code"] == code)


def _triggered(measure: Measure, *, list_type: str | None = None, item: str | None = None) -> bool:
    return any(
        (list_type is not None and t.list_type == list_type)
        or (item is not None and t.item == item and (item != "CF" or "严重" in t.severities))
        for t in measure.triggers
    )


class TestShippedList:
    def test_loads_against_the_real_catalog_with_required_scenarios_and_both_kinds(self) -> None:
        measures = _shipped()
        for code, name in REQUIRED_SCENARIOS.items():
            assert measures.scenarios[code] == name
        assert {m.kind.value for m in measures.measures} == {"punishment", "incentive"}
        assert 25 <= len(measures.measures) <= 40
        assert measures.source.startswith("《")

    def test_every_measure_has_a_legal_basis_naming_a_document(self) -> None:
        for measure in _shipped().measures:
            assert len(measure.legal_basis) >= 6, measure.code
            assert "《" in measure.legal_basis and "》" in measure.legal_basis, measure.code

    def test_every_action_used_has_a_chinese_label(self) -> None:
        measures = _shipped()
        for measure in measures.measures:
            label = measures.action_label(measure.action)
            assert label and all("\u4e00" <= ch <= "\u9fff" for ch in label)

    @pytest.mark.parametrize(
        ("trigger", "action", "scenarios"),
        [
            ({"list_type": "serious_dishonesty"}, "prohibit", {"government_procurement", "public_bidding"}),
            ({"list_type": "serious_dishonesty"}, "prohibit", {"fiscal_funding", "honours"}),
            ({"list_type": "serious_dishonesty"}, "strict_review", {"administrative_approval"}),
            ({"list_type": "market_ban"}, "prohibit", {"administrative_approval", "qualification"}),
            ({"item": "SXBZX"}, "restrict", {"government_procurement", "public_bidding"}),
            ({"item": "SXBZX"}, "restrict", {"fiscal_funding", "honours"}),
            ({"item": "CF"}, "strict_review", {"administrative_approval"}),
            ({"item": "CF"}, "increase_inspection", {"random_inspection"}),
            ({"item": "JYYC"}, "strict_review", {"administrative_approval"}),
            ({"item": "JYYC"}, "prohibit", {"honours"}),
            ({"item": "QS"}, "restrict", {"fiscal_funding", "honours"}),
            ({"list_type": "red"}, "priority", {"administrative_approval", "credit_loans"}),
            ({"list_type": "red"}, "accept_with_pending_documents", {"administrative_approval"}),
            ({"list_type": "red"}, "reduce_inspection", {"random_inspection"}),
            ({"item": "JL"}, "priority", {"administrative_approval", "credit_loans"}),
            ({"item": "WN"}, "restrict", {"administrative_approval"}),  # no 告知承诺 after a breach
            ({"item": "WN"}, "increase_inspection", {"random_inspection"}),
        ],
    )
    def test_covers_the_required_measures(
        self, trigger: dict[str, str], action: str, scenarios: set[str]
    ) -> None:
        covered = {
            s
            for m in _shipped().measures
            if _triggered(m, **trigger) and m.action.value == action
            for s in m.scenarios
        }
        assert scenarios <= covered

    def test_serious_penalty_measures_are_limited_to_serious_severity(self) -> None:
        cf_triggers = [t for m in _shipped().measures for t in m.triggers if t.item == "CF"]
        assert cf_triggers
        assert all(t.severities == ("严重",) for t in cf_triggers)

    def test_round_trips_through_a_stored_json_document(self) -> None:
        measures = _shipped()
        assert validate_document(measures.model_dump(mode="json"), _item_codes()) == measures

    def test_for_scenario_drops_measures_past_their_validity(self) -> None:
        measures = _shipped()
        limited = [m for m in measures.measures if m.valid_until is not None]
        assert limited
        measure = limited[0]
        scenario, last_day = measure.scenarios[0], measure.valid_until
        assert last_day is not None
        assert measure in measures.for_scenario(scenario, last_day)
        assert measure not in measures.for_scenario(scenario, last_day + dt.timedelta(days=1))
        assert measure not in measures.for_scenario(scenario, measure.valid_from - dt.timedelta(days=1))


def _drop_legal_basis(raw: dict[str, Any]) -> None:
    del raw["measures"][0]["legal_basis"]


def _short_legal_basis(raw: dict[str, Any]) -> None:
    raw["measures"][0]["legal_basis"] = "  依法 "


def _unknown_scenario(raw: dict[str, Any]) -> None:
    raw["measures"][0]["scenarios"] = ["space_launch"]


def _unknown_item(raw: dict[str, Any]) -> None:
    raw["measures"][_index(raw, "P-QS-FUND-RESTRICT")]["triggers"] = [{"item": "XYZ"}]


def _incentive_on_serious_dishonesty(raw: dict[str, Any]) -> None:
    raw["measures"][_index(raw, "I-RED-LOAN")]["triggers"] = [{"list_type": "serious_dishonesty"}]


def _punishment_on_honours(raw: dict[str, Any]) -> None:
    raw["measures"][_index(raw, "P-QS-HONOUR-RESTRICT")]["triggers"] = [{"item": "JL"}]


def _incentive_with_punishment_action(raw: dict[str, Any]) -> None:
    raw["measures"][_index(raw, "I-RED-LOAN")]["action"] = "prohibit"


def _duplicate_code(raw: dict[str, Any]) -> None:
    raw["measures"][1]["code"] = raw["measures"][0]["code"]


def _trigger_with_list_and_item(raw: dict[str, Any]) -> None:
    raw["measures"][0]["triggers"] = [{"list_type": "serious_dishonesty", "item": "CF"}]


def _unknown_severity(raw: dict[str, Any]) -> None:
    raw["measures"][_index(raw, "P-CF-INSPECT-UP")]["triggers"] = [{"item": "CF", "severities": ["特别严重"]}]


def _valid_until_before_valid_from(raw: dict[str, Any]) -> None:
    raw["measures"][0]["valid_until"] = dt.date(2025, 1, 1)


def _unlabelled_action(raw: dict[str, Any]) -> None:
    del raw["actions"]["refer"]


def _misspelt_field(raw: dict[str, Any]) -> None:
    raw["measures"][0]["legal_bases"] = raw["measures"][0]["legal_basis"]


class TestRefusedLists:
    @pytest.mark.parametrize(
        ("breakage", "expected"),
        [
            (_drop_legal_basis, ["measures.0.legal_basis"]),
            (_short_legal_basis, ["measures.0.legal_basis", "legal_basis is required"]),
            (_unknown_scenario, ["measures.0", "scenarios.0", "unknown scenario 'space_launch'"]),
            (_unknown_item, ["triggers.0.item", "unknown catalog item 'XYZ'"]),
            (_incentive_on_serious_dishonesty, ["I-RED-LOAN", "cannot be triggered by serious_dishonesty"]),
            (_punishment_on_honours, ["P-QS-HONOUR-RESTRICT", "cannot be triggered by JL"]),
            (_incentive_with_punishment_action, ["I-RED-LOAN", "'prohibit' does not fit"]),
            (_duplicate_code, ["measures.1", "duplicate measure code", "first at measures.0"]),
            (_trigger_with_list_and_item, ["measures.0.triggers.0", "exactly one"]),
            (_unknown_severity, ["triggers.0.severities.0"]),
            (_valid_until_before_valid_from, ["measures.0", "valid_until must be after valid_from"]),
            (_unlabelled_action, ["action", "'refer' has no label"]),
            (_misspelt_field, ["measures.0.legal_bases"]),
        ],
    )
    def test_broken_list_is_refused_with_a_location(
        self, breakage: Callable[[dict[str, Any]], None], expected: list[str]
    ) -> None:
        raw = copy.deepcopy(_shipped_raw())
        breakage(raw)
        text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
        with pytest.raises(MeasureListError) as info:
            parse_measure_list(text, _item_codes())
        message = str(info.value)
        assert message.startswith("measure list invalid")
        for part in expected:
            assert part in message

    def test_item_codes_come_from_the_catalog_passed_in(self) -> None:
        text = resources.files("xinyong.measures").joinpath("data/measures.yaml").read_text(encoding="utf-8")
        with pytest.raises(MeasureListError, match="unknown catalog item 'SXBZX'"):
            parse_measure_list(text, _item_codes() - {"SXBZX"})

    @pytest.mark.parametrize(
        ("text", "message"), [("measures: [unclosed", "not valid YAML"), ("- a\n- b\n", "must be a mapping")]
    )
    def test_text_that_is_not_a_measure_list_is_refused(self, text: str, message: str) -> None:
        with pytest.raises(MeasureListError, match=message):
            parse_measure_list(text, _item_codes())
