"""The lock files `make` installs from pin every dependency pyproject.toml names, at a version it allows.

A dependency added to pyproject.toml without `make lock` would be missing from a fresh install: this says so.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, Version]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    named = list(project["dependencies"])
    for extra in extras:
        named += project["optional-dependencies"][extra]
    return [Requirement(line) for line in named]


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev", "pg"))]
)
def test_the_lock_pins_every_dependency_at_an_allowed_version(lock: str, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    assert len(pinned) > 20  # the lock was read, not an empty or foreign file
    problems = []
    for requirement in requirements(*extras):
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in {lock}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"{requirement.name}: {version} pinned, pyproject.toml asks {requirement.specifier}"
            )
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_runtime_pins_are_the_development_pins() -> None:
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: version for name, version in runtime.items() if development.get(name) != version} == {}
