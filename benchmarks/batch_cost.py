"""Instructions per batch of real-time checks (`Platform.run_checks_committed`), counted by callgrind.

Throughput runs on a shared host drift by ±15 % between minutes, even in-process, so a change worth a few per
cent of a check cannot be judged by timing it. The instructions the same work executes are repeatable to
about ±0.3 %: this counts them for batches of a given size, on the database of `benchmarks.checks`, with
callgrind's instrumentation switched on only around the measured batches (start-up, imports and warm-up are
not counted). It counts this process only — Python, SQLAlchemy, psycopg, the signature — not PostgreSQL.
Under valgrind OpenSSL takes its generic code path, so the Ed25519 signature and the audit chain's SHA-256
weigh several times more here than on the CPU: compare counts with each other, not with timings.

    .venv/bin/python -m benchmarks.batch_cost [--sizes 1,4,16] [--batches 100] [--load]

Needs valgrind (Debian's `valgrind`) and the database `benchmarks.checks` loads (loaded here when it is
missing, or with --load).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import checks as bench

WORK = bench.WORK / "batch-cost"


def _loaded_subjects() -> int:
    import psycopg

    try:
        with psycopg.connect(bench.pg_dsn()) as conn:
            row = conn.execute("SELECT count(*) FROM subjects").fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0


def child(data_dir: Path, subjects: int, size: int, batches: int, signals: Path) -> None:
    """Run warm-up batches, say so, wait for the instrumentation, run the measured batches, say so."""
    from xinyong.accounts.policy import Principal
    from xinyong.measures import check as service

    platform = bench._platform(data_dir)
    principal = Principal(
        kind="token", name="token:1", role="department", department_code=bench.CHECKER["code"]
    )
    today = bench.today()
    ids = random.Random(size).sample(range(1, subjects + 1), size * (batches + 20))
    orders = [
        service.CheckOrder(
            principal,
            service.SubjectRef(uscc=bench.subject_uscc(i)),
            "public_bidding",
            "某工程招标评审",
            today,
            "127.0.0.1",
        )
        for i in ids
    ]
    runs = [orders[k : k + size] for k in range(0, len(orders), size)]

    def run(batch: list[service.CheckOrder]) -> None:
        platform.run_checks_committed(batch)

    for batch in runs[batches:]:  # warm-up: pool, prepared statements, caches
        run(batch)
    (signals / "ready").touch()
    while not (signals / "go").exists():
        time.sleep(0.02)
    for batch in runs[:batches]:
        run(batch)
    (signals / "done").touch()
    time.sleep(600)  # stopped by the parent once the counts are dumped


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the measured process exited ({process.returncode}); see {WORK}/child.log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path.name} within {timeout_s:.0f} s")
        time.sleep(0.1)


def count(data_dir: Path, subjects: int, size: int, batches: int) -> int:
    """Instructions executed by `batches` batches of `size` checks."""
    signals = Path(tempfile.mkdtemp(prefix="signals-", dir=WORK))
    out = signals / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "benchmarks.batch_cost",
        "--child",
        str(data_dir),
        str(subjects),
        str(size),
        str(batches),
        str(signals),
    ]
    with (WORK / "child.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=bench.ROOT)
    try:
        _wait_for(signals / "ready", process, 900)
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True)
        (signals / "go").touch()
        _wait_for(signals / "done", process, 3600)
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(process.pid)], check=True, capture_output=True)
    finally:
        process.terminate()
        process.wait(60)
    return sum(  # every dump (the one asked for, then the final one at exit) ends with its total
        int(line.split()[1])
        for dump in signals.glob("callgrind.out*")
        for line in dump.read_text().splitlines()
        if line.startswith("totals:")
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        child(Path(argv[1]), int(argv[2]), int(argv[3]), int(argv[4]), Path(argv[5]))
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.batch_cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    parser.add_argument("--batches", type=int, default=100, help="measured batches per size")
    parser.add_argument("--load", action="store_true", help="(re)load the benchmark database first")
    parser.add_argument("--subjects", type=int, default=1_000_000, help="when loading")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    subjects = _loaded_subjects()
    if args.load or not subjects:
        bench.log(f"loading {args.subjects:,} subjects into {bench.DATABASE}")
        bench.load(args.subjects, 50_000, 200_000)
        subjects = _loaded_subjects()
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=WORK))
    platform = bench._platform(data_dir)
    bench.seed(platform)  # the checking department's token, the published measure list, an audit chain head
    platform.sessions.kw["bind"].dispose()
    for size in args.sizes:
        total = count(data_dir, subjects, size, args.batches)
        per_batch = total / args.batches
        print(
            f"batches of {size:>3}: {per_batch / 1e6:8.3f} M instructions a batch, "
            f"{per_batch / size / 1e6:7.3f} M a check ({args.batches} batches)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
