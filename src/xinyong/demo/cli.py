"""`xinyong demo seed`: a deterministic synthetic Sichuan, loaded through ingestion."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.clikit import err_console, open_platform, today
from xinyong.db.session import transaction

demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)


@demo_app.command("seed")
def seed(
    scale: float = typer.Option(
        1.0, "--scale", min=0.001, max=100, help="1.0 ≈ 20,000 subjects, 200,000 records."
    ),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has records."
    ),
) -> None:
    """Seed demo departments, subjects and records (real region codes, valid USCCs and resident IDs)."""
    from xinyong.accounts.policy import SYSTEM
    from xinyong.content.demo import seed_articles
    from xinyong.demo import service
    from xinyong.demo.repair import seed_repair
    from xinyong.demo.supervision import seed_supervision

    platform = open_platform()
    if not platform.settings.demo_mode:
        err_console.print("[red]demo.refused[/red]: demo data is only allowed with XINYONG_DEMO_MODE=true")
        raise typer.Exit(1)
    with transaction(platform.sessions) as session:
        if if_empty and service.is_seeded(session):
            typer.echo("database already has records; demo seed skipped")
            return
    started = time.perf_counter()
    totals = {"accepted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "queued": 0}
    with (
        transaction(platform.sessions) as session,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} 行"),
            TimeElapsedColumn(),
            console=err_console,
        ) as progress,
    ):
        task = progress.add_task("生成并归集演示数据", total=None)

        def on_batch(batch: object, receipt: object) -> None:
            session.commit()
            for key in totals:
                totals[key] += getattr(receipt, key)
            progress.advance(task, len(batch.rows))  # type: ignore[attr-defined]

        service.seed(session, platform.ingest_context(today()), scale=scale, on_batch=on_batch)
        users = service.seed_accounts(session, platform.ingest_context(today()))
        seed_articles(session, SYSTEM, today())
        history = seed_supervision(session, platform.ingest_context(today()), platform.signer, scale=scale)
        repairs = seed_repair(session, platform, today())
    typer.echo(
        "demo seeded in {:.0f}s: accepted {accepted}, updated {updated}, unchanged {unchanged}, "
        "rejected {rejected}, queued for review {queued}".format(time.perf_counter() - started, **totals)
    )
    typer.echo(f"list entries {history['entries']}, checks {history['checks']}")
    typer.echo(
        f"repair applications {repairs['applications']} ({repairs['sampled']} drawn for re-check), "
        f"objections {repairs['objections']} ({repairs['escalated']} escalated)"
    )
    if users:
        typer.echo(f"demo accounts (password {service.DEMO_PASSWORD}, demo mode only): {', '.join(users)}")
