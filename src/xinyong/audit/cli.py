"""`xinyong audit verify | anchor | rekey`: check, anchor and re-key the hash chains of the audit trail."""

from __future__ import annotations

import typer

from xinyong.audit import anchor, service
from xinyong.clikit import open_platform
from xinyong.db.session import transaction

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Verify every entry's keyed hash and link, and every chain against the signed checkpoints; exit 1
    naming each finding (an edited, inserted, deleted or renumbered entry, a truncated or deleted chain)."""
    platform = open_platform()
    loaded = anchor.load_file(platform.settings.data_dir, anchor.verifying_keys(platform.signer))
    with transaction(platform.sessions, write=False) as session:
        found = anchor.verify(session, loaded)
        total = session.query(service.AuditEntry).count()
    if loaded is None:
        typer.echo(
            "warning: no audit checkpoints yet (xinyong audit anchor): deleted newest entries or chains"
            " cannot be told",
            err=True,
        )
    for broken in found:
        where = f"entry {broken.entry_id}" if broken.entry_id is not None else "a deleted entry"
        position = f" (chain {broken.chain}, position {broken.position})" if broken.chain is not None else ""
        attack = f"[{broken.attack}] " if broken.attack else ""
        typer.echo(f"audit chain broken at {where}: {attack}{broken.describe()}{position}", err=True)
    if found:
        raise typer.Exit(1)
    checked = f", {len(loaded.checkpoints)} checkpoints matched" if loaded else ""
    typer.echo(f"audit chain intact: {total} entries{checked}")


@audit_app.command("anchor")
def anchor_heads() -> None:
    """Write a signed checkpoint of every chain head outside the database (the daily job does too)."""
    platform = open_platform()
    with transaction(platform.sessions, write=False) as session:
        chains = anchor.write_checkpoint(
            session,
            platform.signer,
            platform.settings.data_dir,
            copy_to=platform.settings.audit_anchor_log,
        )
    typer.echo(
        f"audit checkpoint written: {chains} chains -> {anchor.checkpoint_path(platform.settings.data_dir)}"
    )


@audit_app.command("rekey")
def rekey(
    from_secret: str = typer.Option(
        "",
        "--from-key",
        help="the audit key the chains were hashed with (empty: the unkeyed hashes written before the trail "
        "was keyed)",
    ),
) -> None:
    """Re-hash every chain under the current audit key, after verifying it under the old one; then anchor."""
    platform = open_platform()
    old = from_secret.encode() or None
    with transaction(platform.sessions) as session:
        try:
            count = service.rekey(session, old)
        except ValueError as exc:
            typer.echo(f"not re-keyed: {exc}", err=True)
            raise typer.Exit(1) from None
    with transaction(platform.sessions, write=False) as session:
        anchor.write_checkpoint(
            session, platform.signer, platform.settings.data_dir, copy_to=platform.settings.audit_anchor_log
        )
    typer.echo(f"audit trail re-keyed: {count} entries")
