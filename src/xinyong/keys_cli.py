"""`xinyong keys`: write a production platform's fresh keys, rotate the check-signing key."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import typer
from cryptography.fernet import Fernet

from xinyong.clikit import err_console
from xinyong.config import get_settings
from xinyong.kit.crypto import SIGNING_KEY_FILE_HEADER, Signer, SigningKeyError

keys_app = typer.Typer(
    help="Platform keys: secret, resident-ID keys, check-signing key file.", no_args_is_help=True
)

ENV_FILE = "xinyong.env"
SIGNING_FILE = "signing.keys"


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner alone (0600 from the first byte, never a moment wider); an existing
    file is never overwritten."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # whatever the umask


def environment_text(signing_file: Path) -> str:
    """Fresh settings for a production platform: a 256-bit secret, its own resident-ID encryption and look-up
    keys (not derived from the secret, so each can be rotated alone) and the signing key file."""
    return (
        "# xinyong production keys. Keep this file readable by the service account alone; back it up offline:\n"
        "# resident IDs cannot be found or shown again without XINYONG_ID_HASH_KEY and XINYONG_PII_KEYS.\n"
        "XINYONG_DEMO_MODE=false\n"
        f"XINYONG_SECRET_KEY={secrets.token_urlsafe(32)}\n"
        f"XINYONG_PII_KEYS={Fernet.generate_key().decode()}\n"
        f"XINYONG_ID_HASH_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}\n"
        f"XINYONG_SIGNING_KEY_FILE={signing_file.resolve()}\n"
    )


@keys_app.command("init")
def init(
    directory: Path = typer.Option(
        ..., "--dir", help="Directory for xinyong.env and signing.keys (made 0700)."
    ),
) -> None:
    """Write fresh keys for a new production platform: DIR/xinyong.env (settings) and DIR/signing.keys.

    Both files are created 0600 and never overwritten. Load xinyong.env into the service's environment (e.g.
    systemd's EnvironmentFile=). For a platform that already holds resident IDs, keep its keys instead.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    env_path, signing_path = directory / ENV_FILE, directory / SIGNING_FILE
    existing = [str(p) for p in (env_path, signing_path) if p.exists()]
    if existing:
        err_console.print(f"[red]keys.exists[/red]: 已存在，不会覆盖：{', '.join(existing)}")
        raise typer.Exit(1)
    _write_private(signing_path, SIGNING_KEY_FILE_HEADER + Signer.generate_key_file_line() + "\n")
    _write_private(env_path, environment_text(signing_path))
    signer = Signer.from_key_file(signing_path)
    typer.echo(f"wrote {env_path} and {signing_path} (mode 0600); signing key id {signer.key_id}")


@keys_app.command("rotate-signing")
def rotate_signing(
    file: Path | None = typer.Option(
        None, "--file", help="Signing key file (default: XINYONG_SIGNING_KEY_FILE)."
    ),
) -> None:
    """Put a new check-signing key in front of the key file; the keys before it keep verifying (public only).

    The running servers sign with the new key once restarted; signatures they made before still verify, and
    `GET /api/v1/checks/public-key` publishes every key with its id.
    """
    path = file or get_settings().signing_key_file
    if path is None:
        err_console.print("[red]keys.no_file[/red]: 未指定签名密钥文件（--file 或 XINYONG_SIGNING_KEY_FILE）")
        raise typer.Exit(1)
    try:
        signer = Signer.from_key_file(path)
    except SigningKeyError as exc:
        err_console.print(f"[red]keys.bad_file[/red]: {exc}")
        raise typer.Exit(1) from None
    staged = path.with_name(path.name + ".new")
    staged.unlink(missing_ok=True)
    _write_private(staged, signer.rotated_key_file())
    os.replace(staged, path)  # atomic: a reader sees the old file or the new one
    typer.echo(f"signing key id {Signer.from_key_file(path).key_id} now signs; {signer.key_id} only verifies")
