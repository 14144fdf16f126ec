"""Benchmark: a full run of `public_comprehensive` on SQLite and PostgreSQL beside one hand-written SQL aggregate
computing the same features, an incremental run after 1 % of subjects changed, and the Spark local run over a
Parquet snapshot of the same data, with the peak memory of each.

    python -m benchmarks.evaluation [--subjects 1000000] [--records 10000000] [--stores sqlite,postgresql]
                                    [--no-spark] [--docs]

1. Load: migrate an empty store, then bulk-insert subjects, records (CF with severities and fines, XK, JL,
   SXBZX, JYYC, QS, QJSB; some repaired or revoked), list entries and commitments straight into the tables
   (SQLAlchemy Core executemany, not ingestion); ANALYZE.
2. Reference: one hand-written SQL aggregate (`HAND_WRITTEN`, written for this dialect) computing the model's
   17 features, every row fetched. The compiled feature query is timed the same way, and both must return the
   same rows (checked: a benchmark that computes something else measures nothing).
3. Full run: `evaluation.service.run` (feature query, scoring in the database, the new and changed results,
   current grades, grade changes), committed; twice: the first run of the model version writes every result,
   the second, on unchanged data, evaluates every subject and writes none.
4. Incremental: a new CF penalty for 1 % of subjects (with its domain event, as records.lifecycle writes it),
   then `service.run(..., incremental=True)` at the same as-of day, committed.
5. Spark: `xinyong export parquet` of the PostgreSQL store (`evaluation.export.write_snapshot`), then a local
   Spark session computes the features over the snapshot and the same Python scoring grades them.

Each phase runs in a fresh process (`benchmarks.worker`): its peak RSS is its own; for Spark the JVM's peak is
reported beside it (a child process). The database server's own memory is not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from typing import Any

import xinyong.schema  # noqa: F401 - every model mapped, for Core inserts through the ORM tables
from benchmarks import common
from benchmarks.worker import run_phase

AS_OF = common.TODAY
MODEL = "public_comprehensive"
PG_DATABASE = "xinyong_bench_eval"
SQLITE_FILE = "evaluation.db"
SNAPSHOT = common.VAR / "evaluation-parquet"
RESULTS = common.VAR / "evaluation.json"
DOCS = common.ROOT / "docs" / "benchmarks-evaluation.md"
TARGET_FULL_RATIO = 1.5
TARGET_INCREMENTAL_SHARE = 0.05
CHUNK = 20_000
SEED = 20261207
ITEMS = (
    ("CF", 45),
    ("XK", 25),
    ("JL", 8),
    ("JYYC", 6),
    ("QS", 6),
    ("QJSB", 6),
    ("SXBZX", 4),
    ("WBPJ", 3),
    ("JC", 5),
)
INSPECTION_RESULTS = ("未发现问题", "发现问题已责令改正", "发现问题已立案", "未按规定公示年报", "通过登记的住所无法联系", "不配合检查情节严重", "其他")  # fmt: skip
PROBLEMS_FOUND = ", ".join(f"'{r}'" for r in INSPECTION_RESULTS[1:-1])
SECTORS = ("安全生产", "消防安全", "食品药品", "市场监管", "生态环境")


def pg_url() -> str:
    return f"postgresql+psycopg://{common.PG_SERVER}/{PG_DATABASE}"


def store_url(store: str) -> str:
    return f"sqlite:///{common.sqlite_path(SQLITE_FILE)}" if store == "sqlite" else pg_url()


def _reset(store: str) -> None:
    if store == "sqlite":
        common.reset_sqlite(common.sqlite_path(SQLITE_FILE))
        return
    import psycopg

    with psycopg.connect(common.pg_dsn("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    with psycopg.connect(common.pg_dsn(PG_DATABASE), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _day(rng: random.Random, back: int, ahead: int = 0) -> dt.date:
    return AS_OF + dt.timedelta(days=rng.randint(-back, ahead))


def _record(rng: random.Random, n: int, subject_id: int, now: dt.datetime) -> dict[str, Any]:
    item = rng.choices([i for i, _ in ITEMS], [w for _, w in ITEMS])[0]
    fields: dict[str, Any] = {"sector": rng.choice(SECTORS)}
    severity = None
    if item == "CF":
        severity = rng.choices(["严重", "一般", "轻微"], [1, 5, 4])[0]
        fields["fine_wan"] = rng.choice([0, 0.2, 1, 3, 5, 20, 100, 300])
    elif item == "WBPJ":  # an outside grade: the tax authority's, customs' or the national centre's
        fields = {"source": rng.choice(["税务", "税务", "海关", "国家公共信用信息中心"]),
                  "grade": rng.choice(["A", "B", "M", "C", "D"]), "valid_until": _day(rng, 365, 2 * 365).isoformat()}  # fmt: skip
    elif item == "QS":
        fields["arrears_wan"] = round(rng.uniform(0, 200), 2)
    elif item == "JC":  # an inspection result: most find nothing
        fields["result"] = rng.choices(INSPECTION_RESULTS, [6, 2, 1, 1, 1, 1, 1])[0]
    return {
        "natural_key": f"e{n}",
        "item_code": item,
        "provider_code": common.DEPARTMENT["code"],
        "subject_id": subject_id,
        "subject_kind": "legal_person",
        "status": rng.choices(["active", "repaired", "revoked"], [92, 6, 2])[0],
        "subject_name": f"评价基准企业{subject_id}",
        "decision_date": _day(rng, 6 * 365),
        "severity": severity,
        "public_until": None if item in ("XK", "JL") else _day(rng, 365, 3 * 365),
        "fields": fields,
        "content_hash": f"{n:064d}",
        "catalog_version": "1",
        "batch_id": "bench-evaluation",
        "created_at": now,
        "updated_at": now,
    }


def phase_load(store: str, subjects: int, records: int) -> dict[str, Any]:
    """Migrate an empty store and bulk-insert the synthetic credit file."""
    from sqlalchemy import insert, text

    from xinyong.commitments.models import Commitment
    from xinyong.db import migrate
    from xinyong.db.engine import make_engine
    from xinyong.lists.models import ListEntry
    from xinyong.records.models import Batch, Record
    from xinyong.subjects.models import Subject

    _reset(store)
    engine = make_engine(store_url(store))
    migrate.upgrade(engine)
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.UTC)
    watch = common.Stopwatch()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (code, name, region_code, created_at) VALUES (:c, :n, :r, :t)"),
                     {"c": common.DEPARTMENT["code"], "n": common.DEPARTMENT["name"],
                      "r": common.DEPARTMENT["region_code"], "t": now})  # fmt: skip
        conn.execute(
            insert(Batch).values(
                id="bench-evaluation",
                item_code="CF",
                provider_code=common.DEPARTMENT["code"],
                source="cli",
                status="done",
                catalog_version="1",
            )
        )
        for start in range(1, subjects + 1, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, subjects + 1)):
                name = f"评价基准企业{i}"
                kind = "legal_person" if i % 10 else "individual_business"
                registered = None if i % 50 == 0 else AS_OF - dt.timedelta(days=30 + (i * 7919) % 9000)
                rows.append(
                    {"id": i, "kind": kind, "name": name, "name_norm": name, "core_name": name,
                     "region_code": "510100", "registered_on": registered, "created_at": now,
                     "updated_at": now}
                )  # fmt: skip
            conn.execute(insert(Subject), rows)
        for start in range(0, records, CHUNK):
            conn.execute(
                insert(Record),
                [
                    _record(rng, n, rng.randint(1, subjects), now)
                    for n in range(start, min(start + CHUNK, records))
                ],
            )
        listed = rng.sample(range(1, subjects + 1), max(1, subjects // 30))
        entries = [
            {"subject_id": s, "list_type": rng.choices(["serious_dishonesty", "red"], [2, 1])[0],
             "status": rng.choices(["listed", "removed"], [4, 1])[0], "department_code": common.DEPARTMENT["code"],
             "legal_basis": "依据", "facts": "事实", "proposed_on": _day(rng, 3 * 365), "decided_on": _day(rng, 3 * 365),
             "public_until": _day(rng, 365, 3 * 365), "created_at": now, "updated_at": now}
            for s in listed
        ]  # fmt: skip
        conn.execute(insert(ListEntry), entries)
        signers = rng.sample(range(1, subjects + 1), max(1, subjects // 10))
        commitments = [
            {"template_code": "general", "template_version": "1", "subject_id": s, "subject_name": f"评价基准企业{s}",
             "signer_name": "签署人", "channel": "online", "title": "信用承诺", "text": "承诺", "text_sha256": "0" * 64,
             "signature": "sig", "status": rng.choices(["signed", "fulfilled", "breached"], [5, 4, 1])[0],
             "signed_on": _day(rng, 4 * 365), "created_at": now}
            for s in signers
        ]  # fmt: skip
        conn.execute(insert(Commitment), commitments)
    load_s = watch.seconds
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return {"load_s": load_s, "peak_rss_mb": common.peak_rss_mb()}


def hand_written(dialect: str) -> str:
    """The model's 17 features as one SQL aggregate, written by hand for the dialect (the reference)."""
    from xinyong.evaluation.rules import months_before

    d36, d12 = months_before(AS_OF, 36).isoformat(), months_before(AS_OF, 12).isoformat()
    today = AS_OF.isoformat()
    if dialect == "postgres":
        fine, arrears = "(r.fields->>'fine_wan')::float8", "(r.fields->>'arrears_wan')::float8"
        years = f"floor((DATE '{today}' - s.registered_on) / 365.25)"
        fulfilment, result = "r.fields->>'fulfilment'", "r.fields->>'result'"
        source, grade, until = "r.fields->>'source'", "r.fields->>'grade'", "r.fields->>'valid_until'"
    else:
        fine, arrears = "CAST(json_extract(r.fields, '$.fine_wan') AS REAL)", "CAST(json_extract(r.fields, '$.arrears_wan') AS REAL)"  # fmt: skip
        years = f"CAST((julianday('{today}') - julianday(s.registered_on)) / 365.25 AS INTEGER)"
        fulfilment, result = "json_extract(r.fields, '$.fulfilment')", "json_extract(r.fields, '$.result')"
        source, grade = "json_extract(r.fields, '$.source')", "json_extract(r.fields, '$.grade')"
        until = "json_extract(r.fields, '$.valid_until')"
    in_force = f"""r.status = 'active' AND (r.decision_date IS NULL OR r.decision_date <= '{today}')
    AND (r.public_until IS NULL OR r.public_until >= '{today}')"""
    return f"""
WITH rec AS (
  SELECT r.subject_id,
    SUM(CASE WHEN r.item_code = 'CF' AND r.severity = '严重' AND r.decision_date > '{d36}' THEN 1 ELSE 0 END) AS serious_penalties_3y,
    SUM(CASE WHEN r.item_code = 'CF' AND r.severity = '一般' AND r.decision_date > '{d12}' THEN 1 ELSE 0 END) AS general_penalties_1y,
    SUM(CASE WHEN r.item_code = 'CF' AND r.severity = '轻微' AND r.decision_date > '{d12}' THEN 1 ELSE 0 END) AS minor_penalties_1y,
    SUM(CASE WHEN r.item_code = 'CF' AND r.decision_date > '{d36}' THEN COALESCE({fine}, 0) ELSE 0 END) AS penalty_fines_3y,
    SUM(CASE WHEN r.item_code = 'SXBZX' THEN 1 ELSE 0 END) AS court_dishonest,
    SUM(CASE WHEN r.item_code = 'JYYC' THEN 1 ELSE 0 END) AS abnormal_operation,
    SUM(CASE WHEN r.item_code = 'QS' THEN COALESCE({arrears}, 0) ELSE 0 END) AS tax_arrears,
    SUM(CASE WHEN r.item_code = 'QJSB' THEN 1 ELSE 0 END) AS social_insurance_arrears,
    SUM(CASE WHEN r.item_code = 'JL' AND r.decision_date > '{d36}' THEN 1 ELSE 0 END) AS honours_3y,
    SUM(CASE WHEN r.item_code = 'XK' THEN 1 ELSE 0 END) AS licences_in_force,
    SUM(CASE WHEN r.item_code = 'WN' AND r.decision_date > '{d36}' THEN 1 ELSE 0 END) AS commitments_breached_3y,
    SUM(CASE WHEN r.item_code = 'CN' AND {fulfilment} = '已履约' AND r.decision_date > '{d36}' THEN 1 ELSE 0 END) AS commitments_fulfilled_3y,
    SUM(CASE WHEN r.item_code = 'JC' AND {result} IN ({PROBLEMS_FOUND}) AND r.decision_date > '{d36}' THEN 1 ELSE 0 END) AS inspection_problems_3y
  FROM records r
  WHERE {in_force}
  GROUP BY r.subject_id),
tax AS (
  SELECT subject_id, MAX(tax_credit_grade) AS tax_credit_grade FROM (
    SELECT r.subject_id, {grade} AS tax_credit_grade,
      ROW_NUMBER() OVER (PARTITION BY r.subject_id ORDER BY r.decision_date DESC NULLS LAST, r.id DESC) AS rn
    FROM records r WHERE r.item_code = 'WBPJ' AND {source} = '税务' AND ({until} IS NULL OR {until} >= '{today}')
      AND {in_force}) x
  WHERE rn = 1 GROUP BY subject_id),
lst AS (
  SELECT l.subject_id,
    MAX(CASE WHEN l.list_type = 'serious_dishonesty' THEN 1 ELSE 0 END) AS serious_dishonesty_list,
    MAX(CASE WHEN l.list_type = 'red' THEN 1 ELSE 0 END) AS red_list
  FROM list_entries l
  WHERE l.status = 'listed' AND l.decided_on <= '{today}' AND (l.public_until IS NULL OR l.public_until >= '{today}')
  GROUP BY l.subject_id)
SELECT s.id AS subject_id,
  COALESCE(rec.serious_penalties_3y, 0) AS serious_penalties_3y, COALESCE(rec.general_penalties_1y, 0) AS general_penalties_1y,
  COALESCE(rec.minor_penalties_1y, 0) AS minor_penalties_1y, COALESCE(rec.penalty_fines_3y, 0) AS penalty_fines_3y,
  COALESCE(rec.court_dishonest, 0) AS court_dishonest, COALESCE(rec.abnormal_operation, 0) AS abnormal_operation,
  COALESCE(rec.tax_arrears, 0) AS tax_arrears, COALESCE(rec.social_insurance_arrears, 0) AS social_insurance_arrears,
  COALESCE(lst.serious_dishonesty_list, 0) AS serious_dishonesty_list, COALESCE(lst.red_list, 0) AS red_list,
  COALESCE(rec.honours_3y, 0) AS honours_3y, COALESCE(rec.licences_in_force, 0) AS licences_in_force,
  COALESCE(rec.commitments_breached_3y, 0) AS commitments_breached_3y,
  COALESCE(rec.commitments_fulfilled_3y, 0) AS commitments_fulfilled_3y,
  CASE WHEN s.registered_on IS NULL THEN NULL ELSE {years} END AS years_in_business,
  tax.tax_credit_grade AS tax_credit_grade,
  COALESCE(rec.inspection_problems_3y, 0) AS inspection_problems_3y
FROM subjects s
LEFT JOIN rec ON rec.subject_id = s.id LEFT JOIN lst ON lst.subject_id = s.id LEFT JOIN tax ON tax.subject_id = s.id
WHERE s.kind IN ('legal_person', 'individual_business')
ORDER BY s.id
"""


