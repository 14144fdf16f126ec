"""`xinyong evaluate`: run a model (full or incremental, on the store or on Spark), export a run's results,
list the models."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.clikit import domain_errors, err_console, open_platform, today
from xinyong.db.session import transaction
from xinyong.evaluation import service
from xinyong.evaluation.rules import ModelFileError
from xinyong.evaluation.schemas import ModelFile
from xinyong.platform import Platform

evaluate_app = typer.Typer(help="公共信用综合评价：运行评价模型、导出结果、列出模型", no_args_is_help=True)
console = Console()


def _models(platform: Platform) -> dict[str, ModelFile]:
    try:
        with transaction(platform.sessions, write=False) as session:
            return service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    except ModelFileError as exc:
        for path, message in exc.errors:
            err_console.print(
                f"[red]evaluation.model_invalid[/red]: {exc.filename}: {path}: {message}", soft_wrap=True
            )
        raise typer.Exit(1) from None


def spark_features(snapshot: Path) -> service.FeatureRows:
    """Feature rows computed by Spark (local mode) over a Parquet snapshot (`xinyong export parquet`)."""
    # Optional: needs pyspark and Java; imported by name so that the store's engines need neither.
    spark = importlib.import_module("xinyong.evaluation.spark")

    def rows(
        model: ModelFile, as_of: dt.date, subject_ids: Collection[int] | None
    ) -> Iterable[Mapping[str, Any]]:
        found = spark.run_features_spark(model, as_of, snapshot)
        if subject_ids is None:
            return list(found)
        wanted = set(subject_ids)
        return [row for row in found if int(row["subject_id"]) in wanted]

    return rows


@evaluate_app.command("run")
@domain_errors
def run_command(
    model: Annotated[str, typer.Option("--model", help="模型代码，如 public_comprehensive")],
    engine: Annotated[
        str | None, typer.Option(help="sqlite | postgresql | spark（默认：数据所在的库）")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="数据截止日 YYYY-MM-DD（默认今天）")] = None,
    incremental: Annotated[bool, typer.Option("--incremental", help="只重评输入有变化的主体")] = False,
    snapshot: Annotated[Path | None, typer.Option(help="Spark 引擎读取的 Parquet 快照目录")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出回执")] = False,
) -> None:
    """Run an evaluation model and print its receipt."""
    platform = open_platform(keys_required=False)
    day = _day(as_of)
    models = _models(platform)
    chosen = service.get_model(models, model.strip())
    features = None
    if engine == "spark":
        features = spark_features(snapshot or platform.settings.data_dir / "parquet")
    with (
        transaction(platform.sessions) as session,
        Progress(
            TextColumn("评价 {task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} 个主体"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task(chosen.code, total=None)
        receipt = service.run(
            session,
            chosen,
            as_of=day,
            engine=engine,
            incremental=incremental,
            features=features,
            progress=lambda n: progress.advance(task, n),
        )
    if as_json:
        typer.echo(json.dumps(receipt.to_json(), ensure_ascii=False))
        return
    kind = "增量" if receipt.incremental else "全量"
    console.print(
        f"评价批次 {receipt.run_id}：{receipt.model} {receipt.model_version}（{kind}，{receipt.engine}，"
        f"截止 {receipt.as_of}）评价 {receipt.subjects} 个主体，用时 {receipt.duration_s} 秒"
    )
    for grade, count in receipt.grade_counts.items():
        console.print(f"  {grade}: {count}")


def _day(text: str | None) -> dt.date:
    if text is None:
        return today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        err_console.print("[red]evaluation.bad_date[/red]: 日期格式应为 YYYY-MM-DD")
        raise typer.Exit(2) from None


@evaluate_app.command("results")
@domain_errors
def results_command(
    run_id: Annotated[int, typer.Argument(help="评价批次号")],
    out: Annotated[Path, typer.Option("--out", help="输出的 CSV 文件")],
) -> None:
    """Write a run's results as CSV: uscc, score, grade, then each indicator's points."""
    platform = open_platform(keys_required=False)
    models = _models(platform)
    with transaction(platform.sessions, write=False) as session:
        run = service.get_run(session, run_id)
        model = service.get_model(models, run.model_code)
        with out.open("w", encoding="utf-8", newline="") as handle:
            count = service.write_results_csv(session, model, run_id, handle)
    console.print(f"已写出 {count} 行：{out}")


@evaluate_app.command("models")
@domain_errors
def models_command(as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """List the evaluation models and their versions."""
    platform = open_platform(keys_required=False)
    models = _models(platform)
    listed = [service.summary(m).model_dump() for m in models.values()]
    if as_json:
        typer.echo(json.dumps(listed, ensure_ascii=False))
        return
    for item in listed:
        console.print(
            f"{item['code']} {item['version']}  {item['name']}（{'、'.join(item['subject_kinds'])}）"
        )
