"""Benchmark: the real-time credit check (`POST /api/v1/checks`) at scale on PostgreSQL.

Issue: "single-check latency (p50, p99) and throughput at 1,000,000 subjects and 50,000 list entries on
PostgreSQL, beside a no-op endpoint served by the same stack as the reference: target p99 ≤ 20 ms and at
least half the no-op throughput."

`python -m benchmarks.checks` does, in order (everything stops by itself; about 13 minutes on 2 cores):

1. Drops and recreates the `public` schema of its own database `xinyong_bench_checks`, migrates it, and
   bulk-loads with COPY: N subjects (valid USCCs from `make_uscc`, name_norm/core_name from
   `xinyong.kit.names`), list entries in status `listed` and in force today, and CF penalty records (some
   严重, a few revoked or past their publicity window). Secondary indexes are built after the COPY, then
   VACUUM ANALYZE and a CHECKPOINT.
2. Seeds the departments, one API token (`checks:run` for SCCZ), publishes the shipped measure list and
   runs one check in-process, so nothing is created lazily under load.
3. Captures every SQL statement of one check and EXPLAIN (ANALYZE, BUFFERS)s the SELECTs.
4. Times checks in-process (`measures.check.run_check` + commit, no HTTP) to split the time between SQL,
   commit and Python, with a cProfile of the hot functions.
5. Serves the app with uvicorn in a subprocess (`bench_app` below: the project's `create_app` plus a no-op
   route `/bench/noop` behind the same middleware) and drives it from an asyncio keep-alive HTTP/1.1 client
   on loopback: a fixed number of requests at a fixed concurrency, per-request latency recorded. Half the
   checked subjects are on a list. The no-op gets the same request (headers and body) on another path.
   Set-ups: 2 workers under uvicorn's supervisor with a TCP_NODELAY-capable listener (`serve` below, the
   headline), the plain `uvicorn --workers 1`, and a short run of the plain `uvicorn --workers 2`, which
   loses TCP_NODELAY. On the headline set-up two supplementary endpoints decompose the gap (no-op + the
   route's platform and date dependencies; + its rate limit and token authentication). If Debian's `wrk` is
   installed, a short duration-bounded `wrk` run cross-checks the client.
6. Writes `docs/benchmarks-checks.md` (between markers; the hand-written text around them is kept) and the
   raw results as JSON in the system temp directory.

With `--commitments N` it answers another question instead (issue 23, item 10): does a store holding N credit
commitments, each with its CN record (信用承诺及履约) and a share of them breached with a WN record
(违背信用承诺, a trigger of measures), slow the check? It loads step 1 into a database of its own
(`xinyong_bench_checks_commitments`), copies it (`…_with`, `CREATE DATABASE … TEMPLATE`), COPYs the commitments
and their records into the copy (indexes in place, then VACUUM ANALYZE), and measures the headline set-up on
the two databases in alternation, `--rounds` times in the order ABBA… (each time the sequential run and one
check/no-op pair at the top concurrency), so that a shared host's drift falls on both alike; medians over the
rounds are written side by side between their own markers (`checks:commitments`) in the same document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform as pyplatform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

from xinyong.accounts.deps import require
from xinyong.web.deps import PlatformDep, TodayDep

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks-checks.md"
WORK = Path(tempfile.gettempdir()) / "xinyong-bench-checks"  # results JSON, plans, server logs
PG_SERVER = os.environ.get("XINYONG_BENCH_PG_SERVER", "postgres@127.0.0.1:5432")
DATABASE = "xinyong_bench_checks"  # never `test` (the suite) nor `xinyong_bench` (the other benchmarks)
ENV_URL = "XINYONG_BENCH_CHECKS_URL"
ENV_DATA_DIR = "XINYONG_BENCH_CHECKS_DATA_DIR"
CHECK_PATH = "/api/v1/checks"
NOOP_PATH = "/bench/noop"
NOOP_DEPS_PATH = "/bench/noop-deps"
NOOP_AUTH_PATH = "/bench/noop-auth"
WORKER_PATH = "/bench/worker"  # which worker process answers on a connection (connection placement only)
SCENARIO = "government_procurement"
PURPOSE = "政府采购供应商资格审查"
CHECKER = {"code": "SCCZ", "name": "四川省财政厅", "region_code": "510000"}
DEPARTMENTS = (
    CHECKER,
    {"code": "SCFGW", "name": "四川省发展和改革委员会", "region_code": "510000"},
    {"code": "SCMR", "name": "四川省市场监督管理局", "region_code": "510000"},
    {"code": "SCZJ", "name": "四川省住房和城乡建设厅", "region_code": "510000"},
    {"code": "SCRS", "name": "四川省人力资源和社会保障厅", "region_code": "510000"},
)
BATCH_ID = "bench-checks-cf"
TARGET_P99_MS = 20.0
TARGET_THROUGHPUT_RATIO = 0.5
MARK_START = (
    "<!-- checks:results:start (generated by `python -m benchmarks.checks`; edits inside are lost) -->"
)
MARK_END = "<!-- checks:results:end -->"
COMMITMENTS_START = (
    "<!-- checks:commitments:start (generated by `python -m benchmarks.checks --commitments N`; edits inside are"
    " lost) -->"
)
COMMITMENTS_END = "<!-- checks:commitments:end -->"


def pg_dsn(database: str | None = None) -> str:
    return f"postgresql://{PG_SERVER}/{database or DATABASE}"


def pg_url() -> str:
    return f"postgresql+psycopg://{PG_SERVER}/{DATABASE}"


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def today() -> dt.date:
    from xinyong.web.deps import get_today

    return asyncio.run(get_today())  # the date the server uses (China)


# --- The served app ---------------------------------------------------------------------------------------


def bench_app() -> Any:
    """uvicorn factory (`benchmarks.checks:bench_app --factory`): the project's app plus a no-op route.

    The no-op is registered on the same FastAPI app, so it passes the same uvicorn, the same HTTP middleware
    (body limit, CSRF cookie, security headers), routing (placed in the route table just before the check's
    router, `_route_beside_the_check`) and a thread-pool hop (a plain `def`; the check's handler is async and
    takes its hop in the coalescer); it has no dependencies and returns `{}`.
    """
    from xinyong.app import create_app
    from xinyong.config import Settings
    from xinyong.platform import build_platform

    data_dir = Path(os.environ.get(ENV_DATA_DIR) or tempfile.mkdtemp(prefix="xinyong-checks-"))
    settings = Settings(
        data_dir=data_dir,
        database_url=os.environ[ENV_URL],
        secret_key="bench",
        rate_limit_api="100000000/minute",
        rate_limit_search="100000000/minute",
    )
    app = create_app(platform=build_platform(settings))
    own_routes_from = len(app.router.routes)

    def noop() -> dict[str, Any]:
        return {}

    app.add_api_route(NOOP_PATH, noop, methods=["GET", "POST"], include_in_schema=False)

    async def worker() -> dict[str, int]:
        return {"pid": os.getpid()}

    app.add_api_route(WORKER_PATH, worker, methods=["GET"], include_in_schema=False)

    # Supplementary steps between the no-op and the check (decomposition only, never the reference):
    # + the platform/today dependencies (async, on the event loop), the handler an `async def` on the event loop
    #   as the check's is; no database;
    # + the check router's rate limit, which authenticates the token (from the token cache, a SELECT in a
    #   transaction of its own when the cached entry is stale), and `require("checks:run")` — everything of the
    #   check's request but its body and the check itself (the check's route holds no session: its work is
    #   done in the coalescer's transaction).
    from xinyong.web.ratelimit import rate_limited

    async def noop_deps(platform: PlatformDep, today: TodayDep) -> dict[str, Any]:
        return {}

    async def noop_auth(
        platform: PlatformDep,
        today: TodayDep,
        principal: Annotated[Any, require("checks:run")],
    ) -> dict[str, Any]:
        return {}

    app.add_api_route(NOOP_DEPS_PATH, noop_deps, methods=["POST"], include_in_schema=False)
    app.add_api_route(
        NOOP_AUTH_PATH,
        noop_auth,
        methods=["POST"],
        include_in_schema=False,
        dependencies=[rate_limited("api")],
    )
    _route_beside_the_check(app, own_routes_from)
    return app


def _route_beside_the_check(app: Any, own_routes_from: int) -> None:
    """Move the benchmark's routes (the table's entries from `own_routes_from` on) in front of the entry that
    serves the check, so that a no-op and a check are routed at the same cost.

    Routing walks the table in order, each entry passed costing a few microseconds (FastAPI ≥ 0.137 keeps an
    included router as one entry and walks its routes on every request: ~4 µs a route here). Appended at the
    end, behind the portal's ~90 routes, the no-op paid ~0.4 ms of routing a request that the check, served
    from the fourth included router, does not."""
    from starlette.routing import Match

    routes = app.router.routes
    added, kept = routes[own_routes_from:], routes[:own_routes_from]
    probe = {"type": "http", "method": "POST", "path": CHECK_PATH, "root_path": "", "headers": []}
    at = next(n for n, route in enumerate(kept) if route.matches(dict(probe))[0] == Match.FULL)
    routes[:] = [*kept[:at], *added, *kept[at:]]


# --- Synthetic data: every subject attribute is a pure function of its id ----------------------------------

REGIONS = (
    ("510104", "成都市锦江区"),
    ("510105", "成都市青羊区"),
    ("510106", "成都市金牛区"),
    ("510107", "成都市武侯区"),
    ("510108", "成都市成华区"),
    ("510112", "成都市龙泉驿区"),
    ("510116", "成都市双流区"),
    ("510117", "成都市郫都区"),
    ("510302", "自贡市自流井区"),
    ("510402", "攀枝花市东区"),
    ("510502", "泸州市江阳区"),
    ("510603", "德阳市旌阳区"),
    ("510703", "绵阳市涪城区"),
    ("510802", "广元市利州区"),
    ("510903", "遂宁市船山区"),
    ("511002", "内江市市中区"),
    ("511102", "乐山市市中区"),
    ("511302", "南充市顺庆区"),
    ("511402", "眉山市东坡区"),
    ("511502", "宜宾市翠屏区"),
    ("511602", "广安市广安区"),
    ("511702", "达州市通川区"),
    ("511802", "雅安市雨城区"),
    ("511902", "巴中市巴州区"),
    ("512002", "资阳市雁江区"),
)
TRADE = (
    "鑫华盛达兴源恒泰宏通金隆旺德福瑞祥安康新天海博佳创诚信汇丰美荣嘉顺和昌耀晟辉中正宇锦蜀川峰森林云星光明"
)
INDUSTRIES = (
    "科技",
    "商贸",
    "贸易",
    "餐饮管理",
    "建筑工程",
    "建材",
    "物流",
    "农业开发",
    "食品",
    "医药",
    "装饰工程",
    "信息技术",
    "文化传媒",
    "机械设备",
    "环保科技",
    "物业管理",
    "劳务",
    "网络科技",
    "实业",
    "酒店管理",
)
SUFFIXES = ("有限公司", "有限责任公司", "有限公司", "股份有限公司")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英"


def _mix(i: int, salt: int) -> int:
    return ((i + salt) * 2_654_435_761) % 4_294_967_291


def subject_kind(i: int) -> str:
    return "individual_business" if i % 10 == 0 else "legal_person"


def subject_region(i: int) -> tuple[str, str]:
    return REGIONS[i % len(REGIONS)]


def subject_uscc(i: int) -> str:
    from xinyong.kit.identifiers import make_uscc

    body = f"{(i * 7_919_393 + 12_345_678) % 100_000_000:08d}"  # a bijection on 0..10^8-1: all distinct
    category = "2" if subject_kind(i) == "individual_business" else "1"
    return make_uscc("9", category, subject_region(i)[0], body)


def subject_name(i: int) -> str:
    region_name = subject_region(i)[1]
    trade = TRADE[_mix(i, 1) % len(TRADE)] + TRADE[_mix(i, 2) % len(TRADE)]
    industry = INDUSTRIES[_mix(i, 3) % len(INDUSTRIES)]
    serial = _mix(i, 4) % 97
    if subject_kind(i) == "individual_business":
        return f"{region_name}{trade}{industry}经营部（{serial}号）"
    return f"{region_name[:2]}{trade}{serial}{industry}{SUFFIXES[_mix(i, 5) % len(SUFFIXES)]}"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


@dataclass
class Plan:
    """What the load phase put in the database, and what the request mix draws from."""

    subjects: int
    listed_ids: list[int]  # subjects with at least one list entry in force
    punitive_ids: set[int]  # ... on the serious_dishonesty or market_ban list (a procurement hit is certain)
    list_entries: int
    records: int
    record_subjects: int
    timings: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, Any] = field(default_factory=dict)


def _drop_secondary_indexes(conn: Any, table: str) -> list[str]:
    rows = conn.execute(
        """
        SELECT indexname, indexdef FROM pg_indexes i
        WHERE schemaname = 'public' AND tablename = %s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (table,),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def reset_database() -> None:
    import psycopg

    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _copy_subjects(conn: Any, subjects: int, seed: int, day: dt.date, now: dt.datetime) -> None:
    """COPY the subjects (ids 1…subjects)."""
    from xinyong.kit import names

    t0 = time.perf_counter()
    rng = random.Random(seed)
    columns = (
        "id, kind, uscc, org_code, name, name_norm, core_name, region_code, legal_rep, registered_on,"
        " operating_status, created_at, updated_at"
    )
    with conn.cursor() as cur, cur.copy(f"COPY subjects ({columns}) FROM STDIN") as copy:
        for i in range(1, subjects + 1):
            uscc = subject_uscc(i)
            name = subject_name(i)
            norm = names.normalize_name(name)
            copy.write_row(
                (
                    i,
                    subject_kind(i),
                    uscc,
                    uscc[8:17],
                    name,
                    norm,
                    names.core_name(norm),
                    subject_region(i)[0],
                    _person(rng),
                    day - dt.timedelta(days=30 + _mix(i, 6) % 9000),
                    "存续",
                    now,
                    now,
                )
            )
            if i % 200_000 == 0:
                log(f"  subjects: {i:,} written ({time.perf_counter() - t0:.0f} s)")


