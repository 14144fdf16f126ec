"""Page arithmetic shared by API and HTML listings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
    # False when `total` is not a count (a listing too large to count at every request): an estimate, shown
    # as "约 N", or with `at_least` a lower bound, shown as "N 以上". Paging then follows the rows found.
    exact: bool = True
    at_least: bool = False

    @property
    def pages(self) -> int:
        counted = max(1, -(-self.total // self.size))
        return counted if self.exact else max(counted, self.page + (1 if self.has_next else 0))

    @property
    def has_next(self) -> bool:
        if not self.exact:
            return len(self.items) == self.size
        return self.page < -(-self.total // self.size)

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def clamp(page: int, size: int, max_size: int = 200) -> tuple[int, int]:
    return max(1, page), max(1, min(size, max_size))
