"""Benchmark 1: ingestion throughput of a penalty CSV file against a raw bulk load of the same rows.

Each measured step runs in its own process (see benchmarks.worker) so that its peak RSS is its own.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path
from typing import Any

from benchmarks import common, data
from benchmarks.worker import run_phase

RAW_TABLE = "bench_raw"


def _url(store: str, sqlite_file: str | None) -> str:
    if store == "postgresql":
        return common.pg_url()
    assert sqlite_file is not None
    return f"sqlite:///{sqlite_file}"


def prepare_store(store: str, sqlite_file: str | None) -> None:
    """Empty database, current schema, the providing department."""
    from xinyong.accounts import service as accounts
    from xinyong.db import migrate
    from xinyong.db.engine import make_engine, make_sessionmaker

    if store == "postgresql":
        common.reset_pg_schema()
    else:
        assert sqlite_file is not None
        common.reset_sqlite(Path(sqlite_file))
    engine = make_engine(_url(store, sqlite_file))
    try:
        migrate.upgrade(engine)
        with make_sessionmaker(engine)() as session:
            accounts.add_department(session, **common.DEPARTMENT)
            session.commit()
    finally:
        engine.dispose()


# --- phases (run in a child process) ---------------------------------------------------------------------


def phase_parse_only(csv_path: str) -> dict[str, Any]:
    """Only read and parse the file with the project's reader: the floor under both loads."""
    from xinyong.kit.tabular import read_path

    watch = common.Stopwatch()
    rows = sum(1 for _ in read_path(Path(csv_path)))
    seconds = watch.seconds
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": common.peak_rss_mb(),
    }


def phase_reference(store: str, csv_path: str, sqlite_file: str | None = None) -> dict[str, Any]:
    """Raw bulk load: the same parsed rows into a plain all-text table with the file's columns."""
    from xinyong.kit.tabular import read_path

    path = Path(csv_path)
    headers = list(data.PENALTY_HEADERS)
    columns = ", ".join(f'"{h}"' for h in headers)
    typed = ", ".join(f'"{h}" text' for h in headers)
    create = f"CREATE TABLE {RAW_TABLE} ({typed})"
    rss_before = common.current_rss_mb()
    load = common.load_average()
    if store == "postgresql":
        import psycopg

        with psycopg.connect(common.pg_dsn()) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
            conn.execute(create)
            conn.commit()
            watch = common.Stopwatch()
            rows = 0
            with conn.cursor() as cur, cur.copy(f"COPY {RAW_TABLE} ({columns}) FROM STDIN") as copy:
                for row in read_path(path):
                    copy.write_row([row.values.get(h) for h in headers])
                    rows += 1
            conn.commit()
            seconds = watch.seconds
            size = conn.execute(f"SELECT pg_total_relation_size('{RAW_TABLE}')").fetchone()
            stored = conn.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchone()
            conn.execute(f"DROP TABLE {RAW_TABLE}")
            conn.commit()
        size_mb = (size[0] if size else 0) / 2**20
    else:
        assert sqlite_file is not None
        conn = _sqlite(sqlite_file)
        try:
            conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
            conn.execute(create)
            before = Path(sqlite_file).stat().st_size
            counter = [0]

            def values() -> Any:
                for row in read_path(path):
                    counter[0] += 1
                    yield [row.values.get(h) for h in headers]

            watch = common.Stopwatch()
            conn.execute("BEGIN")
            placeholders = ", ".join("?" for _ in headers)
            conn.executemany(f"INSERT INTO {RAW_TABLE} ({columns}) VALUES ({placeholders})", values())
            conn.execute("COMMIT")
            seconds = watch.seconds
            rows = counter[0]
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size_mb = (Path(sqlite_file).stat().st_size - before) / 2**20
            stored = conn.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchone()
            conn.execute(f"DROP TABLE {RAW_TABLE}")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    assert stored is not None and stored[0] == rows, (stored, rows)
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": common.peak_rss_mb(),
        "table_mb": size_mb,
        "load_avg_before": load,
        "load_avg_after": common.load_average(),
    }