def _copy_list_entries(
    conn: Any, subjects: int, list_entries: int, seed: int, day: dt.date, now: dt.datetime
) -> tuple[list[int], dict[int, str], set[int]]:
    """COPY the list entries: the listed subjects, each one's first list type, those on a punitive list."""
    # List entries: ~90 % of them on distinct subjects, the rest a second entry of another type.
    rng = random.Random(seed + 1)
    distinct = max(1, round(list_entries * 0.9))
    listed = rng.sample(range(1, subjects + 1), distinct)
    types = ("serious_dishonesty", "market_ban", "red")
    weights = (0.60, 0.15, 0.25)
    first_type: dict[int, str] = {}
    punitive: set[int] = set()
    columns = (
        "id, subject_id, list_type, status, department_code, decision_no, legal_basis, facts, scope,"
        " permanent, proposed_on, notified_on, statement_deadline, deadline_provisional, decided_on,"
        " public_from, public_until, created_at, updated_at"
    )
    with conn.cursor() as cur, cur.copy(f"COPY list_entries ({columns}) FROM STDIN") as copy:
        for n in range(1, list_entries + 1):
            if n <= distinct:
                sid = listed[n - 1]
                kind = rng.choices(types, weights)[0]
                first_type[sid] = kind
            else:
                sid = rng.choice(listed)
                kind = rng.choice([t for t in types if t != first_type[sid]])
            if kind != "red":
                punitive.add(sid)
            decided = day - dt.timedelta(days=rng.randint(1, 1000))
            dept = rng.choice(DEPARTMENTS[1:])["code"]
            copy.write_row(
                (
                    n,
                    sid,
                    kind,
                    "listed",
                    dept,
                    f"川{dept}信认〔{decided.year}〕{n}号",
                    "《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》（国办发〔2020〕49号）",
                    "经查，该主体存在违法失信行为，情节严重，依法认定。"
                    if kind != "red"
                    else "诚实守信，表现突出。",
                    "建设工程招标投标" if kind == "market_ban" else None,
                    False,
                    decided - dt.timedelta(days=20),
                    decided - dt.timedelta(days=15),
                    decided - dt.timedelta(days=8),
                    False,
                    decided,
                    decided,
                    decided + dt.timedelta(days=1095 if kind != "market_ban" else 1825),
                    now,
                    now,
                )
            )

    return listed, first_type, punitive


def _copy_records(
    conn: Any,
    subjects: int,
    records: int,
    listed: list[int],
    seed: int,
    day: dt.date,
    now: dt.datetime,
    catalog_version: str,
) -> set[int]:
    """COPY the CF penalty records; the subjects they are about."""
    # CF penalty records: a quarter about listed subjects, the rest about any subject.
    rng = random.Random(seed + 2)
    record_subjects: set[int] = set()
    columns = (
        "id, natural_key, item_code, provider_code, subject_id, subject_kind, doc_no, version, status,"
        " subject_name, region_code, decision_date, severity, public_from, public_until, min_public_until,"
        " disclosure_rule, fields, content_hash, catalog_version, batch_id, created_at, updated_at"
    )
    severities = ("严重", "一般", "轻微")
    publicity = {"严重": (365, 1095), "一般": (91, 365), "轻微": (0, 91)}
    with conn.cursor() as cur, cur.copy(f"COPY records ({columns}) FROM STDIN") as copy:
        for n in range(1, records + 1):
            sid = rng.choice(listed) if rng.random() < 0.25 else rng.randint(1, subjects)
            record_subjects.add(sid)
            severity = rng.choices(severities, (0.10, 0.70, 0.20))[0]
            decided = day - dt.timedelta(days=rng.randint(1, 1825))
            min_days, max_days = publicity[severity]
            doc_no = f"川市监罚〔{decided.year}〕{n}号"
            uscc = subject_uscc(sid)
            name = subject_name(sid)
            fields = {
                "doc_no": doc_no,
                "subject_name": name,
                "uscc": uscc,
                "legal_rep": _person(rng),
                "violation_type": "违反《中华人民共和国产品质量法》",
                "facts": "当事人销售不合格产品，货值金额较大。",
                "penalty_basis": "《中华人民共和国产品质量法》第四十九条",
                "penalty_types": "罚款；没收违法所得",
                "content": f"罚款人民币{rng.randint(1, 200) * 1000}元",
                "fine_wan": str(rng.randint(1, 200) / 10),
                "decision_date": decided.isoformat(),
                "authority_name": "四川省市场监督管理局",
                "authority_uscc": "11510000MB1529361T",
                "severity": severity,
                "sector": "市场监管",
            }
            text = json.dumps(fields, ensure_ascii=False, sort_keys=True)
            copy.write_row(
                (
                    n,
                    hashlib.sha256(f"CF|SCMR|{doc_no}".encode()).hexdigest(),
                    "CF",
                    "SCMR",
                    sid,
                    subject_kind(sid),
                    doc_no,
                    1,
                    "revoked" if rng.random() < 0.03 else "active",
                    name,
                    subject_region(sid)[0],
                    decided,
                    severity,
                    decided + dt.timedelta(days=7),
                    decided + dt.timedelta(days=max_days),
                    decided + dt.timedelta(days=min_days),
                    "penalty",
                    text,
                    hashlib.sha256(text.encode()).hexdigest(),
                    catalog_version,
                    BATCH_ID,
                    now,
                    now,
                )
            )
    return record_subjects


