"""`xinyong export parquet`: the Parquet snapshot the Spark engine of the evaluation reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from xinyong.accounts.policy import SYSTEM
from xinyong.audit import service as audit
from xinyong.clikit import domain_errors, open_platform
from xinyong.db.session import transaction
from xinyong.evaluation import export, service

export_app = typer.Typer(help="导出数据快照（供 Spark 引擎计算评价）", no_args_is_help=True)


@export_app.command("parquet")
@domain_errors
def parquet_command(
    out: Annotated[Path, typer.Option("--out", help="快照目录（不存在则创建）")],
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1000, help="每批读取的行数")
    ] = export.CHUNK_ROWS,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出清单")] = False,
) -> None:
    """Write the evaluation's input tables (exactly the columns, and record fields, the models read) as Parquet,
    with a manifest."""
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions, write=False) as session:
        models = service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
        keys = export.model_field_keys(models.values())
        snapshot = export.write_snapshot(session, out, chunk_rows=chunk_rows, field_keys=keys)
    with transaction(platform.sessions) as session:
        audit.record(
            session,
            SYSTEM,
            "evaluation.export_parquet",
            target=str(out)[:200],
            details={"rows": snapshot.rows, "schema_revision": snapshot.schema_revision},
        )
    if as_json:
        typer.echo(json.dumps(snapshot.to_json(), ensure_ascii=False))
        return
    typer.echo(f"快照已写入 {out}（{snapshot.taken_at:%Y-%m-%d %H:%M:%S} UTC）")
    for name, count in snapshot.rows.items():
        typer.echo(f"  {name}: {count:,} 行")
