"""From records to scored pairs and clusters, in memory: the engine under full and incremental runs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from search.resolve.candidates import candidate_pairs
from search.resolve.clustering import Clustering, cluster
from search.resolve.comparisons import Comparison, comparison_vector, comparisons_for
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures
from search.resolve.model import MatchModel, train_model


@dataclass
class ScoredPairs:
    pairs: np.ndarray  # (n, 2) record indices
    vectors: np.ndarray  # (n, comparisons) levels
    weights: np.ndarray
    probabilities: np.ndarray


@dataclass
class Resolution:
    model: MatchModel
    scored: ScoredPairs
    clustering: Clustering
    frequent_keys: dict[str, int] = field(default_factory=dict)


def pair_vectors(records: list[RecordFeatures], pairs: np.ndarray, comparisons: tuple[Comparison, ...]) -> np.ndarray:
    vectors = np.empty((len(pairs), len(comparisons)), dtype=np.int8)
    for row, (i, j) in enumerate(pairs):
        vectors[row] = comparison_vector(records[i], records[j], comparisons)
    return vectors


def tf_bits(model: MatchModel, records: list[RecordFeatures], pairs: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Term-frequency adjustments of exact agreements, summed per pair."""
    bits = np.zeros(len(pairs))
    for column, name in enumerate(model.names):
        feature = model.tf_features.get(name)
        if not feature:
            continue
        for row in np.nonzero(vectors[:, column] == 0)[0]:
            value = getattr(records[pairs[row, 0]], feature)
            if getattr(records[pairs[row, 1]], feature) == value:
                bits[row] += model.tf_adjustment(column, value)
    return bits


def score_pairs(model: MatchModel, records: list[RecordFeatures], pairs: np.ndarray, comparisons: tuple[Comparison, ...]) -> ScoredPairs:
    vectors = pair_vectors(records, pairs, comparisons)
    weights, probabilities = model.score(vectors, tf_bits(model, records, pairs, vectors))
    return ScoredPairs(pairs, vectors, weights, probabilities)


def resolve_records(records: list[RecordFeatures], config: ResolutionConfig, model: MatchModel | None = None) -> Resolution:
    """Candidates, scores (training the model first when none is given) and coherent clusters."""
    comparisons = comparisons_for(tuple(config.extra_identifiers))
    candidates = candidate_pairs(records, config.max_block_size)
    pairs = np.array(sorted(candidates.pairs), dtype=np.int64).reshape(-1, 2)
    vectors = pair_vectors(records, pairs, comparisons)
    if model is None:
        model = train_model(records, vectors, comparisons, config)
    weights, probabilities = model.score(vectors, tf_bits(model, records, pairs, vectors))
    scored = ScoredPairs(pairs, vectors, weights, probabilities)
    clustering = cluster(records, pairs, weights, probabilities, config.match_threshold, config.max_cluster_size, frozenset(config.never_merge))
    return Resolution(model, scored, clustering, candidates.frequent_keys)
