"""Before and after the report rendering changes, in one process, one after the other under the same load: a
standard report for a subject with 200 records issued the earlier way (the template as of commit dbdc84e, all
CSS inline and item tables laid out automatically, a new WeasyPrint font configuration per render) and the
current way (the report's stylesheet parsed once per thread, fixed table layout, the font configuration kept),
with WeasyPrint alone rendering the current HTML and stylesheet, nothing kept. Wall and CPU time, medians.

    python -m benchmarks.report_render_ab [--records 200] [--repeat 3]

Needs git (the earlier template is read with `git show`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from tests.helpers import penalty, uscc
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import SYSTEM
from xinyong.config import Settings
from xinyong.db import migrate
from xinyong.db.session import transaction
from xinyong.kit import pdf
from xinyong.kit.tabular import Row
from xinyong.platform import build_platform
from xinyong.records import service as records
from xinyong.reports import service
from xinyong.subjects import service as subjects

DAY = dt.date(2026, 11, 28)
BEFORE = "dbdc84e"
TEMPLATE = "src/xinyong/reports/templates/reports/report.html"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report_render_ab")
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    old_template = subprocess.run(
        ["git", "show", f"{BEFORE}:{TEMPLATE}"], check=True, capture_output=True, text=True
    ).stdout
    tmp = Path(tempfile.mkdtemp(prefix="xinyong-bench-render-"))
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp}/b.db", secret_key="bench-secret")
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    code = uscc()
    with transaction(platform.sessions) as session:
        accounts.add_department(session, code="SCMR", name="四川省市场监督管理局", region_code="510000")
        rows = [
            penalty(CF_XDR_SHXYM=code, CF_XDR_MC="成都基准测试有限公司", CF_JDRQ=f"2026-{1 + n % 10:02d}-15")
            for n in range(args.records)
        ]
        records.ingest(
            session,
            platform.ingest_context(DAY),
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(n, r) for n, r in enumerate(rows, start=2)],
            source="bench",
        )
    context = service.report_context(settings, platform.catalog, platform.signer)
    env = service._templates()
    current_loader = env.loader
    assert current_loader is not None
    earlier_loader = jinja2.ChoiceLoader(
        [jinja2.DictLoader({"reports/report.html": old_template}), current_loader]
    )
    kept_fonts, report_css = pdf.font_configuration, service.report_css

    def issue() -> Any:
        with transaction(platform.sessions) as session:
            subject = subjects.get_by_uscc(session, code)
            return service.issue(
                session, context, SYSTEM, subject_id=subject.id, kind="standard", today=DAY, purpose="基准"
            )

    def before() -> None:
        env.loader = earlier_loader
        if env.cache is not None:
            env.cache.clear()
        service.report_css, pdf.font_configuration = (lambda: ""), FontConfiguration  # type: ignore[assignment]
        try:
            issue()
        finally:
            service.report_css, pdf.font_configuration = report_css, kept_fonts

    def after() -> None:
        env.loader = current_loader
        if env.cache is not None:
            env.cache.clear()
        issue()

    html = service.render_html(issue().payload)

    def alone() -> None:
        HTML(string=html, base_url="http://report.invalid/").write_pdf(
            stylesheets=[CSS(string=service.report_css())], pdf_variant="pdf/a-3b"
        )

    cases: dict[str, Callable[[], None]] = {"before": before, "after": after, "WeasyPrint alone": alone}
    for run in cases.values():  # warm up: fonts, caches, imports
        run()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, run in cases.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    wall_of = {name: statistics.median(t[0] for t in ts) for name, ts in times.items()}
    cpu_of = {name: statistics.median(t[1] for t in ts) for name, ts in times.items()}
    print(
        f"| {args.records}-record standard report (median of {args.repeat}) | wall | CPU | CPU / WeasyPrint alone |"
    )
    print("|---|---|---|---|")
    for name in cases:
        ratio = cpu_of[name] / cpu_of["WeasyPrint alone"]
        print(f"| {name} | {wall_of[name]:.2f} s | {cpu_of[name]:.2f} s | {ratio:.2f} |")
    print(f"| load average at the end | {' '.join(Path('/proc/loadavg').read_text().split()[:3])} | | |")


if __name__ == "__main__":
    main()