def load(subjects: int, list_entries: int, records: int, seed: int = 20261128) -> Plan:
    """Migrate, then COPY subjects, list entries and records; build indexes; VACUUM ANALYZE."""
    import psycopg

    from xinyong.catalog import service as catalog_service
    from xinyong.db import migrate
    from xinyong.db.engine import make_engine
    from xinyong.kit import regions

    for code, _ in REGIONS:
        assert regions.is_known(code), code
    timings: dict[str, float] = {}
    start = time.perf_counter()
    reset_database()
    engine = make_engine(pg_url())
    migrate.upgrade(engine)
    engine.dispose()
    timings["migrate_s"] = time.perf_counter() - start
    catalog_version = catalog_service.load(None).version
    day = today()
    now = dt.datetime.now(dt.UTC)

    with psycopg.connect(pg_dsn()) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for d in DEPARTMENTS:
            conn.execute(
                "INSERT INTO departments (code, name, region_code, created_at) VALUES (%s, %s, %s, %s)",
                (d["code"], d["name"], d["region_code"], now),
            )
        conn.execute(
            """INSERT INTO batches (id, item_code, provider_code, source, status, catalog_version, rows_read,
                 accepted, updated, unchanged, rejected, queued, started_at, finished_at)
               VALUES (%s, 'CF', 'SCMR', 'cli', 'done', %s, %s, %s, 0, 0, 0, 0, %s, %s)""",
            (BATCH_ID, catalog_version, records, records, now, now),
        )
        deferred = {t: _drop_secondary_indexes(conn, t) for t in ("subjects", "list_entries", "records")}

        t0 = time.perf_counter()
        _copy_subjects(conn, subjects, seed, day, now)
        timings["copy_subjects_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        listed, first_type, punitive = _copy_list_entries(conn, subjects, list_entries, seed, day, now)
        timings["copy_list_entries_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        record_subjects = _copy_records(conn, subjects, records, listed, seed, day, now, catalog_version)
        timings["copy_records_s"] = time.perf_counter() - t0
        for table, last in (("subjects", subjects), ("list_entries", list_entries), ("records", records)):
            conn.execute(f"SELECT setval('{table}_id_seq', %s)", (max(1, last),))
        conn.commit()

        t0 = time.perf_counter()
        for definitions in deferred.values():
            for definition in definitions:
                conn.execute(definition)
        conn.commit()
        timings["build_indexes_s"] = time.perf_counter() - t0
        conn.autocommit = True
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) subjects, list_entries, records")
        conn.execute("ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
        # The load dirtied ~1 GB: without this, the checkpointer spreads writing it out over the next minutes
        # (checkpoint_completion_target), on the same two cores as the first measurements.
        t0 = time.perf_counter()
        conn.execute("CHECKPOINT")
        timings["checkpoint_s"] = time.perf_counter() - t0
        sizes: dict[str, Any] = {}
        for table in ("subjects", "list_entries", "records"):
            row = conn.execute(
                f"SELECT count(*), pg_relation_size('{table}'), pg_indexes_size('{table}') FROM {table}"
            ).fetchone()
            assert row is not None
            sizes[table] = {"rows": row[0], "table_mib": row[1] / 2**20, "indexes_mib": row[2] / 2**20}
        in_force = conn.execute(
            """SELECT count(*) FROM list_entries WHERE status = 'listed'
               AND (public_from IS NULL OR public_from <= %s) AND (public_until IS NULL OR public_until >= %s)""",
            (day, day),
        ).fetchone()
        triggers = conn.execute(
            """SELECT count(*) FILTER (WHERE status = 'active' AND (public_until IS NULL OR public_until >= %s)),
                      count(*) FILTER (WHERE status = 'active' AND severity = '严重'
                                       AND (public_until IS NULL OR public_until >= %s))
               FROM records""",
            (day, day),
        ).fetchone()
        assert in_force is not None and triggers is not None
        sizes["list_entries_in_force"] = in_force[0]
        sizes["records_in_window"] = triggers[0]
        sizes["records_serious_in_window"] = triggers[1]
    assert sizes["subjects"]["rows"] == subjects and sizes["list_entries_in_force"] == list_entries
    timings["load_total_s"] = time.perf_counter() - start
    return Plan(
        subjects=subjects,
        listed_ids=sorted(first_type),
        punitive_ids=punitive,
        list_entries=list_entries,
        records=records,
        record_subjects=len(record_subjects),
        timings=timings,
        sizes=sizes,
    )


def load_commitments(
    subjects: int, commitments: int, breached_share: float, first_record_id: int, seed: int = 20261207
) -> dict[str, Any]:
    """COPY `commitments` credit commitments about random subjects with their CN records (a fulfilment state
    each: 已履约 70 %, 违诺 `breached_share`, the rest 履约中) and a WN record for each breached one, into the
    loaded database with its indexes in place (as they would arrive over months), then VACUUM ANALYZE."""
    import psycopg

    from xinyong.catalog import service as catalog_service

    catalog_version = catalog_service.load(None).version
    rng = random.Random(seed)
    day, now = today(), dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    record_columns = (
        "id, natural_key, item_code, provider_code, subject_id, subject_kind, doc_no, version, status,"
        " subject_name, region_code, decision_date, severity, public_from, public_until, min_public_until,"
        " disclosure_rule, fields, content_hash, catalog_version, batch_id, created_at, updated_at"
    )
    commitment_columns = (
        "id, template_code, template_version, kind, matter, subject_id, subject_name, signer_name, channel,"
        " department_code, title, text, text_sha256, signature, public, status, signed_on,"
        " verification_opened_on, verification_due, fulfilment_on, fulfilment_note, decided_by, created_at"
    )
    matter = "食品经营许可申请中的经营场所合法使用证明"
    breached = 0
    start = time.perf_counter()
    with psycopg.connect(pg_dsn()) as conn:
        conn.execute(
            """INSERT INTO batches (id, item_code, provider_code, source, status, catalog_version, rows_read,
                 accepted, updated, unchanged, rejected, queued, started_at, finished_at)
               VALUES ('bench-checks-cn', 'CN', 'SCMR', 'cli', 'done', %s, 0, 0, 0, 0, 0, 0, %s, %s)
               ON CONFLICT (id) DO NOTHING""",
            (catalog_version, now, now),
        )
        rows: list[tuple[Any, ...]] = []
        with conn.cursor() as cur, cur.copy(f"COPY commitments ({commitment_columns}) FROM STDIN") as copy:
            for n in range(1, commitments + 1):
                sid = rng.randint(1, subjects)
                signed = day - dt.timedelta(days=rng.randint(60, 1095))
                decided = signed + dt.timedelta(days=rng.randint(20, 55))
                draw = rng.random()
                status = "breached" if draw < breached_share else "fulfilled" if draw < 0.7 else "verifying"
                breached += status == "breached"
                text = (
                    f"本主体{subject_name(sid)}就{matter}郑重承诺：所填写的信息和提交的材料真实、准确、完整。"
                )
                copy.write_row(
                    (
                        n,
                        "notify_commit",
                        "2026.1",
                        "approval",
                        matter,
                        sid,
                        subject_name(sid),
                        "张三",
                        "paper",
                        "SCMR",
                        "证明事项告知承诺书",
                        text,
                        hashlib.sha256(text.encode()).hexdigest(),
                        "bench",
                        True,
                        status,
                        signed,
                        signed,
                        signed + dt.timedelta(days=28),
                        None if status == "verifying" else decided,
                        "承诺不实" if status == "breached" else None,
                        None if status == "verifying" else "bench",
                        now,
                    )
                )
                rows.append((n, sid, signed, decided, status))
        timings["copy_commitments_s"] = time.perf_counter() - start
        t0 = time.perf_counter()
        record_id = first_record_id
        fulfilment = {"breached": "违诺", "fulfilled": "已履约", "verifying": "履约中"}
        with conn.cursor() as cur, cur.copy(f"COPY records ({record_columns}) FROM STDIN") as copy:
            for n, sid, signed, decided, status in rows:
                number = f"XYCN-{n:08d}"
                base = {
                    "commitment_no": number,
                    "subject_name": subject_name(sid),
                    "uscc": subject_uscc(sid),
                    "commitment_type": "审批替代型",
                    "matter": matter,
                    "accepting_body": "四川省市场监督管理局",
                }
                items: list[tuple[str, dt.date, str | None, dt.date, str, dict[str, Any]]] = [
                    (
                        "CN",
                        signed,
                        None,
                        signed + dt.timedelta(days=1095),
                        "valid_period:36",
                        base
                        | {
                            "content": "所填写的信息和提交的材料真实、准确、完整",
                            "decision_date": signed.isoformat(),
                            "fulfilment": fulfilment[status],
                        },
                    )
                ]
                if status == "breached":
                    items.append(
                        (
                            "WN",
                            decided,
                            "一般",
                            decided + dt.timedelta(days=365),
                            "fixed:12",
                            base
                            | {"facts": "承诺不实", "decision_date": decided.isoformat(), "severity": "一般"},
                        )
                    )
                for item, decision, severity, until, rule, fields in items:
                    record_id += 1
                    text = json.dumps(fields, ensure_ascii=False, sort_keys=True)
                    copy.write_row(
                        (
                            record_id,
                            hashlib.sha256(f"{item}|SCMR|{number}".encode()).hexdigest(),
                            item,
                            "SCMR",
                            sid,
                            subject_kind(sid),
                            number,
                            1,
                            "active",
                            subject_name(sid),
                            subject_region(sid)[0],
                            decision,
                            severity,
                            decision,
                            until,
                            None,
                            rule,
                            text,
                            hashlib.sha256(text.encode()).hexdigest(),
                            catalog_version,
                            "bench-checks-cn",
                            now,
                            now,
                        )
                    )
        timings["copy_records_s"] = time.perf_counter() - t0
        conn.execute("SELECT setval('commitments_id_seq', %s)", (max(1, commitments),))
        conn.execute("SELECT setval('records_id_seq', %s)", (record_id,))
        conn.commit()
        conn.autocommit = True
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) commitments, records")
        conn.execute("CHECKPOINT")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
        sizes = {}
        for table in ("commitments", "records"):
            row = conn.execute(
                f"SELECT count(*), pg_relation_size('{table}'), pg_indexes_size('{table}') FROM {table}"
            ).fetchone()
            assert row is not None
            sizes[table] = {"rows": row[0], "table_mib": row[1] / 2**20, "indexes_mib": row[2] / 2**20}
    timings["total_s"] = time.perf_counter() - start
    return {
        "commitments": commitments,
        "breached": breached,
        "cn_records": commitments,
        "wn_records": breached,
        "timings": timings,
        "sizes": sizes,
    }


# --- Seed, statement capture, EXPLAIN, in-process profile --------------------------------------------------


def _platform(data_dir: Path) -> Any:
    from xinyong.config import Settings
    from xinyong.platform import build_platform

    return build_platform(
        Settings(
            data_dir=data_dir,
            database_url=pg_url(),
            secret_key="bench",
            rate_limit_api="100000000/minute",
            rate_limit_search="100000000/minute",
        )
    )


def seed(platform: Any) -> str:
    """The checker's token; publish the measure list and create the audit chain head before any load."""
    from xinyong.accounts import auth
    from xinyong.measures import repository

    with platform.sessions() as session:
        _, secret = auth.create_token(session, department_code=CHECKER["code"], scopes=["checks:run"])
        repository.published(session, platform.catalog, platform.measure_lists)
        session.commit()
    _check_in_process(platform, secret, subject_uscc(1))
    return secret


def _check_in_process(platform: Any, secret: str, uscc: str) -> Any:
    """What the endpoint does, without HTTP: authenticate the token, run the check, commit."""
    from xinyong.accounts import auth
    from xinyong.measures import check as service

    with platform.sessions() as session:
        principal = auth.token_principal(session, secret)
        assert principal is not None
        check = service.run_check(
            session,
            catalog=platform.catalog,
            signer=platform.signer,
            id_hash=platform.cipher.hash,
            order=service.CheckOrder(
                principal, service.SubjectRef(uscc=uscc), SCENARIO, PURPOSE, today(), "127.0.0.1"
            ),
            lists=platform.measure_lists,
        )
        session.commit()
        return check


class StatementLog:
    """SQLAlchemy cursor events: every statement of the engine with its parameters and duration."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine
        self.enabled = False
        self.statements: list[tuple[str, Any, float]] = []
        self._started: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        started = self._started.pop(id(cursor), None)
        if self.enabled and started is not None:
            self.statements.append((statement, parameters, time.perf_counter() - started))

    def take(self) -> list[tuple[str, Any, float]]:
        out, self.statements = self.statements, []
        return out


def _label(statement: str) -> str:
    text = " ".join(statement.split())
    head = text.split(" ")[0].upper()
    if head == "SELECT":
        match = re.search(r"\bFROM (\w+)", text)
        table = match.group(1) if match else "?"
        return f"SELECT {table}" + (" FOR UPDATE" if "FOR UPDATE" in text else "")
    if head == "INSERT":
        match = re.search(r"INSERT INTO (\w+)", text)
        return f"INSERT {match.group(1) if match else '?'}"
    if head == "UPDATE":
        match = re.search(r"UPDATE (\w+)", text)
        return f"UPDATE {match.group(1) if match else '?'}"
    if head == "WITH":
        moved = re.search(r"\bUPDATE (\w+) SET\b", text)
        into = re.findall(r"INSERT INTO (\w+)", text)
        if moved and into:
            return f"INSERT {', '.join(into)} (WITH UPDATE {moved.group(1)})"
        if not into and not moved:  # a read with WITH queries: the tables it reads, CTE names left out
            ctes = set(re.findall(r"(?:WITH|,)\s*(\w+) AS \(", text))
            tables = [t for t in dict.fromkeys(re.findall(r"\bFROM (\w+)", text)) if t not in ctes]
            return f"SELECT {', '.join(tables)}" + (" FOR UPDATE" if "FOR UPDATE" in text else "")
    return head


def explain_check(platform: Any, secret: str, uscc: str) -> list[dict[str, Any]]:
    """Run one check with statement capture, then EXPLAIN (ANALYZE, BUFFERS) each SELECT it issued."""
    engine = platform.sessions.kw["bind"]
    statements = StatementLog(engine)
    statements.enabled = True
    _check_in_process(platform, secret, uscc)
    statements.enabled = False
    captured = statements.take()
    plans = []
    with engine.connect() as conn:
        for statement, parameters, seconds in captured:
            label = _label(statement)
            entry: dict[str, Any] = {"label": label, "ms": seconds * 1000, "sql": " ".join(statement.split())}
            if label.startswith("SELECT") and "FROM" in statement.upper():
                rows = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
                ).fetchall()
                entry["plan"] = [r[0] for r in rows]
                entry["seq_scan"] = [line.strip() for line in entry["plan"] if "Seq Scan" in line]
                # psycopg prepares a statement after 5 executions, and PostgreSQL may then switch to a
                # generic plan: check that one too.
                raw = conn.connection.driver_connection
                raw.execute("SET plan_cache_mode = force_generic_plan")
                generic = raw.execute("EXPLAIN (COSTS OFF) " + statement, parameters, prepare=True).fetchall()
                raw.execute("RESET plan_cache_mode")
                entry["generic_plan"] = [r[0] for r in generic]
                entry["seq_scan_tables"] = {}
                for line in entry["plan"] + entry["generic_plan"]:
                    match = re.search(r"Seq Scan on (\w+)", line)
                    if match:
                        count = raw.execute(f"SELECT count(*) FROM {match.group(1)}").fetchone()
                        entry["seq_scan_tables"][match.group(1)] = int(count[0]) if count else 0
            plans.append(entry)
        conn.rollback()
    return plans


def profile_in_process(platform: Any, secret: str, usccs: Sequence[str]) -> dict[str, Any]:
    """Per check: SQL time (each statement), commit, and the rest (Python); then a cProfile of a subset."""
    import cProfile
    import pstats

    from xinyong.accounts import auth
    from xinyong.measures import check as service

    engine = platform.sessions.kw["bind"]
    statements = StatementLog(engine)
    day = today()
    totals, sql, commits, counts = [], [], [], []
    per_label: dict[str, list[float]] = {}

    def one(uscc: str) -> tuple[float, float]:
        t0 = time.perf_counter()
        with platform.sessions() as session:
            principal = auth.token_principal(session, secret)
            assert principal is not None
            service.run_check(
                session,
                catalog=platform.catalog,
                signer=platform.signer,
                id_hash=platform.cipher.hash,
                order=service.CheckOrder(
                    principal, service.SubjectRef(uscc=uscc), SCENARIO, PURPOSE, day, "127.0.0.1"
                ),
                lists=platform.measure_lists,
            )
            c0 = time.perf_counter()
            session.commit()
            c1 = time.perf_counter()
        return time.perf_counter() - t0, c1 - c0

    half = len(usccs) // 2
    statements.enabled = True
    for uscc in usccs[:half]:
        statements.take()
        total, commit = one(uscc)
        captured = statements.take()
        totals.append(total)
        commits.append(commit)
        sql.append(sum(s for _, _, s in captured))
        counts.append(len(captured))
        for statement, _, seconds in captured:
            per_label.setdefault(_label(statement), []).append(seconds)
    statements.enabled = False

    profiler = cProfile.Profile()
    profiler.enable()
    for uscc in usccs[half:]:
        one(uscc)
    profiler.disable()
    stats = pstats.Stats(profiler)
    n_prof = len(usccs) - half
    wanted = {
        ("check.py", "run_check"): "measures.check.run_check (all of it)",
        ("auth.py", "token_principal"): "accounts.auth.token_principal",
        ("repository.py", "current"): "measures.repository.PublishedLists.current",
        ("check.py", "_read"): "measures.check._read (subjects by USCC, their triggers)",
        ("repository.py", "triggers"): "measures.repository.triggers (list entries + records)",
        ("rules.py", "measure_hits"): "measures.rules.measure_hits (measures that apply)",
        ("crypto.py", "sign"): "kit.crypto.Signer.sign",
        ("service.py", "record_many"): "audit.service.record_many (head lock + INSERT)",
        ("session.py", "commit"): "Session.commit",
        ("session.py", "flush"): "Session.flush",
        ("__init__.py", "dumps"): "json.dumps (all callers)",
        ("_psycopg_common.py", "do_ping"): "pool ping (`SELECT 1`, only after 10 s idle)",
        ("decoder.py", "decode"): "json decode (all callers)",
    }
    hot = []
    for (filename, _line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = (Path(filename).name, function)
        library = ("session.py", "__init__.py", "decoder.py", "_psycopg_common.py")
        if key in wanted and ("xinyong" in filename or key[0] in library):
            if key[0] in ("session.py", "_psycopg_common.py") and "sqlalchemy" not in filename:
                continue
            if key[0] in ("__init__.py", "decoder.py") and "/json/" not in filename:
                continue
            hot.append(
                {
                    "what": wanted[key],
                    "calls_per_check": calls / n_prof,
                    "cum_ms_per_check": cumtime * 1000 / n_prof,
                    "own_ms_per_check": tottime * 1000 / n_prof,
                }
            )
    best: dict[str, dict[str, Any]] = {}
    for h in hot:  # Session.commit and SessionTransaction.commit share a name: keep the outer one
        if h["what"] not in best or h["cum_ms_per_check"] > best[h["what"]]["cum_ms_per_check"]:
            best[h["what"]] = h
    hot = sorted(best.values(), key=lambda h: -h["cum_ms_per_check"])
    top_own = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]  # type: ignore[attr-defined]
    return {
        "n_timed": half,
        "n_profiled": n_prof,
        "total": _summary(totals),
        "sql_ms_mean": 1000 * sum(sql) / len(sql),
        "commit_ms_mean": 1000 * sum(commits) / len(commits),
        "python_ms_mean": 1000 * (sum(totals) - sum(sql) - sum(commits)) / len(totals),
        "statements_per_check": sum(counts) / len(counts),
        "per_statement": {
            label: {"per_check": len(v) / half, "mean_ms": 1000 * sum(v) / len(v)}
            for label, v in sorted(per_label.items(), key=lambda kv: -sum(kv[1]))
        },
        "hot": hot,
        "top_own": [
            {
                "function": f"{Path(k[0]).name}:{k[1]}({k[2]})",
                "own_ms_per_check": v[2] * 1000 / n_prof,
                "calls_per_check": v[1] / n_prof,
            }
            for k, v in top_own
        ],
    }


# --- Statistics ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def _summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
        "mean_ms": sum(ms) / len(ms) if ms else float("nan"),
    }


# --- CPU accounting: who used the 2 cores during a run ------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _system_cpu_s() -> tuple[float, float]:
    """CPU seconds the machine's cores were busy, and seconds the hypervisor gave them to another guest
    (steal: a virtual machine's cores are shared; what is stolen is neither idle nor ours)."""
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in parts]
    idle = values[3] + values[4]  # idle + iowait
    steal = values[7]
    return (sum(values[:7]) - idle) / CLK_TCK, steal / CLK_TCK


class Sampler:
    """During a run: CPU of the server processes, of this database's PostgreSQL backends, of this client and
    of the whole machine; new PostgreSQL sessions (connections opened); and, every 50 ms, how many of this
    database's backends are active and which statements are waiting on a lock (pg_stat_activity)."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self._stop = threading.Event()
        self.samples: list[tuple[int, int]] = []
        self.waiting: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _backends(conn: Any) -> list[int]:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (DATABASE,)
        ).fetchall()
        return [r[0] for r in rows]

    @staticmethod
    def _sessions(conn: Any) -> int:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (DATABASE,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _loop(self) -> None:
        import psycopg

        with psycopg.connect(pg_dsn(), autocommit=True) as conn:
            while not self._stop.wait(0.05):
                rows = conn.execute(
                    """SELECT wait_event_type, query FROM pg_stat_activity
                       WHERE datname = %s AND pid <> pg_backend_pid() AND state = 'active'""",
                    (DATABASE,),
                ).fetchall()
                locked = [_label(q or "") for kind, q in rows if kind == "Lock"]
                self.samples.append((len(rows), len(locked)))
                self.waiting.update(locked)

    def __enter__(self) -> Sampler:
        import psycopg

        with psycopg.connect(pg_dsn(), autocommit=True) as conn:
            self._pg_start = {pid: _proc_cpu_s(pid) for pid in self._backends(conn)}
            self._sessions_start = self._sessions(conn)
        self._server_pids = _descendants(self.server_pid) if self.server_pid else []
        self._server_start = sum(_proc_cpu_s(p) for p in self._server_pids)
        self._client_start = time.process_time()
        self._busy_start, self._steal_start = _system_cpu_s()
        self._wall_start = time.perf_counter()
        self._load_start = os.getloadavg()[0]
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        import psycopg

        self._stop.set()
        self._thread.join(timeout=5)
        wall = time.perf_counter() - self._wall_start
        busy_now, steal_now = _system_cpu_s()
        busy, steal = busy_now - self._busy_start, steal_now - self._steal_start
        client = time.process_time() - self._client_start
        server = sum(_proc_cpu_s(p) for p in self._server_pids) - self._server_start
        with psycopg.connect(pg_dsn(), autocommit=True) as conn:
            pids = set(self._backends(conn)) | set(self._pg_start)
            sessions = self._sessions(conn) - self._sessions_start - 2  # the sampler's and this connection
        ended = {p for p in pids if not Path(f"/proc/{p}").exists()}  # their last CPU reading is lost
        pg = sum(_proc_cpu_s(p) - self._pg_start.get(p, 0.0) for p in pids - ended)
        n = max(1, len(self.samples))
        self.result = {
            "wall_s": wall,
            "cores_busy": busy / wall,
            "cores_server": server / wall,
            "cores_postgres": pg / wall,
            "cores_client": client / wall,
            "cores_others": max(0.0, busy - server - pg - client) / wall,
            "cores_stolen": steal / wall,
            "pg_active_mean": sum(a for a, _ in self.samples) / n,
            "pg_lock_wait_mean": sum(w for _, w in self.samples) / n,
            "pg_lock_waiting_by_statement": {k: v / n for k, v in self.waiting.most_common()},
            "pg_new_sessions": max(0, sessions),
            "load_before": self._load_start,
            "load_after": os.getloadavg()[0],
        }


# --- The server -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


UVICORN_ARGS = ("--no-access-log", "--log-level", "warning")


def serve(port: int, workers: int) -> None:
    """`python -m benchmarks.checks serve PORT WORKERS`: uvicorn's own multiprocess supervisor, but with the
    listening socket created as IPPROTO_TCP.

    `uvicorn --workers N` binds the socket with proto 0 (`Config.bind_socket`); accepted sockets inherit it and
    asyncio then skips TCP_NODELAY, so every keep-alive request after the first waits ~40 ms on Nagle ×
    delayed ACK (uvicorn issue #3149). This is the one-line fix of that issue, applied in the launcher only.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "benchmarks.checks:bench_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )
    sock = _listener(port, reuse_port=False)
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


def _listener(port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _reuseport_worker(port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        "benchmarks.checks:bench_app", factory=True, access_log=False, log_level="warning"
    )
    uvicorn.Server(config).run(sockets=[_listener(port, reuse_port=True)])


def serve_reuseport(port: int, workers: int) -> None:
    """`python -m benchmarks.checks serve-reuseport PORT WORKERS`: each worker process listens on its own
    SO_REUSEPORT socket (IPPROTO_TCP, so TCP_NODELAY holds), and the kernel spreads new connections over them.

    With one shared listening socket (uvicorn's supervisor), whichever worker wakes first accepts every
    connection that is waiting, so 16 connections opened at once may all land on one worker while the other
    idles (seen in these runs as about one core used instead of two). Per-worker sockets are how gunicorn's
    `--reuse-port` or nginx's `reuseport` spread load; the kernel hashes each connection to one socket.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_reuseport_worker, args=(port,)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()


@dataclass(frozen=True)
class ServerSetup:
    workers: int
    launcher: str  # "uvicorn" (the plain CLI), "nodelay" (`serve` above) or "reuseport" (`serve_reuseport`)
    short: bool = False  # fewer requests: a demonstration beside the full runs

    @property
    def name(self) -> str:
        if self.launcher == "nodelay":
            return f"uvicorn supervisor, {self.workers} workers, TCP_NODELAY listener (`benchmarks.checks serve`)"
        if self.launcher == "reuseport":
            return (
                f"{self.workers} uvicorn workers, one SO_REUSEPORT listener each "
                "(`benchmarks.checks serve-reuseport`)"
            )
        return f"`uvicorn --workers {self.workers}`"


def parse_setup(text: str) -> ServerSetup:
    launcher, _, rest = text.partition(":")
    workers, _, short = rest.partition(":")
    assert launcher in ("uvicorn", "nodelay", "reuseport"), text
    return ServerSetup(int(workers), launcher, short == "short")


class Server:
    """uvicorn in its own process group, started and stopped by this run (by its pid, never by name)."""

    def __init__(self, setup: ServerSetup, data_dir: Path) -> None:
        self.setup = setup
        self.workers = setup.workers
        self.port = _free_port()
        self.log_path = WORK / f"server-{setup.launcher}-{setup.workers}w.log"
        env = dict(os.environ)
        env.update({ENV_URL: pg_url(), ENV_DATA_DIR: str(data_dir), "PYTHONPATH": str(ROOT)})
        if setup.launcher in ("nodelay", "reuseport"):
            self.command = [
                sys.executable,
                "-m",
                "benchmarks.checks",
                "serve" if setup.launcher == "nodelay" else "serve-reuseport",
                str(self.port),
                str(setup.workers),
            ]
        else:
            self.command = [
                sys.executable,
                "-m",
                "uvicorn",
                "benchmarks.checks:bench_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(setup.workers),
                *UVICORN_ARGS,
            ]
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited ({self.process.returncode}); see {self.log_path}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                s.sendall(f"GET {NOOP_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    time.sleep(1.0 * self.workers)  # let the other workers finish starting
                    return
            time.sleep(0.3)
        raise RuntimeError(f"uvicorn did not answer within {timeout_s:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)  # the group this run created
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


# --- The load generator ---------------------------------------------------------------------------------


def build_request(path: str, body: bytes, secret: str, port: int) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {secret}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def check_body(uscc: str) -> bytes:
    return json.dumps(
        {"subject": {"uscc": uscc}, "scenario": SCENARIO, "purpose": PURPOSE}, ensure_ascii=False
    ).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body = await reader.read()
    return status, body, headers.get("connection", "").lower() == "close"


async def _placed(
    port: int, concurrency: int, workers: int
) -> tuple[list[tuple[asyncio.StreamReader, asyncio.StreamWriter]], list[int]]:
    """`concurrency` keep-alive connections spread evenly over the server's worker processes, as a load balancer
    in front of them would spread them.

    Whichever worker wakes first accepts a new connection on a shared listener (and the kernel hashes it to one
    with SO_REUSEPORT), so 16 connections opened at once may land 16/0 or 11/5, and a run then measures that
    placement more than the endpoint. Each connection asks `WORKER_PATH` which process serves it; one that
    would give a worker more than its share is kept aside (so the next lands elsewhere) and closed at the end.
    Gives up balancing after many tries. Returns the connections and how many each worker got."""
    share = -(-concurrency // workers)
    kept: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    aside: list[asyncio.StreamWriter] = []
    placement: Counter[int] = Counter()
    while len(kept) < concurrency:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {WORKER_PATH} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        _, body, _ = await asyncio.wait_for(_read_response(reader), timeout=60)
        pid = int(json.loads(body)["pid"])
        if placement[pid] < share or len(aside) > 50 * concurrency:
            placement[pid] += 1
            kept.append((reader, writer))
        else:
            aside.append(writer)
    for writer in aside:
        writer.close()
    return kept, sorted(placement.values(), reverse=True)


async def _drive(
    port: int, requests: Sequence[bytes], concurrency: int, keep_bodies: bool, workers: int = 1
) -> dict[str, Any]:
    n = len(requests)
    latencies = [math.nan] * n
    statuses = [0] * n
    bodies: list[bytes] = [b""] * n if keep_bodies else []
    errors: list[str] = []
    indexes = iter(range(n))
    connections, placement = await _placed(port, concurrency, workers)

    async def loop(slot: int) -> None:
        reader, writer = connections[slot]
        for i in indexes:
            t0 = time.perf_counter()
            try:
                writer.write(requests[i])
                status, body, close = await asyncio.wait_for(_read_response(reader), timeout=60)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies[i] = time.perf_counter() - t0
            statuses[i] = status
            if keep_bodies:
                bodies[i] = body
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(loop(s) for s in range(concurrency)))
    wall = time.perf_counter() - start
    return {
        "latencies": latencies,
        "statuses": statuses,
        "bodies": bodies,
        "errors": errors,
        "wall_s": wall,
        "placement": placement,
    }


def run_load(
    server: Server, requests: Sequence[bytes], concurrency: int, *, keep_bodies: bool, timeout_s: float
) -> dict[str, Any]:
    with Sampler(server.process.pid) as sampler:
        raw = asyncio.run(
            asyncio.wait_for(
                _drive(server.port, requests, concurrency, keep_bodies, server.workers), timeout_s
            )
        )
    ok = [lat for lat, st in zip(raw["latencies"], raw["statuses"], strict=True) if st == 200]
    result = {
        "requests": len(requests),
        "concurrency": concurrency,
        "ok": len(ok),
        "statuses": dict(Counter(raw["statuses"])),
        "errors": len(raw["errors"]),
        "error_examples": raw["errors"][:3],
        "wall_s": raw["wall_s"],
        "throughput_rps": len(ok) / raw["wall_s"],
        "placement": raw["placement"],
        **_summary(ok),
        "cpu": sampler.result,
    }
    return {"result": result, "bodies": raw["bodies"]}


def verify_checks(bodies: Sequence[bytes], subject_ids: Sequence[int], plan: Plan) -> dict[str, int]:
    """Every answer is a found subject; every subject on a punitive list has at least one hit."""
    found = with_hits = punitive_missed = 0
    for body, sid in zip(bodies, subject_ids, strict=True):
        if not body:
            continue
        answer = json.loads(body)
        found += bool(answer.get("subject", {}).get("found"))
        hits = len(answer.get("hits", []))
        with_hits += hits > 0
        punitive_missed += sid in plan.punitive_ids and hits == 0
    return {"found": found, "with_hits": with_hits, "punitive_without_hit": punitive_missed}


def sample_subjects(plan: Plan, n: int, seed: int) -> list[int]:
    """n subject ids: half drawn from the subjects on a list, half uniformly from all subjects."""
    rng = random.Random(seed)
    ids = [rng.choice(plan.listed_ids) if k % 2 == 0 else rng.randint(1, plan.subjects) for k in range(n)]
    rng.shuffle(ids)
    return ids


def run_wrk(
    port: int, path: str, bodies: Sequence[bytes], secret: str, seconds: int, connections: int
) -> Any:
    """Cross-check with wrk (duration-bounded), cycling through the given bodies; None if wrk is missing."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    script = WORK / f"wrk-{path.strip('/').replace('/', '-')}.lua"
    lua_bodies = ",\n".join("[==[" + b.decode() + "]==]" for b in bodies)
    script.write_text(
        "local bodies = {\n" + lua_bodies + "\n}\nlocal i = 0\n"
        'wrk.method = "POST"\n'
        f'wrk.headers["Authorization"] = "Bearer {secret}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        "request = function()\n  i = i % #bodies + 1\n"
        f'  return wrk.format("POST", "{path}", nil, bodies[i])\nend\n'
    )
    done = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    out = done.stdout

    def ms(text: str) -> float:
        match = re.match(r"([\d.]+)(us|ms|s)", text)
        if not match:
            return math.nan
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    result: dict[str, Any] = {"seconds": seconds, "connections": connections}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = ms(match.group(1)) if match else math.nan
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["throughput_rps"] = float(match.group(1)) if match else math.nan
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"(\d+) requests in", out)
    result["requests"] = int(match.group(1)) if match else 0
    return result


def measure_server(
    setup: ServerSetup, plan: Plan, secret: str, data_dir: Path, args: argparse.Namespace, seed: int
) -> dict[str, Any]:
    listed = set(plan.listed_ids)
    server = Server(setup, data_dir)
    out: dict[str, Any] = {"workers": setup.workers, "launcher": setup.launcher, "short": setup.short}
    out |= {"name": setup.name, "runs": []}
    tag = f"{setup.launcher}:{setup.workers}"
    divisor = 5 if setup.short else 1
    levels = [1, max(args.concurrency)] if setup.short else args.concurrency
    try:
        server.wait_ready()
        port = server.port

        def checks(n: int, salt: int) -> tuple[list[int], list[bytes]]:
            ids = sample_subjects(plan, n, seed + salt)
            return ids, [build_request(CHECK_PATH, check_body(subject_uscc(i)), secret, port) for i in ids]

        # Warm-up (untimed): every worker's pool, caches and lazy imports.
        _, warm = checks(args.warmup, 1)
        run_load(server, warm, max(levels), keep_bodies=False, timeout_s=args.run_timeout)
        noop_req = build_request(NOOP_PATH, check_body(subject_uscc(1)), secret, port)
        run_load(server, [noop_req] * args.warmup, max(levels), keep_bodies=False, timeout_s=args.run_timeout)

        salt = 10
        for concurrency in levels:
            salt += 1
            n_checks = (args.sequential if concurrency == 1 else args.requests) // divisor
            n_noop = (args.sequential_noop if concurrency == 1 else args.noop_requests) // divisor
            ids, reqs = checks(n_checks, salt)
            log(f"  [{tag}] {n_checks:,} checks at concurrency {concurrency}")
            mark = _last_audit_id()
            loaded = run_load(server, reqs, concurrency, keep_bodies=True, timeout_s=args.run_timeout)
            check_run = loaded["result"] | {"endpoint": "check", "batches": _check_batches(mark)}
            check_run["verify"] = verify_checks(loaded["bodies"], ids, plan)
            check_run["listed_share"] = sum(i in listed for i in ids) / len(ids)
            _log_run(check_run)
            log(f"  [{tag}] {n_noop:,} no-ops at concurrency {concurrency}")
            loaded = run_load(
                server, [noop_req] * n_noop, concurrency, keep_bodies=False, timeout_s=args.run_timeout
            )
            noop_run = loaded["result"] | {"endpoint": "noop"}
            _log_run(noop_run)
            out["runs"].extend([check_run, noop_run])
        # More check/no-op pairs at the top level, judged on their medians: on a shared machine one run of
        # either endpoint still drifts by ±15 % (the connections' placement is evened out by `_placed`).
        for repeat in range(1, 1 if setup.short else args.repeats):
            concurrency = max(levels)
            salt += 1
            ids, reqs = checks(args.requests, salt)
            log(
                f"  [{tag}] repeat {repeat + 1} of {args.repeats}: checks and no-ops at concurrency {concurrency}"
            )
            mark = _last_audit_id()
            loaded = run_load(server, reqs, concurrency, keep_bodies=True, timeout_s=args.run_timeout)
            check_run = loaded["result"] | {
                "endpoint": "check",
                "batches": _check_batches(mark),
                "repeat": repeat,
            }
            check_run["verify"] = verify_checks(loaded["bodies"], ids, plan)
            check_run["listed_share"] = sum(i in listed for i in ids) / len(ids)
            _log_run(check_run)
            loaded = run_load(
                server,
                [noop_req] * args.noop_requests,
                concurrency,
                keep_bodies=False,
                timeout_s=args.run_timeout,
            )
            noop_run = loaded["result"] | {"endpoint": "noop", "repeat": repeat}
            _log_run(noop_run)
            out["runs"].extend([check_run, noop_run])
        if args.decompose and not setup.short:
            for endpoint, path in (("noop+deps", NOOP_DEPS_PATH), ("noop+deps+auth", NOOP_AUTH_PATH)):
                for concurrency in (1, max(levels)):
                    n = args.sequential_noop if concurrency == 1 else args.noop_requests
                    if endpoint == "noop+deps+auth":
                        n //= 2
                    log(f"  [{tag}] {n:,} {endpoint} at concurrency {concurrency}")
                    request = build_request(path, check_body(subject_uscc(1)), secret, port)
                    loaded = run_load(
                        server, [request] * n, concurrency, keep_bodies=False, timeout_s=args.run_timeout
                    )
                    run = loaded["result"] | {"endpoint": endpoint}
                    _log_run(run)
                    out["runs"].append(run)
        if args.wrk_seconds > 0 and shutil.which("wrk") and not setup.short:
            c = max(levels)
            ids = sample_subjects(plan, 2000, seed + 99)
            bodies = [check_body(subject_uscc(i)) for i in ids]
            log(f"  [{tag}] wrk cross-check, {args.wrk_seconds} s each at {c} connections")
            out["wrk"] = {
                "check": run_wrk(port, CHECK_PATH, bodies, secret, args.wrk_seconds, c),
                "noop": run_wrk(port, NOOP_PATH, bodies[:1], secret, args.wrk_seconds, c),
            }
            log(f"    wrk: {out['wrk']}")
    finally:
        server.stop()
    return out


def _last_audit_id() -> int:
    import psycopg

    with psycopg.connect(pg_dsn()) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM audit_entries").fetchone()
        return int(row[0]) if row else 0


def _check_batches(after_id: int) -> dict[str, float]:
    """How the server grouped the run's checks: the entries of one batch share one audit append, hence one
    timestamp (`audit.service.record_many`), so distinct timestamps count the batches."""
    import psycopg

    with psycopg.connect(pg_dsn()) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (chain, at)) FROM audit_entries WHERE id > %s AND action = 'check.run'",
            (after_id,),
        ).fetchone()
    checks, batches = (int(row[0]), int(row[1])) if row else (0, 0)
    return {"checks": checks, "batches": batches, "mean_size": checks / batches if batches else 0.0}


