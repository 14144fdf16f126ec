"""Benchmark: a stratified draw (双随机) over a scope of 1,000,000 subjects on PostgreSQL, as a ratio to one
hand-written SQL statement that draws the same sample.

    python -m benchmarks.supervision [--subjects 1000000] [--inspectors 300] [--repeat 3] [--docs]

1. Load: migrate an empty database, then bulk-load subjects and their current `public_comprehensive` grades with
   set-based `INSERT … SELECT FROM generate_series` (A 30 %, B 40 %, C 20 %, D 5 %, 5 % ungraded: tier C), and a
   department with its inspectors (a few with declared conflicts); ANALYZE.
2. Plan: `supervision.plans.create_plan` freezes the scope (one INSERT … SELECT with each subject's tier) and
   publishes its digest and the commitment; timed on its own.
3. Reference: the hand-written statement (`HAND_WRITTEN`: `row_number() OVER (PARTITION BY tier ORDER BY
   sha256(seed ‖ uscc))` with each tier's limit) over the plan's frozen scope, every row fetched; best of
   `--repeat`. The platform's selection statement (`plans.select_drawn`) is timed the same way and both must
   return the same list (checked).
4. Draw: `supervision.plans.draw_plan` as a use case (selection, inspector assignment, the draw's rows and its
   audit entry), committed; then `draw --verify`'s recomputation from the published document.

The target (issue 21, item 9): the selection at most 1.5 × the hand-written statement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

import xinyong.schema  # noqa: F401 - every model mapped
from benchmarks import common

PG_DATABASE = "xinyong_bench_supervision"
RESULTS = common.VAR / "supervision.json"
DOCS = common.ROOT / "docs" / "benchmarks-supervision.md"
TARGET_RATIO = 1.5
DEPARTMENT = "CDMR"

HAND_WRITTEN = """
SELECT ranked.subject_id, ranked.uscc, ranked.tier FROM (
    SELECT p.subject_id, p.uscc, p.tier,
           row_number() OVER (PARTITION BY p.tier ORDER BY sha256(convert_to(:seed || p.uscc, 'UTF8')),
                                                        p.uscc COLLATE "C") AS rn,
           sha256(convert_to(:seed || p.uscc, 'UTF8')) AS key
    FROM inspection_plan_subjects p
    WHERE p.plan_id = :plan
) ranked
JOIN (VALUES ('A', CAST(:a AS int), 1), ('B', CAST(:b AS int), 2), ('C', CAST(:c AS int), 3), ('D', CAST(:d AS int), 4))
     AS t(tier, n, pos) ON t.tier = ranked.tier
