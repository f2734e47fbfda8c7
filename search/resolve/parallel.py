"""A resolution stage spread over the machine's cores.

The stage's work is cut into contiguous parts; forked workers compute every part but the first
while this process computes the first, and only the parts' results travel back through a pipe. A
forked worker reads the records already in memory instead of receiving a copy (pages are shared
until written; reading a Python object writes its reference count, so a worker's private memory
grows with what it reads, and it lives only as long as the stage). Forking is only safe in a
single-threaded process: a process with threads (the API server) computes every part itself.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import TypeVar, cast

Part = TypeVar("Part")

_compute: Callable[[int, int], object] | None = None  # the stage being spread, inherited by the forked workers


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_parts(compute: Callable[[int, int], Part], total: int, workers: int, min_part: int) -> list[Part]:
    """`compute(start, end)` over `range(total)` cut into at most `workers` parts of at least
    `min_part` items, each part in its own process; the parts' results in order."""
    global _compute
    count = max(1, min(workers, total // max(min_part, 1)))
    if count == 1 or threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [compute(0, total)]
    edges = [total * k // count for k in range(count + 1)]
    bounds = list(itertools.pairwise(edges))
    _compute = compute
    try:
        with multiprocessing.get_context("fork").Pool(count - 1) as pool:
            others = pool.starmap_async(_compute_part, bounds[1:], chunksize=1)
            first = compute(*bounds[0])
            return [first, *cast(list[Part], others.get())]
    finally:
        _compute = None


def _compute_part(start: int, end: int) -> object:
    assert _compute is not None, "in_parts sets the stage before forking"
    return _compute(start, end)