def _log_run(run: dict[str, Any]) -> None:
    cpu = run["cpu"]
    log(
        f"    {run['endpoint']}: ok {run['ok']}/{run['requests']}{_placement(run)}, p50 {run['p50_ms']:.2f} ms, "
        f"p99 {run['p99_ms']:.2f} ms, {run['throughput_rps']:.0f} req/s; cores server "
        f"{cpu['cores_server']:.2f} pg {cpu['cores_postgres']:.2f} client {cpu['cores_client']:.2f} others "
        f"{cpu['cores_others']:.2f} stolen {cpu.get('cores_stolen', 0.0):.2f}; pg active {cpu['pg_active_mean']:.1f} lock-waiting "
        f"{cpu['pg_lock_wait_mean']:.1f} {cpu['pg_lock_waiting_by_statement']}; new pg sessions "
        f"{cpu['pg_new_sessions']}"
        + (
            f"; {run['batches']['checks']:,} checks in {run['batches']['batches']:,} batches"
            if "batches" in run
            else ""
        )
    )


# --- Machine and report -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import psycopg

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    with psycopg.connect(pg_dsn()) as conn:
        version = conn.execute("SELECT version()").fetchone()
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in (
                "shared_buffers",
                "work_mem",
                "synchronous_commit",
                "fsync",
                "max_connections",
                "autovacuum",
            )
        }

    def version_of(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": mem_kib / 2**20,
        "os": pyplatform.platform(),
        "python": pyplatform.python_version(),
        "postgres": version[0] if version else "?",
        "pg_settings": settings,
        "packages": {
            p: version_of(p)
            for p in (
                "fastapi",
                "starlette",
                "uvicorn",
                "h11",
                "httptools",
                "uvloop",
                "sqlalchemy",
                "psycopg",
                "pydantic",
            )
        },
    }


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _find(runs: Sequence[dict[str, Any]], endpoint: str, concurrency: int) -> dict[str, Any] | None:
    for run in runs:
        if run["endpoint"] == endpoint and run["concurrency"] == concurrency:
            return run
    return None


