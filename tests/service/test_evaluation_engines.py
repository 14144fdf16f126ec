"""One model, three engines: a seeded random credit file loaded into SQLite and PostgreSQL, every shipped model
evaluated by the store itself and by Spark (local mode) over the store's Parquet snapshot, and the same
features, points, scores and grades found subject by subject everywhere.

The Spark tests are marked `spark` and run in `make test` (one SparkSession for the module); they skip only
when no Java runtime is installed (`.ci/run` installs Debian's `default-jre-headless`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import STORES
from xinyong.accounts import service as accounts
from xinyong.commitments.models import Commitment
from xinyong.config import Settings
from xinyong.evaluation import export, results, rules, service
from xinyong.evaluation.compiler import INPUT_COLUMNS
from xinyong.evaluation.models import EvaluationConsent, EvaluationResult
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.identifiers import make_uscc
from xinyong.lists.models import ListEntry
from xinyong.platform import build_platform
from xinyong.records.models import Batch, Record
from xinyong.subjects.models import Subject

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

AS_OF = dt.date(2026, 11, 28)
SEED = 20261128
SUBJECTS = 300
DEPARTMENT = "SCMR"
KINDS = ["legal_person"] * 6 + ["individual_business"] * 2 + ["natural_person"] * 2
ITEMS = ["CF", "CF", "CF", "SXBZX", "JYYC", "QS", "QJSB", "JL", "XK", "XK", "WBPJ", "JC", "JC"]
SECTORS = ["安全生产", "消防安全", "食品药品", "市场监管"]
INDUSTRIES = [
    "E47",
    "C14",
    "C1411",
    "H62",
    None,
    "E",
]  # by subject number: both industry models have subjects


def _day(rng: random.Random, back_days: int, ahead_days: int = 0) -> dt.date:
    return AS_OF + dt.timedelta(days=rng.randint(-back_days, ahead_days))


def _maybe(rng: random.Random, value: Any, p: float = 0.8) -> Any:
    return value if rng.random() < p else None


def _record_fields(rng: random.Random, item: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"sector": rng.choice(SECTORS), "legal_rep": "张三"}  # no model reads legal_rep
    if item == "CF":
        fields["fine_wan"] = _maybe(rng, rng.choice([0, 0.5, 3, 12.25, 80, 150, 1000.125]))
    if item == "QS":
        fields["arrears_wan"] = _maybe(rng, round(rng.uniform(0, 120), 2))
    if item == "WBPJ":  # an outside grade: the tax authority's (the comprehensive model's bonus) or another's
        fields["source"] = rng.choice(["税务", "税务", "海关"])
        fields["grade"] = rng.choice(["A", "A", "B", "M", "D"])
        fields["valid_until"] = _maybe(rng, _day(rng, 365, 365).isoformat())  # some no longer valid
    if item == "JC":  # an inspection result: problems found count against the subject, none found does not
        fields["result"] = rng.choice(
            ["未发现问题", "未发现问题", "发现问题已责令改正", "发现问题已立案", "不配合检查情节严重", "其他"]
        )
    return fields


def seed_file(session: Session) -> list[int]:
    """A random credit file from SEED; returns the subject ids in generation order (the key across stores)."""
    rng = random.Random(SEED)
    try:
        accounts.get_department(session, DEPARTMENT)
    except Exception:
        accounts.add_department(session, code=DEPARTMENT, name="四川省市场监督管理局", region_code="510000")
    batch = f"bench-eval-{SEED}"
    session.execute(
        insert(Batch).values(
            id=batch,
            item_code="CF",
            provider_code=DEPARTMENT,
            source="cli",
            status="done",
            catalog_version="1",
        )
    )
    ids: list[int] = []
    for n in range(SUBJECTS):
        kind = rng.choice(KINDS)
        body = f"{SEED % 10_000:04d}{n:04d}"
        uscc = None if kind == "natural_person" else make_uscc("9", "1", "510100", body)
        subject_id = session.execute(
            insert(Subject)
            .values(
                kind=kind,
                uscc=uscc,
                name=f"测试主体{n}",
                name_norm=f"测试主体{n}",
                core_name=f"测试主体{n}",
                region_code="510100",
                industry_code=INDUSTRIES[n % len(INDUSTRIES)],
                registered_on=_maybe(rng, _day(rng, 20 * 365), 0.85),
            )
            .returning(Subject.id)
        ).scalar_one()
        ids.append(subject_id)
        _seed_subject(session, rng, n, subject_id, kind, batch)
    session.flush()
    return ids


def _seed_subject(
    session: Session, rng: random.Random, n: int, subject_id: int, kind: str, batch: str
) -> None:
    records = []
    for r in range(rng.choice([0, 0, 1, 2, 3, 5, 8])):
        item = rng.choice(ITEMS)
        decided = _maybe(rng, _day(rng, 5 * 365, 30), 0.95)
        records.append(
            {
                "natural_key": f"{n}-{r}",
                "item_code": item,
                "provider_code": DEPARTMENT,
                "subject_id": subject_id,
                "subject_kind": kind,
                "status": rng.choice(["active"] * 6 + ["repaired", "revoked"]),
                "subject_name": f"测试主体{n}",
                "decision_date": decided,
                "severity": rng.choice(["严重", "一般", "一般", "轻微", None]) if item == "CF" else None,
                "public_until": _maybe(rng, _day(rng, 2 * 365, 3 * 365), 0.7),
                "fields": _record_fields(rng, item),
                "content_hash": f"{n:032d}{r:032d}",
                "catalog_version": "1",
                "batch_id": batch,
            }
        )
    if records:
        session.execute(insert(Record), records)
    for list_type in ("serious_dishonesty", "red"):
        if rng.random() < 0.12:
            session.execute(
                insert(ListEntry).values(
                    subject_id=subject_id,
                    list_type=list_type,
                    status=rng.choice(["listed", "listed", "removed", "proposed"]),
                    department_code=DEPARTMENT,
                    legal_basis="依据",
                    facts="事实",
                    proposed_on=_day(rng, 3 * 365),
                    decided_on=_day(rng, 3 * 365, 30),
                    public_until=_maybe(rng, _day(rng, 365, 2 * 365), 0.6),
                )
            )
    for c in range(rng.choice([0, 0, 0, 1, 2])):
        session.execute(
            insert(Commitment).values(
                template_code="general",
                template_version="1",
                subject_id=subject_id,
                subject_name=f"测试主体{n}",
                signer_name="签署人",
                channel="online",
                title="信用承诺",
                text="承诺",
                text_sha256=f"{c:064d}",
                signature="sig",
                status=rng.choice(["signed", "fulfilled", "breached"]),
                signed_on=_day(rng, 4 * 365, 10),
            )
        )
    if kind == "natural_person" and rng.random() < 0.5:
        session.execute(
            insert(EvaluationConsent).values(model_code="personal_incentive", subject_id=subject_id)
        )


Outcome = dict[str, dict[int, tuple[float, str, dict[str, list[Any]]]]]  # model -> key -> score, grade, items


@dataclass
class StoreRun:
    outcome: Outcome
    snapshot: Path
    keys: dict[int, int]  # subject id -> generation index
    models: list[ModelFile]
    stored: dict[
        str, dict[int, tuple[list[str], bool, float]]
    ]  # model -> key -> vetoes, external, adjustment
    reference: Outcome  # the store's own feature rows scored by `rules.evaluate` (Python)
    reference_extra: dict[str, dict[int, tuple[list[str], bool, float]]]


def _collect(
    session: Session, run_id: int, keys: dict[int, int]
) -> dict[int, tuple[float, str, dict[str, Any]]]:
    found = session.scalars(select(EvaluationResult).where(EvaluationResult.run_id == run_id))
    return {keys[r.subject_id]: (r.score, r.grade, r.indicators["items"]) for r in found}


def _evaluate_store(engine: Engine, data_dir: Path) -> StoreRun:
    """Seed, run every model on the store, snapshot it; all inside a transaction rolled back afterwards."""
    settings = Settings(data_dir=data_dir, database_url="sqlite://", secret_key="test-secret-key")
    connection = engine.connect()
    outer = connection.begin()
    try:
        platform = build_platform(settings, engine)
        sessions = sessionmaker(bind=connection, expire_on_commit=False, autoflush=False)
        with sessions() as session:
            keys = {subject_id: n for n, subject_id in enumerate(seed_file(session))}
            models = service.run_order(service.load_models(session, platform.catalog.item_codes, None))
            outcome: Outcome = {}
            stored: dict[str, dict[int, tuple[list[str], bool, float]]] = {}
            reference: Outcome = {}
            reference_extra: dict[str, dict[int, tuple[list[str], bool, float]]] = {}
            for model in models:
                receipt = service.run(session, model, as_of=AS_OF)  # scored by the database
                outcome[model.code] = _collect(session, receipt.run_id, keys)
                stored[model.code] = {
                    keys[r.subject_id]: (r.vetoes, r.indicators["external"], r.indicators["adjustment"])
                    for r in session.scalars(
                        select(EvaluationResult).where(EvaluationResult.run_id == receipt.run_id)
                    )
                }
                reference[model.code], reference_extra[model.code] = {}, {}
                for row in service.sql_feature_rows(session)(model, AS_OF, None):
                    values = {i.code: results.plain_feature(row[i.code]) for i in model.indicators}
                    result = rules.evaluate(model, values)
                    key = keys[int(row["subject_id"])]
                    items = {s.code: [s.value, s.points] for s in result.indicators}
                    reference[model.code][key] = (result.score, result.grade, items)
                    reference_extra[model.code][key] = (
                        list(result.vetoes),
                        result.external,
                        result.adjustment,
                    )
            snapshot = data_dir / "parquet"
            export.write_snapshot(
                session, snapshot, chunk_rows=1000, field_keys=export.model_field_keys(models)
            )
        return StoreRun(outcome, snapshot, keys, models, stored, reference, reference_extra)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture(scope="module")
def store_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, StoreRun]:
    """Each configured store seeded with the same random file, every model run on it, and its snapshot."""
    runs = {}
    for name in STORES:
        engine = request.getfixturevalue("sqlite_engine" if name == "sqlite" else "pg_engine")
        runs[name] = _evaluate_store(engine, tmp_path_factory.mktemp(f"eval-{name}"))
    return runs


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from xinyong.evaluation import spark as spark_engine

    if not spark_engine.java_available():
        pytest.skip("no Java runtime: install default-jre-headless to run the Spark engine")
    with spark_engine.spark_session(cores=2, memory="512m", shuffle_partitions=1, small_data=True) as session:
        yield session


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def assert_same_outcome(expected: Outcome, found: Outcome, what: str) -> None:
    assert expected.keys() == found.keys()
    for model, subjects in expected.items():
        assert subjects.keys() == found[model].keys(), f"{what}: {model} evaluates other subjects"
        for key, (score, grade, items) in subjects.items():
            other_score, other_grade, other_items = found[model][key]
            where = f"{what}: {model}, subject #{key}"
            assert _same(score, other_score), f"{where}: score {score} != {other_score}"
            assert grade == other_grade, f"{where}: grade {grade} != {other_grade}"
            assert items.keys() == other_items.keys(), where
            for code, (value, points) in items.items():
                other_value, other_points = other_items[code]
                assert _same(value, other_value), f"{where}: {code} = {value} != {other_value}"
                assert _same(points, other_points), f"{where}: {code} points {points} != {other_points}"


def test_the_random_file_reaches_every_grade_and_indicator(store_runs: dict[str, StoreRun]) -> None:
    """The data is rich enough for the comparisons to mean something: several grades, vetoes, nonzero values."""
    for run in store_runs.values():
        comprehensive = run.outcome["public_comprehensive"]
        assert len(comprehensive) > SUBJECTS // 2
        assert len({grade for _, grade, _ in comprehensive.values()}) >= 3
        for code in (
            "serious_penalties_3y",
            "penalty_fines_3y",
            "serious_dishonesty_list",
            "years_in_business",
            "tax_credit_grade",
            "inspection_problems_3y",
        ):
            assert any(items[code][0] for _, _, items in comprehensive.values()), code
        assert any(items["tax_credit_grade"] == ["A", 3] for _, _, items in comprehensive.values())
        assert run.outcome["personal_incentive"], "opted-in persons are evaluated"
        assert run.outcome["construction"], "the industry model takes the comprehensive grade"
        assert run.outcome["food_production"], "大类 14 subjects get the food production grade"
        assert len(run.outcome["construction"]) < len(comprehensive), (
            "industry models grade their industry only"
        )


@pytest.mark.parametrize("store", STORES)
def test_scoring_in_the_database_equals_the_pure_rules(store: str, store_runs: dict[str, StoreRun]) -> None:
    """The reference holds: what the store scored and stored (`scoring`, SQL) is what `rules.evaluate` gives
    for the same feature rows — values, points, score, grade, vetoes, the external flag, the adjustment."""
    run = store_runs[store]
    assert_same_outcome(run.reference, run.outcome, f"sql scoring vs rules on {store}")
    for model, subjects in run.reference_extra.items():
        for key, (vetoes, external, adjustment) in subjects.items():
            stored_vetoes, stored_external, stored_adjustment = run.stored[model][key]
            assert stored_vetoes == vetoes, f"{store}: {model}, subject #{key}"
            assert stored_external is external, f"{store}: {model}, subject #{key}"
            assert _same(stored_adjustment, adjustment), f"{store}: {model}, subject #{key}"
    comprehensive = run.reference_extra["public_comprehensive"].values()
    assert any(vetoes for vetoes, _, _ in comprehensive), "some veto fires"
    assert any(adjustment for _, _, adjustment in comprehensive), "the score range cuts some total"


@pytest.mark.skipif(len(STORES) < 2, reason="PostgreSQL not configured (XINYONG_TEST_DATABASE_URL)")
def test_sqlite_and_postgresql_agree_subject_by_subject(store_runs: dict[str, StoreRun]) -> None:
    assert_same_outcome(
        store_runs["sqlite"].outcome, store_runs["postgresql"].outcome, "postgresql vs sqlite"
    )


@pytest.mark.spark
@pytest.mark.parametrize("store", STORES)
def test_spark_over_the_snapshot_agrees_with_the_store(
    store: str, store_runs: dict[str, StoreRun], spark: Any
) -> None:
    from xinyong.evaluation import spark as spark_engine

    run = store_runs[store]
    features = spark_engine.spark_feature_rows(spark, run.snapshot)
    found: Outcome = {}
    for model in run.models:
        scored = {}
        for row in features(model, AS_OF, None):
            result = rules.evaluate(model, {i.code: row[i.code] for i in model.indicators})
            items = {s.code: [s.value, s.points] for s in result.indicators}
            scored[run.keys[int(row["subject_id"])]] = (result.score, result.grade, items)
        found[model.code] = scored
    assert_same_outcome(run.outcome, found, f"spark vs {store}")


@pytest.mark.spark
def test_spark_restricted_to_some_subjects_gives_their_rows(
    store_runs: dict[str, StoreRun], spark: Any
) -> None:
    """The incremental path: a restricted query returns exactly the asked subjects, with the same values."""
    from xinyong.evaluation import spark as spark_engine

    run = store_runs["sqlite"]
    model = next(m for m in run.models if m.code == "public_comprehensive")
    features = spark_engine.spark_feature_rows(spark, run.snapshot)
    every = {int(r["subject_id"]): r for r in features(model, AS_OF, None)}
    some = sorted(every)[::7]
    restricted = {int(r["subject_id"]): r for r in features(model, AS_OF, [*some, 10**9])}
    assert sorted(restricted) == some
    assert all(restricted[i] == every[i] for i in some)


class TestSnapshot:
    def test_holds_exactly_the_input_columns_and_counts(self, store_runs: dict[str, StoreRun]) -> None:
        for run in store_runs.values():
            manifest = export.read_manifest(run.snapshot)
            assert set(manifest["tables"]) == set(INPUT_COLUMNS)
            for name, columns in INPUT_COLUMNS.items():
                table = pq.read_table(run.snapshot / f"{name}.parquet")
                assert table.column_names == columns
                assert table.num_rows == manifest["tables"][name]["rows"]
            subjects = pq.read_table(run.snapshot / "subjects.parquet")
            assert subjects.num_rows == SUBJECTS
            assert subjects.schema.field("registered_on").type == pa.date32()
            records = pq.read_table(run.snapshot / "records.parquet").to_pylist()
            assert records
            kept = {key for r in records for key in json.loads(r["fields"])}
            # What the models read (not legal_rep):
            assert kept == {"sector", "fine_wan", "arrears_wan", "source", "grade", "valid_until", "result"}
            assert manifest["field_keys"] == export.model_field_keys(run.models)
            assert manifest["taken_at"]

    def test_never_exports_an_identity_column(self) -> None:
        with pytest.raises(export.SnapshotError) as raised:
            export.input_tables({"subjects": ["id", "id_hash"]})
        assert raised.value.code == "export.forbidden_column"
        with pytest.raises(export.SnapshotError):
            export.input_tables({"subjects": ["id", "legal_rep"]})
        with pytest.raises(export.SnapshotError):
            export.input_tables({"no_such_table": ["id"]})
        with pytest.raises(export.SnapshotError):
            export.input_tables({"subjects": ["no_such_column"]})

    def test_a_snapshot_without_a_field_the_model_reads_is_refused(
        self, store_runs: dict[str, StoreRun]
    ) -> None:
        manifest = export.read_manifest(store_runs["sqlite"].snapshot)
        model = next(m for m in store_runs["sqlite"].models if m.code == "public_comprehensive")
        export.check_covers(manifest, model)
        with pytest.raises(export.SnapshotError) as raised:
            export.check_covers({**manifest, "field_keys": ["sector"]}, model)
        assert raised.value.code == "export.stale_snapshot"

    def test_a_stale_or_foreign_directory_is_refused(
        self, store_runs: dict[str, StoreRun], tmp_path: Path
    ) -> None:
        with pytest.raises(export.SnapshotError):
            export.read_manifest(tmp_path)
        manifest = json.loads((store_runs["sqlite"].snapshot / export.MANIFEST).read_text("utf-8"))
        manifest["tables"]["records"]["columns"] = ["id"]
        (tmp_path / export.MANIFEST).write_text(json.dumps(manifest), "utf-8")
        with pytest.raises(export.SnapshotError) as raised:
            export.read_manifest(tmp_path)
        assert raised.value.code == "export.stale_snapshot"
