"""The `xinyong` command: serve, db, ingest, departments, review, demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from xinyong.accounts.cli import contacts_app, departments_app, messages_app, tokens_app, users_app
from xinyong.audit.cli import audit_app
from xinyong.clikit import open_platform
from xinyong.demo.cli import demo_app
from xinyong.evaluation.cli import evaluate_app
from xinyong.evaluation.export_cli import export_app
from xinyong.jobs import jobs_app
from xinyong.keys_cli import keys_app
from xinyong.records.cli import ingest_command, review_app
from xinyong.reports.cli import reports_app
from xinyong.supervision.cli import supervision_app

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

app = typer.Typer(help="xinyong 公共信用信息平台", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(departments_app, name="departments")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(contacts_app, name="contacts")
app.add_typer(messages_app, name="messages")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")
app.add_typer(demo_app, name="demo")
app.add_typer(jobs_app, name="jobs")
app.add_typer(keys_app, name="keys")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(export_app, name="export")
app.add_typer(reports_app, name="reports")
app.add_typer(supervision_app, name="supervision")
app.command("ingest")(ingest_command)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the portal, console and JSON API."""
    import datetime as dt
    import logging
    import threading

    import uvicorn

    from xinyong.app import create_app
    from xinyong.db.session import transaction
    from xinyong.jobs import start_scheduler
    from xinyong.records import batches as record_batches

    platform = open_platform()
    logging.basicConfig(level=platform.settings.log_level, format="%(levelname)s:     %(name)s: %(message)s")
    with transaction(platform.sessions) as session:  # an ingest killed with the last server says so
        record_batches.mark_interrupted(session, dt.datetime.now(dt.UTC))
    stop = threading.Event()
    if platform.settings.scheduler:
        start_scheduler(platform, platform.settings.jobs_at, stop)
    try:
        uvicorn.Server(server_config(create_app(platform=platform), host, port)).run()
    finally:
        stop.set()


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """Uvicorn's settings for `serve`. Its own X-Forwarded-For handling is off (by default it believes the
    header from 127.0.0.1, so any local process could name any address): `web.deps.client_ip` believes it
    from XINYONG_TRUSTED_PROXIES alone."""
    import uvicorn

    from xinyong.kit.identifiers import install_log_masking

    config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
    install_log_masking()  # after uvicorn set its loggers up: no query string with an ID reaches a log
    return config


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Run migrations up to REVISION (default: head)."""
    from xinyong.db import migrate

    platform = open_platform(keys_required=False)  # migrations neither sign nor encrypt
    migrate.upgrade(platform.sessions.kw["bind"], revision)
    typer.echo(f"database at {revision}: {platform.settings.resolved_database_url.split('@')[-1]}")


def main() -> None:
    app()
