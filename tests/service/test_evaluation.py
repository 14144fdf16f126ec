"""Evaluation runs on both stores: what counts (records in force only), incremental runs equal to full ones,
grade history, and the opt-in personal model (consent, withdrawal deleting the scores)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tests.helpers import ingest_rows, penalty, uscc
from xinyong.evaluation import repository, scoring, service
from xinyong.evaluation.models import EvaluationGrade, EvaluationGradeChange, EvaluationResult
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.names import normalize_name
from xinyong.platform import Platform
from xinyong.records import lifecycle
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.subjects.models import Subject

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def models(platform: Platform, session: Session) -> dict[str, ModelFile]:
    return service.load_models(session, platform.catalog.item_codes, None)


def penalties(session: Session, ctx: IngestContext, *rows: dict[str, str]) -> list[Record]:
    receipt = ingest_rows(session, ctx, list(rows))
    assert receipt.accepted == len(rows)
    return [session.scalars(select(Record).where(Record.doc_no == r["CF_WSH"])).one() for r in rows]


def register(session: Session, ctx: IngestContext, code: str, industry: str | None) -> Subject:
    """A company registered (DJ) with a GB/T 4754 industry code, as the registration authority sends it."""
    row = {
        "subject_name": f"成都{industry or '无行业'}测试有限公司",
        "subject_category": "法人及非法人组织",
        "uscc": code,
        "legal_rep": "张三",
        "registered_on": "2015-03-02",
        "operating_status": "存续",
    }
    if industry is not None:
        row["industry_code"] = industry
    receipt = ingest_rows(session, ctx, [row], item="DJ")
    assert receipt.accepted + receipt.updated == 1, receipt
    return session.scalars(select(Subject).where(Subject.uscc == code)).one()


def results(session: Session, run_id: int) -> dict[int, EvaluationResult]:
    """A run's results: per subject, the latest written at or before the run."""
    found = repository.run_results(service.get_run(session, run_id))
    return {
        r.subject_id: r
        for r in session.scalars(select(EvaluationResult).join(found, EvaluationResult.id == found.c.id))
    }


def written(session: Session, run_id: int) -> dict[int, EvaluationResult]:
    """The results a run wrote: its new and changed ones."""
    found = session.scalars(select(EvaluationResult).where(EvaluationResult.run_id == run_id))
    return {r.subject_id: r for r in found}


def points(result: EvaluationResult, code: str) -> float:
    return float(result.indicators["items"][code][1])


def value(result: EvaluationResult, code: str) -> object:
    return result.indicators["items"][code][0]


