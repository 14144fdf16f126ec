"""A Parquet snapshot of exactly what the evaluation models read, for engines that run away from the store.

`write_snapshot` writes one Parquet file per input table of the compiler (`compiler.INPUT_COLUMNS`), holding
those columns and no other, streamed from the store in chunks with pyarrow so memory stays flat whatever the
size of the credit file. JSON columns (a record's `fields`) are written as JSON text, dates as Parquet dates.
A `manifest.json` beside the files says when the snapshot was taken, which schema revision it comes from and
how many rows each table has; a reader (the Spark engine) checks it before trusting the files.

Nothing identifying a natural person leaves this way: a column whose name belongs to a resident ID (its
hash, cipher or mask) or to a name or contact is refused even if a model asked for it, and the export never
reads a column that `INPUT_COLUMNS` does not name. pyarrow is an optional dependency (the `spark` extra).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Table,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Session

from xinyong.commitments import models as _commitments  # noqa: F401 - the input tables, in the metadata
from xinyong.db.base import Base
from xinyong.evaluation import models as _evaluation  # noqa: F401
from xinyong.evaluation.compiler import INPUT_COLUMNS
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.errors import ValidationFailed
from xinyong.lists import models as _lists  # noqa: F401
from xinyong.records import models as _records  # noqa: F401
from xinyong.subjects import models as _subjects  # noqa: F401

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST = "manifest.json"
FORMAT = 1  # the snapshot layout this module writes and the Spark engine reads
CHUNK_ROWS = 50_000
# Columns that identify or reach a person: never exported, whatever a model's input list says.
FORBIDDEN_COLUMNS = frozenset(
    {
        "id_hash",
        "id_cipher",
        "id_masked",
        "resident_id",
        "name",
        "name_norm",
        "core_name",
        "legal_rep",
        "phone",
        "email",
        "address",
    }
)


class SnapshotError(ValidationFailed):
    """A snapshot that cannot be written or read as asked."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    directory: Path
    taken_at: dt.datetime
    schema_revision: str | None
    rows: dict[str, int]
    field_keys: list[str] | None = None  # the record fields kept (None: all)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "taken_at": self.taken_at.isoformat(),
            "schema_revision": self.schema_revision,
            "field_keys": self.field_keys,
            "tables": {
                name: {"file": f"{name}.parquet", "rows": self.rows[name], "columns": INPUT_COLUMNS[name]}
                for name in INPUT_COLUMNS
            },
        }


def _pa() -> Any:
    try:
        import pyarrow as pa  # optional dependency, loaded only for a snapshot
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the installation
        raise SnapshotError(
            "Parquet 快照需要 pyarrow（pip install 'xinyong[spark]'）", code="export.pyarrow_missing"
        ) from None
    return pa, pq


