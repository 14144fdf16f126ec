"""`xinyong jobs run`: the daily batch work, each part idempotent (safe to re-run, resumes by re-running)."""

from __future__ import annotations

import typer

from xinyong.clikit import open_platform, today

jobs_app = typer.Typer(help="Scheduled work.", no_args_is_help=True)


@jobs_app.command("run")
def run() -> None:
    """Run the daily jobs: propose listings from escalation rules; note publicity windows that ended."""
    from xinyong.db.session import transaction
    from xinyong.disclosure import jobs as disclosure_jobs
    from xinyong.lists import jobs as list_jobs

    platform = open_platform()
    day = today()
    with transaction(platform.sessions) as session:
        proposed = list_jobs.propose_escalations(
            session,
            list_jobs.load_rules(platform.settings.data_dir),
            today=day,
            credit_office=platform.settings.credit_office_department,
        )
    typer.echo(f"escalation: {proposed} subjects proposed for listing")
    with transaction(platform.sessions) as session:  # its own transaction: one job failing keeps the other
        ended = disclosure_jobs.end_publicity(session, day)
    typer.echo(f"disclosure: {ended} publicity windows ended")
