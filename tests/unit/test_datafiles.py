"""Data files the platform owns parsed (`kit.datafiles`): the shipped text unless the data directory holds an
edited copy, each version parsed once, an edited copy read again as soon as it changes."""

from __future__ import annotations

import os
from pathlib import Path

from xinyong.catalog import service as catalog_service
from xinyong.config import Settings
from xinyong.disclosure import service as disclosure_service
from xinyong.kit.datafiles import ParsedFiles
from xinyong.platform import build_platform


def counting(parsed: list[str]) -> ParsedFiles[str]:
    def parse(text: str) -> str:
        parsed.append(text)
        return text.upper()

    return ParsedFiles("policy.yaml", lambda: "shipped", parse)


def test_the_shipped_text_is_parsed_once_and_an_edited_copy_once_per_version(tmp_path: Path) -> None:
    parsed: list[str] = []
    files = counting(parsed)
    assert files.get(None) == files.get(tmp_path) == "SHIPPED"  # no copy in the directory
    assert parsed == ["shipped"]
    copy = tmp_path / "policy.yaml"
    copy.write_text("edited", encoding="utf-8")
    assert files.get(tmp_path) == files.get(tmp_path) == "EDITED"
    copy.write_text("edited again", encoding="utf-8")
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 1_000_000))
    assert files.get(tmp_path) == "EDITED AGAIN"
    copy.unlink()
    assert files.get(tmp_path) == "SHIPPED"
    assert parsed == ["shipped", "edited", "edited again"]


def test_a_directory_in_place_of_the_copy_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").mkdir()
    assert counting([]).get(tmp_path) == "SHIPPED"


def test_the_platform_holds_the_catalog_and_rule_sets_of_its_data_directory(tmp_path: Path) -> None:
    shipped = catalog_service.load()
    edited = catalog_service._shipped().replace(f'version: "{shipped.version}"', 'version: "2099.1"', 1)
    (tmp_path / catalog_service.OVERRIDE_NAME).write_text(edited, encoding="utf-8")
    rule_sets = disclosure_service._shipped()
    first = rule_sets.split("\n  - id: ", 2)
    assert len(first) == 3  # the corrected copy keeps the first rule set only
    (tmp_path / disclosure_service.OVERRIDE_NAME).write_text(
        first[0] + "\n  - id: " + first[1], encoding="utf-8"
    )
    platform = build_platform(Settings(data_dir=tmp_path, database_url="sqlite://"), keys_required=False)
    assert platform.catalog is platform.catalog  # parsed once, then held
    assert platform.catalog.version == "2099.1" != shipped.version
    assert len(platform.rule_sets) == 1 < len(disclosure_service.rule_sets())
    assert platform.ingest_context(shipped.effective_from).rule_sets == platform.rule_sets
    assert (
        build_platform(
            Settings(data_dir=tmp_path / "elsewhere", database_url="sqlite://"), keys_required=False
        ).catalog.version
        == shipped.version
    )
