"""Run one measured phase in a fresh Python process, so its time and peak RSS are its own.

`python -m benchmarks.worker module:function '{"arg": ...}'` prints the phase's result as the last line,
prefixed with RESULT. The parent kills the child if it outlives its timeout, so a run always ends.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

from benchmarks import common

MARKER = "RESULT "


class PhaseFailed(RuntimeError):
    pass


def run_phase(target: str, kwargs: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Run `target` (module:function) with kwargs in a child process; return its JSON result."""
    command = [sys.executable, "-m", "benchmarks.worker", target, json.dumps(kwargs)]
    try:
        done = subprocess.run(
            command,
            cwd=common.ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PhaseFailed(f"{target} did not finish within {timeout_s:.0f} s and was stopped") from exc
    if done.returncode != 0:
        raise PhaseFailed(f"{target} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            return result
    raise PhaseFailed(f"{target} printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _die_with_parent() -> None:
    """Linux: get SIGTERM if the parent run dies, so no phase outlives an interrupted run."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    _die_with_parent()
    target, raw = argv
    module_name, _, function_name = target.partition(":")
    source = common.SourceSnapshot()  # before any application import
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(**json.loads(raw))
    result["src_digest"] = source.digest()
    print(MARKER + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