def _model() -> Any:
    from xinyong.catalog import service as catalog_service
    from xinyong.evaluation import service

    catalog = catalog_service.load(None)
    return service.get_model(service.load_models(None, catalog.item_codes, None), MODEL)


def _normal(row: Any) -> tuple[Any, ...]:
    return tuple(round(float(v), 6) if v is not None and not isinstance(v, str) else v for v in row)


def phase_queries(store: str) -> dict[str, Any]:
    """Time the hand-written aggregate and the compiled feature query (every row fetched); compare them."""
    from sqlalchemy import text

    from xinyong.db.engine import make_engine
    from xinyong.evaluation import compiler

    dialect = "sqlite" if store == "sqlite" else "postgres"
    model = _model()
    engine = make_engine(store_url(store))
    timings: dict[str, float] = {}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    queries = {
        "hand_written": hand_written(dialect),
        "compiled": compiler.feature_query(model, as_of=AS_OF, dialect=dialect),
    }
    for _ in range(2):  # the second round is the measured one (warm cache for both)
        for name, sql in queries.items():
            with engine.connect() as conn:
                watch = common.Stopwatch()
                found = conn.execute(text(sql)).all()
                timings[name] = watch.seconds
                rows[name] = [_normal(r) for r in found]
    engine.dispose()
    return {
        "hand_written_s": timings["hand_written"],
        "compiled_s": timings["compiled"],
        "rows": len(rows["compiled"]),
        "same_rows": rows["hand_written"] == rows["compiled"],
        "peak_rss_mb": common.peak_rss_mb(),
    }


