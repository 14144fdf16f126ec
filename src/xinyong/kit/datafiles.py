"""Data files parsed once per version, by an object its owner holds (the platform), not a module-global cache.

A data file is shipped in a package and may be overridden by an edited copy in the data directory. The owner
asks for the file in force; the copy is parsed again once it changes (its path, time of last change and size
name a version), the shipped text once per owner.
"""

from __future__ import annotations

import stat as stat_mode
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import yaml

T = TypeVar("T")

# libyaml's parser when the installed PyYAML has it (about 15 times faster on the catalog), else PyYAML's own.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> object:
    """`yaml.safe_load`, through libyaml when it is there (the same safe constructors either way)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader, chosen above


class ParsedFiles(Generic[T]):
    """The parsed file in force for a data directory: `override_name` in it if present, else the shipped text."""

    def __init__(self, override_name: str, shipped: Callable[[], str], parse: Callable[[str], T]) -> None:
        self.override_name = override_name
        self._shipped = shipped
        self._parse = parse
        self._parsed: dict[tuple[str, int, int], T] = {}

    def get(self, data_dir: Path | None = None) -> T:
        key = ("", 0, 0)  # the shipped text
        if data_dir is not None:
            override = data_dir / self.override_name
            try:
                stat = override.stat()
            except (FileNotFoundError, NotADirectoryError):
                pass
            else:
                if stat_mode.S_ISREG(stat.st_mode):
                    key = (str(override.resolve()), stat.st_mtime_ns, stat.st_size)
        parsed = self._parsed.get(key)
        if parsed is None:
            text = Path(key[0]).read_text(encoding="utf-8") if key[0] else self._shipped()
            parsed = self._parsed[key] = self._parse(text)
        return parsed
