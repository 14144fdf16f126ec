"""The repair policy (信用修复政策): the shipped data, or the credit office's corrected copy."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from xinyong.repair import rules

OVERRIDE_NAME = "repair.yaml"


def _parse(text: str) -> rules.Policy:
    return rules.Policy.from_mapping(yaml.safe_load(text))


class PolicyStore:
    """The repair policy, parsed once per version of its file (the credit office's copy, by path and time of
    its last change and size; else the shipped data). An object the platform owns, not a module-global cache."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, int, int], rules.Policy] = {}

    def get(self, data_dir: Path | None = None) -> rules.Policy:
        override = data_dir / OVERRIDE_NAME if data_dir is not None else None
        if override is not None and override.is_file():
            stat = override.stat()
            key = (str(override.resolve()), stat.st_mtime_ns, stat.st_size)
            if key not in self._parsed:
                self._parsed[key] = _parse(override.read_text(encoding="utf-8"))
            return self._parsed[key]
        shipped = ("", 0, 0)
        if shipped not in self._parsed:
            self._parsed[shipped] = _parse(
                resources.files("xinyong.repair").joinpath("data/repair.yaml").read_text(encoding="utf-8")
            )
        return self._parsed[shipped]


def policy(data_dir: Path | None = None) -> rules.Policy:
    """The repair policy read now (no cache): the shipped data, or the credit office's copy in `data_dir`."""
    return PolicyStore().get(data_dir)


def notice_items(repair_policy: rules.Policy) -> frozenset[str]:
    """Items whose published records get a repair notice: repairable, with no legal bar."""
    barred = {code for bar in repair_policy.bars for code in bar.items}
    return frozenset(code for code in repair_policy.item_minimums if code not in barred)