def phase_full(store: str) -> dict[str, Any]:
    """Two full runs, each committed: the first of the model version on the store (every subject's result
    written), then the same again on unchanged data (every subject evaluated, no result written: the inputs are
    those of the current results)."""
    from sqlalchemy import func, select

    from xinyong.db.engine import make_engine, make_sessionmaker
    from xinyong.evaluation import service
    from xinyong.evaluation.models import EvaluationResult

    model = _model()
    engine = make_engine(store_url(store))
    sessions = make_sessionmaker(engine)
    found: dict[str, Any] = {}
    for name in ("full", "repeat"):
        watch = common.Stopwatch()
        with sessions() as session:
            receipt = service.run(session, model, as_of=AS_OF)
            session.commit()
            found[f"{name}_s"] = watch.seconds
            found[f"{name}_written"] = session.scalar(
                select(func.count()).where(EvaluationResult.run_id == receipt.run_id)
            )
    engine.dispose()
    return {**found, "subjects": receipt.subjects, "grade_counts": receipt.grade_counts,
            "peak_rss_mb": common.peak_rss_mb()}  # fmt: skip


def phase_incremental(store: str, share: float) -> dict[str, Any]:
    """A new penalty (and its domain event) for `share` of the subjects, then an incremental run."""
    from sqlalchemy import func, insert, select

    from xinyong.db.engine import make_engine, make_sessionmaker
    from xinyong.evaluation import service
    from xinyong.events.models import DomainEvent
    from xinyong.records.models import Record
    from xinyong.subjects.models import Subject

    model = _model()
    engine = make_engine(store_url(store))
    sessions = make_sessionmaker(engine)
    rng = random.Random(SEED + 1)
    now = dt.datetime.now(dt.UTC)
    with sessions() as session:
        subjects = int(session.scalar(select(func.max(Subject.id))) or 0)
        first = int(session.scalar(select(func.max(Record.id))) or 0) + 1
        changed = rng.sample(range(1, subjects + 1), max(1, round(subjects * share)))
        rows = []
        for k, subject_id in enumerate(changed):
            row = _record(rng, 10**9 + k, subject_id, now)
            row.update(id=first + k, item_code="CF", status="active", severity="一般", decision_date=AS_OF,
                       public_until=AS_OF + dt.timedelta(days=365), fields={"sector": "市场监管", "fine_wan": 1})  # fmt: skip
            rows.append(row)
        session.execute(insert(Record), rows)
        session.execute(
            insert(DomainEvent),
            [{"kind": "record.published", "aggregate": "record", "aggregate_id": r["id"],
              "subject_id": r["subject_id"], "created_at": now} for r in rows],
        )  # fmt: skip
        session.commit()
        watch = common.Stopwatch()
        receipt = service.run(session, model, as_of=AS_OF, incremental=True)
        session.commit()
    seconds = watch.seconds
    engine.dispose()
    return {"incremental_s": seconds, "changed": len(changed), "subjects": receipt.subjects,
            "was_incremental": receipt.incremental, "peak_rss_mb": common.peak_rss_mb()}  # fmt: skip


