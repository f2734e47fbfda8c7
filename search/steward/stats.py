"""How far to trust the automatic matcher, estimated from the stewards' decisions: each active
decision is a set of labelled record pairs — the records the steward saw, grouped as the matcher
had them (before) and as the steward left them. A pair the matcher put together is a true positive
if the steward left it together, a false positive if the steward parted it; a pair the matcher
kept apart is a false negative if the steward joined it. Counted per source pair.

The estimate covers the items stewards reviewed — the doubtful ones the queue puts first — not a
random sample: it says how the matcher does where it hesitates, a lower bound elsewhere. A pair
whose "before" was itself a steward's earlier decision counts as the matcher's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.steward.decisions import ACTIVE


@dataclass
class PairCounts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    @property
    def precision(self) -> float | None:
        judged = self.true_positives + self.false_positives
        return self.true_positives / judged if judged else None

    @property
    def recall(self) -> float | None:
        judged = self.true_positives + self.false_negatives
        return self.true_positives / judged if judged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "precision": None if self.precision is None else round(self.precision, 4),
            "recall": None if self.recall is None else round(self.recall, 4),
        }


@dataclass
class MatcherStats:
    decisions: int = 0
    overall: PairCounts = field(default_factory=PairCounts)
    by_source_pair: dict[str, PairCounts] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "overall": self.overall.as_dict(),
            "by_source_pair": {pair: counts.as_dict() for pair, counts in sorted(self.by_source_pair.items())},
        }


def labelled_pairs(decision: dict[str, Any]) -> list[tuple[str, str, bool, bool]]:
    """(record, record, matcher said same, steward said same) for every pair of records the decision shows."""
    before = {r: customer for customer, records in (decision.get("before") or {}).items() for r in records}
    together = [set(group) for group in decision.get("together") or []]
    apart = [(set(left), set(right)) for left, right in decision.get("apart") or []]
    pairs = []
    for x, y in combinations(sorted(before), 2):
        matcher = before[x] == before[y]
        if any((x in left and y in right) or (y in left and x in right) for left, right in apart):
            steward = False
        elif any(x in group and y in group for group in together):
            steward = True
        else:
            steward = matcher
        pairs.append((x, y, matcher, steward))
    return pairs


def _count(counts: PairCounts, matcher: bool, steward: bool) -> None:
    if matcher and steward:
        counts.true_positives += 1
    elif matcher:
        counts.false_positives += 1
    elif steward:
        counts.false_negatives += 1
    else:
        counts.true_negatives += 1


def matcher_stats(decisions: list[dict[str, Any]]) -> MatcherStats:
    stats = MatcherStats(decisions=len(decisions))
    by_pair: dict[str, PairCounts] = defaultdict(PairCounts)
    for decision in decisions:
        for x, y, matcher, steward in labelled_pairs(decision):
            sources = " / ".join(sorted((x.partition(":")[0], y.partition(":")[0])))
            _count(stats.overall, matcher, steward)
            _count(by_pair[sources], matcher, steward)
    stats.by_source_pair = dict(by_pair)
    return stats


def stats_from_decisions(client: OpenSearch, names: IndexNames) -> MatcherStats:
    """The matcher's precision and recall from every active decision."""
    query = {"query": {"term": {"status": ACTIVE}}, "_source": ["before", "together", "apart"]}
    decisions = [hit["_source"] for hit in scan(client, index=names.decisions, query=query, size=1000, ignore_unavailable=True)]
    return matcher_stats(decisions)
