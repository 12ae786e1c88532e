"""A process-wide cache of at most ``size`` entries, for values that are costly to compute and cheap to keep."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict emptied when it holds ``size`` entries: the few keys in use (a client's filter shapes, its bearer
    token) come back at once, and a stream of new keys costs recomputing, never memory. Shared by threads
    without a lock: a race computes a value twice, which callers must find harmless."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[key] = value

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        value = self._items.get(key)
        if value is None:
            value = build()
            self.put(key, value)
        return value
