"""CLI plumbing: build the platform from settings and turn domain errors into clean exits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from xinyong.config import get_settings
from xinyong.kit.errors import XinyongError
from xinyong.web.deps import CHINA, Platform

F = TypeVar("F", bound=Callable[..., Any])
err_console = Console(stderr=True)


def open_platform() -> Platform:
    from xinyong.app import build_platform

    settings = get_settings()
    settings.ensure_dirs()
    return build_platform(settings)


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
