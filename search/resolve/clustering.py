"""Clusters that never chain two different people together.

Links are taken strongest first. Two clusters merge only if no record of one is clearly another
person than a record of the other (comparisons.clearly_different_people: homonyms with other birth
dates, household members with other given names), so A~B and B~C never pull A and C together when
A and C are two people. Refused links are kept: they are what a data steward should look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from search.resolve.comparisons import NEVER_MERGE_RULES, clearly_different_people
from search.resolve.features import RecordFeatures


@dataclass
class Clustering:
    labels: list[int]
    refused_links: list[tuple[int, int, str]] = field(default_factory=list)

    def clusters(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = {}
        for index, label in enumerate(self.labels):
            groups.setdefault(label, []).append(index)
        return groups


def cluster(
    records: list[RecordFeatures],
    pairs: np.ndarray,
    weights: np.ndarray,
    probabilities: np.ndarray,
    threshold: float,
    max_cluster_size: int,
    never_merge: frozenset[str] = frozenset(NEVER_MERGE_RULES),
) -> Clustering:
    """Group records linked above `threshold`, strongest links first, refusing incoherent merges."""
    parent = list(range(len(records)))
    members: dict[int, list[int]] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    refused: list[tuple[int, int, str]] = []
    conflict_cache: dict[tuple[int, int], str | None] = {}
    linked = set(map(tuple, pairs[probabilities >= threshold].tolist()))

    def conflict(a: list[int], b: list[int]) -> str | None:
        """The reason two clusters are different people, or None. Contradicting pairs are
        outvoted when direct links that contradict nothing are at least twice as many (a mistyped
        birth date or given name among many agreeing records); never when nothing else links them."""
        reasons: list[str] = []
        support = 0
        for x in a:
            for y in b:
                key = (x, y) if x < y else (y, x)
                if key not in conflict_cache:
                    conflict_cache[key] = clearly_different_people(records[x], records[y], never_merge)
                if conflict_cache[key]:
                    reasons.append(conflict_cache[key])
                elif key in linked:
                    support += 1
        if reasons and support < 2 * len(reasons):
            return reasons[0]
        return None

    above = np.nonzero(probabilities >= threshold)[0]
    order = above[np.argsort(-weights[above], kind="stable")]
    for i, j in pairs[order].tolist():
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        group_i, group_j = members.get(ri, [ri]), members.get(rj, [rj])
        if len(group_i) + len(group_j) > max_cluster_size:
            refused.append((i, j, f"customer would exceed {max_cluster_size} records"))
            continue
        reason = conflict(group_i, group_j)
        if reason:
            refused.append((i, j, reason))
            continue
        if len(group_i) < len(group_j):
            ri, rj, group_i, group_j = rj, ri, group_j, group_i
        parent[rj] = ri
        members[ri] = group_i + group_j
        members.pop(rj, None)
    return Clustering(labels=[find(i) for i in range(len(records))], refused_links=refused)
