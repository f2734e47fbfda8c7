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
from typing import Any

import numpy as np

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
    prior: float
    term_frequencies: dict[str, dict[str, int]] = field(default_factory=dict)
    records: int = 1
    tf_features: dict[str, str] = field(default_factory=dict)

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) per comparison and level."""
        return [np.log2(np.maximum(m, FLOOR) / np.maximum(u, FLOOR)) for m, u in zip(self.m, self.u, strict=True)]

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def tf_adjustment(self, comparison: int, value: str) -> float:
        """Bits added to an exact agreement on `value`: negative for frequent values, a little positive for rare ones."""
        feature = self.tf_features.get(self.names[comparison])
        if feature is None or not value:
            return 0.0
        count = self.term_frequencies.get(feature, {}).get(value, 1)
        frequency = count / max(self.records, 1)
        return min(MAX_TF_BONUS_BITS, math.log2(max(self.u[comparison][0], FLOOR) / frequency))

    def score(self, vectors: np.ndarray, tf_bits: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Match weights (bits) and probabilities for comparison vectors (pairs × comparisons)."""
        weights = np.full(len(vectors), self.prior_weight)
        for column, table in enumerate(self.level_weights()):
            levels = vectors[:, column]
            present = levels != NULL
            weights[present] += table[levels[present]]
        if tf_bits is not None:
            weights += tf_bits
        return weights, 1.0 / (1.0 + np.exp2(-weights))

    def as_dict(self) -> dict[str, Any]:
        return {
            "names": self.names, "levels": self.levels, "m": self.m, "u": self.u, "prior": self.prior,
            "records": self.records, "tf_features": self.tf_features, "term_frequencies": self.term_frequencies,
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


def train_m(vectors: np.ndarray, comparisons: tuple[Comparison, ...], u: list[list[float]], iterations: int) -> tuple[list[list[float]], float]:
    """EM over candidate-pair vectors with u fixed: the m tables and the share of matching pairs."""
    m = _initial_m(comparisons)
    prior = 0.3
    log_u = sum(_column_log(vectors, column, table) for column, table in enumerate(u))
    for _ in range(iterations):
        log_m = sum(_column_log(vectors, column, table) for column, table in enumerate(m))
        odds = np.exp(np.clip(log_m - log_u + math.log(prior / (1 - prior)), -50, 50))
        posterior = odds / (1 + odds)
        m = _level_frequencies(vectors, comparisons, posterior)
        prior = float(np.clip(posterior.mean(), 1e-4, 1 - 1e-4))
    return m, prior


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
    records: list[RecordFeatures], pair_vectors: np.ndarray, comparisons: tuple[Comparison, ...], config: ResolutionConfig
) -> MatchModel:
    u = estimate_u(records, comparisons, config.u_sample_pairs)
    m, candidate_prior = train_m(pair_vectors, comparisons, u, config.em_iterations) if len(pair_vectors) else (_initial_m(comparisons), 0.3)
    # EM's prior is the share of matches among candidate pairs; scores need the chance that two
    # records taken at random are one person: the expected matches over all possible pairs.
    all_pairs = max(len(records) * (len(records) - 1) / 2, 1.0)
    prior = float(np.clip(candidate_prior * max(len(pair_vectors), 1) / all_pairs, 1e-9, 0.5))
    model = MatchModel(
        names=[c.name for c in comparisons],
        levels=[list(c.levels) for c in comparisons],
        m=m,
        u=u,
        prior=prior,
        term_frequencies=value_counts(records, comparisons),
        records=len(records),
        tf_features={c.name: c.term_frequency for c in comparisons if c.term_frequency},
    )
    apply_overrides(model, config)
    return model
