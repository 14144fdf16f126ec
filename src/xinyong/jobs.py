"""The daily jobs: `xinyong jobs run`, and a scheduler thread inside `xinyong serve`.

Each part runs in its own transaction and is idempotent (safe to re-run; an interrupted run resumes by
running again), so one part failing keeps the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import typer
from sqlalchemy.orm import Session

from xinyong.accounts.policy import SYSTEM
from xinyong.clikit import open_platform, today
from xinyong.db.session import transaction
from xinyong.kit.dates import CHINA
from xinyong.platform import Platform

log = logging.getLogger(__name__)
jobs_app = typer.Typer(help="Scheduled work.", no_args_is_help=True)


@dataclass(frozen=True, slots=True)
class Explained:
    """A part's count with lines that explain it (printed under the part's line and logged)."""

    count: int
    lines: list[str]


def _ended_publicity(platform: Platform, session: Session, day: dt.date) -> Explained:
    from xinyong.disclosure import jobs as disclosure_jobs

    outcome = disclosure_jobs.end_publicity_explained(session, day)
    if outcome is None:
        return Explained(0, [])
    names = {item.code: item.name for item in platform.catalog.items}
    return Explained(outcome.ended, outcome.lines(names, platform.rule_sets))


def _parts(platform: Platform, day: dt.date) -> list[tuple[str, Callable[[Session], int | Explained]]]:
    from xinyong.accounts import verification
    from xinyong.audit import anchor
    from xinyong.commitments import service as commitments
    from xinyong.evaluation import jobs as evaluation_jobs
    from xinyong.lists import jobs as list_jobs
    from xinyong.monitoring import jobs as monitoring_jobs
    from xinyong.objections import service as objections
    from xinyong.records import batches as record_batches
    from xinyong.repair import service as repair
    from xinyong.supervision import jobs as supervision_jobs

    settings = platform.settings
    return [
        (
            "audit: checkpoint of {} chain heads written",
            lambda s: anchor.write_checkpoint(
                s, platform.signer, settings.data_dir, copy_to=settings.audit_anchor_log
            ),
        ),
        (
            "records: {} interrupted ingests marked",
            lambda s: record_batches.mark_interrupted(s, dt.datetime.now(dt.UTC)),
        ),
        (
            "escalation: {} subjects proposed for listing",
            lambda s: list_jobs.propose_escalations(
                s,
                list_jobs.load_rules(settings.data_dir),
                today=day,
                credit_office=settings.credit_office_department,
            ),
        ),
        ("disclosure: {} publicity windows ended", lambda s: _ended_publicity(platform, s, day)),
        ("repair: {} overdue applications alerted", lambda s: repair.alert_overdue(s, day)),
        (
            "commitments: {} verification tasks generated",
            lambda s: commitments.open_pending_verifications(s, platform.calendar, day),
        ),
        ("commitments: {} overdue verifications alerted", lambda s: commitments.alert_overdue(s, day)),
        (
            "repair: {} cases drawn for re-check",
            lambda s: repair.draw_recheck(s, platform.repair_policy, platform.calendar, day),
        ),
        (
            "objections: {} overdue objections escalated",
            lambda s: objections.escalate_overdue(
                s, day, credit_office=settings.credit_office_department, principal=SYSTEM
            ),
        ),
        (
            "accounts: {} ended verification attempts and old outbox messages removed",
            lambda s: verification.prune(s, dt.datetime.now(dt.UTC)),
        ),
        # Reactions to domain events the serving process missed (or wrote since): idempotent, so it looks again
        # at the last days' events too.
        (
            "events: {} reactions to domain events caught up",
            lambda s: sum(platform.events.run_in(s, catch_up=True).values()),
        ),
        (
            "evaluation: {} subjects re-evaluated by the published models",
            lambda s: evaluation_jobs.run_published(s, platform.catalog.item_codes, settings.data_dir, day),
        ),
        # After the evaluation, so that the tasks follow the grades it just gave.
        (
            "supervision: {} inspection results sent through ingestion linked to their plans",
            lambda s: supervision_jobs.link_results(s, platform.catalog, day),
        ),
        (
            "supervision: {} interview and training tasks created",
            lambda s: supervision_jobs.create_tasks(
                s,
                data_dir=settings.data_dir,
                calendar=platform.calendar,
                today=day,
                credit_office=settings.credit_office_department,
            ),
        ),
        ("supervision: {} overdue tasks alerted", lambda s: supervision_jobs.alert_overdue(s, day)),
        # Last, so that the statistics include what the other parts changed.
        (
            "statistics: {} aggregates recomputed",
            lambda s: monitoring_jobs.refresh_statistics(s, day, platform.calendar),
        ),
    ]


def run_daily(
    platform: Platform, day: dt.date, *, explanations: dict[str, list[str]] | None = None
) -> dict[str, int]:
    """Run every daily part for ``day``; returns the count each part reports (-1: failed), by its label
    (a format string with one ``{}`` for the count). The lines a part gives to explain its count (why records
    left publicity) are logged, and put in ``explanations`` by label when given."""
    results: dict[str, int] = {}
    for label, part in _parts(platform, day):
        try:
            with transaction(platform.sessions) as session:
                outcome = part(session)
        except Exception:
            log.exception("daily job part failed: %s", label)
            results[label] = -1
            continue
        if isinstance(outcome, Explained):
            results[label] = outcome.count
            for line in outcome.lines:
                log.info("%s: %s", label.split(":", 1)[0], line)
            if explanations is not None and outcome.lines:
                explanations[label] = outcome.lines
        else:
            results[label] = outcome
    return results


@jobs_app.command("run")
def run() -> None:
    """Run the daily jobs: escalation proposals, ended publicity (and why), repair alerts and re-checks,
    objections, statistics."""
    platform = open_platform()
    failed = False
    explanations: dict[str, list[str]] = {}
    for label, count in run_daily(platform, today(), explanations=explanations).items():
        failed = failed or count < 0
        typer.echo(label.format("FAILED" if count < 0 else count))
        for line in explanations.get(label, []):
            typer.echo(f"  {line}")
    if failed:
        raise typer.Exit(1)


def next_run(now: dt.datetime, at: dt.time) -> dt.datetime:
    """The next moment the daily jobs run: today at ``at`` if still ahead, else tomorrow (China time)."""
    candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


def start_scheduler(platform: Platform, at: dt.time, stop: threading.Event) -> threading.Thread:
    """Run the daily jobs once at start-up, then every day at ``at``, until ``stop`` is set.

    Idempotent parts make it safe for several app servers to run it; a province may instead switch it off
    (XINYONG_SCHEDULER=false) and run `xinyong jobs run` from cron.
    """

    def loop() -> None:
        while not stop.is_set():
            results = run_daily(platform, dt.datetime.now(CHINA).date())
            log.info("daily jobs: %s", "; ".join(label.format(count) for label, count in results.items()))
            now = dt.datetime.now(CHINA)
            stop.wait((next_run(now, at) - now).total_seconds())

    thread = threading.Thread(target=loop, name="xinyong-daily-jobs", daemon=True)
    thread.start()
    return thread