def _arrow_type(column: Column[Any]) -> pa.DataType:
    pa, _ = _pa()
    kind = column.type
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Float | Numeric):
        return pa.float64()
    if isinstance(kind, DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(kind, Date):
        return pa.date32()
    return pa.string()  # strings, enums and JSON (as text)


def input_tables(columns: Mapping[str, Sequence[str]] = INPUT_COLUMNS) -> dict[str, list[Column[Any]]]:
    """The ORM columns of each input table, checked: known tables and columns, none identifying a person."""
    found: dict[str, list[Column[Any]]] = {}
    for table_name, names in columns.items():
        table = Base.metadata.tables.get(table_name)
        if not isinstance(table, Table):
            raise SnapshotError(f"输入表“{table_name}”不存在", code="export.unknown_table")
        refused = sorted(set(names) & FORBIDDEN_COLUMNS)
        if refused:
            raise SnapshotError(
                f"输入表“{table_name}”的列 {', '.join(refused)} 涉及身份信息，不能导出",
                code="export.forbidden_column",
            )
        missing = [n for n in names if n not in table.c]
        if missing:
            raise SnapshotError(
                f"输入表“{table_name}”没有列 {', '.join(missing)}", code="export.unknown_column"
            )
        found[table_name] = [table.c[n] for n in names]
    return found


def _schema_revision(session: Session) -> str | None:
    if not inspect(session.connection()).has_table("alembic_version"):  # a store made by create_all
        return None
    revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


def model_field_keys(models: Iterable[ModelFile]) -> list[str]:
    """The keys of a record's `fields` the models read (amounts, field conditions, external grades)."""
    keys: set[str] = set()
    for model in models:
        for indicator in model.indicators:
            feature = indicator.feature
            for name in ("amount_field", "field", "valid_until_field"):
                value = getattr(feature, name, None)
                if isinstance(value, str):
                    keys.add(value)
            keys.update(getattr(feature, "field_equals", None) or {})
            keys.update(getattr(feature, "field_in", None) or {})
    return sorted(keys)


def _plain(column: Column[Any], value: Any, field_keys: Collection[str] | None) -> Any:
    if value is None:
        return None
    if isinstance(column.type, JSON):
        if field_keys is not None and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in field_keys}
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(column.type, DateTime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    if isinstance(column.type, Date) and isinstance(value, str):  # SQLite text dates read raw
        return dt.date.fromisoformat(value)
    if isinstance(column.type, Numeric | Float):
        return float(value)
    if not isinstance(value, bool | int | float | dt.date | str):  # enums
        return str(value.value if hasattr(value, "value") else value)
    return value


def _batches(
    session: Session,
    columns: list[Column[Any]],
    schema: pa.Schema,
    chunk_rows: int,
    field_keys: Collection[str] | None,
) -> Iterator[pa.RecordBatch]:
    pa, _ = _pa()
    table = columns[0].table
    key = next(iter(table.primary_key.columns))
    query = select(*columns).order_by(key).execution_options(stream_results=True, yield_per=chunk_rows)
    for part in session.execute(query).partitions(chunk_rows):
        values = [[_plain(c, row[i], field_keys) for row in part] for i, c in enumerate(columns)]
        yield pa.RecordBatch.from_arrays(
            [pa.array(v, type=schema.field(i).type) for i, v in enumerate(values)], schema=schema
        )


def write_snapshot(
    session: Session,
    out: Path,
    *,
    columns: Mapping[str, Sequence[str]] = INPUT_COLUMNS,
    chunk_rows: int = CHUNK_ROWS,
    field_keys: Collection[str] | None = None,
    now: dt.datetime | None = None,
) -> Snapshot:
    """Write the input tables to `out` (created; existing snapshot files replaced) and return the manifest.

    `field_keys` keeps only those keys of a record's `fields` (`model_field_keys` of the models to run): what
    no model reads does not leave the store.

    Reads in one transaction, so the tables are consistent with each other on PostgreSQL (repeatable read
    is the caller's choice of isolation); each file is written beside and renamed into place when complete."""
    _, pq = _pa()
    tables = input_tables(columns)
    out.mkdir(parents=True, exist_ok=True)
    taken_at = now or dt.datetime.now(dt.UTC)
    revision = _schema_revision(session)
    rows: dict[str, int] = {}
    pa, _ = _pa()
    for name, cols in tables.items():
        schema = pa.schema([pa.field(c.name, _arrow_type(c)) for c in cols])
        target = out / f"{name}.parquet"
        partial = out / f".{name}.parquet.part"
        count = 0
        with pq.ParquetWriter(partial, schema, compression="zstd") as writer:
            for batch in _batches(session, cols, schema, chunk_rows, field_keys):
                writer.write_batch(batch)
                count += batch.num_rows
        os.replace(partial, target)
        rows[name] = count
    keys = None if field_keys is None else sorted(field_keys)
    snapshot = Snapshot(out, taken_at, revision, rows, keys)
    (out / MANIFEST).write_text(json.dumps(snapshot.to_json(), ensure_ascii=False, indent=2), "utf-8")
    return snapshot


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a snapshot, checked against the tables and columns the compiler reads now."""
    path = directory / MANIFEST
    if not path.is_file():
        raise SnapshotError(f"{directory} 不是 Parquet 快照（缺少 {MANIFEST}）", code="export.no_manifest")
    manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    if manifest.get("format") != FORMAT:
        raise SnapshotError(f"快照格式 {manifest.get('format')!r} 不受支持", code="export.bad_format")
    tables = manifest.get("tables", {})
    for name, cols in INPUT_COLUMNS.items():
        entry = tables.get(name)
        if entry is None or entry.get("columns") != cols or not (directory / entry["file"]).is_file():
            raise SnapshotError(f"快照缺少或过时的表“{name}”，请重新导出", code="export.stale_snapshot")
    return manifest


def check_covers(manifest: Mapping[str, Any], model: ModelFile) -> None:
    """Refuse a snapshot whose record fields leave out a key the model reads (taken for other models)."""
    kept = manifest.get("field_keys")
    if kept is None:
        return
    missing = sorted(set(model_field_keys([model])) - set(kept))
    if missing:
        raise SnapshotError(
            f"快照未包含模型“{model.code}”所需的字段 {', '.join(missing)}，请重新导出",
            code="export.stale_snapshot",
        )
