"""The repair policy (信用修复政策): the shipped data, or the credit office's corrected copy."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from xinyong.repair import rules

OVERRIDE_NAME = "repair.yaml"


@cache
def _load(path: str | None) -> rules.Policy:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("xinyong.repair").joinpath("data/repair.yaml").read_text(encoding="utf-8")
    return rules.Policy.from_mapping(yaml.safe_load(text))


def policy(data_dir: Path | None = None) -> rules.Policy:
    """The repair policy: the shipped data, or the credit office's corrected copy in the data directory."""
    if data_dir is not None and (data_dir / OVERRIDE_NAME).is_file():
        return _load(str((data_dir / OVERRIDE_NAME).resolve()))
    return _load(None)


def notice_items(repair_policy: rules.Policy) -> frozenset[str]:
    """Items whose published records get a repair notice: repairable, with no legal bar."""
    barred = {code for bar in repair_policy.bars for code in bar.items}
    return frozenset(code for code in repair_policy.item_minimums if code not in barred)
