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
    # False when `total` is an estimate (a listing too large to count at every request): say "约".
    exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def clamp(page: int, size: int, max_size: int = 200) -> tuple[int, int]:
    return max(1, page), max(1, min(size, max_size))
