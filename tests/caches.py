"""What a process keeps in its caches, inspected (not mocked): rcu's functools caches and its
batch caches (analyzers.caching)."""

from __future__ import annotations

import functools
import gc

from analyzers.caching import cached_values

PACKAGES = ("search", "analyzers", "api", "indexers")


def caches_holding(fragment: str) -> list[str]:
    """The caches of rcu's packages whose keys or values mention `fragment` (lower case)."""
    holders = []
    for cached in gc.get_objects():
        if isinstance(cached, functools._lru_cache_wrapper) and cached.__module__.split(".")[0] in PACKAGES:
            for store in gc.get_referents(cached):
                if isinstance(store, dict) and fragment in repr(list(store.items())).lower():
                    holders.append(f"{cached.__module__}.{cached.__qualname__}")
    for number, store in enumerate(cached_values()):
        if fragment in repr(list(store.items())).lower():
            holders.append(f"batch cache {number}")
    return holders
