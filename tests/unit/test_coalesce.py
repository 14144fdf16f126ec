"""Request coalescing (`kit.coalesce`): batching, per-item errors, whole-batch failures, lanes released."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from xinyong.kit.coalesce import Coalescer


class Recorder:
    """A batch function that records each batch; `gate` holds the first batch until released."""

    def __init__(self, hold_first: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        if not hold_first:
            self.gate.set()

    def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(list(items))
        self.entered.set()
        self.gate.wait(5)
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def _when(event: threading.Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.001)


def test_a_lone_item_is_run_alone_at_once() -> None:
    run = Recorder()
    coalescer = Coalescer(run)
    assert asyncio.run(coalescer.submit(3)) == 30
    assert run.batches == [[3]]


def test_items_queued_while_a_batch_runs_go_together_in_the_next() -> None:
    run = Recorder(hold_first=True)
    coalescer = Coalescer(run, lanes=1)

    async def scenario() -> list[int]:
        first = asyncio.ensure_future(coalescer.submit(1))
        await _when(run.entered)  # the first batch is running (and held)
        others = [asyncio.ensure_future(coalescer.submit(i)) for i in range(2, 7)]
        await asyncio.sleep(0.01)
        run.gate.set()
        return [await first, *[await o for o in others]]

    assert asyncio.run(scenario()) == [10, 20, 30, 40, 50, 60]
    assert run.batches == [[1], [2, 3, 4, 5, 6]]
    assert (coalescer.batches, coalescer.items) == (2, 6)


def test_batches_are_cut_at_max_batch() -> None:
    run = Recorder(hold_first=True)
    coalescer = Coalescer(run, lanes=1, max_batch=2)

    async def scenario() -> list[int]:
        first = asyncio.ensure_future(coalescer.submit(1))
        await _when(run.entered)
        others = [asyncio.ensure_future(coalescer.submit(i)) for i in range(2, 7)]
        await asyncio.sleep(0.01)
        run.gate.set()
        return [await first, *[await o for o in others]]

    assert asyncio.run(scenario()) == [10, 20, 30, 40, 50, 60]
    assert run.batches == [[1], [2, 3], [4, 5], [6]]


def test_an_items_own_error_reaches_that_item_alone() -> None:
    run = Recorder(hold_first=True)
    coalescer = Coalescer(run, lanes=1)

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(coalescer.submit(1))
        await _when(run.entered)
        rest = [asyncio.ensure_future(coalescer.submit(i)) for i in (2, -3, 4)]
        await asyncio.sleep(0.01)
        run.gate.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    outcomes = asyncio.run(scenario())
    assert outcomes[:2] == [10, 20] and outcomes[3] == 40
    assert isinstance(outcomes[2], ValueError) and str(outcomes[2]) == "bad -3"
    assert run.batches == [[1], [2, -3, 4]]


def test_a_failing_batch_fails_its_items_and_the_lane_is_free_again() -> None:
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return [i * 10 for i in items]

    coalescer = Coalescer(run, lanes=1)
    with pytest.raises(RuntimeError, match="database went away"):
        asyncio.run(coalescer.submit(1))
    assert asyncio.run(coalescer.submit(2)) == 20  # a new event loop, as a test client makes: not stuck
    assert calls == [[1], [2]]


def test_a_batch_function_that_loses_items_fails_the_batch() -> None:
    coalescer: Coalescer[int, int] = Coalescer(lambda items: items[:-1], lanes=1)
    with pytest.raises(RuntimeError, match="batch of 1 gave 0 outcomes"):
        asyncio.run(coalescer.submit(1))


def test_lanes_run_batches_side_by_side() -> None:
    both = threading.Barrier(2, timeout=5)

    def run(items: list[int]) -> list[int]:
        both.wait()  # returns only when two batches run at the same time
        return items

    coalescer = Coalescer(run, lanes=2, max_batch=1)

    async def scenario() -> list[int]:
        return list(await asyncio.gather(coalescer.submit(1), coalescer.submit(2)))

    assert asyncio.run(scenario()) == [1, 2]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Coalescer(lambda items: items, max_batch=0)


def test_gather_turns_let_requests_on_their_way_join_the_batch() -> None:
    # Each follower reaches the queue a few event-loop turns after the first (as a request does between its
    # bytes arriving and its handler running); with enough turns they all share the first batch.
    def run_with(turns: int) -> list[list[int]]:
        run = Recorder()
        coalescer = Coalescer(run, gather_turns=turns)

        async def late(item: int, turns_late: int) -> int:
            for _ in range(turns_late):
                await asyncio.sleep(0)
            return await coalescer.submit(item)

        async def scenario() -> list[int]:
            return list(await asyncio.gather(coalescer.submit(1), late(2, 1), late(3, 2), late(4, 3)))

        assert asyncio.run(scenario()) == [10, 20, 30, 40]
        return run.batches

    assert run_with(0) == [[1], [2, 3, 4]]
    assert run_with(6) == [[1, 2, 3, 4]]


def test_gathering_stops_at_max_batch() -> None:
    run = Recorder()
    coalescer = Coalescer(run, max_batch=2, gather_turns=1000)

    async def scenario() -> list[int]:
        return list(await asyncio.gather(*(coalescer.submit(i) for i in range(1, 6))))

    assert asyncio.run(scenario()) == [10, 20, 30, 40, 50]
    assert run.batches == [[1, 2], [3, 4], [5]]


def test_negative_gather_turns_are_refused() -> None:
    with pytest.raises(ValueError, match="gather_turns"):
        Coalescer(Recorder(), gather_turns=-1)