def phase_export(store: str) -> dict[str, Any]:
    import shutil

    from xinyong.db.engine import make_engine, make_sessionmaker
    from xinyong.evaluation import export

    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    engine = make_engine(store_url(store))
    watch = common.Stopwatch()
    with make_sessionmaker(engine)() as session:
        snapshot = export.write_snapshot(session, SNAPSHOT, field_keys=export.model_field_keys([_model()]))
    seconds = watch.seconds
    engine.dispose()
    size = sum(p.stat().st_size for p in SNAPSHOT.glob("*.parquet"))
    return {"export_s": seconds, "rows": snapshot.rows, "bytes": size, "peak_rss_mb": common.peak_rss_mb()}


def phase_spark(cores: int, memory: str) -> dict[str, Any]:
    """Features by a local Spark session over the snapshot, scored by the same Python rules; run twice: the
    first run pays for Spark's warm-up (code generation, JIT), the second is the steady state."""
    import shutil
    from pathlib import Path

    from xinyong.evaluation import rules, spark

    model = _model()
    watch = common.Stopwatch()
    session = spark.local_session(cores=cores, memory=memory)
    start_s = watch.seconds
    features = spark.spark_feature_rows(session, SNAPSHOT)
    runs: list[float] = []
    counts: dict[str, int] = {}
    subjects = 0
    for _ in range(2):
        watch = common.Stopwatch()
        counts, subjects = {}, 0
        for row in features(model, AS_OF, None):
            result = rules.evaluate(model, {i.code: row[i.code] for i in model.indicators})
            counts[result.grade] = counts.get(result.grade, 0) + 1
            subjects += 1
        runs.append(watch.seconds)
    jvm = float("nan")
    proc = getattr(session.sparkContext._gateway, "proc", None)  # the JVM py4j started
    if proc is not None:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                jvm = int(line.split()[1]) / 1024
    scratch = session.conf.get("spark.local.dir")
    session.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    return {"spark_cold_s": runs[0], "spark_s": runs[1], "session_start_s": start_s, "subjects": subjects,
            "grade_counts": counts, "peak_rss_mb": common.peak_rss_mb(), "jvm_peak_rss_mb": jvm}  # fmt: skip