class TestWhatCounts:
    def test_only_records_in_force_lower_a_grade(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        serious, repaired, expired, revoked = penalties(
            session,
            ctx,
            penalty(CF_JDRQ="2026-06-15", severity="严重", CF_NR_FK="50"),
            penalty(CF_JDRQ="2026-06-15", severity="一般"),
            penalty(CF_JDRQ="2021-03-01", severity="一般"),  # its publicity ended years ago
            penalty(CF_JDRQ="2026-06-15", severity="一般"),
        )
        lifecycle.mark_repaired(session, repaired, ref="repair:1")
        lifecycle.revoke(
            session,
            revoked,
            catalog=ctx.catalog,
            rule_sets=ctx.rule_sets,
            cipher=ctx.cipher,
            ref="objection:1",
        )
        session.flush()
        model = models["public_comprehensive"]
        receipt = service.run(session, model, as_of=TODAY)
        found = results(session, receipt.run_id)
        assert value(found[serious.subject_id], "serious_penalties_3y") == 1
        assert value(found[serious.subject_id], "penalty_fines_3y") == 50
        for record in (repaired, expired, revoked):
            result = found[record.subject_id]
            assert value(result, "general_penalties_1y") == 0
            assert value(result, "penalty_fines_3y") == 0
        clean = found[repaired.subject_id]
        hit = found[serious.subject_id]
        assert hit.score < clean.score
        assert receipt.subjects == len(found) >= 4
        assert sum(receipt.grade_counts.values()) == receipt.subjects

    def test_points_stored_add_up_to_the_score(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        penalties(session, ctx, penalty(severity="严重"), penalty(severity="轻微"))
        receipt = service.run(session, models["public_comprehensive"], as_of=TODAY)
        for result in results(session, receipt.run_id).values():
            document = result.indicators
            total = document["base"] + document["adjustment"] + sum(p for _, p in document["items"].values())
            assert result.score == pytest.approx(total)

    def test_scoring_in_python_stores_what_the_database_scores(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        """Feature rows from elsewhere (Spark) are scored by the pure rules and bulk-written: same results."""
        penalties(session, ctx, penalty(severity="严重", CF_NR_FK="12.5"), penalty(severity="轻微"))
        model = models["public_comprehensive"]
        in_store = service.run(session, model, as_of=TODAY)
        a = results(session, in_store.run_id)
        in_python = service.run(
            session, model, as_of=TODAY, engine="spark", features=service.sql_feature_rows(session)
        )
        assert in_python.grade_counts == in_store.grade_counts and in_store.subjects >= 2
        # Python reads the same inputs as the database wrote: nothing new to write, no history row.
        assert written(session, in_python.run_id) == {}
        history = session.scalar(select(func.count()).where(EvaluationGradeChange.run_id == in_python.run_id))
        assert history == 0
        # With no current results, the Python scoring writes what the database wrote.
        session.execute(delete(EvaluationGrade).where(EvaluationGrade.model_code == model.code))
        again = service.run(
            session, model, as_of=TODAY, engine="spark", features=service.sql_feature_rows(session)
        )
        b = written(session, again.run_id)
        assert a.keys() == b.keys()
        for subject_id, result in a.items():
            other = b[subject_id]
            assert (result.score, result.grade, result.vetoes) == (other.score, other.grade, other.vetoes)
            assert result.indicators == other.indicators
            assert result.inputs == other.inputs

    def test_an_engine_the_store_is_not_is_refused(
        self, session: Session, models: dict[str, ModelFile]
    ) -> None:
        other = "postgresql" if service.engine_of(session) == "sqlite" else "sqlite"
        with pytest.raises(service.EvaluationError):
            service.run(session, models["public_comprehensive"], as_of=TODAY, engine=other)


class TestIncremental:
    def test_an_incremental_run_gives_what_a_full_run_gives(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        old_serious, to_repair, _ = penalties(
            session,
            ctx,
            penalty(CF_JDRQ="2023-12-10", severity="严重"),  # leaves the 36-month window on 2026-12-10
            penalty(CF_JDRQ="2026-06-15", severity="一般"),
            penalty(CF_JDRQ="2026-01-20", severity="轻微"),
        )
        model = models["public_comprehensive"]
        first = service.run(session, model, as_of=TODAY)
        # Changes: a repair (an event), a new subject with a penalty, and time passing a window's end.
        lifecycle.mark_repaired(session, to_repair, ref="repair:2")
        (newcomer,) = penalties(
            session, ctx, penalty(CF_JDRQ="2026-11-20", severity="严重", CF_XDR_SHXYM=uscc())
        )
        session.flush()
        later = TODAY + dt.timedelta(days=30)
        incremental = service.run(session, model, as_of=later, incremental=True)
        assert incremental.run_id != first.run_id
        changed = set(written(session, incremental.run_id))
        assert {old_serious.subject_id, to_repair.subject_id, newcomer.subject_id} <= changed
        after_incremental = {
            g.subject_id: (g.score, g.grade)
            for g in session.scalars(select(EvaluationGrade).where(EvaluationGrade.model_code == model.code))
        }
        full = service.run(session, model, as_of=later)
        full_results = {s: (r.score, r.grade) for s, r in results(session, full.run_id).items()}
        assert after_incremental == full_results
        assert written(session, full.run_id) == {}  # the full run found every subject's inputs unchanged
        assert incremental.subjects < full.subjects  # it did not simply re-run everything

    def test_an_unchanged_store_re_evaluates_nobody(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        penalties(session, ctx, penalty())
        model = models["public_comprehensive"]
        service.run(session, model, as_of=TODAY)
        again = service.run(session, model, as_of=TODAY, incremental=True)
        assert again.subjects == 0
        assert sum(again.grade_counts.values()) == 0

    def test_subjects_and_consents_added_without_an_event_are_graded_by_the_next_incremental_run(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        """An incremental run looks for ungraded subjects only after the previous run's last subject and
        consent, and still finds every one added since."""
        penalties(session, ctx, penalty())
        comprehensive, personal = models["public_comprehensive"], models["personal_incentive"]
        service.run(session, comprehensive, as_of=TODAY)
        service.give_consent(session, personal, person(session, "钱七").id, None)
        service.run(session, personal, as_of=TODAY)
        quiet = company(session, "静默新增测试")  # no record, no domain event
        late = person(session, "孙八")
        service.give_consent(session, personal, late.id, None)
        company_run = service.run(session, comprehensive, as_of=TODAY, incremental=True)
        person_run = service.run(session, personal, as_of=TODAY, incremental=True)
        assert (company_run.subjects, person_run.subjects) == (1, 1)
        assert service.current_grade(session, comprehensive.code, quiet.id) is not None
        assert service.current_grade(session, personal.code, late.id) is not None
        assert service.run(session, comprehensive, as_of=TODAY, incremental=True).subjects == 0


class TestResultsWrittenWhenChanged:
    def test_a_repeated_full_run_writes_nothing_and_every_result_holds(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        penalties(session, ctx, penalty(severity="严重"), penalty(severity="轻微", CF_NR_FK="3.75"))
        model = models["public_comprehensive"]
        first = service.run(session, model, as_of=TODAY)
        assert set(written(session, first.run_id)) == set(results(session, first.run_id))
        current = select(EvaluationGrade).where(EvaluationGrade.model_code == model.code)
        grades = {g.subject_id: (g.run_id, g.score, g.grade, g.inputs) for g in session.scalars(current)}
        history = session.scalar(select(func.count()).select_from(EvaluationGradeChange))
        again = service.run(session, model, as_of=TODAY)
        assert (again.subjects, again.grade_counts) == (first.subjects, first.grade_counts)
        assert written(session, again.run_id) == {}
        session.expire_all()
        assert {
            g.subject_id: (g.run_id, g.score, g.grade, g.inputs) for g in session.scalars(current)
        } == grades
        assert session.scalar(select(func.count()).select_from(EvaluationGradeChange)) == history
        # The repeated run's results are the first run's, subject by subject (the CSV lists every subject).
        assert {s: r.id for s, r in results(session, again.run_id).items()} == {
            s: r.id for s, r in results(session, first.run_id).items()
        }
        # A later run that re-evaluates nobody: every grade holds as of its day.
        later = TODAY + dt.timedelta(days=1)
        moved = set(written(session, service.run(session, model, as_of=later, incremental=True).run_id))
        for subject_id in set(grades) - moved:
            grade = service.current_grade(session, model.code, subject_id)
            assert grade is not None and grade.as_of == TODAY
            assert service.holds_as_of(session, grade) == later

    def test_a_changed_model_definition_writes_every_result_again(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        penalties(session, ctx, penalty(severity="一般"))
        model = models["public_comprehensive"]
        first = service.run(session, model, as_of=TODAY)
        edited = model.model_copy(update={"name": f"{model.name}（修订）"})
        again = service.run(session, edited, as_of=TODAY)
        assert set(written(session, again.run_id)) == set(written(session, first.run_id))
        assert all(
            r.inputs and r.inputs.startswith(f"{scoring.model_digest(edited)}:")
            for r in written(session, again.run_id).values()
        )
        history = session.scalar(select(func.count()).where(EvaluationGradeChange.run_id == again.run_id))
        assert history == 0  # the same grades: no change in the history


class TestGradeHistory:
    def test_the_history_keeps_the_first_grade_and_each_change(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        (record,) = penalties(session, ctx, penalty(CF_JDRQ="2026-06-15", severity="严重"))
        model = models["public_comprehensive"]
        service.run(session, model, as_of=TODAY)
        first = service.current_grade(session, model.code, record.subject_id)
        assert first is not None
        before_score, before_grade = first.score, first.grade
        lifecycle.mark_repaired(session, record, ref="repair:3")
        session.flush()
        service.run(session, model, as_of=TODAY, incremental=True)
        after = service.current_grade(session, model.code, record.subject_id)
        assert (
            after is not None and after.score == before_score + 25 + 2
        )  # neither the penalty (-25) nor its fine (-2)
        assert (before_grade, after.grade) == ("C", "A")
        history = service.grade_history(session, model.code, record.subject_id)
        assert [(h.grade_from, h.grade_to) for h in history] == [(None, "C"), ("C", "A")]

    def test_an_industry_model_takes_the_comprehensive_grade(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        builder = register(session, ctx, uscc(), "E47")
        (record,) = penalties(
            session, ctx, penalty(severity="严重", CF_XDR_SHXYM=builder.uscc, sector="安全生产")
        )
        service.run(session, models["public_comprehensive"], as_of=TODAY)
        comprehensive = service.current_grade(session, "public_comprehensive", record.subject_id)
        receipt = service.run(session, models["construction"], as_of=TODAY)
        result = results(session, receipt.run_id)[record.subject_id]
        assert comprehensive is not None
        assert value(result, "comprehensive_grade") == comprehensive.grade
        assert value(result, "safety_penalties_3y") == 1

    def test_industry_models_grade_only_subjects_of_their_industry(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        """建筑业 (门类 E) and 食品制造业 (大类 14): the industry comes from registration (DJ); a subject of
        another industry, or of none known, gets no industry grade; a later DJ row without one keeps it."""
        builder = register(session, ctx, uscc(), "E")
        bakery = register(session, ctx, uscc(), "C1411")
        restaurant = register(session, ctx, uscc(), "H62")  # serves food: 大类 62, not 14
        unknown = register(session, ctx, uscc(), None)
        drinks = register(session, ctx, uscc(), "C15")
        assert (builder.industry_code, bakery.industry_code, unknown.industry_code) == ("E", "C1411", None)
        register(session, ctx, str(bakery.uscc), None)  # re-registered without the field
        session.refresh(bakery)
        assert bakery.industry_code == "C1411"
        service.run(session, models["public_comprehensive"], as_of=TODAY)
        construction = set(results(session, service.run(session, models["construction"], as_of=TODAY).run_id))
        food = set(results(session, service.run(session, models["food_production"], as_of=TODAY).run_id))
        ours = {builder.id, bakery.id, restaurant.id, unknown.id, drinks.id}
        assert construction & ours == {builder.id}
        assert food & ours == {bakery.id}
        # Incremental runs do not keep re-reading subjects outside the model's industries as "ungraded".
        again = service.run(session, models["food_production"], as_of=TODAY, incremental=True)
        assert again.subjects == 0

    def test_a_bad_industry_code_is_refused_and_loses_nothing(
        self, session: Session, ctx: IngestContext
    ) -> None:
        row = {
            "subject_name": "成都错误行业测试有限公司",
            "subject_category": "法人及非法人组织",
            "uscc": uscc(),
            "registered_on": "2015-03-02",
            "industry_code": "建筑业",
        }
        receipt = ingest_rows(session, ctx, [row, {**row, "uscc": uscc(), "industry_code": "E48"}], item="DJ")
        assert receipt.accepted == 1 and receipt.rejected == 1

    def test_grade_statistics_by_industry(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        from xinyong.evaluation import statistics

        register(session, ctx, uscc(), "E47")
        register(session, ctx, uscc(), "C14")
        service.run(session, models["public_comprehensive"], as_of=TODAY)
        data = statistics.grade_statistics(session, models["public_comprehensive"])
        assert sum(data["by_industry"]["建筑业"].values()) >= 1
        assert sum(data["by_industry"]["制造业"].values()) >= 1
        assert sum(sum(v.values()) for v in data["by_industry"].values()) == sum(data["total"].values())
        assert "grades-by-industry" in statistics.charts(data)


def outside_grade(code: str, source: str, grade: str, **overrides: str) -> dict[str, str]:
    """A WBPJ row: a grade given outside the platform (the tax authority, customs, the national centre)."""
    names = {
        "税务": "纳税信用等级评价",
        "海关": "海关企业信用等级认定",
        "国家公共信用信息中心": "公共信用综合评价",
    }
    return {
        "subject_name": "成都外部评价测试有限公司",
        "subject_category": "法人及非法人组织",
        "uscc": code,
        "source": source,
        "evaluation_name": names[source],
        "grade": grade,
        "evaluated_on": "2026-04-20",
        "valid_until": "2027-04-19",
        "evaluator": "国家税务总局四川省税务局" if source == "税务" else "成都海关",
        **overrides,
    }


class TestOutsideGrades:
    def test_a_tax_credit_grade_a_adds_its_bonus_and_the_explanation_names_its_source_and_day(
        self, platform: Platform, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        from xinyong.accounts.policy import Principal
        from xinyong.evaluation import explain

        taxed_a, customs_a, taxed_b, expired = uscc(), uscc(), uscc(), uscc()
        receipt = ingest_rows(
            session,
            ctx,
            [
                outside_grade(taxed_a, "税务", "B", evaluated_on="2025-04-20", valid_until="2026-12-31"),
                outside_grade(taxed_a, "税务", "A"),  # the later grade is the one that counts
                outside_grade(customs_a, "海关", "A"),  # not the tax authority's: no tax bonus
                outside_grade(taxed_b, "税务", "B"),
                outside_grade(expired, "税务", "A", evaluated_on="2026-01-20", valid_until="2026-11-27"),
            ],
            item="WBPJ",
            provider="SCSW",
            provider_name="国家税务总局四川省税务局",
        )
        assert receipt.accepted == 5, receipt
        model = models["public_comprehensive"]
        run = service.run(session, model, as_of=TODAY)
        by_code = {
            s.uscc: s
            for s in session.scalars(
                select(Subject).where(Subject.uscc.in_([taxed_a, customs_a, taxed_b, expired]))
            )
        }
        found = results(session, run.run_id)
        assert value(found[by_code[taxed_a].id], "tax_credit_grade") == "A"
        assert points(found[by_code[taxed_a].id], "tax_credit_grade") == 3
        assert value(found[by_code[customs_a].id], "tax_credit_grade") is None
        assert points(found[by_code[taxed_b].id], "tax_credit_grade") == 0
        assert value(found[by_code[expired].id], "tax_credit_grade") is None  # no longer valid: not counted
        assert found[by_code[taxed_a].id].score == found[by_code[taxed_b].id].score + 3
        own = Principal(kind="user", name="企业用户", role="subject", subject_id=by_code[taxed_a].id)
        read = explain.explain(session, platform.catalog, models, own, by_code[taxed_a])
        line = next(i for i in read.indicators if i.code == "tax_credit_grade")
        assert (line.value, line.points) == ("A", 3)
        assert line.source is not None
        assert "税务" in line.source and "2026年4月20日评价" in line.source and "2027年4月19日" in line.source
        assert sum(i.points for i in read.indicators) == pytest.approx(read.score)
        # The day after the grade's validity ends, an incremental run re-evaluates the subject without it.
        later = service.run(session, model, as_of=dt.date(2027, 4, 20), incremental=True)
        again = results(session, later.run_id)[by_code[taxed_a].id]
        assert (value(again, "tax_credit_grade"), points(again, "tax_credit_grade")) == (None, 0)

    def test_a_model_takes_an_outside_grade_as_its_result(self, session: Session, ctx: IngestContext) -> None:
        """`grade_from_indicator`: the national centre's grade is the model's result; the result is marked
        external, and a veto still caps it."""
        from xinyong.evaluation import rules

        text = """
code: national_reference
version: "1"
name: 国家公共信用综合评价结果
effective_from: 2026-01-01
source_note: 采用国家公共信用信息中心的公共信用综合评价结果
applies_to: {subject_kinds: [legal_person]}
base_score: 80
indicators:
  - {code: national_grade, name: 国家评价结果, feature: {kind: external_grade, item: WBPJ, field: grade,
     field_equals: {source: 国家公共信用信息中心}}, categories: {A: 0, B: 0, C: 0, D: 0}, source: WBPJ, rationale: 国家评价}
  - {code: court_dishonest, name: 失信被执行人, feature: {kind: record_count, items: [SXBZX]},
     bins: [{upto: 0, points: 0}, {points: -30}], source: SXBZX, rationale: 失信被执行}
vetoes: [{code: court, name: 失信被执行人, indicator: court_dishonest, at_least: 1, grade: C}]
grade_from_indicator: national_grade
grades: [{grade: A, label: 优, min_score: 90}, {grade: B, label: 良, min_score: 75}, {grade: C, label: 中, min_score: 60}, {grade: D, label: 差, min_score: 0}]
"""
        model = rules.parse_model(text, "national_reference.yaml", ctx.catalog.item_codes)
        given, plain = uscc(), uscc()
        receipt = ingest_rows(
            session,
            ctx,
            [outside_grade(given, "国家公共信用信息中心", "A"), outside_grade(plain, "税务", "A")],
            item="WBPJ",
        )
        assert receipt.accepted == 2
        run = service.run(session, model, as_of=TODAY)
        ids = {s.uscc: s.id for s in session.scalars(select(Subject).where(Subject.uscc.in_([given, plain])))}
        found = results(session, run.run_id)
        assert (found[ids[given]].grade, found[ids[given]].indicators["external"]) == ("A", True)
        assert (found[ids[plain]].grade, found[ids[plain]].indicators["external"]) == (
            "B",
            False,
        )  # its score, 80


def person(session: Session, name: str = "王五") -> Subject:
    subject = Subject(kind="natural_person", name=name, name_norm=normalize_name(name), core_name=name)
    session.add(subject)
    session.flush()
    return subject


def company(session: Session, core: str) -> Subject:
    """A legal person added straight to the store: no record, no domain event."""
    subject = Subject(
        kind="legal_person", uscc=uscc(), name=f"{core}有限公司", name_norm=core, core_name=core
    )
    session.add(subject)
    session.flush()
    return subject


class TestOptIn:
    def test_only_persons_who_consented_are_evaluated_and_withdrawal_deletes_the_scores(
        self, session: Session, models: dict[str, ModelFile]
    ) -> None:
        model = models["personal_incentive"]
        consenting, silent = person(session, "王五"), person(session, "赵六")
        service.give_consent(session, model, consenting.id, None)
        service.give_consent(session, model, consenting.id, None)  # twice: one consent
        receipt = service.run(session, model, as_of=TODAY)
        evaluated = set(results(session, receipt.run_id))
        assert consenting.id in evaluated and silent.id not in evaluated
        assert service.current_grade(session, model.code, consenting.id) is not None
        service.withdraw_consent(session, model, consenting.id)
        assert service.current_grade(session, model.code, consenting.id) is None
        assert service.grade_history(session, model.code, consenting.id) == []
        left = session.scalar(
            select(func.count())
            .select_from(EvaluationResult)
            .where(EvaluationResult.subject_id == consenting.id)
        )
        assert left == 0
        again = service.run(session, model, as_of=TODAY)
        assert consenting.id not in results(session, again.run_id)

    def test_a_model_without_opt_in_takes_no_consent(
        self, session: Session, models: dict[str, ModelFile]
    ) -> None:
        with pytest.raises(service.EvaluationError):
            service.give_consent(session, models["public_comprehensive"], person(session).id, None)


class TestDailyJob:
    def test_the_daily_job_runs_the_published_models_incrementally(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        from xinyong.jobs import run_daily

        builder = register(session, ctx, uscc(), "E48")
        (record,) = penalties(session, ctx, penalty(severity="严重", CF_XDR_SHXYM=builder.uscc))
        session.commit()
        label = "evaluation: {} subjects re-evaluated by the published models"
        first = run_daily(platform, TODAY)
        assert first[label] >= 2  # the comprehensive and both industry models graded the company
        with platform.sessions() as check:
            assert service.current_grade(check, "public_comprehensive", record.subject_id) is not None
            assert service.current_grade(check, "construction", record.subject_id) is not None
        assert run_daily(platform, TODAY)[label] == 0


class TestIncentiveOnly:
    def test_the_personal_grade_never_produces_a_punishment_hit_in_a_check(
        self, platform: Platform, session: Session, models: dict[str, ModelFile]
    ) -> None:
        from tests.helpers import department, resident_id
        from xinyong.accounts.policy import Principal
        from xinyong.measures import check

        number = resident_id()
        subject = person(session, "钱七")
        subject.id_hash = platform.cipher.hash(number)
        subject.id_masked = number[:6] + "********" + number[-4:]
        session.flush()
        department(session, "SCCZ", "四川省财政厅")
        order = check.CheckOrder(
            principal=Principal(kind="token", name="token:1", role="department", department_code="SCCZ"),
            ref=check.SubjectRef(resident_id=number),
            scenario="government_procurement",
            purpose="政府采购供应商资格审查",
            today=TODAY,
        )

        def checked() -> check.StoredCheck:
            (outcome,) = check.run_checks(
                session,
                catalog=platform.catalog,
                signer=platform.signer,
                id_hash=platform.cipher.hash,
                orders=[order],
                lists=platform.measure_lists,
            )
            assert isinstance(outcome, check.StoredCheck)
            return outcome

        before = checked()
        model = models["personal_incentive"]
        service.give_consent(session, model, subject.id, None)
        service.run(session, model, as_of=TODAY)
        grade = service.current_grade(session, model.code, subject.id)
        assert grade is not None and grade.grade == model.grades[-1].grade  # the lowest grade of the model
        after = checked()
        assert after.subject_id == subject.id
        assert (before.hit_count, after.hit_count) == (0, 0)
        assert after.result["hits"] == before.result["hits"] == []


def inspection(code: str, n: int, result: str, **overrides: str) -> dict[str, str]:
    """A JC row: an inspection's result (行政检查), as a department's system sends it."""
    return {
        "doc_no": f"川市监检〔2026〕{n}号",
        "subject_name": f"成都检查结果测试{n}有限公司",
        "subject_category": "法人及非法人组织",
        "uscc": code,
        "inspection_type": "双随机抽查",
        "inspection_items": "营业执照（登记证）规范使用情况的检查",
        "result": result,
        "decision_date": "2026-09-01",
        "authority_name": "成都市市场监督管理局",
        **overrides,
    }


class TestInspectionResults:
    def test_problems_found_count_in_the_next_evaluation_and_a_clean_result_changes_nothing(
        self, session: Session, ctx: IngestContext, models: dict[str, ModelFile]
    ) -> None:
        corrected, obstructed, clean = uscc(), uscc(), uscc()
        receipt = ingest_rows(
            session,
            ctx,
            [
                inspection(corrected, 1, "发现问题已责令改正"),
                inspection(obstructed, 2, "不配合检查情节严重", inspection_type="专项检查"),
                inspection(obstructed, 3, "发现问题已立案", decision_date="2025-02-10"),
                inspection(obstructed, 4, "未按规定公示年报", decision_date="2024-12-01"),
                inspection(clean, 5, "未发现问题"),
                inspection(clean, 6, "其他"),
            ],
            item="JC",
        )
        assert receipt.accepted == 6, receipt
        model = models["public_comprehensive"]
        by_code = {
            s.uscc: s.id
            for s in session.scalars(select(Subject).where(Subject.uscc.in_([corrected, obstructed, clean])))
        }
        before = service.run(session, model, as_of=dt.date(2026, 8, 31))  # before the first inspection
        after = service.run(session, model, as_of=TODAY)
        found, earlier = results(session, after.run_id), results(session, before.run_id)
        assert value(found[by_code[corrected]], "inspection_problems_3y") == 1
        assert points(found[by_code[corrected]], "inspection_problems_3y") == -3
        assert found[by_code[corrected]].score == earlier[by_code[corrected]].score - 3
        assert value(found[by_code[obstructed]], "inspection_problems_3y") == 3
        assert points(found[by_code[obstructed]], "inspection_problems_3y") == -10
        assert value(found[by_code[clean]], "inspection_problems_3y") == 0
        assert found[by_code[clean]].score == earlier[by_code[clean]].score  # 未发现问题 and 其他: nothing
        assert all(i.source and i.rationale for i in model.indicators)  # every indicator has its source


class TestCommitmentCounts:
    def test_a_commitment_under_verification_counts_as_signed(
        self, session: Session, ctx: IngestContext
    ) -> None:
        from xinyong.commitments import rules as commitment_rules
        from xinyong.commitments.models import Commitment
        from xinyong.evaluation import rules

        text = """
code: commitment_probe
version: "1"
name: 承诺计数
effective_from: 2026-01-01
source_note: 测试
applies_to: {subject_kinds: [legal_person]}
base_score: 60
indicators:
  - {code: signed_3y, name: 已签署, feature: {kind: commitment_count, status: signed, window_months: 36},
     bins: [{upto: 0, points: 0}, {points: 1}], source: 信用承诺, rationale: 签署}
  - {code: fulfilled_3y, name: 已履约, feature: {kind: commitment_count, status: fulfilled, window_months: 36},
     bins: [{upto: 0, points: 0}, {points: 1}], source: 信用承诺, rationale: 履约}
grades: [{grade: A, label: 优, min_score: 61}, {grade: B, label: 良, min_score: 0}]
"""
        model = rules.parse_model(text, "commitment_probe.yaml", ctx.catalog.item_codes)
        subject = company(session, "承诺计数测试")
        states = (
            commitment_rules.SIGNED,
            commitment_rules.VERIFYING,
            commitment_rules.VERIFYING,
            commitment_rules.FULFILLED,
            commitment_rules.BREACHED,
        )
        for n, state in enumerate(states):
            session.add(
                Commitment(
                    template_code="general",
                    template_version="1",
                    subject_id=subject.id,
                    subject_name=subject.name,
                    signer_name="签署人",
                    channel="online",
                    title="信用承诺",
                    text="承诺",
                    text_sha256=f"{n:064d}",
                    signature="sig",
                    status=state,
                    signed_on=TODAY - dt.timedelta(days=30 + n),
                )
            )
        session.flush()
        run = service.run(session, model, as_of=TODAY)
        found = results(session, run.run_id)[subject.id]
        assert value(found, "signed_3y") == 3  # signed, and the two under verification (核查中)
        assert value(found, "fulfilled_3y") == 1
        # Every state a commitment can be in is counted under exactly one status of the feature.
        counted = [s for states in rules.COMMITMENT_STATUSES.values() for s in states]
        assert sorted(counted) == sorted(
            {
                commitment_rules.SIGNED,
                commitment_rules.VERIFYING,
                commitment_rules.FULFILLED,
                commitment_rules.BREACHED,
            }
        )
