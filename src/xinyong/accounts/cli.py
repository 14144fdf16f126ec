"""`xinyong departments`: the provider department registry."""

from __future__ import annotations

import json

import typer

from xinyong.accounts import service
from xinyong.clikit import domain_errors, open_platform
from xinyong.db.session import transaction

departments_app = typer.Typer(help="Provider departments (数据提供单位).", no_args_is_help=True)


@departments_app.command("add")
@domain_errors
def add(
    code: str = typer.Option(..., "--code", help="Stable department code, e.g. SCMR."),
    name: str = typer.Option(..., "--name", help="Chinese name."),
    uscc: str | None = typer.Option(None, "--uscc", help="The department's USCC."),
    region: str | None = typer.Option(None, "--region", help="Administrative division code."),
    parent: str | None = typer.Option(None, "--parent", help="Parent department code."),
) -> None:
    """Register a provider department."""
    with transaction(open_platform().sessions) as session:
        department = service.add_department(
            session, code=code, name=name, uscc=uscc, region_code=region, parent_code=parent
        )
        typer.echo(f"added {department.code} {department.name}")


@departments_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List provider departments."""
    with transaction(open_platform().sessions) as session:
        rows = [
            {
                "code": d.code,
                "name": d.name,
                "uscc": d.uscc,
                "region_code": d.region_code,
                "parent_code": d.parent_code,
            }
            for d in service.list_departments(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            typer.echo(f"{row['code']:<12} {row['name']}  {row['region_code'] or ''}")