def phase_ingest(
    store: str, csv_path: str, sqlite_file: str | None = None, profile_to: str | None = None
) -> dict[str, Any]:
    """The application's ingestion of the file, committing after each chunk as the CLI does."""
    from sqlalchemy import func, select

    from xinyong.config import Settings
    from xinyong.db.engine import make_engine
    from xinyong.kit.tabular import read_path
    from xinyong.platform import build_platform
    from xinyong.records import ingest_runtime, service
    from xinyong.records.models import Record
    from xinyong.subjects.models import Subject

    path = Path(csv_path)
    url = _url(store, sqlite_file)
    engine = make_engine(url)
    platform = build_platform(
        Settings(data_dir=common.VAR / "data", database_url=url, secret_key="bench"), engine
    )
    ctx = platform.ingest_context(common.TODAY)
    # Warm what every real process has warm: the catalog, the rule sets, OpenCC, the region table.
    from xinyong.kit import regions
    from xinyong.kit.names import normalize_name

    normalize_name("预热")
    regions.is_known("510104")
    rss_before = common.current_rss_mb()
    load = common.load_average()
    chunks = [0]
    profiler = cProfile.Profile() if profile_to else None
    # Chunks are stored on the ingest's database thread: a profiler of its own runs around each piece of work.
    storing = cProfile.Profile() if profile_to else None
    if storing is not None:
        guarded = ingest_runtime.DatabaseThread._guarded

        def profiled(self: Any, fn: Any, *args: Any) -> Any:
            storing.enable()
            try:
                return guarded(self, fn, *args)
            finally:
                storing.disable()

        ingest_runtime.DatabaseThread._guarded = profiled  # type: ignore[method-assign]
    with platform.sessions() as session:

        def commit(_batch: Any) -> None:
            session.commit()
            chunks[0] += 1

        watch = common.Stopwatch()
        if profiler:
            profiler.enable()
        receipt = service.ingest(
            session,
            ctx,
            item_code="CF",
            provider_code=common.DEPARTMENT["code"],
            rows=read_path(path),
            source="bench",
            filename=path.name,
            chunk_size=5000,
            on_chunk=commit,
        )
        session.commit()
        if profiler:
            profiler.disable()
        seconds = watch.seconds
        records = session.scalar(select(func.count()).select_from(Record))
        subjects = session.scalar(select(func.count()).select_from(Subject))
        if store == "postgresql":
            size = session.scalar(
                select(func.pg_total_relation_size("records") + func.pg_total_relation_size("subjects"))
            )
            size_mb = (size or 0) / 2**20
    engine.dispose()
    if store == "sqlite":
        import sqlite3

        conn = sqlite3.connect(str(sqlite_file), isolation_level=None)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        size_mb = Path(str(sqlite_file)).stat().st_size / 2**20
    if profiler and storing and profile_to:
        out = io.StringIO()
        for title, profile in (
            ("calling thread: reading, validation", profiler),
            ("database thread", storing),
        ):
            out.write(f"===== {title} =====\n")
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
        Path(profile_to).write_text(out.getvalue(), encoding="utf-8")
    rows_read = receipt.accepted + receipt.updated + receipt.unchanged + receipt.rejected + receipt.queued
    return {
        "rows": rows_read,
        "seconds": seconds,
        "rows_per_s": rows_read / seconds,
        "accepted": receipt.accepted,
        "updated": receipt.updated,
        "unchanged": receipt.unchanged,
        "rejected": receipt.rejected,
        "queued": receipt.queued,
        "chunks": chunks[0],
        "records_in_db": records,
        "subjects_in_db": subjects,
        "store_mb": size_mb,
        "rss_before_mb": rss_before,
        "peak_rss_mb": common.peak_rss_mb(),
        "load_avg_before": load,
        "load_avg_after": common.load_average(),
        "profiled": bool(profile_to),
    }


FLOOR_TABLES = ("subjects", "records", "domain_events")  # what a first ingest of penalties writes, in order


