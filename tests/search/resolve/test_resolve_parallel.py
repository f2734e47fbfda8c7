"""A full resolution spread over several processes gives exactly what one process gives."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexers.contract import SourceRecord
from indexers.demo.sources import write_demo_data
from indexers.ingest import prepare_record
from indexers.normalize import NormalizeOptions
from indexers.readers import SourceFiles
from search.resolve import candidates, parallel
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_of
from search.resolve.scoring import Resolution, resolve_records


@pytest.fixture(scope="module")
def demo_documents(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder: Path = tmp_path_factory.mktemp("parallel")
    write_demo_data(folder, persons=500, seed=29)
    return [
        prepare_record(SourceRecord.model_validate(line.payload), NormalizeOptions(birth_date_format=line.birth_date_format)).document
        for line in SourceFiles.discover([folder]).lines()
        if line.payload
    ]


def _in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a new interpreter: this test session runs the API's server in a thread,
    and in_parts rightly stays in one process wherever a thread runs."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as fresh:
        return fresh.submit(function, *args).result()


def _parts_with_their_process() -> tuple[list[tuple[int, int, int]], int]:
    return parallel.in_parts(lambda start, end: (start, end, os.getpid()), 1_000, workers=3, min_part=100), os.getpid()


def test_parts_come_back_in_order_from_forked_workers() -> None:
    parts, parent = _in_fresh_process(_parts_with_their_process)
    assert [(start, end) for start, end, _ in parts] == [(0, 333), (333, 666), (666, 1000)]
    assert parts[0][2] == parent and parent not in {worker for _, _, worker in parts[1:]}


def test_a_process_with_threads_computes_every_part_itself() -> None:
    # Forking a process with threads can leave a lock held forever in the child (the API server).
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        parts = parallel.in_parts(lambda start, end: (start, end, os.getpid()), 1_000, workers=3, min_part=100)
    finally:
        stop.set()
        other.join()
    assert parts == [(0, 1_000, os.getpid())]


def _stage_failing_in_a_worker() -> None:
    def compute(start: int, end: int) -> int:
        if start:
            raise ValueError(f"bad part {start}")
        return end

    parallel.in_parts(compute, 1_000, workers=2, min_part=100)


def test_a_failing_worker_fails_the_stage() -> None:
    with pytest.raises(ValueError, match="bad part 500"):
        _in_fresh_process(_stage_failing_in_a_worker)


def _resolved_alone_and_spread(documents: list[dict[str, Any]]) -> tuple[Resolution, Resolution]:
    assert threading.active_count() == 1, "a fresh interpreter forks its workers"
    candidates.MIN_RECORDS_PER_WORKER = 100  # a test-sized batch really spread over two processes
    records = features_of(documents)
    return resolve_records(records, ResolutionConfig(workers=1)), resolve_records(records, ResolutionConfig(workers=2))


def test_two_processes_find_the_same_customers_as_one(demo_documents: list[dict[str, Any]]) -> None:
    alone, spread = _in_fresh_process(_resolved_alone_and_spread, demo_documents)
    assert np.array_equal(alone.scored.pairs, spread.scored.pairs) and len(spread.scored.pairs) > 1_000
    assert np.array_equal(alone.scored.vectors, spread.scored.vectors)
    assert alone.clustering.labels == spread.clustering.labels
    assert alone.model.as_dict() == spread.model.as_dict()
