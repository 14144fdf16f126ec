"""Evaluation rules without a database: model validation errors, bins and their edges, vetoes, caps, the
missing-data policy, points adding up to the score, and the shipped models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from functools import partial
from importlib import resources

import pytest
import sqlglot
import yaml

from xinyong.evaluation import compiler, rules, scoring
from xinyong.evaluation.rules import ModelFileError, parse_model
from xinyong.evaluation.schemas import ModelFile

ITEMS = {"CF", "SXBZX", "JYYC", "QS", "QJSB", "JL", "XK", "CN", "QR", "WN", "WBPJ", "JC"}
AS_OF = dt.date(2026, 11, 28)


def model_text(**changes: object) -> str:
    doc: dict[str, object] = {
        "code": "probe",
        "version": "1",
        "name": "测试模型",
        "effective_from": "2026-01-01",
        "source_note": "测试",
        "applies_to": {"subject_kinds": ["legal_person"]},
        "base_score": 80,
        "score_range": [0, 100],
        "indicators": [
            {
                "code": "penalties",
                "name": "处罚",
                "feature": {"kind": "record_count", "items": ["CF"], "window_months": 12},
                "bins": [{"upto": 0, "points": 0}, {"upto": 2, "points": -10}, {"points": -30}],
                "source": "CF",
                "rationale": "r",
            },
            {
                "code": "black",
                "name": "名单",
                "feature": {"kind": "list_in_force", "list_type": "serious_dishonesty"},
                "bins": [{"upto": 0, "points": 0}, {"points": -5}],
                "source": "名单",
                "rationale": "r",
            },
            {
                "code": "years",
                "name": "年限",
                "feature": {"kind": "years_in_business"},
                "bins": [{"upto": 2, "points": 0}, {"points": 15}],
                "source": "DJ",
                "rationale": "r",
            },
        ],
        "vetoes": [{"code": "black", "name": "名单", "indicator": "black", "at_least": 1, "grade": "D"}],
        "grades": [
            {"grade": "A", "label": "优", "min_score": 90},
            {"grade": "B", "label": "良", "min_score": 75},
            {"grade": "C", "label": "中", "min_score": 60},
            {"grade": "D", "label": "差", "min_score": 0},
        ],
    }
    doc.update(changes)
    return yaml.safe_dump(doc, allow_unicode=True)


def probe(**changes: object) -> ModelFile:
    return parse_model(model_text(**changes), "probe.yaml", ITEMS)


class TestValidation:
    def test_an_error_names_the_file_the_path_and_the_problem(self) -> None:
        text = model_text().replace("upto: 2", "upto: -1")
        with pytest.raises(ModelFileError) as caught:
            parse_model(text, "models/probe.yaml", ITEMS)
        (path, message), *_ = caught.value.errors
        assert caught.value.filename == "models/probe.yaml"
        assert path == "indicators.0"
        assert "bin edges must increase" in message
        assert str(caught.value).startswith("models/probe.yaml: indicators.0: ")

    def test_an_indicator_over_information_not_in_the_catalog_cannot_be_saved(self) -> None:
        indicators = yaml.safe_load(model_text())["indicators"]
        indicators[0]["feature"]["items"] = ["CF", "GOSSIP"]
        with pytest.raises(ModelFileError) as caught:
            probe(indicators=indicators)
        assert caught.value.errors == [
            ("indicators.0.feature", "catalog item GOSSIP does not exist: not credit information")
        ]

    @pytest.mark.parametrize(
        ("change", "where"),
        [
            (
                {
                    "grades": [
                        {"grade": "A", "label": "优", "min_score": 50},
                        {"grade": "B", "label": "良", "min_score": 60},
                    ]
                },
                "grades",
            ),
            (
                {"vetoes": [{"code": "vv", "name": "v", "indicator": "nope", "at_least": 1, "grade": "D"}]},
                "(document)",
            ),
            ({"unknown_key": 1}, "unknown_key"),
            ({"code": "Robert'); DROP TABLE subjects;--"}, "code"),
        ],
    )
    def test_malformed_models_are_refused_with_a_path(self, change: dict[str, object], where: str) -> None:
        with pytest.raises(ModelFileError) as caught:
            probe(**change)
        assert where in [path for path, _ in caught.value.errors]

    def test_not_yaml_and_not_a_mapping(self) -> None:
        with pytest.raises(ModelFileError) as caught:
            parse_model("code: [unclosed", "bad.yaml")
        assert caught.value.errors[0][0].startswith("line ")
        with pytest.raises(ModelFileError):
            parse_model("- a list\n", "list.yaml")

    def test_an_opt_in_model_may_only_serve_incentives(self) -> None:
        with pytest.raises(ModelFileError, match="only be used for incentives"):
            probe(applies_to={"subject_kinds": ["natural_person"], "opt_in": True}, use="supervision")


class TestScoring:
    @pytest.mark.parametrize(("count", "points"), [(0, 0), (1, -10), (2, -10), (2.0001, -30), (3, -30)])
    def test_bin_edges_are_inclusive_upper_bounds(self, count: float, points: float) -> None:
        model = probe()
        assert rules.bin_points(model.indicators[0], count) == points

    def test_points_add_up_to_the_score(self) -> None:
        model = probe()
        result = rules.evaluate(model, {"penalties": 1, "black": 0, "years": 5})
        assert [s.points for s in result.indicators] == [-10, 0, 15]
        assert result.score == result.base + sum(s.points for s in result.indicators) + result.adjustment
        assert (result.score, result.grade) == (85, "B")

    def test_the_score_range_is_an_explicit_adjustment(self) -> None:
        model = probe(base_score=95)
        result = rules.evaluate(model, {"penalties": 0, "black": 0, "years": 9})
        assert result.adjustment == -10  # 95 + 15 capped at 100
        assert (
            result.score == 100 == result.base + sum(s.points for s in result.indicators) + result.adjustment
        )

    def test_a_veto_caps_the_grade_whatever_the_score(self) -> None:
        model = probe(base_score=100)
        result = rules.evaluate(model, {"penalties": 0, "black": 1, "years": 9})
        assert result.score == 100  # 100 - 5 + 15, capped
        assert result.grade == "D"
        assert result.vetoes == ("black",)

    def test_a_veto_never_improves_a_grade(self) -> None:
        model = probe(
            base_score=10,
            vetoes=[{"code": "vv", "name": "v", "indicator": "black", "at_least": 1, "grade": "B"}],
        )
        result = rules.evaluate(model, {"penalties": 0, "black": 1, "years": 0})
        assert result.grade == "D"

    @pytest.mark.parametrize(("policy", "points"), [("neutral", 0), ("worst", 0), ("best", 15)])
    def test_missing_data_follows_the_model_policy(self, policy: str, points: float) -> None:
        model = probe(missing_data=policy)
        result = rules.evaluate(model, {"penalties": 0, "black": 0, "years": None})
        years = result.indicators[2]
        assert years.missing and years.points == points

    def test_caps_on_an_indicator(self) -> None:
        indicators = yaml.safe_load(model_text())["indicators"]
        indicators[0]["min_points"] = -20
        model = probe(indicators=indicators)
        assert rules.indicator_score(model.indicators[0], 9, "neutral").points == -20

    def test_an_external_grade_can_be_the_result(self) -> None:
        indicators = yaml.safe_load(model_text())["indicators"]
        indicators.append(
            {
                "code": "national",
                "name": "国家评价",
                "feature": {"kind": "external_grade", "item": "QR", "field": "content"},
                "categories": {"A": 0, "B": 0, "C": 0, "D": 0},
                "source": "QR",
                "rationale": "r",
            }
        )
        model = probe(indicators=indicators, grade_from_indicator="national")
        result = rules.evaluate(model, {"penalties": 0, "black": 0, "years": 0, "national": "C"})
        assert (result.grade, result.external) == ("C", True)
        own = rules.evaluate(model, {"penalties": 0, "black": 0, "years": 0, "national": None})
        assert (own.grade, own.external) == ("B", False)  # no external grade: the model's own (80 points)

    def test_grade_counts_name_every_grade(self) -> None:
        assert rules.grade_counts(probe(), ["A", "A", "D"]) == {"A": 2, "B": 0, "C": 0, "D": 1}


class TestWindows:
    def test_months_before_clamps_to_the_month_end(self) -> None:
        assert rules.months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
        assert rules.months_after(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)

    def test_a_record_leaves_the_indicator_window_and_its_publicity(self) -> None:
        model = probe()
        days = rules.record_exit_dates(model, "CF", "一般", dt.date(2026, 6, 1), dt.date(2027, 1, 31), AS_OF)
        assert days == [dt.date(2027, 2, 1), dt.date(2027, 6, 1)]
        assert rules.record_exit_dates(model, "XK", None, dt.date(2026, 6, 1), None, AS_OF) == []


def _by_ids(
    statement: Callable[..., str], compiled: list[Collection[int]]
) -> Callable[[Collection[int]], str]:
    def build(ids: Collection[int]) -> str:
        compiled.append(ids)
        return statement(subject_ids=ids)

    return build


class TestShippedModels:
    @pytest.mark.parametrize(
        "name", ["public_comprehensive", "construction", "food_production", "personal_incentive"]
    )
    def test_every_shipped_model_validates_and_compiles_for_every_engine(self, name: str) -> None:
        text = (resources.files("xinyong.evaluation") / "data" / "models" / f"{name}.yaml").read_text("utf-8")
        model = parse_model(text, f"{name}.yaml", ITEMS)
        assert model.code == name
        for dialect in compiler.DIALECTS:
            sql = compiler.feature_query(model, as_of=AS_OF, dialect=dialect)
            parsed = sqlglot.parse_one(sql, read=dialect)
            assert isinstance(parsed, sqlglot.exp.Select)
            assert [c.alias_or_name for c in parsed.selects] == [
                "subject_id",
                *[i.code for i in model.indicators],
            ]
            tables = {t.name for t in parsed.find_all(sqlglot.exp.Table)} - {"rec", "lst", "com"}
            assert {t for t in tables if not t.startswith(("ext", "mdl"))} <= set(compiler.INPUT_COLUMNS)

    @pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
    @pytest.mark.parametrize("name", ["public_comprehensive", "construction", "personal_incentive"])
    def test_a_restricted_statement_compiled_once_is_the_text_compiled_for_those_ids(
        self, name: str, dialect: str
    ) -> None:
        text = (resources.files("xinyong.evaluation") / "data" / "models" / f"{name}.yaml").read_text("utf-8")
        model = parse_model(text, f"{name}.yaml", ITEMS)
        statements: list[Callable[..., str]] = [
            partial(compiler.feature_query, model, as_of=AS_OF, dialect=dialect),
            partial(scoring.features_table_sql, model, table="f", as_of=AS_OF, dialect=dialect),
            partial(scoring.features_table_sql, model, table="f", as_of=AS_OF, dialect=dialect, create=False),
        ]
        for statement in statements:
            compiled: list[Collection[int]] = []
            restricted = compiler.per_subjects(_by_ids(statement, compiled))
            for ids in ([7], [3, 11, 2_000_000_001], list(range(1, 600, 3))):
                assert restricted(ids) == statement(subject_ids=ids)
            assert len(compiled) == 1  # compiled once, for the marker; the chunks are filled in
            assert restricted([]) == statement(subject_ids=[])

    def test_the_personal_model_is_opt_in_and_for_incentives_only(self) -> None:
        text = (
            resources.files("xinyong.evaluation") / "data" / "models" / "personal_incentive.yaml"
        ).read_text()
        model = parse_model(text, "personal_incentive.yaml")
        assert model.applies_to.opt_in and model.use == "incentive"
        assert "evaluation_consents" in compiler.feature_query(model, as_of=AS_OF, dialect="sqlite")

    def test_values_reach_the_sql_only_as_quoted_literals(self) -> None:
        indicators = yaml.safe_load(model_text())["indicators"]
        indicators[0]["feature"]["field_equals"] = {"sector": "x' OR 1=1 --"}
        indicators[0]["feature"]["field_in"] = {"result": ["甲", "y' OR 1=1 --"]}
        model = probe(indicators=indicators)
        for dialect in compiler.DIALECTS:
            sql = compiler.feature_query(model, as_of=AS_OF, dialect=dialect)
            assert len(sqlglot.parse(sql, read=dialect)) == 1
            assert "'x'' OR 1=1 --'" in sql or "'x\\' OR 1=1 --'" in sql
            assert "'y'' OR 1=1 --'" in sql or "'y\\' OR 1=1 --'" in sql

    def test_a_field_in_condition_needs_values(self) -> None:
        indicators = yaml.safe_load(model_text())["indicators"]
        indicators[0]["feature"]["field_in"] = {"result": []}
        with pytest.raises(ModelFileError, match="field_in"):
            probe(indicators=indicators)


class TestGovernmentBodies:
    def test_the_format_describes_government_bodies_as_subjects(self) -> None:
        model = probe(code="integrity_gov", applies_to={"subject_kinds": ["gov_body"]})
        for dialect in compiler.DIALECTS:
            parsed = sqlglot.parse_one(
                compiler.feature_query(model, as_of=AS_OF, dialect=dialect), read=dialect
            )
            kinds = [lit.this for lit in parsed.find_all(sqlglot.exp.Literal) if lit.this.endswith("_body")]
            assert kinds == ["gov_body"]
