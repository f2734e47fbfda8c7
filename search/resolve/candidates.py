"""Candidate pairs: records that share a blocking key, in memory for a batch of any size.

Blocks larger than `max_block_size` (a placeholder e-mail, a call-center default phone, a very
common name at one birth date) are not compared: their value says little, and comparing every pair
in them would cost quadratically. They are reported so a data steward can look.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from search.resolve.features import KEY_RULES, RecordFeatures


@dataclass
class CandidatePairs:
    pairs: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))  # (n, 2), i < j, sorted
    frequent_keys: dict[str, int] = field(default_factory=dict)


def candidate_pairs(records: list[RecordFeatures], max_block_size: int) -> CandidatePairs:
    """Index pairs (i < j) of records sharing a key; one key family at a time to bound memory.

    Keys are grouped by sorting their hashes (numpy), and the pairs of all blocks of one size are
    made at once: a million records block in seconds, not minutes."""
    result = CandidatePairs()
    chunks: list[np.ndarray] = []
    for _kind, rule in KEY_RULES:
        keys: list[str] = []
        owners: list[int] = []
        for index, record in enumerate(records):
            for key in rule(record):
                keys.append(key)
                owners.append(index)
        if not keys:
            continue
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        order = np.argsort(hashes, kind="stable")
        sorted_owners = np.asarray(owners, dtype=np.int64)[order]
        starts = np.flatnonzero(np.r_[True, np.diff(hashes[order]) != 0])
        sizes = np.diff(np.r_[starts, len(order)])
        for start in starts[sizes > max_block_size]:
            key = keys[order[start]]
            result.frequent_keys[key] = int(sizes[np.searchsorted(starts, start)])
        for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_block_size)]):
            block_starts = starts[sizes == size]
            members = sorted_owners[block_starts[:, None] + np.arange(size)]  # (blocks, size)
            first, second = np.triu_indices(size, 1)
            left, right = members[:, first].ravel(), members[:, second].ravel()
            chunks.append(np.minimum(left, right) * len(records) + np.maximum(left, right))
    if chunks:
        codes = np.unique(np.concatenate(chunks))
        codes = codes[codes // len(records) != codes % len(records)]  # a record never pairs with itself
        result.pairs = codes_to_pairs(codes, len(records))
    return result


def codes_to_pairs(codes: np.ndarray, count: int) -> np.ndarray:
    return np.stack([codes // count, codes % count], axis=1)
