"""CLI plumbing: build the platform from settings and turn domain errors into clean exits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from xinyong.config import InsecureSettings, get_settings
from xinyong.kit.crypto import SigningKeyError
from xinyong.kit.dates import CHINA
from xinyong.kit.errors import XinyongError
from xinyong.platform import Platform, build_platform

F = TypeVar("F", bound=Callable[..., Any])
err_console = Console(stderr=True)


def open_platform(*, keys_required: bool = True) -> Platform:
    """The platform for a command. Outside demo mode a command refuses to start on a published or missing
    secret (exit 2, reason on stderr); only one that neither signs nor encrypts passes keys_required=False."""
    settings = get_settings()
    try:
        settings.ensure_dirs()
        return build_platform(settings, keys_required=keys_required)
    except (InsecureSettings, SigningKeyError) as exc:
        err_console.print(f"[red]config.insecure[/red]: {exc}")
        raise typer.Exit(2) from None


def today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def domain_errors(func: F) -> F:
    """Print a domain error as `code: message` on stderr and exit 1 instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except XinyongError as exc:
            err_console.print(f"[red]{exc.code}[/red]: {exc.message}")
            if exc.details:
                err_console.print(exc.details)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
