"""The Spark engine: a model's feature query run by Apache Spark (PySpark) over a Parquet snapshot.

The snapshot (`xinyong export parquet --out DIR`, see `evaluation.export`) holds the compiler's input tables
under their own names; each is registered as a temporary view of that name, so the very query the compiler
generates in the `spark` dialect runs unchanged. The feature rows go back to the same Python scoring as the
SQLite and PostgreSQL engines (`service.run(..., features=spark_feature_rows(...))`).

The session is local (`local[2]` by default), binds to 127.0.0.1, has no web UI and fetches nothing: Spark's
jars ship inside the PySpark wheel and Java comes from the system (Debian's `default-jre-headless`). PySpark
is an optional dependency (the `spark` extra).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xinyong.evaluation import compiler
from xinyong.evaluation.export import SnapshotError, check_covers, read_manifest
from xinyong.evaluation.schemas import ModelFile

SUBJECT_CHUNK = 5000  # subjects per restricted query (incremental runs)


def java_available() -> bool:
    """Whether a Java runtime is there to start Spark (JAVA_HOME or `java` on the PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return True
    return shutil.which("java") is not None


def _pyspark() -> Any:
    try:
        from pyspark.sql import SparkSession  # optional dependency
    except ImportError:  # pragma: no cover - depends on the installation
        raise SnapshotError(
            "Spark 引擎需要 PySpark（pip install 'xinyong[spark]'）", code="evaluation.pyspark_missing"
        ) from None
    return SparkSession


# Small data (tests, a province's demo): what costs is not the data but Spark's own work per query — adaptive
# re-planning, generating and compiling Java code for each stage, and the JVM's optimising JIT warming up on
# code that runs once. Off for small data; results are the same.
SMALL_DATA = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
}


def local_session(
    *, cores: int = 2, memory: str = "1g", shuffle_partitions: int | None = None, small_data: bool = False
) -> Any:
    """A local SparkSession that stays on this machine: no UI, loopback only, its scratch in a temp dir.
    `small_data`: the settings of `SMALL_DATA` (much faster on thousands of rows, slower on millions)."""
    if not java_available():
        raise SnapshotError("Spark 引擎需要 Java 运行环境（default-jre-headless）", code="evaluation.no_java")
    spark_session = _pyspark()
    scratch = tempfile.mkdtemp(prefix="xinyong-spark-")
    builder = (
        spark_session.builder.master(f"local[{cores}]")
        .appName("xinyong-evaluation")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", memory)
        .config("spark.local.dir", scratch)
        .config("spark.sql.warehouse.dir", str(Path(scratch) / "warehouse"))
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or cores * 2))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
    )
    for key, value in (SMALL_DATA if small_data else {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def spark_session(**options: Any) -> Iterator[Any]:
    """A local session for the duration of a block, stopped afterwards."""
    session = local_session(**options)
    scratch = session.conf.get("spark.local.dir")
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def register_snapshot(session: Any, snapshot_dir: Path) -> dict[str, Any]:
    """Register each table of the snapshot as a temporary view of the same name; returns the manifest."""
    manifest = read_manifest(snapshot_dir)
    for name, entry in manifest["tables"].items():
        session.read.parquet(str(snapshot_dir / entry["file"])).createOrReplaceTempView(name)
    return manifest


def _rows(session: Any, sql: str) -> Iterator[dict[str, Any]]:
    for row in session.sql(sql).toLocalIterator():
        yield row.asDict()


def feature_rows(
    session: Any, model: ModelFile, as_of: dt.date, subject_ids: Collection[int] | None = None
) -> Iterator[dict[str, Any]]:
    """The model's feature rows computed by Spark on the views already registered in `session`."""
    if subject_ids is None:
        yield from _rows(session, compiler.feature_query(model, as_of=as_of, dialect="spark"))
        return
    ids = sorted(subject_ids)
    for start in range(0, len(ids), SUBJECT_CHUNK):
        chunk = ids[start : start + SUBJECT_CHUNK]
        yield from _rows(
            session, compiler.feature_query(model, as_of=as_of, dialect="spark", subject_ids=chunk)
        )


def spark_feature_rows(
    session: Any, snapshot_dir: Path
) -> Callable[[ModelFile, dt.date, Collection[int] | None], Iterable[Mapping[str, Any]]]:
    """The `features` argument of `service.run` for the Spark engine over a snapshot."""
    manifest = register_snapshot(session, snapshot_dir)

    def rows(
        model: ModelFile, as_of: dt.date, subject_ids: Collection[int] | None
    ) -> Iterable[Mapping[str, Any]]:
        check_covers(manifest, model)
        return feature_rows(session, model, as_of, subject_ids)

    return rows


def run_features_spark(model: ModelFile, as_of: dt.date, snapshot_dir: Path) -> list[dict[str, Any]]:
    """Every applicable subject's feature row, computed by a local Spark session over the snapshot. A directory
    that is not a snapshot, or one without what the model reads, is refused before Spark starts."""
    check_covers(read_manifest(snapshot_dir), model)
    with spark_session() as session:
        register_snapshot(session, snapshot_dir)
        return list(feature_rows(session, model, as_of))
