"""Shared plumbing: where benchmark data lives, the benchmark database, timing and percentiles."""

from __future__ import annotations

import datetime as dt
import math
import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"  # git-ignored
DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS = VAR / "results.json"

# The benchmark database: never the test suite's `test`. Override host/user with XINYONG_BENCH_PG_SERVER.
PG_SERVER = os.environ.get("XINYONG_BENCH_PG_SERVER", "postgres@127.0.0.1:5432")
PG_DATABASE = "xinyong_bench"
TODAY = dt.date(2026, 11, 28)  # the ingest "today": every generated decision date is before it
DEPARTMENT = {"code": "SCMR", "name": "四川省市场监督管理局", "region_code": "510000"}


def pg_dsn(database: str = PG_DATABASE) -> str:
    """A libpq URL for psycopg."""
    return f"postgresql://{PG_SERVER}/{database}"


def pg_url() -> str:
    """The SQLAlchemy URL of the benchmark database."""
    return f"postgresql+psycopg://{PG_SERVER}/{PG_DATABASE}"


def sqlite_path(name: str) -> Path:
    VAR.mkdir(parents=True, exist_ok=True)
    return VAR / name


def ensure_pg_database() -> None:
    """Create the benchmark database if it is missing (the maintenance database `postgres` is only read)."""
    import psycopg

    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def reset_pg_schema() -> None:
    """Start from nothing: drop and recreate the public schema of the benchmark database."""
    import psycopg

    ensure_pg_database()
    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def reset_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def load_average() -> float:
    return os.getloadavg()[0]


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the value below which pct % of the samples fall)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
        "mean_ms": sum(ms) / len(ms) if ms else float("nan"),
    }


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def pg_autovacuum_enabled() -> bool:
    import psycopg

    with psycopg.connect(pg_dsn("postgres")) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return bool(row and row[0] == "on")


class AutoAnalyze:
    """Does what PostgreSQL's autovacuum launcher does for statistics, for the benchmark database only.

    The CI server configuration (conf.d/90-ci.conf) turns autovacuum off for the whole server; a deployed
    server has it on with the defaults. Without statistics the planner never learns that `subjects` grew and
    keeps choosing sequential scans for ingestion's `IN (...)` look-ups, so ingestion slows quadratically.
    Every `naptime` seconds this ANALYZEs each table whose changes since its last analyze exceed
    autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples (the server's own settings).
    """

    def __init__(self, naptime_s: float = 60.0) -> None:
        import threading

        self.naptime_s = naptime_s
        self.analyzed: list[tuple[float, str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="autoanalyze", daemon=True)
        self._start = time.perf_counter()

    def __enter__(self) -> AutoAnalyze:
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _loop(self) -> None:
        import psycopg

        while not self._stop.wait(self.naptime_s):
            try:
                with psycopg.connect(pg_dsn(), autocommit=True) as conn:
                    threshold = conn.execute(
                        "SELECT current_setting('autovacuum_analyze_threshold')::int,"
                        " current_setting('autovacuum_analyze_scale_factor')::float"
                    ).fetchone()
                    assert threshold is not None
                    due = conn.execute(
                        """
                        SELECT s.relname, s.n_mod_since_analyze FROM pg_stat_user_tables s
                        JOIN pg_class c ON c.oid = s.relid
                        WHERE s.schemaname = 'public'
                          AND s.n_mod_since_analyze > %s + %s * greatest(c.reltuples, 0)
                        """,
                        threshold,
                    ).fetchall()
                    for table, changed in due:
                        if self._stop.is_set():
                            return
                        conn.execute(f'ANALYZE "{table}"')
                        self.analyzed.append((time.perf_counter() - self._start, table, int(changed)))
            except psycopg.Error as exc:  # the benchmark goes on; the report shows what was analyzed
                log(f"autoanalyze: {exc.__class__.__name__}: {exc}")


class SourceSnapshot:
    """Which application code a measured step ran: other people edit src/ while a run goes on.

    The contents of src/xinyong are read when the step starts; `digest()` at its end hashes the start-time
    contents of the modules the step actually imported, plus the shipped data files (catalog, rule sets).
    """

    def __init__(self) -> None:
        self.src = ROOT / "src" / "xinyong"
        self.files = {
            path: path.read_bytes()
            for path in sorted(self.src.rglob("*"))
            if path.is_file() and path.suffix in (".py", ".yaml") and "__pycache__" not in path.parts
        }

    def digest(self) -> str:
        import hashlib
        import sys

        used = {path for path in self.files if path.suffix == ".yaml"}
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().is_relative_to(self.src):
                used.add(Path(file).resolve())
        digest = hashlib.sha256()
        for path in sorted(used):
            digest.update(str(path.relative_to(self.src)).encode())
            digest.update(self.files.get(path, b"?"))
        return digest.hexdigest()[:12]


def git_head() -> str:
    """The checked-out commit, read from .git (no git command is run); '' when unknown."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()[:12]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    except OSError:
        pass
    return ""
