"""`xinyong audit verify`: check the hash chain of the audit trail."""

from __future__ import annotations

import typer

from xinyong.audit import service
from xinyong.clikit import open_platform
from xinyong.db.session import transaction

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Verify every entry's hash and link; exit 1 naming the first broken entry."""
    with transaction(open_platform().sessions, write=False) as session:
        broken = service.verify(session)
        total = session.query(service.AuditEntry).count()
    if broken is not None:
        where = f"entry {broken.entry_id}" if broken.entry_id is not None else "a deleted entry"
        position = f" (chain {broken.chain}, position {broken.position})" if broken.chain is not None else ""
        typer.echo(f"audit chain broken at {where}: {broken.reason}{position}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {total} entries")