def _placement(run: dict[str, Any]) -> str:
    """How the run's connections fell on the workers, e.g. " (8+8)" (nothing for one worker)."""
    placement = run.get("placement") or []
    return f" ({'+'.join(str(n) for n in placement)})" if len(placement) > 1 else ""


def _endpoint_label(run: dict[str, Any]) -> str:
    return f"{run['endpoint']} (repeat {run['repeat'] + 1})" if run.get("repeat") else run["endpoint"]


def _all(runs: Sequence[dict[str, Any]], endpoint: str, concurrency: int) -> list[dict[str, Any]]:
    return [r for r in runs if r["endpoint"] == endpoint and r["concurrency"] == concurrency]


def _median_rps(runs: Sequence[dict[str, Any]]) -> float:
    return float(statistics.median(r["throughput_rps"] for r in runs))


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    _render_summary(results, add)
    _render_machine_and_data(results, add)
    _render_setup(results, add)
    for server in results["servers"]:
        _render_server(results, server, add)
    _render_profile(results, add)
    _render_plans(results, add)
    return "\n".join(lines)


def _render_summary(results: dict[str, Any], add: Callable[[str], None]) -> None:
    c_max = max(results["args"]["concurrency"])
    add("### Summary")
    add("")
    add(
        "Single-check latency is measured sequentially (one keep-alive connection, the next request sent when "
        f"the answer is read); throughput at {c_max} concurrent keep-alive connections, check and no-op alike. "
        "The targets are judged on the first set-up; the others are shown beside it."
    )
    add("")
    add("| server set-up | metric | measured | target | ratio | |")
    add("| --- | --- | ---: | --- | ---: | --- |")
    for server in results["servers"]:
        runs = server["runs"]
        seq, loaded = _find(runs, "check", 1), _find(runs, "check", c_max)
        noop_seq, noop_loaded = _find(runs, "noop", 1), _find(runs, "noop", c_max)
        if not (seq and loaded and noop_seq and noop_loaded):
            continue
        name = server["name"]
        checks_top, noops_top = _all(runs, "check", c_max), _all(runs, "noop", c_max)
        check_rps, noop_rps = _median_rps(checks_top), _median_rps(noops_top)
        ratio = check_rps / noop_rps
        each = ""
        if len(checks_top) > 1:
            each = (
                f", median of {len(checks_top)} runs (check "
                + " / ".join(_fmt(r["throughput_rps"], 0) for r in checks_top)
                + ", no-op "
                + " / ".join(_fmt(r["throughput_rps"], 0) for r in noops_top)
                + ")"
            )
        p99_ok = seq["p99_ms"] <= TARGET_P99_MS
        thr_ok = ratio >= TARGET_THROUGHPUT_RATIO
        add(
            f"| {name} | check p50 / **p99**, sequential | {_fmt(seq['p50_ms'], 2)} / **{_fmt(seq['p99_ms'], 2)} ms** | "
            f"p99 ≤ {TARGET_P99_MS:.0f} ms | {seq['p99_ms'] / TARGET_P99_MS:.2f}× | "
            f"**{'met' if p99_ok else 'not met'}** |"
        )
        add(
            f"| | no-op p50 / p99, sequential (reference) | {_fmt(noop_seq['p50_ms'], 2)} / "
            f"{_fmt(noop_seq['p99_ms'], 2)} ms | — | — | |"
        )
        add(
            f"| | check p50 / p99 at {c_max} connections | {_fmt(loaded['p50_ms'])} / {_fmt(loaded['p99_ms'])} ms "
            f"| (p99 ≤ {TARGET_P99_MS:.0f} ms) | {loaded['p99_ms'] / TARGET_P99_MS:.2f}× | "
            f"{'within' if loaded['p99_ms'] <= TARGET_P99_MS else 'over'} |"
        )
        caveat = ""
        if server["launcher"] == "uvicorn" and server["workers"] > 1:
            caveat = " (no-op slowed ~40 ms per request by the lost TCP_NODELAY: ratio not meaningful)"
        add(
            f"| | **check throughput** at {c_max} connections{caveat}{each} | "
            f"**{_fmt(check_rps, 0)} req/s** | "
            f"≥ 0.5 × no-op ({_fmt(noop_rps, 0)} req/s) = "
            f"{_fmt(0.5 * noop_rps, 0)} req/s | {ratio:.3f} of no-op | "
            f"**{'met' if thr_ok else 'not met'}** |"
        )
    add("")


