"""Request coalescing: what concurrent requests ask for is done in batches, one transaction per batch.

A request's work that is mostly fixed cost — a pooled connection, a transaction, a handful of round trips, a
commit — costs nearly the same for one item as for twenty. `Coalescer.submit` queues the item and returns
when the batch that carried it is done. There is no timer: a batch starts as soon as a lane is free and
takes everything queued by then (at most `max_batch`), so a lone request waits for nobody, and under load
each batch carries the requests that arrived while the previous one ran (group commit, as databases do it
for their log).

Before it takes the queue a lane may let the event loop turn a few times (`gather_turns`, each turn a pass
over what is ready, no sleep): a request whose bytes have arrived needs several turns — readable socket,
parsing, its task's first step to the handler — to reach the queue, and the answers of the batch just done
go out in those turns, so their clients' next requests can follow. A turn with nothing to do costs
microseconds; a batch's fixed cost is a millisecond.

The batch function runs in the thread pool and returns one outcome per item, in order: a value or an
exception for that item alone. If the function raises, every item of the batch fails with that exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Batches of at most `max_batch` items, at most `lanes` batches at a time (per process and event loop)."""

    def __init__(
        self,
        run: Callable[[list[T]], Sequence[R | BaseException]],
        *,
        max_batch: int = 64,
        lanes: int = 1,
        gather_turns: int = 0,
    ) -> None:
        if max_batch < 1 or lanes < 1 or gather_turns < 0:
            raise ValueError("max_batch and lanes must be at least 1, gather_turns at least 0")
        self._run = run
        self.max_batch = max_batch
        self.lanes = lanes
        self.gather_turns = gather_turns
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._busy = 0
        self.batches = 0  # counters for tests and diagnostics
        self.items = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._busy < self.lanes:
            self._busy += 1
            asyncio.get_running_loop().create_task(self._lane())
        return await future

    async def _lane(self) -> None:
        """Run batches while items are queued. The lane is released before the last batch's results are
        handed out, synchronously, so an event loop that ends with the last request leaves no lane taken."""
        while True:
            if not self._queue:  # another lane took everything before this one started
                self._busy -= 1
                return
            await self._gather()
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            outcomes = await self._outcomes(batch)
            self.batches += 1
            self.items += len(batch)
            last = not self._queue
            if last:
                self._busy -= 1
            _settle(batch, outcomes)
            if last:
                return

    async def _gather(self) -> None:
        """Let the event loop turn up to `gather_turns` times: requests on their way join this batch."""
        for _ in range(self.gather_turns):
            if len(self._queue) >= self.max_batch:
                return
            await asyncio.sleep(0)

    async def _outcomes(self, batch: list[tuple[T, asyncio.Future[R]]]) -> Sequence[R | BaseException]:
        """One outcome per item of the batch, run in the thread pool; if the batch fails as a whole, its error
        for every item."""
        try:
            outcomes: Sequence[R | BaseException] = await run_in_threadpool(self._run, [i for i, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} gave {len(outcomes)} outcomes")
        except asyncio.CancelledError as exc:  # the event loop is ending: this batch's requests fail
            self._busy -= 1
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        except Exception as exc:  # the whole batch failed: every item of it fails with the error
            return [exc] * len(batch)
        return outcomes


def _settle(batch: list[tuple[T, asyncio.Future[R]]], outcomes: Sequence[R | BaseException]) -> None:
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():  # the request went away; its work is done and stored all the same
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
