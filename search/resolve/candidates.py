"""Candidate pairs: records that share a blocking key, in memory for a batch of any size.

Blocks larger than `max_block_size` (a placeholder e-mail, a call-center default phone, a very
common name at one birth date) are not compared: their value says little, and comparing every pair
in them would cost quadratically. They are reported so a data steward can look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations

from search.resolve.features import KEY_RULES, RecordFeatures


@dataclass
class CandidatePairs:
    pairs: set[tuple[int, int]] = field(default_factory=set)
    frequent_keys: dict[str, int] = field(default_factory=dict)


def candidate_pairs(records: list[RecordFeatures], max_block_size: int) -> CandidatePairs:
    """Index pairs (i < j) of records sharing a key; one key family at a time to bound memory."""
    result = CandidatePairs()
    for _kind, rule in KEY_RULES:
        blocks: dict[str, list[int]] = defaultdict(list)
        for index, record in enumerate(records):
            for key in rule(record):
                blocks[key].append(index)
        for key, members in blocks.items():
            if len(members) < 2:
                continue
            if len(members) > max_block_size:
                result.frequent_keys[key] = len(members)
                continue
            result.pairs.update(combinations(members, 2))
    return result


def pairs_with(records: list[RecordFeatures], focus: set[int], max_block_size: int) -> Iterator[tuple[int, int]]:
    """Only the candidate pairs that involve a record of `focus` (incremental resolution)."""
    for i, j in candidate_pairs(records, max_block_size).pairs:
        if i in focus or j in focus:
            yield i, j