def _phase(name: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    common.log(f"{name} {kwargs}")
    result = run_phase(f"benchmarks.evaluation:{name}", kwargs, timeout)
    common.log(f"  -> {json.dumps(result, ensure_ascii=False)}")
    return result


def run(subjects: int, records: int, stores: list[str], with_spark: bool, timeout: float) -> dict[str, Any]:
    report: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "subjects": subjects,
        "records": records,
        "model": MODEL,
        "as_of": AS_OF.isoformat(),
        "stores": {},
    }
    spark_source = ("postgresql" if "postgresql" in stores else stores[0]) if with_spark else None
    for store in stores:
        found: dict[str, Any] = {
            "load": _phase("phase_load", timeout, store=store, subjects=subjects, records=records)
        }
        found["queries"] = _phase("phase_queries", timeout, store=store)
        found["full"] = _phase("phase_full", timeout, store=store)
        if store == spark_source:  # the same data as the full run, before the incremental change
            report["spark"] = {"source": store, "export": _phase("phase_export", timeout, store=store)}
            report["spark"]["run"] = _phase("phase_spark", timeout, cores=2, memory="2g")
        found["incremental"] = _phase("phase_incremental", timeout, store=store, share=0.01)
        hand = found["queries"]["hand_written_s"]
        found["compiled_ratio"] = found["queries"]["compiled_s"] / hand
        found["full_ratio"] = found["full"]["full_s"] / hand
        found["repeat_ratio"] = found["full"]["repeat_s"] / hand
        found["incremental_share"] = found["incremental"]["incremental_s"] / found["full"]["full_s"]
        found["incremental_share_repeat"] = found["incremental"]["incremental_s"] / found["full"]["repeat_s"]
        report["stores"][store] = found
    pg = report["stores"].get("postgresql")
    if "spark" in report and pg:
        spark_s = report["spark"]["run"]["spark_s"]
        report["spark"]["ratio_to_postgresql_full"] = spark_s / pg["full"]["full_s"]
        report["spark"]["ratio_to_postgresql_query"] = spark_s / pg["queries"]["compiled_s"]
    return report