def phase_storage_floor(store: str, sqlite_file: str | None = None) -> dict[str, Any]:
    """What writing the first ingest's rows costs the database alone, with no Python work at all.

    The rows the ingest stored in `FLOOR_TABLES` are loaded again, already formatted, with the database's bulk
    path into empty copies of those tables: once with the tables' indexes and constraints (foreign keys
    checked against the real tables), as a live store has them, and once bare. Any ingestion that stores
    these rows spends at least the first time in the database; the second is what the bytes alone cost.
    """
    floor = _PostgresFloor() if store == "postgresql" else _SqliteFloor(sqlite_file or "")
    seconds = {}
    try:
        rows = floor.prepare()
        for variant in ("with_indexes", "bare"):
            for table in FLOOR_TABLES:
                floor.create_copy(table, bare=variant == "bare")
            watch = common.Stopwatch()
            floor.load()
            seconds[variant] = watch.seconds
    finally:
        floor.close()
    return {"rows": rows, "seconds": seconds}


class _PostgresFloor:
    """COPY: each table dumped to a file first (not timed), then loaded from it in 1 MiB blocks."""

    def __init__(self) -> None:
        import psycopg

        self.conn = psycopg.connect(common.pg_dsn(), autocommit=True)
        self.dumps = {table: common.VAR / f"floor-{table}.copy" for table in FLOOR_TABLES}

    def prepare(self) -> dict[str, int]:
        rows = {}
        for table, path in self.dumps.items():
            with path.open("wb") as out, self.conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    out.write(block)
            rows[table] = _scalar(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone())
        return rows

    def create_copy(self, table: str, *, bare: bool) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
        if bare:
            self.conn.execute(f"CREATE TABLE floor_{table} (LIKE {table})")
            return
        self.conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        foreign_keys = self.conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            (table,),
        ).fetchall()
        for (definition,) in foreign_keys:
            self.conn.execute(f"ALTER TABLE floor_{table} ADD {definition}")

    def load(self) -> None:
        with self.conn.transaction():
            for table, path in self.dumps.items():
                with (
                    path.open("rb") as source,
                    self.conn.cursor().copy(f"COPY floor_{table} FROM STDIN") as copy,
                ):
                    while block := source.read(1 << 20):
                        copy.write(block)

    def close(self) -> None:
        for table, path in self.dumps.items():
            self.conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
            path.unlink(missing_ok=True)
        self.conn.close()


class _SqliteFloor:
    """INSERT … SELECT inside the database file; the copies are made from the tables' and indexes' own SQL."""

    def __init__(self, sqlite_file: str) -> None:
        self.conn = _sqlite(sqlite_file)

    def prepare(self) -> dict[str, int]:
        return {t: _scalar(self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()) for t in FLOOR_TABLES}

    def create_copy(self, table: str, *, bare: bool) -> None:
        import re

        self.conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
        if bare:
            self.conn.execute(f"CREATE TABLE floor_{table} AS SELECT * FROM {table} WHERE 0")
            return
        definitions = self.conn.execute(
            "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index'",
            (table,),
        ).fetchall()
        for kind, sql in definitions:
            if kind == "table":
                sql = re.sub(rf'^CREATE TABLE "?{table}"?', f"CREATE TABLE floor_{table}", sql)
            else:
                sql = re.sub(
                    rf'^CREATE (UNIQUE )?INDEX "?(\w+)"? ON "?{table}"?',
                    rf"CREATE \1INDEX floor_\2 ON floor_{table}",
                    sql,
                )
            self.conn.execute(sql)

    def load(self) -> None:
        self.conn.execute("BEGIN")
        for table in FLOOR_TABLES:
            self.conn.execute(f"INSERT INTO floor_{table} SELECT * FROM {table}")
        self.conn.execute("COMMIT")

    def close(self) -> None:
        for table in FLOOR_TABLES:
            self.conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
        self.conn.close()


