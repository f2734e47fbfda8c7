"""The match model: Fellegi-Sunter weights learned without labels, as data that can be printed.

u (how often two different people agree at a level) comes from random record pairs; m (how often
one person's records agree at a level) and the prior are estimated by expectation-maximisation on
the candidate pairs, as Splink does. Exact agreement on a frequent value (a common name, a shared
placeholder e-mail) weighs less than on a rare one: term-frequency adjustment.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from search.resolve.calibration import relaxed_never_merge_rules
from search.resolve.comparisons import NULL, Comparison, comparison_vector
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures

FLOOR = 1e-6
MAX_TF_BONUS_BITS = 3.0


@dataclass
class MatchModel:
    names: list[str]
    levels: list[list[str]]
    m: list[list[float]]
    u: list[list[float]]
    # The chance that two records taken at random are one person, for records of different
    # sources; prior_within_source for two of one source (a system's own duplicates are rarer
    # than one customer's records across systems, and EM measures both).
    prior: float
    term_frequencies: dict[str, dict[str, int]] = field(default_factory=dict)
    records: int = 1
    tf_features: dict[str, str] = field(default_factory=dict)
    # never-merge rule -> why this data contradicts it (search.resolve.calibration)
    relaxed_rules: dict[str, str] = field(default_factory=dict)
    prior_within_source: float | None = None

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) per comparison and level."""
        return [np.log2(np.maximum(m, FLOOR) / np.maximum(u, FLOOR)) for m, u in zip(self.m, self.u, strict=True)]

    @property
    def prior_weight(self) -> float:
        """Bits before any evidence for two records of different sources."""
        return math.log2(self.prior / (1 - self.prior))

    def prior_weight_for(self, same_source: bool) -> float:
        prior = self.prior_within_source if same_source and self.prior_within_source is not None else self.prior
        return math.log2(prior / (1 - prior))

    def tf_adjustment(self, comparison: int, value: str) -> float:
        """Bits added to an exact agreement on `value`: negative for frequent values, a little positive for rare ones."""
        feature = self.tf_features.get(self.names[comparison])
        if feature is None or not value:
            return 0.0
        count = self.term_frequencies.get(feature, {}).get(value, 1)
        frequency = count / max(self.records, 1)
        return min(MAX_TF_BONUS_BITS, math.log2(max(self.u[comparison][0], FLOOR) / frequency))

    @cached_property
    def _tables(self) -> list[list[float]]:
        return [table.tolist() for table in self.level_weights()]

    def field_bits(self, x: RecordFeatures, y: RecordFeatures, vector: list[int]) -> list[float | None]:
        """Each comparison's weight for one pair (term frequency included), None where a side is missing."""
        bits: list[float | None] = []
        for column, level in enumerate(vector):
            if level == NULL:
                bits.append(None)
                continue
            weight = self._tables[column][level]
            feature = self.tf_features.get(self.names[column])
            if level == 0 and feature and getattr(x, feature) == getattr(y, feature):
                weight += self.tf_adjustment(column, getattr(x, feature))
            bits.append(weight)
        return bits

    def pair_weight(self, x: RecordFeatures, y: RecordFeatures, vector: list[int]) -> float:
        """The match weight of one pair, in bits, as `score` gives it."""
        return self.prior_weight_for(same_source=x.source == y.source) + sum(b for b in self.field_bits(x, y, vector) if b is not None)

    def score(
        self, vectors: np.ndarray, tf_bits: np.ndarray | None = None, same_source: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Match weights (bits) and probabilities for comparison vectors (pairs × comparisons);
        `same_source` flags the pairs whose two records come from one source."""
        weights = np.full(len(vectors), self.prior_weight)
        if same_source is not None:
            weights[same_source] = self.prior_weight_for(same_source=True)
        for column, table in enumerate(self.level_weights()):
            levels = vectors[:, column]
            present = levels != NULL
            weights[present] += table[levels[present]]
        if tf_bits is not None:
            weights += tf_bits
        return weights, 1.0 / (1.0 + np.exp2(-weights))

    def as_dict(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "levels": self.levels,
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "records": self.records,
            "tf_features": self.tf_features,
            "term_frequencies": self.term_frequencies,
            "relaxed_rules": self.relaxed_rules,
            "prior_within_source": self.prior_within_source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchModel:
        return cls(**data)


def _level_frequencies(vectors: np.ndarray, comparisons: tuple[Comparison, ...], weights: np.ndarray | None = None) -> list[list[float]]:
    tables = []
    for column, comparison in enumerate(comparisons):
        levels = vectors[:, column]
        counts = np.zeros(len(comparison.levels))
        present = levels != NULL
        np.add.at(counts, levels[present], 1.0 if weights is None else weights[present])
        smoothed = counts + 0.5
        tables.append((smoothed / smoothed.sum()).tolist())
    return tables


def estimate_u(records: list[RecordFeatures], comparisons: tuple[Comparison, ...], pairs: int, seed: int = 1) -> list[list[float]]:
    """Level frequencies among random pairs, almost all of which are two different people."""
    rng = random.Random(seed)
    n = len(records)
    if n < 2:
        return [[1.0 / len(c.levels)] * len(c.levels) for c in comparisons]
    sample = [rng.sample(range(n), 2) for _ in range(min(pairs, n * (n - 1) // 2))]
    vectors = np.array([comparison_vector(records[i], records[j], comparisons) for i, j in sample], dtype=np.int8)
    return _level_frequencies(vectors, comparisons)


def _initial_m(comparisons: tuple[Comparison, ...]) -> list[list[float]]:
    tables = []
    for comparison in comparisons:
        raw = np.array([0.9 * (0.25**level) for level in range(len(comparison.levels))])
        raw[-1] = max(raw[-1], 0.02)
        tables.append((raw / raw.sum()).tolist())
    return tables


def train_m(
    vectors: np.ndarray, comparisons: tuple[Comparison, ...], u: list[list[float]], iterations: int, same_source: np.ndarray
) -> tuple[list[list[float]], tuple[float, float]]:
    """EM over candidate-pair vectors with u fixed: the m tables and the share of matching pairs
    among candidates of different sources and among candidates of one source."""
    # A pair's posterior depends only on its levels and on whether its records share a source, so
    # EM runs once per distinct pattern, weighted by how many pairs show it: a few thousand
    # patterns for millions of pairs, the same estimates.
    patterns, counts = _distinct_rows(np.column_stack([vectors, same_source.astype(vectors.dtype)]))
    vectors, within_source = patterns[:, :-1], patterns[:, -1].astype(bool)
    m = _initial_m(comparisons)
    across, within = 0.3, 0.3
    log_u = sum(_column_log(vectors, column, table) for column, table in enumerate(u))
    for _ in range(iterations):
        log_m = sum(_column_log(vectors, column, table) for column, table in enumerate(m))
        log_prior = np.where(within_source, math.log(within / (1 - within)), math.log(across / (1 - across)))
        odds = np.exp(np.clip(log_m - log_u + log_prior, -50, 50))
        posterior = odds / (1 + odds)
        m = _level_frequencies(vectors, comparisons, posterior * counts)
        across = _share(posterior[~within_source], counts[~within_source], across)
        within = _share(posterior[within_source], counts[within_source], within)
    return m, (across, within)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a small-integer matrix and how often each occurs."""
    shifted = rows.astype(np.int64) - rows.min(initial=0)
    base = int(shifted.max(initial=0)) + 1
    if base ** rows.shape[1] >= 2**62:  # too many columns to number a row with one integer
        return np.unique(rows, axis=0, return_counts=True)
    codes = shifted @ (base ** np.arange(rows.shape[1], dtype=np.int64))
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return rows[first], counts


def _share(posterior: np.ndarray, counts: np.ndarray, unchanged: float) -> float:
    """The expected share of matches among the pairs of these patterns."""
    return float(np.clip(np.average(posterior, weights=counts), 1e-4, 1 - 1e-4)) if len(posterior) else unchanged


def _column_log(vectors: np.ndarray, column: int, table: list[float]) -> np.ndarray:
    logs = np.log(np.maximum(np.array(table), FLOOR))
    levels = vectors[:, column]
    return np.where(levels == NULL, 0.0, logs[np.where(levels == NULL, 0, levels)])


def value_counts(records: list[RecordFeatures], comparisons: tuple[Comparison, ...]) -> dict[str, dict[str, int]]:
    """How many records hold each value of the term-frequency features (values seen twice or more)."""
    counts: dict[str, dict[str, int]] = {}
    for comparison in comparisons:
        feature = comparison.term_frequency
        if feature:
            counter = Counter(getattr(record, feature) for record in records)
            counter.pop("", None)
            counts[feature] = {value: count for value, count in counter.items() if count > 1}
    return counts


def apply_overrides(model: MatchModel, config: ResolutionConfig) -> None:
    for name, levels in config.weight_overrides.items():
        if name not in model.names:
            continue
        index = model.names.index(name)
        for label, override in levels.items():
            if label in model.levels[index]:
                level = model.levels[index].index(label)
                model.m[index][level], model.u[index][level] = override.m, override.u


def train_model(
    records: list[RecordFeatures],
    pair_vectors: np.ndarray,
    comparisons: tuple[Comparison, ...],
    config: ResolutionConfig,
    same_source: np.ndarray | None = None,
) -> MatchModel:
    u = estimate_u(records, comparisons, config.u_sample_pairs)
    if same_source is None:
        same_source = np.zeros(len(pair_vectors), dtype=bool)
    if len(pair_vectors):
        m, (share_across, share_within) = train_m(pair_vectors, comparisons, u, config.em_iterations, same_source)
    else:
        m, (share_across, share_within) = _initial_m(comparisons), (0.3, 0.3)
    # EM's shares are of matches among candidate pairs; scores need the chance that two records
    # taken at random are one person: the expected matches over all possible pairs, of one source
    # and of two.
    per_source = Counter(record.source for record in records)
    all_pairs = len(records) * (len(records) - 1) / 2
    within_pairs = sum(n * (n - 1) / 2 for n in per_source.values())
    candidates_within = int(np.count_nonzero(same_source))
    candidates_across = len(pair_vectors) - candidates_within

    def prior(share: float, candidates: int, pairs: float) -> float:
        return float(np.clip(share * max(candidates, 1) / max(pairs, 1.0), 1e-9, 0.5))

    model = MatchModel(
        names=[c.name for c in comparisons],
        levels=[list(c.levels) for c in comparisons],
        m=m,
        u=u,
        prior=prior(share_across, candidates_across, all_pairs - within_pairs),
        prior_within_source=prior(share_within, candidates_within, within_pairs),
        term_frequencies=value_counts(records, comparisons),
        records=len(records),
        tf_features={c.name: c.term_frequency for c in comparisons if c.term_frequency},
        relaxed_rules=relaxed_never_merge_rules(pair_vectors, comparisons, config),
    )
    apply_overrides(model, config)
    return model
