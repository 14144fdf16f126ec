"""`xinyong demo seed`: a deterministic synthetic Sichuan, loaded through ingestion."""

from __future__ import annotations

import logging
import time
from types import TracebackType

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import text

from xinyong.clikit import err_console, open_platform, today
from xinyong.db.session import transaction

demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
log = logging.getLogger("xinyong.demo")

STAGES = {
    "registrations": "登记注册信息",
    "records": "其他信用信息",
    "accounts": "演示账户与授权",
    "articles": "典型案例与诚信文章",
    "supervision": "名单、核查与反馈",
    "repairs": "信用修复与异议",
    "commitments": "信用承诺与核查",
    "voluntary": "自愿注册信息",
    "evaluation": "公共信用综合评价",
    "inspections": "双随机抽查、约谈与培训",
    "statistics": "统计汇总",
}


class SeedProgress:
    """How far seeding is: on a terminal a rich progress bar per stage (rows, elapsed, remaining); elsewhere
    (a log file, CI, a pipe) one log line per stage when it ends, with what it did and how long it took."""

    def __init__(self, console: Console, *, bars: bool | None = None) -> None:
        self.console = console
        self.bars = console.is_terminal if bars is None else bars
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.stage: str | None = None
        self.started = 0.0
        self.done = 0
        self.lines: list[str] = []

    def __enter__(self) -> SeedProgress:
        if self.bars:
            self.progress = Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                TextColumn("{task.completed:>9,}/{task.total:,}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.finish()
        if self.progress is not None:
            self.progress.stop()

    def start(self, stage: str, total: int = 1) -> None:
        """A new stage of ``total`` units (rows; 1 for a stage done in one step); the previous one ends."""
        self.finish()
        self.stage, self.started, self.done = stage, time.perf_counter(), 0
        if self.progress is not None:
            self.task = self.progress.add_task(STAGES[stage], total=max(total, 1))

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, amount)

    def finish(self, summary: str | None = None) -> None:
        """End the current stage (if any), saying what it did."""
        if self.stage is None:
            return
        if self.progress is not None and self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total)
        what = summary if summary is not None else f"{self.done:,} rows"
        line = f"{self.stage} ({STAGES[self.stage]}): {what} in {time.perf_counter() - self.started:.0f} s"
        self.lines.append(line)
        if not self.bars:
            log.info("demo seed: %s", line)
        self.stage = None


@demo_app.command("seed")
def seed(
    scale: float = typer.Option(
        1.0, "--scale", min=0.001, max=100, help="1.0 ≈ 20,000 subjects, 200,000 records."
    ),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has records."
    ),
) -> None:
    """Seed demo departments, subjects and records (real region codes, valid USCCs and resident IDs).

    Shows a progress bar per stage on a terminal, and logs one line per stage otherwise.
    """
    from xinyong.accounts.policy import SYSTEM
    from xinyong.content.demo import seed_articles
    from xinyong.demo import service
    from xinyong.demo.authorizations import seed_authorizations
    from xinyong.demo.breaches import seed_breach
    from xinyong.demo.commitments import seed_commitments
    from xinyong.demo.registrations import seed_registrations
    from xinyong.demo.repair import seed_repair
    from xinyong.demo.supervision import seed_supervision
    from xinyong.demo.supervision_plans import seed_supervision_plans
    from xinyong.evaluation import service as evaluation
    from xinyong.monitoring import service as monitoring

    platform = open_platform()
    if not platform.settings.demo_mode:
        err_console.print("[red]demo.refused[/red]: demo data is only allowed with XINYONG_DEMO_MODE=true")
        raise typer.Exit(1)
    with transaction(platform.sessions) as session:
        if if_empty and service.is_seeded(session):
            service.refresh_accounts(session)
            seed_authorizations(session, platform.context(SYSTEM, today()), service.DEMO_PASSWORD)
            typer.echo("database already has records; demo seed skipped")
            return
    progress = SeedProgress(err_console)
    if not progress.bars:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
        log.setLevel(logging.INFO)
    started = time.perf_counter()
    totals = {"accepted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "queued": 0}
    day = today()
    with transaction(platform.sessions) as session, progress:

        def on_batch(batch: object, receipt: object) -> None:
            session.commit()
            for key in totals:
                totals[key] += getattr(receipt, key)
            progress.advance(len(batch.rows))  # type: ignore[attr-defined]

        service.seed(
            session,
            platform.ingest_context(day),
            scale=scale,
            on_batch=on_batch,
            on_plan=lambda part, rows: progress.start(part, rows),
        )
        progress.start("accounts")
        users = service.seed_accounts(session, platform.ingest_context(day))
        granted = seed_authorizations(session, platform.context(SYSTEM, day), service.DEMO_PASSWORD)
        progress.finish(f"{len(users)} accounts, {granted} authorizations")
        progress.start("articles")
        articles = seed_articles(session, SYSTEM, day)
        progress.finish(f"{articles} articles")
        progress.start("supervision")
        history = seed_supervision(session, platform.context(SYSTEM, day), scale=scale)
        progress.finish(f"{history['entries']} list entries, {history['checks']} checks")
        progress.start("repairs")
        repairs = seed_repair(session, platform, day)
        seed_breach(session, platform, day)  # a commitment breach, its record and the check it triggers
        progress.finish(f"{repairs['applications']} repair applications, {repairs['objections']} objections")
        progress.start("commitments")
        made = seed_commitments(session, platform, day)
        progress.finish(f"{made['commitments']} commitments, {made['decided']} verified")
        progress.start("voluntary")
        registered = seed_registrations(session, platform, day)
        progress.finish(f"{registered['entries']} voluntary registrations")
        progress.start("evaluation")
        # Every shipped model, input models first: each demo company gets a grade with its explanation.
        models = evaluation.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
        graded = evaluation.run_all(session, models, day)
        progress.finish(f"{graded} grades")
        progress.start("inspections")
        inspected = seed_supervision_plans(session, platform, day)
        progress.finish(
            f"{inspected['plans']} inspection plans, {inspected['drawn']} drawn, {inspected['results']} results, "
            f"{inspected['tasks']} interview and training tasks"
        )
        progress.start("statistics")
        if session.get_bind().dialect.name == "postgresql":
            # The planner's statistics for every table the seed filled (the ingest keeps only those its own
            # look-ups need): without them PostgreSQL sorts a whole item's records for the home page's six
            # latest (260 ms at demo scale) instead of walking the (item, decision date) index (1 ms).
            session.execute(text("ANALYZE"))
        # The statistics pages read aggregates the daily job keeps; compute them now so they show the demo.
        stored = monitoring.refresh(session, platform.calendar, day)
        progress.finish(f"{stored} aggregates")
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
        with transaction(platform.sessions) as session:
            every = service.demo_usernames(session)  # with those other stages made (agency, bank)
        typer.echo(f"demo accounts (password {service.DEMO_PASSWORD}, demo mode only): {', '.join(every)}")