WHERE ranked.rn <= t.n
ORDER BY t.pos, ranked.key, ranked.uscc COLLATE "C"
"""


def pg_url() -> str:
    return f"postgresql+psycopg://{common.PG_SERVER}/{PG_DATABASE}"


def _reset() -> None:
    import psycopg

    with psycopg.connect(common.pg_dsn("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    with psycopg.connect(common.pg_dsn(PG_DATABASE), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


LOAD = [
    # the name indexes serve search, not supervision; dropped so the load takes seconds, not minutes
    "DROP INDEX IF EXISTS ix_subjects_core_name_trgm",
    "DROP INDEX IF EXISTS ix_subjects_core_bigrams",
    "DROP INDEX IF EXISTS ix_subjects_name_norm_region",
    """INSERT INTO departments (code, name, region_code, created_at)
       VALUES ('CDMR', '成都市市场监督管理局', '510100', now())""",
    """INSERT INTO subjects (id, kind, uscc, name, name_norm, core_name, region_code, created_at, updated_at)
       SELECT i, CASE WHEN i % 10 = 0 THEN 'individual_business' ELSE 'legal_person' END,
              CASE WHEN i % 10 = 0 THEN '92' ELSE '91' END || '5101' || lpad((4 + i % 9)::text, 2, '0')
                  || lpad(i::text, 10, '0'),
              '抽查基准企业' || i, '抽查基准企业' || i, '抽查基准企业' || i,
              '5101' || lpad((4 + i % 9)::text, 2, '0'), now(), now()
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO evaluation_runs (id, model_code, model_version, engine, as_of, incremental, status, subjects,
                                    grade_counts, last_event_id, started_at, duration_s)
       VALUES (1, 'public_comprehensive', '1', 'postgresql', :day, false, 'done', :n, '{}', 0, now(), 0)""",
    """INSERT INTO evaluation_grades (model_code, subject_id, run_id, score, grade, as_of, updated_at)
       SELECT 'public_comprehensive', i, 1, 50, g, :day, now() FROM (
           SELECT i, CASE WHEN h < 30 THEN 'A' WHEN h < 70 THEN 'B' WHEN h < 90 THEN 'C' ELSE 'D' END AS g, h
           FROM (SELECT i, (i::bigint * 7919) % 100 AS h FROM generate_series(1, :n) AS i) x
       ) y WHERE h < 95""",
    "SELECT setval(pg_get_serial_sequence('subjects', 'id'), :n)",
]


def load(subjects: int, inspectors: int) -> float:
    from sqlalchemy import insert, text

    from xinyong.db import migrate
    from xinyong.db.engine import make_engine
    from xinyong.supervision.models import Inspector

    _reset()
    engine = make_engine(pg_url())
    migrate.upgrade(engine)
    watch = common.Stopwatch()
    with engine.begin() as conn:
        for statement in LOAD:
            conn.execute(text(statement), {"n": subjects, "day": common.TODAY})
        conn.execute(
            insert(Inspector),
            [
                {
                    "department_code": DEPARTMENT,
                    "name": f"检查员{n}",
                    "licence_no": f"51010{n:06d}",
                    "region_code": "5101" + f"{4 + n % 9:02d}",
                    "qualifications": [],
                    "conflicts": [f"915101{4 + k % 9:02d}{k:010d}" for k in range(n * 7 + 1, n * 7 + 4)]
                    if n % 5 == 0
                    else [],
                    "active": True,
                }
                for n in range(inspectors)
            ],
        )
    seconds = watch.seconds
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return seconds


def measure(subjects: int, inspectors: int, repeat: int) -> dict[str, Any]:
    from sqlalchemy import text

    from xinyong.accounts.policy import SYSTEM
    from xinyong.config import Settings
    from xinyong.db.session import transaction
    from xinyong.platform import build_platform
    from xinyong.supervision import plans, publication, rules

    common.log(f"loading {subjects:,} subjects and {inspectors} inspectors")
    load_s = load(subjects, inspectors)
    common.log(f"loaded in {load_s:.1f} s")
    platform = build_platform(Settings(data_dir=common.VAR / "supervision", database_url=pg_url()))
    ctx = platform.context(SYSTEM, common.TODAY)
    watch = common.Stopwatch()
    with transaction(platform.sessions) as session:
        plan = plans.create_plan(
            session,
            ctx,
            DEPARTMENT,
            name="基准抽查计划",
            period_from=dt.date(2026, 1, 1),
            period_to=dt.date(2026, 12, 31),
        )
        plan_id = plan.id
    plan_s = watch.seconds
    common.log(f"plan {plan_id} created (scope frozen) in {plan_s:.1f} s")
    with platform.sessions.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE inspection_plan_subjects"))

    with transaction(platform.sessions, write=False) as session:
        plan = plans.get_plan(session, plan_id)
        counts = plans.scope_counts(session, plan)
        table = rules.parse_tier_table(plan.tiers)
        seed = rules.seed_of(plans.inputs_of(plan, counts), plan.nonce)
        wanted = rules.targets(table, counts)
        hand_times, ours_times = [], []
        hand_rows: list[tuple[int, str, str]] = []
        ours_rows: list[tuple[int, str, str]] = []
        for _ in range(repeat):
            watch = common.Stopwatch()
            hand_rows = [
                (int(a), str(b), str(c))
                for a, b, c in session.execute(
                    text(HAND_WRITTEN),
                    {
                        "seed": seed,
                        "plan": plan_id,
                        "a": wanted["A"],
                        "b": wanted["B"],
                        "c": wanted["C"],
                        "d": wanted["D"],
                    },
                )
            ]
            hand_times.append(watch.seconds)
            watch = common.Stopwatch()
            ours_rows = plans.select_drawn(session, plan, seed, wanted)
            ours_times.append(watch.seconds)
        assert hand_rows == ours_rows, "the platform's selection differs from the hand-written statement"
    hand_s, ours_s = min(hand_times), min(ours_times)
    common.log(f"selection: hand-written {hand_s:.2f} s, platform {ours_s:.2f} s ({ours_s / hand_s:.2f}x)")

    watch = common.Stopwatch()
    with transaction(platform.sessions) as session:
        record = plans.draw_plan(session, ctx, plan_id)
        drawn_counts = dict(record.counts_by_tier)
    draw_s = watch.seconds
    common.log(f"draw (selection, inspectors, rows stored) in {draw_s:.2f} s: {drawn_counts}")
    watch = common.Stopwatch()
    with transaction(platform.sessions, write=False) as session:
        verified = publication.verify(session, plans.get_plan(session, plan_id))
    verify_s = watch.seconds
    assert verified["ok"], verified
    common.log(f"verify (recomputed from the published document) in {verify_s:.2f} s")
    return {
        "subjects": subjects,
        "inspectors": inspectors,
        "scope": sum(counts.values()),
        "scope_by_tier": counts,
        "targets": wanted,
        "drawn": sum(drawn_counts.values()),
        "load_s": round(load_s, 2),
        "plan_create_s": round(plan_s, 2),
        "hand_written_s": round(hand_s, 3),
        "selection_s": round(ours_s, 3),
        "selection_ratio": round(ours_s / hand_s, 2),
        "draw_s": round(draw_s, 2),
        "draw_ratio": round(draw_s / hand_s, 2),
        "verify_s": round(verify_s, 2),
        "repeat": repeat,
        "load_average": round(common.load_average(), 2),
        "git_head": common.git_head(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--inspectors", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.subjects, args.inspectors, args.repeat)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps([*previous, result], ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    verdict = "meets" if result["selection_ratio"] <= TARGET_RATIO else "misses"
    common.log(
        f"selection {result['selection_ratio']}x the hand-written statement: {verdict} the {TARGET_RATIO}x target"
    )


if __name__ == "__main__":
    main()
