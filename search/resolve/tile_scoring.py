"""A partitioned run's scoring stage (search.resolve.partitioned) spread over processes.

Each tile of candidate pairs (search.resolve.spool.tiles: the pairs between two ranges of records)
travels to a worker as its records' features, serialized as the spool holds them (computed once per
record, at load: search.resolve.features.features_to_json), and its pairs; the worker decodes them,
compares and scores every pair, and sends back only the pairs at least the review threshold (spool
numbers, comparison levels, weights): a few percent of the pairs, a few bytes each. Each record is
decoded once per process (KnownFeatures). Workers are spawned, not forked:
the spool's DuckDB runs threads of its own, and a fork copies whatever lock one of them holds.

With one process, the same function scores each tile in this process: what a tile keeps does not
depend on where it was scored.
"""

from __future__ import annotations

import itertools
import multiprocessing
import resource
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from analyzers.caching import batch_caches
from search.resolve.blocking import passes_a_gate
from search.resolve.comparisons import Comparison, comparisons_for
from search.resolve.features import RecordFeatures, collector_paused, features_from_json
from search.resolve.model import MatchModel
from search.resolve.scoring import ScoredPairs, pair_bits, pair_vectors, same_source_pairs


@dataclass
class TileTask:
    """One tile's work: its records' features as spooled (features_to_json), and its pairs by place among them and by spool number."""

    records: list[bytes]
    pairs: np.ndarray  # (n, 2) places in `documents`
    numbers: np.ndarray  # (n, 2) spool numbers of the same records
    # Per pair: made by an ungated key (`free`), or only by gated ones whose numbers are the bits of
    # `gates` (search.resolve.spool.Tile): compared only when one of its gates passes.
    free: np.ndarray
    gates: np.ndarray


@dataclass
class TileScores:
    """What a tile keeps: the pairs at least the review threshold, each turned to have its record
    first in record id order (`left`, `right`: spool numbers), and how many pairs it compared."""

    left: np.ndarray
    right: np.ndarray
    scored: ScoredPairs  # of the kept pairs; `pairs` by place in the tile (unused past it)
    compared: int


def score_pairs(records: list[RecordFeatures], pairs: np.ndarray, model: MatchModel, comparisons: tuple[Comparison, ...]) -> ScoredPairs:
    """Each pair's comparison vector, weight and match probability under `model` (search.resolve.scoring's steps, without clustering)."""
    vectors = pair_vectors(records, pairs, comparisons)
    weights, probabilities = model.score(vectors, pair_bits(model, records, pairs, vectors), same_source_pairs(records, pairs))
    return ScoredPairs(pairs, vectors, weights, probabilities)


class KnownFeatures:
    """The features of the records a process has scored, by spool number, each decoded once for
    every tile it is in — a record is in 2.5 tiles on average (100k, bench/RESULTS.md, session 12
    scale section) — the oldest dropped past `size` records, which bounds the memory: a process
    keeps about one range of records (`partition_records`). For one model: identifiers fixed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._features: dict[int, RecordFeatures] = {}

    def of(self, task: TileTask) -> list[RecordFeatures]:
        """Features of the tile's records, by place."""
        numbers = np.empty(len(task.records), dtype=np.int64)
        numbers[task.pairs[:, 0]], numbers[task.pairs[:, 1]] = task.numbers[:, 0], task.numbers[:, 1]
        known = self._features
        for place, number in enumerate(numbers.tolist()):
            if number not in known:
                known[number] = features_from_json(task.records[place])
        records = [known[number] for number in numbers.tolist()]
        for number in list(itertools.islice(known, max(0, len(known) - self.size))):
            del known[number]
        return records


