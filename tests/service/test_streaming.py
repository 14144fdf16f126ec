"""Large files stream: a 200,000-row file (about 80 MB) is read with flat memory, and ingestion memory does not
grow. The 1,000,000-row file belongs to the ingestion benchmark (`python -m benchmarks.run`), not the suite."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import department, penalty
from xinyong.kit.tabular import read_path
from xinyong.records import service
from xinyong.records.models import Record
from xinyong.records.service import IngestContext


def write_penalties(path: Path, count: int) -> None:
    template = penalty()
    headers = list(template)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(headers) + "\n")
        for n in range(count):
            row = dict(template, CF_WSH=f"川市监罚〔2026〕{n}号")
            out.write(",".join(row[h] for h in headers) + "\n")


@pytest.mark.slow
def test_a_large_file_streams_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    write_penalties(path, 200_000)
    tracemalloc.start()
    count = 0
    for _row in read_path(path):
        count += 1
        if count == 1000:
            baseline = tracemalloc.get_traced_memory()[0]
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    assert peak - baseline < 5 * 1024 * 1024  # a few MB, whatever the file size (~80 MB here)
    assert path.stat().st_size > 60 * 1024 * 1024


def test_ingest_memory_does_not_grow_with_the_number_of_chunks(
    tmp_path: Path, session: Session, ctx: IngestContext
) -> None:
    department(session)
    path = tmp_path / "penalties.csv"
    write_penalties(path, 12_000)
    peaks: list[int] = []
    tracemalloc.start()

    def on_chunk(batch: object) -> None:
        session.commit()
        session.expunge_all()
        peaks.append(tracemalloc.get_traced_memory()[0])

    receipt = service.ingest(
        session,
        ctx,
        item_code="CF",
        provider_code="SCMR",
        rows=read_path(path),
        source="test",
        chunk_size=2000,
        on_chunk=on_chunk,
    )
    tracemalloc.stop()
    assert receipt.accepted == 12_000
    assert session.scalar(select(func.count(Record.id))) == 12_000
    assert max(peaks[2:]) < peaks[1] * 1.5  # memory after chunk 6 is about what it was after chunk 2
