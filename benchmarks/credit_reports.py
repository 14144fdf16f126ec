"""Credit report benchmark: a standard report for a subject with 200 records, as a ratio to WeasyPrint
rendering the same HTML alone (the overhead of gathering, signing the JSON and the PDF, storing), and a batch
of reports issued one after another with its throughput and peak memory.

    python -m benchmarks.credit_reports [--records 200] [--repeat 5] [--batch 100]
    python -m benchmarks.credit_reports --console-batch 1000 [--demo-scale 0.1] [--database-url URL]

The second form seeds the demo (`--demo-scale`, 0.1 is about 2,000 subjects and 20,000 records) and runs a
department's console batch (`reports.batches`: one standard report per code, each in its own transaction,
audited, then the ZIP) over that many of its organisations, timing it and reading the process's peak RSS
before and after. Runs on a SQLite file in a temporary directory unless given a database; prints Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import tempfile
import time
from pathlib import Path

from tests.helpers import penalty, uscc
from weasyprint import CSS, HTML

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import SYSTEM
from xinyong.config import Settings
from xinyong.db import migrate
from xinyong.db.session import transaction
from xinyong.kit.tabular import Row
from xinyong.platform import build_platform
from xinyong.records import service as records
from xinyong.reports import service
from xinyong.subjects import service as subjects

DAY = dt.date(2026, 11, 28)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.credit_reports")
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--console-batch", type=int, default=0, help="codes in a console batch (demo subjects)"
    )
    parser.add_argument("--demo-scale", type=float, default=0.1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.console_batch:
        console_batch(args.console_batch, args.demo_scale, args.database_url)
        return
    tmp = Path(tempfile.mkdtemp(prefix="xinyong-bench-reports-"))
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp}/b.db", secret_key="bench-secret")
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    code = uscc()
    others = [uscc() for _ in range(args.batch)]
    with transaction(platform.sessions) as session:
        accounts.add_department(session, code="SCMR", name="四川省市场监督管理局", region_code="510000")
        rows = [
            penalty(CF_XDR_SHXYM=code, CF_XDR_MC="成都基准测试有限公司", CF_JDRQ=f"2026-{1 + n % 10:02d}-15")
            for n in range(args.records)
        ]
        rows += [penalty(CF_XDR_SHXYM=o, CF_XDR_MC=f"成都批量测试{n}有限公司") for n, o in enumerate(others)]
        records.ingest(
            session,
            platform.ingest_context(DAY),
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(n, r) for n, r in enumerate(rows, start=2)],
            source="bench",
        )
    context = service.report_context(settings, platform.catalog, platform.signer)
    issue_s, render_s = [], []
    for _ in range(args.repeat + 1):  # the first round warms fonts and caches, not counted
        with transaction(platform.sessions) as session:
            subject = subjects.get_by_uscc(session, code)
            start = time.perf_counter()
            report = service.issue(
                session, context, SYSTEM, subject_id=subject.id, kind="standard", today=DAY, purpose="基准"
            )
            issue_s.append(time.perf_counter() - start)
            html = service.render_html(report.payload)
        start = time.perf_counter()
        # WeasyPrint alone, as it comes: the same HTML and stylesheet, no font configuration or parsed CSS kept.
        HTML(string=html, base_url="http://report.invalid/").write_pdf(
            stylesheets=[CSS(string=service.report_css())], pdf_variant="pdf/a-3b"
        )
        render_s.append(time.perf_counter() - start)
    issue_m, render_m = statistics.median(issue_s[1:]), statistics.median(render_s[1:])
    start = time.perf_counter()
    for other in others:
        with transaction(platform.sessions) as session:
            subject = subjects.get_by_uscc(session, other)
            service.issue(
                session, context, SYSTEM, subject_id=subject.id, kind="standard", today=DAY, purpose="批量"
            )
    batch_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| measure | value |")
    print("|---|---|")
    print(
        f"| standard report, {args.records} records: issue (median of {args.repeat}) | {issue_m * 1000:.0f} ms |"
    )
    print(f"| WeasyPrint alone on the same HTML | {render_m * 1000:.0f} ms |")
    print(f"| ratio (target ≤ 1.5) | {issue_m / render_m:.2f} |")
    print(
        f"| batch of {args.batch} one-record reports | {batch_s:.1f} s, {args.batch / batch_s:.1f} reports/s |"
    )
    print(f"| peak resident memory of the process | {peak_mb:.0f} MB |")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def console_batch(size: int, scale: float, database_url: str | None) -> None:
    """A department's console batch of `size` standard reports over demo organisations."""
    from sqlalchemy import select

    from xinyong.accounts.policy import Principal
    from xinyong.demo import service as demo
    from xinyong.reports import batches
    from xinyong.subjects.models import Subject

    tmp = Path(tempfile.mkdtemp(prefix="xinyong-bench-batch-"))
    settings = Settings(
        data_dir=tmp, database_url=database_url or f"sqlite:///{tmp}/b.db", secret_key="bench-secret"
    )
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    start = time.perf_counter()
    with transaction(platform.sessions) as session:
        demo.seed(session, platform.ingest_context(DAY), scale=scale)
    seeded_s = time.perf_counter() - start
    with transaction(platform.sessions, write=False) as session:
        codes = session.scalars(
            select(Subject.uscc)
            .where(Subject.kind != "natural_person", Subject.uscc.is_not(None))
            .order_by(Subject.id)
            .limit(size)
        ).all()
        subjects_n = len(session.scalars(select(Subject.id)).all())
    if len(codes) < size:
        raise SystemExit(f"only {len(codes)} organisations at scale {scale}: raise --demo-scale")
    desk = Principal(kind="user", name="bench-desk", role="credit_office", department_code="SCFGW")
    upload = batches.Upload([(n, str(code)) for n, code in enumerate(codes, start=2)])
    batch = batches.create(
        tmp, desk, upload, purpose="基准测试", kind="standard", fields=(), today=DAY, filename="bench.csv"
    )
    context = service.report_context(settings, platform.catalog, platform.signer)
    before_mb = _peak_mb()
    start = time.perf_counter()
    done = batches.run(platform.sessions, context, desk, batch.id)
    batch_s = time.perf_counter() - start
    zip_mb = (tmp / batches.FOLDER / batch.id / "reports.zip").stat().st_size / 1e6
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"| measure ({platform.sessions.kw['bind'].dialect.name}, demo scale {scale}) | value |")
    print("|---|---|")
    print(f"| demo seeded | {subjects_n:,} subjects in {seeded_s:.0f} s |")
    print(
        f"| console batch | {done.done:,} codes: {done.issued:,} issued, {done.failed} failed ({done.status}) |"
    )
    print(f"| time, with the ZIP ({zip_mb:.0f} MB) | {batch_s:.0f} s |")
    print(
        f"| throughput | {done.issued / batch_s:.2f} reports/s ({batch_s / max(done.issued, 1) * 1000:.0f} ms each) |"
    )
    print(f"| peak RSS before the batch / after | {before_mb:.0f} MB / {_peak_mb():.0f} MB |")
    print(f"| load average at the end (1, 5, 15 min) | {' '.join(load)} |")


if __name__ == "__main__":
    main()
