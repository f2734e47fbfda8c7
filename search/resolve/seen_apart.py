"""Values a person changes, compared on records seen years apart: m by the time between the records.

A person moves, changes mobile and mailbox; a system keeps what it was told on the day it saw him.
Two records of one person seen the same month hold one address, two seen twelve years apart often
two. A single m per level (EM's, pooled over every candidate pair) prices "elsewhere" as if every
pair had been seen at the data's average distance in time: it holds a person's old address against
him as firmly when his records are twelve years apart as when they are a week apart, and a
namesake's other address as lightly when they are a week apart as when they are twelve.

Here, for the comparisons of values a person changes (CHANGING), m is estimated per distance in
time between the two records' `updated_at` (the day each system last wrote what it holds), in
doubling bins (GAP_EDGES_YEARS): EM's M-step run again within each bin, each pair weighing its
match probability, held towards the pooled m by the model's Dirichlet prior (pseudo-pairs), a few
rounds as the probabilities move. What a difference says is then measured on the data being
resolved: if its systems' dates say nothing of when values were seen, each bin's m stays the pooled
one and nothing changes. Pairs with a side undated keep the pooled m. u is not conditioned: two
different people's addresses differ whenever each was seen.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from search.resolve.comparisons import NULL
from search.resolve.config import PROBABILITY_FLOOR
from search.resolve.features import RecordFeatures

# The comparisons of values a person changes over a life; names, birth dates and cards are not here
# (a family name changed by marriage is read against the maiden name: comparisons._oriented).
CHANGING = ("email", "phone", "address")
# Distance in time between two records, in years: bins [0, 1), [1, 2), [2, 4), [4, 8), [8, 16),
# [16, ...). Doubling bins, not fitted to any data set: each bin's m is estimated from the pairs in
# it (held to the pooled m where few pairs fall in it), so finer bins cost nothing but variance.
GAP_EDGES_YEARS = (1.0, 2.0, 4.0, 8.0, 16.0)
# EM rounds of the binned M-step: the probabilities move by the shifts they weigh; on bench.corruption
# (20-year timelines) the tables move by less than 0.001 after the third round.
ROUNDS = 4
UNDATED = -1


def day_number(updated_at: str) -> int:
    """The day of an `updated_at` (ISO 8601) as a day number, UNDATED when absent or unreadable."""
    try:
        return date.fromisoformat(updated_at[:10]).toordinal() if updated_at else UNDATED
    except ValueError:
        return UNDATED


def pair_bins(records: list[RecordFeatures], pairs: np.ndarray, edges: tuple[float, ...] = GAP_EDGES_YEARS) -> np.ndarray:
    """Each pair's bin of distance in time between its records (`edges`, years), UNDATED where a
    side is undated."""
    if not len(pairs):
        return np.zeros(0, dtype=np.int8)
    days = np.fromiter((day_number(record.updated_at) for record in records), dtype=np.int64, count=len(records))
    left, right = days[pairs[:, 0]], days[pairs[:, 1]]
    bins = np.searchsorted(edges, np.abs(left - right) / 365.25, side="right").astype(np.int8)
    bins[(left == UNDATED) | (right == UNDATED)] = UNDATED
    return bins


def bin_of_records(x: RecordFeatures, y: RecordFeatures, edges: tuple[float, ...] = GAP_EDGES_YEARS) -> int:
    """The bin of one pair (pair_bins for a pair on its own)."""
    a, b = day_number(x.updated_at), day_number(y.updated_at)
    return UNDATED if a == UNDATED or b == UNDATED else int(np.searchsorted(edges, abs(a - b) / 365.25, side="right"))


def shift_tables(m_by_gap: dict[str, Any] | None, names: list[str]) -> dict[int, np.ndarray]:
    """Per changing comparison's column, the bits each (bin, level) adds to the pooled weight:
    log2(m in the bin / m over every bin), both counted alike (estimate_m_by_gap)."""
    if not m_by_gap:
        return {}
    shifts = {}
    for column, name in enumerate(names):
        binned = m_by_gap["m"].get(name)
        if binned is not None:
            pooled = np.maximum(np.array(m_by_gap["pooled"][name]), PROBABILITY_FLOOR)
            shifts[column] = np.log2(np.maximum(np.array(binned), PROBABILITY_FLOOR) / pooled)
    return shifts


def gap_bits(shifts: dict[int, np.ndarray], vectors: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Per pair, the bits its distance in time adds to its changing comparisons' pooled weights."""
    bits = np.zeros(len(vectors))
    dated = bins != UNDATED
    for column, table in shifts.items():
        levels = vectors[:, column]
        rows = dated & (levels != NULL)
        bits[rows] += table[bins[rows], levels[rows]]
    return bits


