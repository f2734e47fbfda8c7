"""Candidate pairs: records that share a blocking key, in memory for a batch of any size.

Blocks larger than `max_block_size` (a placeholder e-mail, a call-center default phone, a very
common name at one birth date) are not compared: their value says little, and comparing every pair
in them would cost quadratically. They are reported so a data steward can look.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from search.resolve.blocking import (
    KEY_RULES,
    PLAIN_STRONG_RULES,
    SELECTIVE_RULES,
    WEAK_RULES,
    KeyRule,
    blocking_keys,
    one_sided_pairs,
    pair_budget,
)
from search.resolve.config import MAX_NAME_BLOCK_SIZE
from search.resolve.features import RecordFeatures
from search.resolve.parallel import in_parts


@dataclass
class CandidatePairs:
    pairs: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))  # (n, 2), i < j, sorted
    frequent_keys: dict[str, int] = field(default_factory=dict)


# Below this many records a part is not worth a process; keys are turned into arrays this many
# records at a time, so a part never holds millions of Python strings.
MIN_RECORDS_PER_WORKER = 50_000
RECORDS_PER_BATCH = 20_000


def candidate_pairs(
    records: list[RecordFeatures],
    max_block_size: int,
    workers: int = 1,
    max_name_block_size: int = MAX_NAME_BLOCK_SIZE,
    skip: np.ndarray | None = None,
) -> CandidatePairs:
    """Index pairs (i < j) of records sharing a key: a strong key's block up to `max_block_size`
    records, a weak key's (search.resolve.blocking) up to `max_name_block_size`; `skip` holds the
    hashes of keys found too common over a larger set than `records` (a partition of a full run:
    search.resolve.spool).

    Keys are grouped by sorting their hashes (numpy), and the pairs of all blocks of one size are
    made at once: a million records block in seconds, not minutes. Hashing the keys, the Python
    part, is spread over `workers` processes. Strong and weak keys are grouped one after the other,
    so only one family's hashes are in memory at a time. (A weak key past its bound is a common
    name, expected and not reported.) A one-sided rule's blocks pair only records its `pairs_need`
    holds for with the rest of the block, while they make at most `pair_budget` pairs; a gated
    rule's blocks only the pairs its `pairs_gate` holds for."""
    result = CandidatePairs()
    chunks = _block_pairs(records, PLAIN_STRONG_RULES, max_block_size, workers, result.frequent_keys, skip)
    weak_bound = min(max_name_block_size, max_block_size)
    chunks += _block_pairs(records, tuple(rule for rule in WEAK_RULES if not rule.selective), weak_bound, workers, None, skip)
    for rule in SELECTIVE_RULES:
        # A gated rule's gate (Python, per pair) runs only on the pairs no rule before it made.
        known = _unique_codes(chunks) if rule.pairs_gate is not None else None
        chunks = [known] if known is not None else chunks
        bound, frequent = (weak_bound, None) if rule.weak else (max_block_size, result.frequent_keys)
        chunks += _block_pairs(records, (rule,), bound, workers, frequent, skip, rule, known)
    if chunks:
        codes = _unique_codes(chunks)
        codes = codes[codes // len(records) != codes % len(records)]  # a record never pairs with itself
        result.pairs = codes_to_pairs(codes, len(records))
    return result


def _unique_codes(chunks: list[np.ndarray]) -> np.ndarray:
    if not chunks:
        return np.empty(0, dtype=np.int64)
    codes = np.concatenate(chunks)
    codes.sort()  # sorting finds the repeated pairs far faster than np.unique's hash table
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def _block_pairs(
    records: list[RecordFeatures],
    rules: tuple[KeyRule, ...],
    bound: int,
    workers: int,
    frequent_keys: dict[str, int] | None,
    skip: np.ndarray | None = None,
    selective: KeyRule | None = None,
    known: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The pairs (as codes smaller * n + larger) of the blocks of at most `bound` records that these
    rules' keys make, leaving out the keys hashed in `skip`; the larger blocks go to `frequent_keys`
    when given. With a `selective` rule (the only one of `rules`): a one-sided rule's pair needs
    one record its `pairs_need` holds for, and its block at most `pair_budget(bound)` such pairs;
    a gated rule's pair needs its `pairs_gate` to hold, or to be among the `known` codes (sorted)."""
    parts = in_parts(lambda start, end: key_hashes(records, start, end, rules), len(records), workers, MIN_RECORDS_PER_WORKER)
    hashes, owners = np.concatenate(parts, axis=1)
    if skip is not None and len(skip):
        kept = ~np.isin(hashes, skip)
        hashes, owners = hashes[kept], owners[kept]
    if not len(hashes):
        return []
    order = np.argsort(hashes)  # the order inside a block does not matter: a pair is (smaller, larger)
    sorted_hashes, sorted_owners = hashes[order], owners[order]
    starts = np.flatnonzero(np.r_[True, np.diff(sorted_hashes) != 0])
    sizes = np.diff(np.r_[starts, len(order)])
    if frequent_keys is not None:
        for start in starts[sizes > bound].tolist():
            key = _key_with_hash(records[sorted_owners[start]], int(sorted_hashes[start]), rules)
            frequent_keys[key] = int(sizes[np.searchsorted(starts, start)])
    kept = (sizes >= 2) & (sizes <= bound)
    needed = None
    if selective is not None and (pairs_need := selective.pairs_need) is not None:
        needed = np.fromiter((pairs_need(record) for record in records), dtype=bool, count=len(records))
        needing = np.add.reduceat(needed[sorted_owners].astype(np.int64), starts)
        kept = (sizes >= 2) & (needing > 0) & (one_sided_pairs(needing, sizes) <= pair_budget(bound))  # a block of full names pairs nothing
    gate = selective.pairs_gate if selective is not None else None
    chunks: list[np.ndarray] = []
    for size in np.unique(sizes[kept]).tolist():
        block_starts = starts[kept & (sizes == size)]
        members = sorted_owners[block_starts[:, None] + np.arange(size)]  # (blocks, size)
        first, second = np.triu_indices(size, 1)
        left, right = members[:, first].ravel(), members[:, second].ravel()
        if needed is not None:
            one_sided = needed[left] | needed[right]
            left, right = left[one_sided], right[one_sided]
        if gate is not None:
            codes = np.minimum(left, right) * len(records) + np.maximum(left, right)
            if known is not None and len(known):
                new = known[np.minimum(np.searchsorted(known, codes), len(known) - 1)] != codes
                left, right = left[new], right[new]
            passed = np.fromiter(
                (gate(records[a], records[b]) for a, b in zip(left.tolist(), right.tolist(), strict=True)), dtype=bool, count=len(left)
            )
            left, right = left[passed], right[passed]
        chunks.append(np.minimum(left, right) * len(records) + np.maximum(left, right))
    return chunks


def key_hashes(records: list[RecordFeatures], start: int, end: int, rules: tuple[KeyRule, ...] = KEY_RULES) -> np.ndarray:
    """(hash, owner) of every blocking key of records[start:end] under `rules`, as the two rows of
    one array. Key families carry distinct prefixes, so all of them are grouped in one sort."""
    batches = []
    for batch_start in range(start, end, RECORDS_PER_BATCH):
        batch_end = min(end, batch_start + RECORDS_PER_BATCH)
        hashes: list[int] = []
        counts: list[int] = []
        for record in records[batch_start:batch_end]:
            keys = blocking_keys(record, rules)
            hashes.extend(map(hash, keys))
            counts.append(len(keys))
        owners = np.repeat(np.arange(batch_start, batch_end, dtype=np.int64), counts)
        batches.append(np.array([np.array(hashes, dtype=np.int64), owners]))
    return np.concatenate(batches, axis=1) if batches else np.empty((2, 0), dtype=np.int64)


def _key_with_hash(record: RecordFeatures, key_hash: int, rules: tuple[KeyRule, ...]) -> str:
    return next(key for key in blocking_keys(record, rules) if hash(key) == key_hash)


def codes_to_pairs(codes: np.ndarray, count: int) -> np.ndarray:
    return np.stack([codes // count, codes % count], axis=1)
