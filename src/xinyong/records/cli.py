"""`xinyong ingest` and `xinyong review`: file ingestion with progress, and the unresolved-subject queue."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from xinyong.accounts.policy import SYSTEM
from xinyong.audit import service as audit
from xinyong.clikit import domain_errors, err_console, open_platform, today
from xinyong.db.session import transaction
from xinyong.kit.errors import XinyongError
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.tabular import read_path
from xinyong.platform import Platform
from xinyong.records import batches, repository, service
from xinyong.records.models import Batch
from xinyong.records.schemas import Receipt

review_app = typer.Typer(help="Rows waiting for a reviewer to attach their subject.", no_args_is_help=True)


@domain_errors
def ingest_command(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="CSV (UTF-8/GBK) or XLSX."
    ),
    item: str = typer.Option(..., "--item", help="Catalog item code, e.g. CF."),
    provider: str = typer.Option(..., "--provider", help="Provider department code."),
    as_json: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
    resume: bool = typer.Option(
        False, "--resume", help="Take over a batch of this file still marked running (its run was killed)."
    ),
) -> None:
    """Ingest a department file; idempotent, commits (and audits) every chunk, so an interrupted run can be
    re-run: a re-run of the same file resumes its interrupted batch after the rows already stored."""
    platform = open_platform()
    sessions = platform.sessions
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    with transaction(sessions) as session:
        batches.mark_interrupted(session, dt.datetime.now(dt.UTC))
    running: list[str] = []
    try:
        receipt = _ingest_file(platform, path, item, provider, digest, resume, as_json, running)
    except BaseException as exc:  # a failure or Ctrl-C: the batch says so instead of "running"
        if running:
            status = "failed" if isinstance(exc, XinyongError) else "interrupted"
            with transaction(sessions) as session:
                batches.end_batch(session, running[0], status, str(exc) or type(exc).__name__)
        raise
    if as_json:
        typer.echo(receipt.model_dump_json(indent=2))
        return
    typer.echo(
        f"batch {receipt.batch_id}: accepted {receipt.accepted}, updated {receipt.updated}, "
        f"unchanged {receipt.unchanged}, rejected {receipt.rejected}, queued {receipt.queued}"
    )
    for row in receipt.rejected_rows[:20]:
        typer.echo(
            f"  row {row.row}: " + "；".join(f"{e['field']} {e['code']} {e['message']}" for e in row.errors)
        )


def _ingest_file(
    platform: Platform,
    path: Path,
    item: str,
    provider: str,
    digest: str,
    resume: bool,
    as_json: bool,
    running: list[str],
) -> Receipt:
    sessions = platform.sessions
    with (
        transaction(sessions) as session,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} 行"),
            TimeElapsedColumn(),
            console=err_console,
            transient=as_json,
        ) as progress,
    ):
        task = progress.add_task(f"归集 {path.name}", total=None)

        def on_chunk(batch: Batch) -> None:
            running[:] = [batch.id]
            session.commit()
            progress.update(task, completed=batch.rows_read)

        receipt = service.ingest(
            session,
            platform.ingest_context(today()),
            item_code=item.strip().upper(),
            provider_code=provider,
            rows=read_path(path),
            source="cli",
            filename=path.name,
            chunk_size=platform.settings.ingest_chunk_size,
            on_chunk=on_chunk,
            file_digest=digest,
            take_over=resume,
            audit_as=SYSTEM,
        )
        audit.record(
            session,
            SYSTEM,
            "records.ingest",
            target=receipt.batch_id,
            details={
                "item": receipt.item,
                "provider": receipt.provider,
                "file": path.name,
                "accepted": receipt.accepted,
                "updated": receipt.updated,
                "unchanged": receipt.unchanged,
                "rejected": receipt.rejected,
            },
        )
    platform.dispatch_events()  # the reactions to what was stored (repair notices…), once it is committed
    return receipt


@review_app.command("list")
def review_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List open rows whose subject could not be resolved safely."""
    with transaction(open_platform().sessions, write=False) as session:
        rows = [
            {
                "id": r.id,
                "item": r.item_code,
                "provider": r.provider_code,
                "row": r.row_number,
                "subject_name": r.subject_name,
                "region_code": r.region_code,
                "reason_code": r.reason_code,
                "reason": r.reason,
                "candidates": r.candidates,
            }
            for r in repository.open_unresolved(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(
            f"{r['id']:>6} {r['item']:<6} {r['provider']:<10} {r['subject_name']}  [{r['reason_code']}] {r['reason']}"
        )


@review_app.command("resolve")
@domain_errors
def review_resolve(
    row_id: int = typer.Argument(..., help="Queue entry id (from `review list`)."),
    subject: str = typer.Option(..., "--subject", help="USCC of the subject the row is about."),
) -> None:
    """Attach a queued row to its subject and store it as a record."""
    platform = open_platform()
    with transaction(platform.sessions) as session:
        receipt = service.resolve_unresolved(
            session, platform.ingest_context(today()), row_id, normalize_code(subject)
        )
    platform.dispatch_events()
    typer.echo(
        f"resolved: accepted {receipt.accepted}, updated {receipt.updated}, unchanged {receipt.unchanged}"
    )
