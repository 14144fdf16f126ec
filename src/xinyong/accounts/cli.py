"""`xinyong departments`, `xinyong users` and `xinyong tokens`."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import typer

from xinyong.accounts import auth, service
from xinyong.accounts.policy import ROLES, SYSTEM
from xinyong.audit import service as audit
from xinyong.clikit import domain_errors, open_platform
from xinyong.db.session import transaction
from xinyong.kit.identifiers import normalize_code

departments_app = typer.Typer(help="Provider departments (数据提供单位).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for department systems.", no_args_is_help=True)
contacts_app = typer.Typer(
    help="Contacts the registration authority holds for subjects (where activation codes go).",
    no_args_is_help=True,
)
messages_app = typer.Typer(help="The outbox of messages to registered contacts.", no_args_is_help=True)


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
        audit.record(session, SYSTEM, "department.create", target=department.code)
        typer.echo(f"added {department.code} {department.name}")


@departments_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List provider departments."""
    with transaction(open_platform().sessions, write=False) as session:
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


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码: ")
    if getpass.getpass("再次输入: ") != first:
        raise typer.BadParameter("两次输入的密码不一致")
    return first


@users_app.command("create-admin")
@domain_errors
def create_admin(
    username: str = typer.Option(..., "--username"),
    department: str = typer.Option(..., "--department", help="The credit office's department code."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Create a credit office (信用办) administrator."""
    password = _password(password_stdin)
    with transaction(open_platform().sessions) as session:
        user = auth.create_user(
            session,
            username=username,
            password=password,
            role="credit_office",
            department_code=department,
            is_department_admin=True,
        )
        audit.record(session, SYSTEM, "user.create", target=user.username, details={"role": "credit_office"})
    typer.echo(f"created credit office administrator {username}")


@users_app.command("add")
@domain_errors
def add_user(
    username: str = typer.Option(..., "--username"),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    department: str | None = typer.Option(None, "--department"),
    subject: str | None = typer.Option(
        None, "--subject", help="USCC of a subject account's (verified) subject."
    ),
    name: str | None = typer.Option(None, "--name", help="Display name."),
    department_admin: bool = typer.Option(
        False, "--department-admin", help="May manage its department's users."
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Add a user account."""
    from xinyong.subjects import service as subjects

    password = _password(password_stdin)
    with transaction(open_platform().sessions) as session:
        subject_id = subjects.get_by_uscc(session, normalize_code(subject)).id if subject else None
        user = auth.create_user(
            session,
            username=username,
            password=password,
            role=role,
            display_name=name,
            department_code=department,
            subject_id=subject_id,
            is_department_admin=department_admin,
        )
        audit.record(session, SYSTEM, "user.create", target=user.username, details={"role": role})
    typer.echo(f"created {role} {username}")


@users_app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json")) -> None:
    """List user accounts."""
    with transaction(open_platform().sessions, write=False) as session:
        rows = [
            {
                "username": u.username,
                "role": u.role,
                "department": u.department_code,
                "active": u.is_active,
                "demo": u.is_demo,
            }
            for u in auth.list_users(session)
        ]
    typer.echo(
        json.dumps(rows, ensure_ascii=False, indent=2)
        if as_json
        else "\n".join(f"{r['username']:<20} {r['role']:<14} {r['department'] or ''}" for r in rows)
    )


@tokens_app.command("create")
@domain_errors
def create_token(
    department: str = typer.Option(..., "--department"),
    scopes: str = typer.Option(
        ..., "--scopes", help="Comma-separated: records:write, subjects:read, checks:run, commitments:write."
    ),
    name: str = typer.Option("", "--name"),
    days: int = typer.Option(365, "--days", help="Days until the token expires."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    with transaction(open_platform().sessions) as session:
        token, secret = auth.create_token(
            session,
            department_code=department,
            scopes=[s.strip() for s in scopes.split(",") if s.strip()],
            name=name,
            days=days,
        )
        audit.record(session, SYSTEM, "token.create", target=token.prefix, details={"scopes": token.scopes})
        out = {
            "id": token.id,
            "token": secret,
            "department": token.department_code,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat(),
        }
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"token {out['id']} for {department} ({', '.join(token.scopes)}), expires {out['expires_at']}:"
        )
        typer.echo(secret)
        typer.echo("This token is shown once; store it in the department system's secret store.", err=True)


@tokens_app.command("list")
def list_tokens(as_json: bool = typer.Option(False, "--json")) -> None:
    """List API tokens (prefixes only, never the secrets)."""
    with transaction(open_platform().sessions, write=False) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": t.id,
                "prefix": t.prefix,
                "department": t.department_code,
                "scopes": t.scopes,
                "expires_at": t.expires_at.isoformat(),
                "revoked": t.revoked_at is not None,
            }
            for t in auth.list_tokens(session)
        ]
    typer.echo(
        json.dumps(rows, ensure_ascii=False, indent=2)
        if as_json
        else "\n".join(
            f"{r['id']:>4} {r['prefix']} {r['department']:<10} {','.join(r['scopes'])} {'revoked' if r['revoked'] else ''}"
            for r in rows
        )
    )


@tokens_app.command("revoke")
@domain_errors
def revoke_token(token_id: int = typer.Argument(...)) -> None:
    """Revoke an API token at once."""
    with transaction(open_platform().sessions) as session:
        token = auth.revoke_token(session, token_id)
        audit.record(session, SYSTEM, "token.revoke", target=token.prefix)
    typer.echo(f"revoked token {token_id}")


@contacts_app.command("set")
@domain_errors
def set_contact(
    subject: str = typer.Option(..., "--subject", help="USCC of the subject."),
    phone: str | None = typer.Option(None, "--phone", help="Mobile number (11 digits)."),
    email: str | None = typer.Option(None, "--email", help="E-mail address."),
    source: str = typer.Option("登记机关", "--source", help="Whose register the contact comes from."),
) -> None:
    """Record the contact the registration authority holds for a subject (never shown publicly)."""
    from xinyong.accounts import messaging
    from xinyong.subjects import service as subjects

    if bool(phone) == bool(email):
        raise typer.BadParameter("give exactly one of --phone and --email")
    with transaction(open_platform().sessions) as session:
        found = subjects.get_by_uscc(session, normalize_code(subject))
        channel, address = ("sms", phone) if phone else ("email", email or "")
        contact = messaging.set_contact(session, found.id, channel, address, source=source)
        audit.record(session, SYSTEM, "contact.set", subject_id=found.id, target=found.uscc)
        typer.echo(f"{found.uscc}: {messaging.mask_contact(contact.channel, contact.address)}")


@contacts_app.command("import")
@domain_errors
def import_contacts(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8/GBK/GB18030) or XLSX."),
    source: str = typer.Option("登记机关", "--source", help="Whose register the file comes from."),
) -> None:
    """Record the contacts in a registration authority's file: a USCC column (uscc, 统一社会信用代码) and a
    mobile (phone, 手机) or e-mail (email, 电子邮箱) column. Rows that cannot be used are listed; exit 1."""
    from xinyong.accounts import messaging
    from xinyong.kit.tabular import read_path

    with transaction(open_platform().sessions) as session:
        result = messaging.import_contacts(session, read_path(path), source=source)
        audit.record(
            session, SYSTEM, "contact.import", target=path.name, details={"recorded": result.recorded}
        )
    typer.echo(f"recorded {result.recorded}, rejected {len(result.rejected)}")
    for number, reason in result.rejected[:100]:
        typer.echo(f"  row {number}: {reason}")
    if result.rejected:
        raise typer.Exit(1)


@messages_app.command("list")
def list_messages(
    address: str | None = typer.Option(None, "--to", help="Only messages to this address."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The newest messages in the outbox (demo and test deployments keep them there instead of sending)."""
    from xinyong.accounts import messaging

    with transaction(open_platform().sessions, write=False) as session:
        rows = [
            {
                "id": m.id,
                "at": m.created_at.isoformat(),
                "channel": m.channel,
                "to": m.address,
                "purpose": m.purpose,
                "body": m.body,
            }
            for m in messaging.outbox(session, address=address, limit=limit)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            typer.echo(f"{str(row['at'])[:19]}  {row['channel']:<5} {row['to']:<24} {row['body']}")