def _render_machine_and_data(results: dict[str, Any], add: Callable[[str], None]) -> None:
    m = results["machine"]
    plan = results["plan"]
    sizes = plan["sizes"]
    add("### Machine")
    add("")
    add(f"- Measured {results['started']} UTC (finished {results['finished']}).")
    add(f"- CPU {m['cpu']}, {m['cores']} cores as seen by the OS, {m['ram_gib']:.1f} GiB RAM, {m['os']}.")
    add(f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + ".")
    add(
        f"- {m['postgres']}, same machine over TCP 127.0.0.1; "
        + ", ".join(f"{k}={v}" for k, v in m["pg_settings"].items())
        + "."
    )
    add(
        "- Shared machine: other jobs (test suites, other benchmarks) may run at the same time; each run below"
        " shows the load average and how many cores went to the server, to this database's PostgreSQL"
        " backends, to the load generator and to everything else, and how much of the two cores the"
        " hypervisor gave to other guests (steal, from /proc/stat: a share of the machine this run did not have)."
    )
    add("")
    add("### Data")
    add("")
    t = plan["timings"]
    add(
        f"Database `{DATABASE}` (public schema dropped and recreated, migrated to head), loaded with COPY in "
        f"{t['load_total_s']:.0f} s (subjects {t['copy_subjects_s']:.0f} s, list entries "
        f"{t['copy_list_entries_s']:.1f} s, records {t['copy_records_s']:.0f} s, secondary indexes "
        f"{t['build_indexes_s']:.0f} s, VACUUM ANALYZE {t['vacuum_analyze_s']:.0f} s, then a CHECKPOINT in "
        f"{t.get('checkpoint_s', 0):.0f} s so no flushing of the load overlaps the measurements):"
    )
    add("")
    add("| table | rows | table MiB | indexes MiB | notes |")
    add("| --- | ---: | ---: | ---: | --- |")
    add(
        f"| subjects | {sizes['subjects']['rows']:,} | {sizes['subjects']['table_mib']:.0f} | "
        f"{sizes['subjects']['indexes_mib']:.0f} | valid USCCs (90 % 91…, 10 % 92… individual businesses), "
        "25 Sichuan districts, name_norm/core_name by `xinyong.kit.names` |"
    )
    add(
        f"| list_entries | {sizes['list_entries']['rows']:,} | {sizes['list_entries']['table_mib']:.1f} | "
        f"{sizes['list_entries']['indexes_mib']:.1f} | all `listed` and in force today "
        f"({sizes['list_entries_in_force']:,}); {plan['listed_subjects']:,} distinct subjects; 60 % "
        f"serious_dishonesty, 15 % market_ban, 25 % red; {plan['punitive']:,} subjects on a punitive list |"
    )
    add(
        f"| records | {sizes['records']['rows']:,} | {sizes['records']['table_mib']:.0f} | "
        f"{sizes['records']['indexes_mib']:.0f} | CF penalties on {plan['record_subjects']:,} subjects "
        f"(a quarter of them listed); 10 % 严重; 3 % revoked; {sizes['records_in_window']:,} active and inside "
        f"their publicity window, {sizes['records_serious_in_window']:,} of them 严重 |"
    )
    add("")
    add(
        f"Request mix: each check asks for a USCC (`{SCENARIO}`), half of them drawn from the subjects on a "
        "list, half uniformly from all subjects; every run draws fresh subjects."
    )
    add("")


def _render_setup(results: dict[str, Any], add: Callable[[str], None]) -> None:
    c_max = max(results["args"]["concurrency"])
    add("### Server and load generator")
    add("")
    add(
        "The app is `benchmarks.checks:bench_app`, a factory: `create_app(platform=build_platform(settings))` "
        "with the database URL from the environment, the rate limits raised out of the way (100000000/minute), "
        "plus `POST /bench/noop` — a plain `def` returning `{}` on the same app, so it passes the same uvicorn, "
        "middleware, routing and one thread-pool hop as the check but no dependency (no token, no rate limit, no "
        "database). The benchmark's routes are placed in the route table just before the router that serves the "
        "check, so both are routed at the same cost (routing walks the table in order, ~4 µs an entry passed). "
        "The no-op request carries the same headers and body as a check. The check's handler is an "
        "`async def` that hands the check to the worker's coalescer (`Platform.checks`), which runs what "
        "concurrent requests asked for in one transaction per batch in the thread pool. Served on 127.0.0.1 by "
        "uvicorn with h11 and asyncio (httptools and uvloop are not installed in the project's venv), access "
        "log off, in these set-ups:"
    )
    add("")
    add(
        "- `uvicorn --workers 1`: the plain CLI, one process — what `xinyong serve` does (it also keeps the "
        "access log on).\n"
        "- `uvicorn --workers 2`: the plain CLI with uvicorn's multiprocess supervisor. It binds the listening "
        "socket with `proto` 0, accepted sockets inherit it and asyncio then does not set TCP_NODELAY, so "
        "every keep-alive request after the first on a connection waits ~40 ms for Nagle × delayed ACK "
        "(uvicorn issue #3149, open for uvicorn "
        f"{results['machine']['packages']['uvicorn']}). Shown as a short run for that reason only.\n"
        "- `benchmarks.checks serve PORT 2`: the same uvicorn supervisor and 2 workers, with the listening "
        "socket created as `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)` — the fix proposed for that issue, "
        "applied in the benchmark's launcher. This is the headline set-up."
    )
    add("")
    add(
        "Load: an asyncio client in the benchmark process with a fixed number of keep-alive HTTP/1.1 "
        "connections, each sending its next request as soon as the previous answer is read (closed loop), "
        "a fixed number of requests per run, latency per request from write to the last byte of the answer. "
        f"Warm-up ({results['args']['warmup']} checks and no-ops) before the timed runs. Every check answer is "
        "parsed afterwards: the subject must be found, and every subject on a punitive list must have a hit. "
        "Before each run the client spreads its connections evenly over the worker processes, as a load "
        "balancer in front of them would: each new connection asks which process serves it, and one that "
        "would give a worker more than its share is set aside (with one shared listener, whichever worker "
        "wakes first accepts, and 16 connections opened at once fell 16/0 or 11/5 by chance, moving a run by "
        "up to half). The placement is shown beside the number of connections. "
        f"At {c_max} connections each full set-up runs {results['args'].get('repeats', 1)} check/no-op pairs "
        "and the throughput target is judged on the median of each endpoint."
    )
    add("")


