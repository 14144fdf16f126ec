"""Benchmark 2: subject name search at scale on PostgreSQL, beside a brute-force RapidFuzz scan.

1. Load N synthetic subjects straight into `subjects` with COPY (name_norm and core_name computed by the
   project's own functions), rebuild the table's secondary indexes, VACUUM ANALYZE.
2. Time queries of five kinds through `xinyong.subjects.service.search`, one session per query as a request
   would have; keep the SQL of the slowest query of each kind and EXPLAIN ANALYZE it afterwards.
3. Reference: `rapidfuzz.process.extract(query, names, scorer=fuzz.partial_ratio, limit=20)` over the same
   names held in memory, for the first queries of the same list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import common, data
from benchmarks.worker import run_phase

QUERIES_FILE = common.VAR / "search-queries.json"
PLANS_FILE = common.VAR / "search-plans.txt"
TARGET_P95_MS = 50.0
SHORT_QUERIES = 20  # supplementary 2-character queries, reported apart from the mix


def phase_load(subjects: int, queries: int, warmup: int) -> dict[str, Any]:
    import psycopg

    from xinyong.db import migrate
    from xinyong.db.engine import make_engine

    common.reset_pg_schema()
    engine = make_engine(common.pg_url())
    migrate.upgrade(engine)
    engine.dispose()

    watch = common.Stopwatch()
    rows = list(data.subjects(subjects))
    generate_s = watch.seconds
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(common.pg_dsn()) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        # Bulk-load practice: drop the plain secondary indexes, COPY, build them again from their definitions.
        indexes = conn.execute(
            """
            SELECT indexname, indexdef FROM pg_indexes i
            WHERE schemaname = 'public' AND tablename = 'subjects'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        watch = common.Stopwatch()
        columns = "kind, uscc, org_code, name, name_norm, core_name, region_code, created_at, updated_at"
        with conn.cursor() as cur, cur.copy(f"COPY subjects ({columns}) FROM STDIN") as copy:
            for s in rows:
                norm, core = data.matching_forms(s.name)
                copy.write_row((s.kind, s.uscc, s.uscc[8:17], s.name, norm, core, s.region_code, now, now))
        conn.commit()
        copy_s = watch.seconds
        watch = common.Stopwatch()
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
        index_s = watch.seconds
        conn.autocommit = True
        watch = common.Stopwatch()
        conn.execute("VACUUM (ANALYZE) subjects")
        analyze_s = watch.seconds
        size = conn.execute(
            "SELECT pg_relation_size('subjects'), pg_indexes_size('subjects'),"
            " pg_relation_size('ix_subjects_core_name_trgm')"
        ).fetchone()
        stored = conn.execute("SELECT count(*), count(DISTINCT name) FROM subjects").fetchone()
    assert size is not None and stored is not None and stored[0] == subjects

    timed = data.search_queries(rows, queries, seed=7)
    warm = data.search_queries(rows, warmup, seed=8)
    QUERIES_FILE.write_text(
        json.dumps(
            {
                "timed": [{"kind": k, "q": q, "uscc": s.uscc, "name": s.name} for k, q, s in timed],
                "warmup": [{"kind": k, "q": q, "uscc": s.uscc, "name": s.name} for k, q, s in warm],
                "supplementary": [
                    {"kind": "trade_name_2", "q": q} for q in data.trade_name_queries(SHORT_QUERIES)
                ],
            },
            ensure_ascii=False,
            indent=0,
        ),
        encoding="utf-8",
    )
    return {
        "subjects": stored[0],
        "distinct_names": stored[1],
        "generate_s": generate_s,
        "copy_s": copy_s,
        "index_s": index_s,
        "vacuum_analyze_s": analyze_s,
        "table_mb": size[0] / 2**20,
        "indexes_mb": size[1] / 2**20,
        "trgm_index_mb": size[2] / 2**20,
        "indexes_rebuilt": [name for name, _ in indexes],
    }


