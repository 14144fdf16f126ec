"""Run the benchmarks and write docs/benchmarks.md.

    python -m benchmarks.run [--rows N] [--subjects N] [--only ingest|search] [--stores postgresql,sqlite]

Defaults are the full targets: 1,000,000 penalty rows (about 300,000 subjects) ingested into PostgreSQL and
SQLite, and name search over 1,000,000 subjects on PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import common, report
from benchmarks.worker import PhaseFailed

STORES = ("postgresql", "sqlite")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="penalty rows to ingest (default 1,000,000)"
    )
    parser.add_argument(
        "--penalty-subjects",
        type=int,
        default=None,
        help="distinct subjects in the penalty file (default rows × 0.3)",
    )
    parser.add_argument(
        "--subjects",
        type=int,
        default=1_000_000,
        help="subjects for the search benchmark (default 1,000,000)",
    )
    parser.add_argument("--only", choices=("ingest", "search"), help="run one benchmark only")
    parser.add_argument(
        "--stores",
        default=",".join(STORES),
        help="stores for the ingest benchmark (default postgresql,sqlite)",
    )
    parser.add_argument("--queries", type=int, default=500, help="timed search queries (default 500)")
    parser.add_argument(
        "--fuzz-queries", type=int, default=30, help="queries for the RapidFuzz reference (default 30)"
    )
    parser.add_argument(
        "--phase-timeout-min",
        type=float,
        default=30.0,
        help="stop any measured step that runs longer than this (default 30 minutes)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run a cProfile'd ingest per store, its calling and its database thread (not reported as a result)",
    )
    parser.add_argument(
        "--pg-analyze",
        choices=("auto", "emulate", "off"),
        default="auto",
        help="during PostgreSQL ingest, emulate autovacuum's ANALYZE: 'auto' does so only when the server "
        "has autovacuum off (default); 'off' measures the server as configured",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not stores or any(s not in STORES for s in stores):
        parser.error(f"--stores takes a comma-separated subset of {', '.join(STORES)}")
    args.stores = stores
    if args.rows < 1 or args.subjects < 100 or args.queries < 5:
        parser.error("sizes too small")
    if args.penalty_subjects is None:
        args.penalty_subjects = max(1, args.rows * 3 // 10)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from benchmarks import ingest, search

    watch = common.Stopwatch()
    timeout_s = args.phase_timeout_min * 60
    common.VAR.mkdir(parents=True, exist_ok=True)
    common.ensure_pg_database()
    results = report.load_results()
    results["machine"] = {**report.machine(), "date": report.today(), "git_head": common.git_head()}
    failed = False
    try:
        if args.only in (None, "ingest"):
            results.setdefault("ingest", {})
            for store in args.stores:
                outcome = ingest.run(
                    store,
                    args.rows,
                    args.penalty_subjects,
                    timeout_s=timeout_s,
                    profile=args.profile,
                    pg_analyze=args.pg_analyze,
                )
                key = store
                if outcome.get("server_autovacuum") is False and not outcome.get("autoanalyze_emulated"):
                    key = f"{store}-no-analyze"  # kept apart from the main result
                results["ingest"][key] = {**outcome, "date": report.today(), "git_head": common.git_head()}
                report.save_results(results)
        if args.only in (None, "search"):
            outcome = search.run(args.subjects, args.queries, args.fuzz_queries, timeout_s=timeout_s)
            results["search"] = {**outcome, "date": report.today(), "git_head": common.git_head()}
            report.save_results(results)
    except PhaseFailed as exc:
        common.log(f"FAILED: {exc}")
        failed = True
    if not args.no_docs:
        report.write_docs(results)
        common.log(f"wrote {common.DOCS.relative_to(common.ROOT)}")
    common.log(
        f"done in {watch.seconds / 60:.1f} min; raw results in {common.RESULTS.relative_to(common.ROOT)}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