def _render_server(results: dict[str, Any], server: dict[str, Any], add: Callable[[str], None]) -> None:
    add(f"#### {server['name']}" + (" — short demonstration run" if server["short"] else ""))
    add("")
    add(
        "| endpoint | connections | requests | ok | p50 ms | p95 ms | p99 ms | max ms | req/s | "
        "cores: server / postgres / client / others / stolen | PG backends active / lock-waiting | new PG "
        "connections | load avg |"
    )
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |")
    for run in server["runs"]:
        cpu = run["cpu"]
        add(
            f"| {_endpoint_label(run)} | {run['concurrency']}{_placement(run)} | {run['requests']:,} | {run['ok']:,} | "
            f"{_fmt(run['p50_ms'], 2)} | {_fmt(run['p95_ms'], 2)} | {_fmt(run['p99_ms'], 2)} | "
            f"{_fmt(run['max_ms'], 1)} | {_fmt(run['throughput_rps'], 0)} | "
            f"{cpu['cores_server']:.2f} / {cpu['cores_postgres']:.2f} / {cpu['cores_client']:.2f} / "
            f"{cpu['cores_others']:.2f} / {cpu.get('cores_stolen', 0.0):.2f} | {cpu['pg_active_mean']:.1f} / {cpu['pg_lock_wait_mean']:.1f} | "
            f"{cpu['pg_new_sessions']:,} | {cpu['load_before']:.1f}→{cpu['load_after']:.1f} |"
        )
    add("")
    waits = [
        f"{run['endpoint']} at {run['concurrency']} connection(s): "
        + ", ".join(f"`{k}` {v:.2f}" for k, v in run["cpu"]["pg_lock_waiting_by_statement"].items())
        for run in server["runs"]
        if run["endpoint"] != "noop" and run["cpu"]["pg_lock_waiting_by_statement"]
    ]
    if waits:
        add(
            "Backends waiting on a row lock, mean over the 50 ms samples, by statement — "
            + "; ".join(waits)
            + "."
        )
        add("")
    ratios = []
    for c in results["args"]["concurrency"]:
        ch, no = _all(server["runs"], "check", c), _all(server["runs"], "noop", c)
        if ch and no:
            pairs = [f"{a['throughput_rps'] / b['throughput_rps']:.3f}" for a, b in zip(ch, no, strict=False)]
            ratios.append(
                f"{c} connection(s) {_median_rps(ch) / _median_rps(no):.3f}"
                + (f" (medians; pair by pair {', '.join(pairs)})" if len(ch) > 1 else "")
            )
    add("Check throughput / no-op throughput: " + "; ".join(ratios) + ".")
    sizes = [
        f"{r['concurrency']} connection(s) {r['batches']['mean_size']:.2f} "
        f"({r['batches']['checks']:,} in {r['batches']['batches']:,})"
        for r in server["runs"]
        if r["endpoint"] == "check" and r.get("batches", {}).get("batches")
    ]
    if sizes:
        add(
            "Checks per shared transaction (`Platform.checks` coalescing; counted from the audit trail, where "
            "a batch's entries share one timestamp): " + "; ".join(sizes) + "."
        )
    steps = [r for r in server["runs"] if r["endpoint"].startswith("noop+")]
    if steps:
        c_top = max(results["args"]["concurrency"])
        chain = []
        for name in ("noop", "noop+deps", "noop+deps+auth", "check"):
            for c in (1, c_top):
                run = _find(server["runs"], name, c)
                if run:
                    chain.append(
                        f"{name} at {c}: {_fmt(run['throughput_rps'], 0)} req/s, p50 {_fmt(run['p50_ms'], 2)} ms"
                    )
        add("")
        add(
            "Decomposition (supplementary endpoints of the benchmark app, same request): `noop+deps` adds the "
            "platform/today dependencies and, as the check route, an `async def` handler on the event loop, no "
            "database; `noop+deps+auth` adds the check router's rate limit, which authenticates the token (from "
            "the process's token cache, looked up with a SELECT in a transaction of its own once per "
            '`XINYONG_TOKEN_CACHE_SECONDS`), and `require("checks:run")`: everything of the check\'s request '
            "but its body and the check. " + "; ".join(chain) + "."
        )
    checks = [r for r in server["runs"] if r["endpoint"] == "check"]
    verified = [r["verify"] for r in checks]
    add(
        "Answers verified: "
        + "; ".join(
            f"{v['found']:,} found, {v['with_hits']:,} with hits, {v['punitive_without_hit']} punitive "
            "without hit"
            for v in verified
        )
        + f". Errors: {sum(r['errors'] for r in server['runs'])}; non-200: "
        + str(sum(r["requests"] - r["ok"] for r in server["runs"]))
        + "."
    )
    if server.get("wrk"):
        w = server["wrk"]
        add("")
        add(
            f"Cross-check with `wrk -t1 -c{w['check']['connections']} -d{w['check']['seconds']}s` (duration-bounded, "
            "checks cycling over 2,000 subjects): check "
            f"{_fmt(w['check']['throughput_rps'], 0)} req/s (p50 {_fmt(w['check']['p50_ms'])} ms, p99 "
            f"{_fmt(w['check']['p99_ms'])} ms, non-2xx {w['check']['non_2xx']}); no-op "
            f"{_fmt(w['noop']['throughput_rps'], 0)} req/s (p50 {_fmt(w['noop']['p50_ms'], 2)} ms, p99 "
            f"{_fmt(w['noop']['p99_ms'], 2)} ms); ratio "
            f"{w['check']['throughput_rps'] / w['noop']['throughput_rps']:.3f}."
        )
    add("")


def _render_profile(results: dict[str, Any], add: Callable[[str], None]) -> None:
    prof = results["profile"]
    add("### Where a check's time goes (in-process, no HTTP)")
    add("")
    add(
        f"`measures.check.run_check` + `Session.commit()` called directly, one check per session and "
        f"transaction (a batch of one, as a lone request is), after the token look-up (`accounts.auth.token_principal`); {prof['n_timed']} checks timed with "
        f"SQLAlchemy cursor events: mean {prof['total']['mean_ms']:.2f} ms per check (p50 "
        f"{prof['total']['p50_ms']:.2f}, p99 {prof['total']['p99_ms']:.2f}) = SQL "
        f"{prof['sql_ms_mean']:.2f} ms ({prof['statements_per_check']:.1f} statements) + commit "
        f"{prof['commit_ms_mean']:.2f} ms + Python {prof['python_ms_mean']:.2f} ms."
    )
    add("")
    add("| statement | per check | mean ms |")
    add("| --- | ---: | ---: |")
    for label, s in prof["per_statement"].items():
        add(f"| `{label}` | {s['per_check']:.2f} | {s['mean_ms']:.3f} |")
    add("")
    add(
        f"cProfile over {prof['n_profiled']} further checks (profiling inflates Python time; compare shares):"
    )
    add("")
    add("| function | calls per check | cumulative ms per check |")
    add("| --- | ---: | ---: |")
    for h in prof["hot"]:
        add(f"| {h['what']} | {h['calls_per_check']:.1f} | {h['cum_ms_per_check']:.2f} |")
    add("")


def _render_plans(results: dict[str, Any], add: Callable[[str], None]) -> None:
    add("### Query plans of one check (EXPLAIN ANALYZE, BUFFERS)")
    add("")
    add(
        "The SELECTs one check issued (captured with cursor events, subject on a list and with records), "
        "re-run under EXPLAIN with the same parameters:"
    )
    add("")
    add("| statement | plan with the parameters (custom) | generic plan (after preparation) | execution |")
    add("| --- | --- | --- | ---: |")

    def nodes(plan: Sequence[str]) -> str:
        keep = [ln.strip() for ln in plan if "->" in ln or ln == plan[0]]
        keep = [
            re.sub(r" \(actual .*\)$", "", n) for n in keep if not n.startswith(("Planning", "Execution"))
        ]
        return "<br>".join(f"`{n}`" for n in keep[:3])

    for p in results["plans"]:
        if "plan" not in p:
            continue
        execution = next((ln for ln in p["plan"] if ln.startswith("Execution Time")), "")
        add(
            f"| `{p['label']}` | {nodes(p['plan'])} | {nodes(p.get('generic_plan') or ['—'])} | "
            f"{execution.replace('Execution Time: ', '')} |"
        )
    add("")
    scanned = {t: n for p in results["plans"] for t, n in p.get("seq_scan_tables", {}).items()}
    big = {t: n for t, n in scanned.items() if n > 1000}
    if big:
        add(
            "**Sequential scans on large tables**: "
            + ", ".join(f"`{t}` ({n:,} rows)" for t, n in big.items())
        )
    else:
        add(
            "Every look-up on a large table (subjects, list_entries, records) is an index scan, with the "
            "parameters and in the generic plan; the only sequential scans are on tables of a few rows ("
            + ", ".join(f"`{t}` {n:,} row(s)" for t, n in scanned.items())
            + "), where that is the cheapest plan. No index is missing for the check."
        )
    add("")
    add(f"Raw results: `{WORK / 'results.json'}`; full plans: `{WORK / 'plans.txt'}`.")


DOC_TEMPLATE = """# Benchmark: the real-time credit check (信用核查)

Latency and throughput of `POST /api/v1/checks` at 1,000,000 subjects and 50,000 list entries on PostgreSQL,
beside a no-op endpoint on the same stack. Targets (issue): p99 ≤ 20 ms and at least half the no-op
throughput. Measured on demand by `.venv/bin/python -m benchmarks.checks` (never by the test suite); the part
between the markers is generated, the rest is maintained by hand.

## Results

{start}
{end}
"""