def phase_queries() -> dict[str, Any]:
    from sqlalchemy import event

    from xinyong.db.engine import make_engine, make_sessionmaker
    from xinyong.subjects import service as subjects

    spec = json.loads(QUERIES_FILE.read_text(encoding="utf-8"))
    engine = make_engine(common.pg_url())
    sessions = make_sessionmaker(engine)
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    def one(query: str) -> tuple[float, list[str], int]:
        captured.clear()
        watch = common.Stopwatch()
        with sessions() as session:
            found, total = subjects.search(session, query, page=1, size=20)
            usccs = [s.uscc or "" for s in found]
        return watch.seconds, usccs, total

    for item in spec["warmup"]:
        one(item["q"])
    load = common.load_average()
    per_kind: dict[str, list[float]] = defaultdict(list)
    hits: dict[str, int] = defaultdict(int)
    totals: dict[str, list[int]] = defaultdict(list)
    slowest: dict[str, tuple[float, str, list[tuple[str, Any]]]] = {}
    all_seconds: list[float] = []
    for item in spec["timed"]:
        seconds, usccs, total = one(item["q"])
        kind = item["kind"]
        all_seconds.append(seconds)
        per_kind[kind].append(seconds)
        totals[kind].append(total)
        hits[kind] += item["uscc"] in usccs
        if kind not in slowest or seconds > slowest[kind][0]:
            slowest[kind] = (seconds, item["q"], list(captured))
    load_after = common.load_average()
    short_seconds: list[float] = []
    short_totals: list[int] = []
    for item in spec["supplementary"]:
        seconds, _usccs, total = one(item["q"])
        short_seconds.append(seconds)
        short_totals.append(total)
        if "trade_name_2" not in slowest or seconds > slowest["trade_name_2"][0]:
            slowest["trade_name_2"] = (seconds, item["q"], list(captured))

    plans = []
    with engine.connect() as conn:
        for kind, (seconds, query, statements) in slowest.items():
            plans.append(f"### {kind}: {query!r} took {seconds * 1000:.1f} ms\n")
            for statement, parameters in statements:
                rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                plans.append(statement.strip() + "\n" + repr(parameters) + "\n")
                plans.append("\n".join(r[0] for r in rows) + "\n\n")
    PLANS_FILE.write_text("".join(plans), encoding="utf-8")
    engine.dispose()
    return {
        "overall": common.summary_ms(all_seconds),
        "by_kind": {
            k: {
                **common.summary_ms(v),
                "found_on_first_page": hits[k],
                "median_total": common.percentile(totals[k], 50),
                "max_total": max(totals[k]),
            }
            for k, v in per_kind.items()
        },
        "slowest": {k: {"ms": v[0] * 1000, "query": v[1]} for k, v in slowest.items() if k != "trade_name_2"},
        "supplementary": {
            "trade_name_2": {
                **common.summary_ms(short_seconds),
                "median_total": common.percentile(short_totals, 50),
                "max_total": max(short_totals),
                "queries": [item["q"] for item in spec["supplementary"]],
                "slowest": {"ms": slowest["trade_name_2"][0] * 1000, "query": slowest["trade_name_2"][1]},
            }
        },
        "warmup_queries": len(spec["warmup"]),
        "load_avg_before": load,
        "load_avg_after": load_after,
        "plans": str(PLANS_FILE.relative_to(common.ROOT)),
    }


def phase_rapidfuzz(queries: int) -> dict[str, Any]:
    import psycopg
    from rapidfuzz import fuzz, process

    spec = json.loads(QUERIES_FILE.read_text(encoding="utf-8"))
    with psycopg.connect(common.pg_dsn()) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM subjects ORDER BY id")]
    items = spec["timed"][:queries]
    process.extract(items[0]["q"], names[:1000], scorer=fuzz.partial_ratio, limit=20)  # import/JIT warm-up
    load = common.load_average()
    seconds: list[float] = []
    per_kind: dict[str, list[float]] = defaultdict(list)
    hits: dict[str, int] = defaultdict(int)
    for item in items:
        watch = common.Stopwatch()
        found = process.extract(item["q"], names, scorer=fuzz.partial_ratio, limit=20)
        elapsed = watch.seconds
        seconds.append(elapsed)
        per_kind[item["kind"]].append(elapsed)
        hits[item["kind"]] += any(name == item["name"] for name, _score, _index in found)
    return {
        "names": len(names),
        "overall": common.summary_ms(seconds),
        "by_kind": {k: {**common.summary_ms(v), "found_in_top20": hits[k]} for k, v in per_kind.items()},
        "load_avg_before": load,
        "load_avg_after": common.load_average(),
    }


def run(subjects: int, queries: int, fuzz_queries: int, *, timeout_s: float) -> dict[str, Any]:
    watch = common.Stopwatch()
    warmup = max(25, queries // 20)
    common.log(f"search: loading {subjects:,} subjects")
    loaded = run_phase(
        "benchmarks.search:phase_load",
        {"subjects": subjects, "queries": queries, "warmup": warmup},
        timeout_s,
    )
    common.log(f"search: loaded in {loaded['copy_s'] + loaded['index_s']:.0f} s; {queries} queries")
    timed = run_phase("benchmarks.search:phase_queries", {}, timeout_s)
    common.log(
        f"search: p95 {timed['overall']['p95_ms']:.1f} ms; RapidFuzz reference ({fuzz_queries} queries)"
    )
    fuzz = run_phase("benchmarks.search:phase_rapidfuzz", {"queries": fuzz_queries}, timeout_s)
    common.log(f"search: RapidFuzz p95 {fuzz['overall']['p95_ms']:.0f} ms")
    return {
        "subjects": subjects,
        "queries": queries,
        "load": loaded,
        "search": timed,
        "rapidfuzz": fuzz,
        "target_p95_ms": TARGET_P95_MS,
        "p95_over_target": timed["overall"]["p95_ms"] / TARGET_P95_MS,
        "wall_s": watch.seconds,
        "queries_file": str(Path(QUERIES_FILE).relative_to(common.ROOT)),
    }