def estimate_m_by_gap(
    names: list[str],
    m: list[list[float]],
    vectors: np.ndarray,
    bins: np.ndarray,
    weights: np.ndarray,
    pseudo_pairs: float,
) -> dict[str, Any] | None:
    """The changing comparisons' m per bin of distance in time, from candidate pairs' comparison
    levels, bins and match weights (bits, under the pooled m): EM's M-step within each bin, each
    pair counted by its match probability, plus `pseudo_pairs` pairs at the m of every bin
    together; then the weights again under the binned m, ROUNDS times. Both the binned and the
    pooled m are kept and counted alike, so a shift says what the time between two records
    changes and nothing else (EM's own m, counted without term frequencies and with the never-merge
    rules' pairs left out, differs from these counts by level whatever the time). None when no
    pair is dated on both sides."""
    columns = [column for column, name in enumerate(names) if name in CHANGING]
    dated = bins != UNDATED
    if not columns or not dated.any():
        return None
    bins_count = len(GAP_EDGES_YEARS) + 1
    estimate: dict[str, Any] = {"edges_years": list(GAP_EDGES_YEARS), "m": {}, "pooled": {}}
    for _ in range(ROUNDS):
        shifted = weights + gap_bits(shift_tables(estimate, names), vectors, bins)
        probabilities = 1.0 / (1.0 + np.exp2(-shifted))
        tables, pooled_tables = {}, {}
        for column in columns:
            levels = vectors[:, column]
            rows = dated & (levels != NULL)
            counts = np.zeros((bins_count, len(m[column])))
            np.add.at(counts, (bins[rows], levels[rows]), probabilities[rows])
            every = counts.sum(axis=0)
            # No matching pair compares it: EM's m stands for every bin (no shift).
            pooled = every / every.sum() if every.sum() > 0 else np.array(m[column])
            held = counts + pseudo_pairs * pooled
            total = held.sum(axis=1, keepdims=True)
            # A bin no pair falls in (and no prior to hold it) keeps the pooled m.
            tables[names[column]] = np.where(total > 0, held / np.maximum(total, PROBABILITY_FLOOR), pooled).tolist()
            pooled_tables[names[column]] = pooled.tolist()
        estimate["m"], estimate["pooled"] = tables, pooled_tables
    return estimate


def changed_with_time(m_by_gap: dict[str, Any] | None, names: list[str], vectors: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Per pair and comparison, whether a value a person changes plainly differs (its last level)
    on records seen so far apart that one person's records in that bin differ on it more often than
    not (the bin's m of that level at least one half) and more often than records seen within the
    nearest bin do: a person's old address, not a sign of another person. What it says is still weighed (the bin's m); it only does not count as a plain
    difference beside names alone (search.resolve.scoring.contradicted_pairs)."""
    changed = np.zeros(vectors.shape, dtype=bool)
    if not m_by_gap or not len(vectors):
        return changed
    dated = bins != UNDATED
    for column, name in enumerate(names):
        binned = m_by_gap["m"].get(name)
        if binned is None:
            continue
        last = len(binned[0]) - 1
        # More often than not (a majority, not a constant fitted to a data set), on records at least a
        # bin apart, and more often than on records seen within the nearest bin: the dates must show
        # people changing the value with time. Data whose records share a date (all in the nearest bin),
        # or too few pairs to tell bins apart (each held at the pooled m), changes nothing; nor does a
        # value one person's records differ on whatever the time (a work and a personal e-mail).
        nearest = binned[0][last]
        mostly_changed = np.array([index > 0 and row[last] >= 0.5 and row[last] > nearest for index, row in enumerate(binned)])
        rows = dated & (vectors[:, column] == last)
        changed[rows, column] = mostly_changed[bins[rows]]
    return changed


def changed_for_pair(
    m_by_gap: dict[str, Any] | None, names: list[str], x: RecordFeatures, y: RecordFeatures, vector: list[int]
) -> np.ndarray:
    """changed_with_time for one pair of records (a pair the run did not score, `rcu explain`)."""
    if not m_by_gap:
        return np.zeros(len(vector), dtype=bool)
    bins = np.array([bin_of_records(x, y, tuple(m_by_gap["edges_years"]))], dtype=np.int8)
    return changed_with_time(m_by_gap, names, np.array([vector], dtype=np.int8), bins)[0]