def _commitment_side(server: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """One side of the comparison: sequential latency, medians of the pairs at the top concurrency, in-process."""
    runs = server["runs"]
    top = max(r["concurrency"] for r in runs)

    def of(endpoint: str, concurrency: int) -> list[dict[str, Any]]:
        return [r for r in runs if r["endpoint"] == endpoint and r["concurrency"] == concurrency]

    def median(found: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(r[key] for r in found)) if found else float("nan")

    sequential, noop_sequential = of("check", 1), of("noop", 1)
    checks, noops = of("check", top), of("noop", top)
    check_rps, noop_rps = median(checks, "throughput_rps"), median(noops, "throughput_rps")
    return {
        "concurrency": top,
        "p50_ms": median(sequential, "p50_ms"),
        "p99_ms": median(sequential, "p99_ms"),
        "p99_ms_runs": [r["p99_ms"] for r in sequential],
        "noop_p99_ms": median(noop_sequential, "p99_ms"),
        "check_rps": check_rps,
        "check_rps_runs": [r["throughput_rps"] for r in checks],
        "noop_rps": noop_rps,
        "noop_rps_runs": [r["throughput_rps"] for r in noops],
        "ratio_to_noop": check_rps / noop_rps if noop_rps else float("nan"),
        "in_process_p50_ms": profile["total"]["p50_ms"],
        "in_process_p99_ms": profile["total"]["p99_ms"],
        "in_process_sql_ms": profile["sql_ms_mean"],
    }


def render_commitments(results: dict[str, Any]) -> str:
    """The comparison with and without the commitments, as Markdown."""
    out: list[str] = []
    add = out.append
    plan, loaded = results["plan"], results["loaded"]
    without, with_ = results["without"], results["with"]
    add(
        "### The check with 1,000,000 commitments in the store"
        if loaded["commitments"] == 1_000_000
        else f"### The check with {loaded['commitments']:,} commitments in the store"
    )
    add("")
    add(
        f"Run {results['started']}–{results['finished']} UTC, {results['machine'].get('cores', '?')} cores, "
        f"{plan['subjects']:,} subjects, {plan['list_entries']:,} list entries, {plan['records']:,} CF records; "
        f"then {loaded['commitments']:,} commitments with as many CN records and {loaded['wn_records']:,} WN "
        f"records ({loaded['wn_records'] / max(1, loaded['commitments']):.1%} breached) COPYed in "
        f"{loaded['timings']['total_s']:.0f} s. Headline set-up ({results['setup']}); the sequential run "
        f"is one keep-alive connection, throughput one check/no-op pair at {without['concurrency']} connections; "
        f"the two databases alternated {results['rounds']} times (ABBA…), medians shown. "
        f"Command: `{results['command']}`."
    )
    add("")
    add("| metric | without | with | with ÷ without |")
    add("| --- | ---: | ---: | ---: |")

    def row(label: str, key: str, digits: int = 2) -> None:
        a, b = without[key], with_[key]
        add(f"| {label} | {_fmt(a, digits)} | {_fmt(b, digits)} | {b / a if a else float('nan'):.3f} |")

    row("check p50, sequential (ms)", "p50_ms")
    row("**check p99**, sequential (ms)", "p99_ms")
    row("no-op p99, sequential (ms, reference)", "noop_p99_ms")
    row("**check throughput** (req/s)", "check_rps", 0)
    row("no-op throughput (req/s, reference)", "noop_rps", 0)
    row("check ÷ no-op throughput", "ratio_to_noop", 3)
    row("in-process check p50 (ms)", "in_process_p50_ms")
    row("in-process check p99 (ms)", "in_process_p99_ms")
    row("in-process SQL per check (ms)", "in_process_sql_ms")
    add("")
    add(
        "Throughput runs: without "
        + " / ".join(f"{x:,.0f}" for x in without["check_rps_runs"])
        + " (no-op "
        + " / ".join(f"{x:,.0f}" for x in without["noop_rps_runs"])
        + "), with "
        + " / ".join(f"{x:,.0f}" for x in with_["check_rps_runs"])
        + " (no-op "
        + " / ".join(f"{x:,.0f}" for x in with_["noop_rps_runs"])
        + "). Sizes after the load: "
        + ", ".join(
            f"{t} {v['rows']:,} rows ({v['table_mib']:,.0f} MiB + {v['indexes_mib']:,.0f} MiB indexes)"
            for t, v in loaded["sizes"].items()
        )
        + "."
    )
    return "\n".join(out)


def write_commitments_doc(generated: str) -> None:
    text = DOC.read_text() if DOC.exists() else DOC_TEMPLATE.format(start=MARK_START, end=MARK_END)
    if COMMITMENTS_START not in text or COMMITMENTS_END not in text:
        text = text.rstrip() + "\n\n" + COMMITMENTS_START + "\n" + COMMITMENTS_END + "\n"
    before, rest = text.split(COMMITMENTS_START, 1)
    _, after = rest.split(COMMITMENTS_END, 1)
    DOC.write_text(before + COMMITMENTS_START + "\n\n" + generated.strip() + "\n\n" + COMMITMENTS_END + after)


def write_doc(generated: str) -> None:
    text = DOC.read_text() if DOC.exists() else DOC_TEMPLATE.format(start=MARK_START, end=MARK_END)
    if MARK_START not in text or MARK_END not in text:
        text = text.rstrip() + "\n\n" + MARK_START + "\n" + MARK_END + "\n"
    before, rest = text.split(MARK_START, 1)
    _, after = rest.split(MARK_END, 1)
    DOC.write_text(before + MARK_START + "\n\n" + generated.strip() + "\n\n" + MARK_END + after)


# --- Main -------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checks", description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--list-entries", type=int, default=50_000)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=5_000, help="checks per concurrent run")
    parser.add_argument("--noop-requests", type=int, default=10_000, help="no-ops per concurrent run")
    parser.add_argument("--sequential", type=int, default=1_000, help="checks in the sequential run")
    parser.add_argument("--sequential-noop", type=int, default=2_000, help="no-ops in the sequential run")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    parser.add_argument(
        "--servers",
        type=lambda s: [parse_setup(x) for x in s.split(",")],
        default=[parse_setup(x) for x in ("nodelay:2", "reuseport:2", "uvicorn:1", "uvicorn:2:short")],
        help="server set-ups, LAUNCHER:WORKERS[:short]; the first is the headline",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="check/no-op pairs at the top concurrency (medians judged)"
    )
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--profile-checks", type=int, default=400)
    parser.add_argument("--wrk-seconds", type=int, default=8, help="0 to skip the wrk cross-check")
    parser.add_argument("--run-timeout", type=float, default=240.0, help="seconds before a run is abandoned")
    parser.add_argument(
        "--quiet-load", type=float, default=1.5, help="load average to wait for before a set-up"
    )
    parser.add_argument("--quiet-wait", type=float, default=30.0, help="the longest wait for it, seconds")
    parser.add_argument(
        "--no-decompose",
        dest="decompose",
        action="store_false",
        help="skip the supplementary no-op+dependencies and no-op+auth runs",
    )
    parser.add_argument(
        "--commitments",
        type=int,
        default=0,
        help="compare the headline set-up without and with this many commitments (and their CN/WN records)",
    )
    parser.add_argument(
        "--breached-share",
        type=float,
        default=0.02,
        help="share of the commitments breached (a WN record each)",
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="with --commitments: alternations of the two databases (ABBA…)"
    )
    parser.add_argument("--from-results", help="only re-render the doc from a results.json of an earlier run")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks-checks.md")
    args = parser.parse_args(argv)
    if 1 not in args.concurrency:
        args.concurrency.insert(0, 1)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        serve(int(argv[1]), int(argv[2]))
        return 0
    if argv[:1] == ["serve-reuseport"]:
        serve_reuseport(int(argv[1]), int(argv[2]))
        return 0
    args = parse_args(argv)
    if args.from_results:  # re-render the generated part of the doc from a saved results.json
        generated = render(json.loads(Path(args.from_results).read_text()))
        write_doc(generated)
        print(generated)
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    if args.commitments:  # databases of its own: the plain run and `batch_cost` keep theirs
        global DATABASE
        DATABASE = f"{DATABASE}_commitments"
    log(
        f"loading {args.subjects:,} subjects, {args.list_entries:,} list entries, {args.records:,} records "
        f"into {DATABASE}"
    )
    plan = load(args.subjects, args.list_entries, args.records)
    log(f"loaded in {plan.timings['load_total_s']:.0f} s: {plan.timings} {plan.sizes}")
    if args.commitments:
        return compare_commitments(args, argv, plan, started)

    data_dir = Path(tempfile.mkdtemp(prefix="xinyong-checks-", dir=WORK))
    platform = _platform(data_dir)
    secret = seed(platform)
    listed_with_record = _listed_with_record(plan)
    plans = explain_check(platform, secret, subject_uscc(listed_with_record))
    (WORK / "plans.txt").write_text(
        "\n\n".join(
            f"-- {p['label']} ({p['ms']:.2f} ms in the check)\n{p['sql']}\n" + "\n".join(p.get("plan", []))
            for p in plans
        )
    )
    for p in plans:
        log(f"  {p['label']}: {p['ms']:.2f} ms" + (f" SEQ SCAN {p['seq_scan']}" if p.get("seq_scan") else ""))
    log(f"in-process profile: {args.profile_checks} checks")
    ids = sample_subjects(plan, args.profile_checks, 5)
    profile = profile_in_process(platform, secret, [subject_uscc(i) for i in ids])
    log(
        f"  mean {profile['total']['mean_ms']:.2f} ms = SQL {profile['sql_ms_mean']:.2f} + commit "
        f"{profile['commit_ms_mean']:.2f} + Python {profile['python_ms_mean']:.2f}"
    )
    platform.sessions.kw["bind"].dispose()

    servers = []
    for k, setup in enumerate(args.servers):
        wait_for_quiet(args.quiet_load, args.quiet_wait)
        log(f"serving: {setup.name}")
        servers.append(measure_server(setup, plan, secret, data_dir, args, seed=1000 * (k + 1)))
    results = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "finished": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        "args": vars(args),
        "machine": machine(),
        "plan": {
            "subjects": plan.subjects,
            "listed_subjects": len(plan.listed_ids),
            "punitive": len(plan.punitive_ids),
            "list_entries": plan.list_entries,
            "records": plan.records,
            "record_subjects": plan.record_subjects,
            "timings": plan.timings,
            "sizes": plan.sizes,
        },
        "plans": plans,
        "profile": profile,
        "servers": servers,
    }
    (WORK / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    generated = render(results)
    if not args.no_doc:
        write_doc(generated)
        log(f"wrote {DOC}")
    print(generated)
    return 0


def compare_commitments(
    args: argparse.Namespace, argv: Sequence[str], plan: Plan, started: dt.datetime
) -> int:
    """The headline set-up on the loaded store and on a copy holding `args.commitments` commitments and their
    records (`--commitments`), measured in alternation; written side by side."""
    global DATABASE
    import psycopg

    base, with_db = DATABASE, f"{DATABASE}_with"
    log(f"copying {base} to {with_db}")
    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{with_db}"')
        conn.execute(f'CREATE DATABASE "{with_db}" TEMPLATE "{base}"')
    DATABASE = with_db
    log(f"loading {args.commitments:,} commitments ({args.breached_share:.1%} breached) and their records")
    loaded = load_commitments(args.subjects, args.commitments, args.breached_share, plan.records)
    log(f"  loaded in {loaded['timings']['total_s']:.0f} s: {loaded['sizes']}")
    setup = args.servers[0]
    args.decompose, args.wrk_seconds, args.repeats = False, 0, 1
    databases = {"without": base, "with": with_db}
    ids = sample_subjects(plan, args.profile_checks, 5)
    secrets: dict[str, str] = {}
    dirs: dict[str, Path] = {}
    profiles: dict[str, Any] = {}
    for side, database in databases.items():
        DATABASE = database
        dirs[side] = Path(tempfile.mkdtemp(prefix=f"xinyong-checks-{side}-", dir=WORK))
        platform = _platform(dirs[side])
        secrets[side] = seed(platform)
        profiles[side] = profile_in_process(platform, secrets[side], [subject_uscc(i) for i in ids])
        platform.sessions.kw["bind"].dispose()
    runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    for round_ in range(args.rounds):
        for side in ("without", "with") if round_ % 2 == 0 else ("with", "without"):
            DATABASE = databases[side]
            wait_for_quiet(args.quiet_load, args.quiet_wait)
            log(f"round {round_ + 1} of {args.rounds}, {side} commitments: {setup.name}")
            server = measure_server(setup, plan, secrets[side], dirs[side], args, seed=1000 + round_)
            runs[side].extend(server["runs"])
    DATABASE = base
    sides = {side: _commitment_side({"runs": found}, profiles[side]) for side, found in runs.items()}
    for side, found in sides.items():
        log(f"  {side}: {found}")
    results = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "finished": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        "command": "python -m benchmarks.checks " + " ".join(argv),
        "machine": machine(),
        "setup": setup.name,
        "rounds": args.rounds,
        "plan": {"subjects": plan.subjects, "list_entries": plan.list_entries, "records": plan.records},
        "loaded": loaded,
        **sides,
    }
    (WORK / "commitments.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    generated = render_commitments(results)
    if not args.no_doc:
        write_commitments_doc(generated)
        log(f"wrote {DOC}")
    print(generated)
    return 0


def wait_for_quiet(load: float, max_wait_s: float) -> None:
    """Other jobs share the machine: wait (bounded) for the 1-minute load average to drop below `load`."""
    deadline = time.monotonic() + max_wait_s
    while os.getloadavg()[0] > load and time.monotonic() < deadline:
        time.sleep(2)
    log(f"load average {os.getloadavg()[0]:.2f}")


def _listed_with_record(plan: Plan) -> int:
    import psycopg

    with psycopg.connect(pg_dsn()) as conn:
        row = conn.execute(
            """SELECT r.subject_id FROM records r JOIN list_entries l ON l.subject_id = r.subject_id
               WHERE r.status = 'active' AND r.severity = '严重' AND l.list_type = 'serious_dishonesty'
                 AND r.public_until >= %s AND r.decision_date <= %s
               ORDER BY r.subject_id LIMIT 1""",
            (today(), today()),
        ).fetchone()
    return int(row[0]) if row else plan.listed_ids[0]


if __name__ == "__main__":
    raise SystemExit(main())