def score_tile(
    task: TileTask, model: MatchModel, comparisons: tuple[Comparison, ...], review_threshold: float, known: KnownFeatures | None = None
) -> TileScores:
    """A tile's pairs scored, each compared with its first record first in record id order as the
    in-memory run compares them; the pairs at least `review_threshold` kept. `known`: features
    computed for earlier tiles, used again."""
    with collector_paused():
        records = known.of(task) if known is not None else [features_from_json(spooled) for spooled in task.records]
        compared = gated_pairs(records, task.pairs, task.free, task.gates)
        pairs, numbers = task.pairs[compared], task.numbers[compared]
        swap = record_id_swap(records, pairs)
        pairs = np.where(swap[:, None], pairs[:, ::-1], pairs)
        numbers = np.where(swap[:, None], numbers[:, ::-1], numbers)
        scored = score_pairs(records, pairs, model, comparisons)
        kept = scored.probabilities >= review_threshold
        return TileScores(
            numbers[kept, 0],
            numbers[kept, 1],
            ScoredPairs(pairs[kept], scored.vectors[kept], scored.weights[kept], scored.probabilities[kept]),
            len(pairs),
        )


def gated_pairs(records: list[RecordFeatures], pairs: np.ndarray, free: np.ndarray, gates: np.ndarray) -> np.ndarray:
    """Which pairs of a tile the in-memory run compares too: made by an ungated key, or passing
    the gate of a gated key that made them (search.resolve.blocking.passes_a_gate)."""
    gated = np.flatnonzero(~free)
    kept = free.copy()
    kept[gated] = np.fromiter(
        (passes_a_gate(records[i], records[j], g) for (i, j), g in zip(pairs[gated].tolist(), gates[gated].tolist(), strict=True)),
        dtype=bool,
        count=len(gated),
    )
    return kept


def record_id_swap(records: list[RecordFeatures], pairs: np.ndarray) -> np.ndarray:
    """Which pairs (i, j) must be turned round to have records[i] first in record id order."""
    return np.fromiter((records[i].record_id > records[j].record_id for i, j in pairs.tolist()), dtype=bool, count=len(pairs))


# A worker's model and threshold, set once when it starts (a model carries its term frequencies: sent once, not per tile).
_worker: tuple[MatchModel, tuple[Comparison, ...], float, KnownFeatures] | None = None


_worker_batch: AbstractContextManager[None] | None = None


def _start_worker(model: MatchModel, review_threshold: float, known_records: int) -> None:
    global _worker
    _worker = (model, comparisons_for(model.identifiers), review_threshold, KnownFeatures(known_records))
    # A spawned worker starts with no batch open, so the comparisons' and normalizers' caches
    # (analyzers.caching) would compute every value again; the worker lives as long as the run's
    # pool, and its cached values end with it. (Kept in a global: a context manager dropped would
    # close its batch when collected.)
    global _worker_batch
    _worker_batch = batch_caches()
    _worker_batch.__enter__()


def _score_in_worker(task: TileTask) -> TileScores:
    assert _worker is not None, "the pool's initializer sets the model"
    return score_tile(task, *_worker)


class TileScorer:
    """Tiles scored by `processes` workers (this process alone for 1), results in the tiles' order,
    at most `processes + 1` tiles in flight (each holds its records' JSON until scored)."""

    def __init__(self, model: MatchModel, review_threshold: float, processes: int, known_records: int) -> None:
        self.model, self.review_threshold, self.processes = model, review_threshold, processes
        self.comparisons = comparisons_for(model.identifiers)
        self.known_records = known_records  # features kept per process (KnownFeatures)
        self.pool: ProcessPoolExecutor | None = None
        self.worker_cpu_s = 0.0

    def __enter__(self) -> TileScorer:
        if self.processes > 1:
            self._children_cpu = _children_cpu()
            self.pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.model, self.review_threshold, self.known_records),
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.worker_cpu_s = _children_cpu() - self._children_cpu  # the workers, once ended and reaped

    def scores(self, tasks: Iterable[TileTask]) -> Iterator[TileScores]:
        if self.pool is None:
            known = KnownFeatures(self.known_records)
            for task in tasks:
                yield score_tile(task, self.model, self.comparisons, self.review_threshold, known)
            return
        flight: deque[Future[TileScores]] = deque()
        for task in tasks:
            flight.append(self.pool.submit(_score_in_worker, task))
            if len(flight) > self.processes:
                yield flight.popleft().result()
        while flight:
            yield flight.popleft().result()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
