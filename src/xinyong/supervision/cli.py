"""`xinyong supervision …`: tiers, scope, inspectors (import), inspection plans, draws and their verification."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from xinyong.accounts.policy import SYSTEM
from xinyong.clikit import domain_errors, err_console, open_platform, today
from xinyong.db.session import transaction
from xinyong.kit.errors import ValidationFailed
from xinyong.supervision import plans, pools, publication, tiers

supervision_app = typer.Typer(
    help="分级分类监管：分档、检查对象范围、执法检查人员、抽查计划与双随机抽取", no_args_is_help=True
)
inspectors_app = typer.Typer(help="执法检查人员名录库", no_args_is_help=True)
plan_app = typer.Typer(help="抽查计划", no_args_is_help=True)
tiers_app = typer.Typer(help="信用等级 → 监管分档（抽查比例、频次）", no_args_is_help=True)
supervision_app.add_typer(inspectors_app, name="inspectors")
supervision_app.add_typer(plan_app, name="plan")
supervision_app.add_typer(tiers_app, name="tiers")


def _echo(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{name} 须为日期 YYYY-MM-DD（给出 {value}）", code="supervision.date"
        ) from None


@inspectors_app.command("import")
@domain_errors
def import_inspectors(
    path: Annotated[
        Path, typer.Argument(help="CSV 或 XLSX：姓名、执法证号、地区、回避主体", exists=True, dir_okay=False)
    ],
    department: Annotated[str, typer.Option("--department", help="部门代码")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出回执")] = False,
) -> None:
    """Import or update inspectors by 执法证号; a file with any wrong row imports nothing and lists every one."""
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions) as session, path.open("rb") as stream:
        report = pools.import_inspectors(
            session, platform.context(SYSTEM, today()), department.strip(), stream, path.name
        )
        if report.errors:
            session.rollback()
    body = report.to_json()
    if as_json:
        _echo(body)
    else:
        typer.echo(
            f"{report.rows} 行：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}"
            if not report.errors
            else f"{report.rows} 行中 {len(report.errors)} 行有误，未导入任何一行："
        )
        for error in report.errors:
            err_console.print(f"  第 {error['row']} 行 [red]{error['code']}[/red]: {error['message']}")
    if report.errors:
        raise typer.Exit(1)


@inspectors_app.command("list")
@domain_errors
def list_inspectors(
    department: Annotated[str, typer.Option("--department", help="部门代码")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions, write=False) as session:
        rows = [
            {
                "name": i.name,
                "licence_no": i.licence_no,
                "region": i.region_code,
                "conflicts": len(i.conflicts),
            }
            for i in pools.inspectors(session, department.strip())
        ]
    if as_json:
        _echo(rows)
        return
    for row in rows:
        typer.echo(f"{row['licence_no']}\t{row['name']}\t{row['region'] or ''}\t回避 {row['conflicts']}")


@tiers_app.command("show")
@domain_errors
def show_tiers(
    department: Annotated[str, typer.Option("--department", help="部门代码")],
    industry: Annotated[str, typer.Option("--industry", help="行业（可选）")] = "",
) -> None:
    """The tier table in force (the shipped one until the department saves its own)."""
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions, write=False) as session:
        tiers.department(session, department)
        force = tiers.in_force(session, department, industry)
        body = force.table.to_json() | {"version": force.version.version if force.version else None}
    _echo(body)


@tiers_app.command("set")
@domain_errors
def set_tiers(
    department: Annotated[str, typer.Option("--department", help="部门代码")],
    file: Annotated[
        Path, typer.Option("--file", help="YAML：tiers、default_tier、source", exists=True, dir_okay=False)
    ],
    industry: Annotated[str, typer.Option("--industry", help="行业（可选）")] = "",
) -> None:
    """Save a new version of the department's tier table (refused without a source)."""
    document = yaml.safe_load(file.read_text(encoding="utf-8"))
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions) as session:
        version = tiers.save(
            session, platform.context(SYSTEM, today()), department, document, industry=industry
        )
        number = version.version
    typer.echo(f"已保存第 {number} 版")