def render(report: dict[str, Any]) -> str:
    lines = [
        f"Run {report['at']}: `{report['model']}` as of {report['as_of']}, {report['subjects']:,} subjects, "
        f"{report['records']:,} records.",
        "",
        "| store | load | hand-written aggregate | compiled feature query (ratio) | same rows | first full run, every "
        f"result written (ratio, target ≤ {TARGET_FULL_RATIO}×) | full run again, unchanged data (ratio) | "
        f"incremental after 1 % (share of the first / the repeated full run, target ≤ "
        f"{TARGET_INCREMENTAL_SHARE:.0%}) | peak RSS full / incremental |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for store, f in report["stores"].items():
        q, full, inc = f["queries"], f["full"], f["incremental"]
        lines.append(
            f"| {store} | {f['load']['load_s']:.1f} s | {q['hand_written_s']:.2f} s | {q['compiled_s']:.2f} s "
            f"({f['compiled_ratio']:.2f}×) | {'yes' if q['same_rows'] else '**no**'} | {full['full_s']:.2f} s, "
            f"{full['full_written']:,} written ({f['full_ratio']:.2f}×) | {full['repeat_s']:.2f} s, "
            f"{full['repeat_written']:,} written ({f['repeat_ratio']:.2f}×) | {inc['incremental_s']:.2f} s for "
            f"{inc['subjects']:,} subjects ({f['incremental_share']:.1%} / {f['incremental_share_repeat']:.1%}) | "
            f"{full['peak_rss_mb']:.0f} / {inc['peak_rss_mb']:.0f} MB |"
        )
    spark = report.get("spark")
    if spark:
        run_, exp = spark["run"], spark["export"]
        lines += [
            "",
            f"Spark (local[2], driver memory 2g) over the Parquet snapshot of the {spark['source']} store: export "
            f"{exp['export_s']:.1f} s ({exp['bytes'] / 1e6:.1f} MB, peak RSS {exp['peak_rss_mb']:.0f} MB); "
            f"session start {run_['session_start_s']:.1f} s; features and scoring of {run_['subjects']:,} subjects "
            f"{run_['spark_s']:.2f} s warm, {run_['spark_cold_s']:.2f} s on the first query (peak RSS Python {run_['peak_rss_mb']:.0f} MB, JVM "
            f"{run_['jvm_peak_rss_mb']:.0f} MB)"
            + (
                f"; {spark['ratio_to_postgresql_full']:.2f}× the PostgreSQL full run, "
                f"{spark['ratio_to_postgresql_query']:.2f}× its feature query alone."
                if "ratio_to_postgresql_full" in spark
                else "."
            ),
        ]
    return "\n".join(lines) + "\n"


MARK_START = "<!-- evaluation:results:start (generated by `python -m benchmarks.evaluation --docs`) -->"
MARK_END = "<!-- evaluation:results:end -->"


def write_docs(report: dict[str, Any]) -> None:
    text = DOCS.read_text("utf-8")
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    DOCS.write_text(f"{head}{MARK_START}\n{render(report)}{MARK_END}{tail}", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    parser.add_argument("--docs", action="store_true", help=f"write the results into {DOCS.name}")
    args = parser.parse_args()
    report = run(args.subjects, args.records, args.stores.split(","), not args.no_spark, args.timeout)
    common.VAR.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    print(render(report))
    if args.docs:
        write_docs(report)


if __name__ == "__main__":
    main()
