"""Clusters that never chain two different people together.

Links are taken strongest first. Two clusters merge only if no record of one is clearly another
person than a record of the other (comparisons.clearly_different_people: homonyms with other birth
dates, household members with other given names), so A~B and B~C never pull A and C together when
A and C are two people. Refused links are kept: they are what a data steward should look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from search.resolve.comparisons import clearly_different_people
from search.resolve.config import NEVER_MERGE_RULES, OUTVOTING_LINKS
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
    disagree: Callable[[int, int], bool] | None = None,
    names_only: np.ndarray | None = None,
) -> Clustering:
    """Group records linked above `threshold`, strongest links first, refusing incoherent merges.

    A name is not an identifier: a link that rests on names alone (`names_only`, nothing else to
    compare) does not merge two customers when as many of their record pairs disagree
    (`disagree(i, j)`: not a match on their own, and some field plainly different) as are linked.
    A call-center record holding only a rare name then joins one homonym, not both."""
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
                reason = conflict_cache[key]
                if reason:
                    reasons.append(reason)
                elif key in linked:
                    support += 1
        if reasons and support < OUTVOTING_LINKS * len(reasons):
            return reasons[0]
        return None

    opposition_cache: dict[tuple[int, int], bool] = {}

    def opposed(a: list[int], b: list[int]) -> bool:
        """At least as many record pairs whose fields disagree as direct links between the two groups."""
        against = support = 0
        for x in a:
            for y in b:
                key = (x, y) if x < y else (y, x)
                if key in linked:
                    support += 1
                    continue
                if key not in opposition_cache:
                    opposition_cache[key] = disagree(x, y)  # type: ignore[misc]
                against += opposition_cache[key]
        return against >= support

    above = np.nonzero(probabilities >= threshold)[0]
    order = above[np.argsort(-weights[above], kind="stable")]
    guarded = names_only[order].tolist() if names_only is not None else [False] * len(order)
    for (i, j), name_link in zip(pairs[order].tolist(), guarded, strict=True):
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        group_i, group_j = members.get(ri, [ri]), members.get(rj, [rj])
        if len(group_i) + len(group_j) > max_cluster_size:
            refused.append((i, j, f"customer would exceed {max_cluster_size} records"))
            continue
        reason = conflict(group_i, group_j)
        if not reason and name_link and disagree is not None and opposed(group_i, group_j):
            reason = "a name alone links two customers whose other records disagree"
        if reason:
            refused.append((i, j, reason))
            continue
        if len(group_i) < len(group_j):
            ri, rj, group_i, group_j = rj, ri, group_j, group_i
        parent[rj] = ri
        members[ri] = group_i + group_j
        members.pop(rj, None)
    return Clustering(labels=[find(i) for i in range(len(records))], refused_links=refused)