def _sqlite(sqlite_file: str) -> Any:
    """A connection with the pragmas the application's engine sets (xinyong.db.engine.make_engine)."""
    import sqlite3

    conn = sqlite3.connect(sqlite_file, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _scalar(row: tuple[Any, ...] | None) -> int:
    assert row is not None
    return int(row[0])


# --- orchestration (parent process) ----------------------------------------------------------------------


def run(
    store: str,
    rows: int,
    subjects: int,
    *,
    timeout_s: float,
    profile: bool = False,
    pg_analyze: str = "auto",
) -> dict[str, Any]:
    """Generate (or reuse) the file, then: parse only, raw reference load, ingest, ingest again."""
    common.log(f"ingest/{store}: preparing {rows:,} rows about {subjects:,} subjects")
    watch = common.Stopwatch()
    csv_path = data.penalty_csv(common.VAR, rows, subjects)
    generate_s = watch.seconds
    sqlite_file = str(common.sqlite_path("ingest.db")) if store == "sqlite" else None
    prepare_store(store, sqlite_file)
    args: dict[str, Any] = {"csv_path": str(csv_path)}
    result: dict[str, Any] = {
        "store": store,
        "rows": rows,
        "subjects": subjects,
        "csv": csv_path.name,
        "csv_mb": csv_path.stat().st_size / 2**20,
        "generate_s": generate_s,
    }
    common.log(f"ingest/{store}: parse only")
    result["parse_only"] = run_phase("benchmarks.ingest:phase_parse_only", args, timeout_s)
    common.log(f"ingest/{store}: reference bulk load")
    result["reference"] = run_phase(
        "benchmarks.ingest:phase_reference", {**args, "store": store, "sqlite_file": sqlite_file}, timeout_s
    )
    emulate = False
    if store == "postgresql":
        server_autovacuum = common.pg_autovacuum_enabled()
        emulate = pg_analyze == "emulate" or (pg_analyze == "auto" and not server_autovacuum)
        result["server_autovacuum"] = server_autovacuum
        result["autoanalyze_emulated"] = emulate
    common.log(f"ingest/{store}: reference {result['reference']['rows_per_s']:,.0f} rows/s; ingest")
    analyzer = common.AutoAnalyze() if emulate else None
    if analyzer:
        analyzer.__enter__()
    try:
        result["first"] = run_phase(
            "benchmarks.ingest:phase_ingest", {**args, "store": store, "sqlite_file": sqlite_file}, timeout_s
        )
        common.log(f"ingest/{store}: first {result['first']['rows_per_s']:,.0f} rows/s; re-run")
        result["rerun"] = run_phase(
            "benchmarks.ingest:phase_ingest", {**args, "store": store, "sqlite_file": sqlite_file}, timeout_s
        )
        common.log(f"ingest/{store}: re-run {result['rerun']['rows_per_s']:,.0f} rows/s; storage floor")
        result["floor"] = run_phase(
            "benchmarks.ingest:phase_storage_floor", {"store": store, "sqlite_file": sqlite_file}, timeout_s
        )
        if profile:
            # A separate, profiled first ingest (cProfile slows it down: its time is not reported as a result).
            prepare_store(store, sqlite_file)
            profile_to = str(common.VAR / f"profile-ingest-{store}-{rows}.txt")
            run_phase(
                "benchmarks.ingest:phase_ingest",
                {**args, "store": store, "sqlite_file": sqlite_file, "profile_to": profile_to},
                timeout_s * 3,
            )
            result["profile"] = str(Path(profile_to).relative_to(common.ROOT))
    finally:
        if analyzer:
            analyzer.__exit__(None, None, None)
            result["autoanalyze_runs"] = [
                {"at_s": round(at, 1), "table": table, "changed_rows": changed}
                for at, table, changed in analyzer.analyzed
            ]
    if sqlite_file:
        common.reset_sqlite(Path(sqlite_file))  # about 2.2 GiB at full size; its size is in the result
    result["ratio_first"] = result["first"]["rows_per_s"] / result["reference"]["rows_per_s"]
    result["ratio_rerun"] = result["rerun"]["rows_per_s"] / result["reference"]["rows_per_s"]
    # The highest ratio an ingestion storing the same rows could reach if all its other work were free.
    result["ratio_ceiling"] = {
        variant: (rows / seconds) / result["reference"]["rows_per_s"]
        for variant, seconds in result["floor"]["seconds"].items()
    }
    result["wall_s"] = watch.seconds
    return result