@supervision_app.command("scope")
@domain_errors
def set_scope(
    department: Annotated[str, typer.Option("--department", help="部门代码")],
    regions: Annotated[
        str, typer.Option("--regions", help="行政区划代码，逗号分隔（空：部门所在地区）")
    ] = "",
    industries: Annotated[
        str, typer.Option("--industries", help="行业代码，逗号分隔（主体有行业时适用）")
    ] = "",
    licence_items: Annotated[str, typer.Option("--licence-items", help="许可等目录事项代码，逗号分隔")] = "",
) -> None:
    """Set the department's scope of inspected subjects (检查对象名录库)."""
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions) as session:
        pools.set_scope(
            session,
            platform.context(SYSTEM, today()),
            department.strip(),
            region_codes=regions.split(","),
            industries=industries.split(","),
            licence_items=licence_items.split(","),
        )
        scope = pools.scope_of(session, department.strip())
    _echo(scope.to_json())


@plan_app.command("create")
@domain_errors
def create_plan(
    department: Annotated[str, typer.Option("--department", help="部门代码")],
    name: Annotated[str, typer.Option("--name", help="计划名称")],
    start: Annotated[str, typer.Option("--from", help="计划期间起 YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="计划期间止 YYYY-MM-DD")],
    region: Annotated[str | None, typer.Option("--region", help="限定地区（行政区划代码）")] = None,
    matters: Annotated[str, typer.Option("--matters", help="检查事项，以 ; 分隔")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """Create and publish a plan; prints the plan id, its scope, tiers, digests and the nonce's commitment."""
    first, last = _date(start, "--from"), _date(end, "--to")
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions) as session:
        plan = plans.create_plan(
            session,
            platform.context(SYSTEM, today()),
            department.strip(),
            name=name,
            period_from=first,
            period_to=last,
            region=region.strip() if region else None,
            matters=matters.replace("；", ";").split(";"),
        )
        body = plans.inputs_of(plan, plans.scope_counts(session, plan)) | {
            "inputs_digest": plan.inputs_digest
        }
    if as_json:
        _echo(body)
    else:
        typer.echo(
            f"抽查计划 {body['plan_id']}：范围 {body['scope_count']} 个主体，承诺值 {body['commitment']}"
        )


@supervision_app.command("draw")
@domain_errors
def draw(
    plan_id: Annotated[int, typer.Option("--plan", help="抽查计划编号")],
    verify: Annotated[bool, typer.Option("--verify", help="由公布的输入重算，名单相同才以 0 退出")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """Draw a plan once (a second draw is refused), or with --verify recompute it from its published inputs."""
    platform = open_platform(keys_required=False)
    if verify:
        with transaction(platform.sessions, write=False) as session:
            outcome = publication.verify(session, plans.get_plan(session, plan_id))
        if as_json:
            _echo(outcome)
        else:
            typer.echo(
                f"计划 {plan_id}：{'一致' if outcome['ok'] else '不一致'}（{outcome['drawn']} 个主体）"
            )
            for problem in outcome["problems"]:
                err_console.print(f"  [red]{problem}[/red]")
        if not outcome["ok"]:
            raise typer.Exit(1)
        return
    with transaction(platform.sessions) as session:
        plan = plans.get_plan(session, plan_id)
        plans.draw_plan(session, platform.context(SYSTEM, today()), plan.id)
        body = publication.result(session, plan)
    if as_json:
        _echo(body)
        return
    typer.echo(f"计划 {plan_id} 已抽取，种子 {body['seed']}")
    for item in body["drawn"]:
        names = "、".join(i["name"] for i in item["inspectors"])
        typer.echo(f"{item['tier']}\t{item['uscc']}\t{item['name']}\t{names}")


@supervision_app.command("published")
@domain_errors
def published(
    plan_id: Annotated[int, typer.Option("--plan", help="抽查计划编号")],
    out: Annotated[Path, typer.Option("--out", help="写到这个 JSON 文件")],
) -> None:
    """Write the plan's published document (inputs, scope list, and after the draw the nonce and the list)."""
    platform = open_platform(keys_required=False)
    with transaction(platform.sessions, write=False) as session:
        document = publication.published_document(session, plans.get_plan(session, plan_id))
    out.write_text(json.dumps(document, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    typer.echo(f"已写入 {out}")


@supervision_app.command("recompute")
@domain_errors
def recompute(
    document: Annotated[
        Path, typer.Argument(help="公布的 JSON 文件（xinyong supervision published）", exists=True)
    ],
) -> None:
    """Recompute a draw from a published document alone (no database): the department's (`published`) or the
    portal's `inputs.json` when it holds the scope (grades public); exits 0 only on an identical list."""
    try:
        body = json.loads(document.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationFailed(f"文件不是 UTF-8 JSON：{error}", code="supervision.document_invalid") from None
    outcome = publication.check_document(body)
    _echo(outcome)
    if not outcome["ok"]:
        raise typer.Exit(1)
