"""Cluster-level pairwise precision, recall and F1: every pair of records sharing a cluster counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations


@dataclass
class PairMetrics:
    precision: float
    recall: float
    f1: float
    predicted_pairs: int
    true_pairs: int
    related_pairs_merged: int = 0
    related_pairs: int = 0

    @property
    def related_merged_share(self) -> float:
        return self.related_pairs_merged / self.related_pairs if self.related_pairs else 0.0


def _pairs(assignment: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for record_id, cluster in assignment.items():
        groups[cluster].append(record_id)
    return {pair for members in groups.values() for pair in combinations(sorted(members), 2)}


def pair_metrics(predicted: dict[str, str], truth: dict[str, str], related: set[frozenset[str]] | None = None) -> PairMetrics:
    """`related`: pairs of entities that must never merge (households, homonyms)."""
    predicted = {r: c for r, c in predicted.items() if r in truth}
    guessed, actual = _pairs(predicted), _pairs(truth)
    hits = len(guessed & actual)
    precision = hits / len(guessed) if guessed else 1.0
    recall = hits / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    metrics = PairMetrics(precision, recall, f1, len(guessed), len(actual))
    if related:
        by_entity: dict[str, list[str]] = defaultdict(list)
        for record_id, entity in truth.items():
            by_entity[entity].append(record_id)
        for couple in related:
            first, second = sorted(couple)
            for a in by_entity.get(first, []):
                for b in by_entity.get(second, []):
                    metrics.related_pairs += 1
                    metrics.related_pairs_merged += predicted.get(a) is not None and predicted.get(a) == predicted.get(b)
    return metrics


def pairs_apart_covered(predicted: dict[str, str], truth: dict[str, str], possible: set[frozenset[str]]) -> tuple[int, int]:
    """Of the true record pairs left in two clusters, how many sit in two clusters that `possible`
    (pairs of cluster ids) names as a possible match: (covered, left apart)."""
    by_entity: dict[str, list[str]] = defaultdict(list)
    for record_id, entity in truth.items():
        if record_id in predicted:
            by_entity[entity].append(record_id)
    covered = apart = 0
    for members in by_entity.values():
        for a, b in combinations(members, 2):
            if predicted[a] != predicted[b]:
                apart += 1
                covered += frozenset((predicted[a], predicted[b])) in possible
    return covered, apart
