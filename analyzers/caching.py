"""Caches of customers' values that live as long as one batch, never as long as the process.

Normalizers and comparisons see the same names, phones and dates again and again during an ingest
or a resolution run, and cache them for speed. Kept for the life of a process, those caches would
hold customers' values in a long-running API (`POST /v1/records` normalizes what it is sent) after
the customers were erased. So a function decorated with `batch_cached` caches only while a batch is
open (`with batch_caches():` — an ingest run, a resolution run), and every such cache is emptied
when the last open batch closes. Outside a batch (the API's requests) it computes each time.

The scope is process-wide rather than per thread: the ingest normalizes in its bulk helper's
threads, and a forked resolution worker inherits its parent's open batch (a spawned scoring worker,
search.resolve.tile_scoring, opens its own for its life: the run's). A process serving requests
must therefore not open a batch while it serves (rcu's API never does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import update_wrapper
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_open = [0]  # batches open in this process (a list: read without a global statement on the hot path)
_stores: list[dict[Any, Any]] = []  # every batch cache's values, emptied when the last batch closes


@contextmanager
def batch_caches() -> Iterator[None]:
    """Cache normalized values while the block runs; forget every one of them when the last open
    block of the process ends (also on an error)."""
    with _lock:
        _open[0] += 1
    try:
        yield
    finally:
        with _lock:
            _open[0] -= 1
            if not _open[0]:
                for store in _stores:
                    store.clear()


def batch_cached(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache the function's results while a batch is open, at most `maxsize` of them (the cache
    starts again empty when full: a batch's values repeat within a file, not across its whole run)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        store: dict[Any, Any] = {}
        _stores.append(store)
        open_batches = _open

        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            if not open_batches[0]:
                return function(*args, **kwargs)
            key = (args, tuple(kwargs.items())) if kwargs else args
            try:
                return store[key]
            except KeyError:
                pass
            value = function(*args, **kwargs)
            if len(store) >= maxsize:
                store.clear()
            store[key] = value
            return value

        update_wrapper(cached, function)
        cached.batch_store = store  # type: ignore[attr-defined]  # for the tests that inspect what is kept
        return cached

    return decorate


def batch_open() -> bool:
    """Whether a batch is open in this process (its caches keep what they compute)."""
    return _open[0] > 0


def cached_values() -> list[dict[Any, Any]]:
    """Every batch cache's store (the tests check that none keeps an erased person's values)."""
    return list(_stores)
