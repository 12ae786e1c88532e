"""idp.bounded_cache: values kept until the cache is full, then it starts over; never more than ``size``."""

from __future__ import annotations

from idp.bounded_cache import BoundedCache


def test_values_are_built_once_and_the_cache_never_outgrows_its_size() -> None:
    cache: BoundedCache[int, str] = BoundedCache(3)
    built: list[int] = []

    def build(n: int) -> str:
        built.append(n)
        return f"v{n}"

    assert [cache.get_or_build(n, lambda n=n: build(n)) for n in (1, 2, 1, 3, 2)] == ["v1", "v2", "v1", "v3", "v2"]
    assert built == [1, 2, 3]
    cache.put(4, "v4")  # full: emptied first
    assert cache.get(4) == "v4" and cache.get(1) is None and len(cache._items) == 1
