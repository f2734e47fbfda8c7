"""The match model: Fellegi-Sunter weights learned without labels, as data that can be printed.

u (how often two different people agree at a level) comes from random record pairs; m (how often
one person's records agree at a level) and the prior are estimated by expectation-maximisation on
the candidate pairs, as Splink does. The random pairs hold a few matches too (about one in
ten thousand on a small file of duplicates, as many as the exact agreements on an identifier or a
birth date), so once EM has measured m and the share of matches, their expected part is taken out
of u and EM runs again. Exact agreement on a frequent value (a common name, a shared
placeholder e-mail) weighs less than on a rare one: term-frequency adjustment.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np

from search.resolve.calibration import enforced_never_merge, never_merge_pairs, relaxed_never_merge_rules
from search.resolve.comparisons import NULL, Comparison, comparison_vector
from search.resolve.config import (
    DEFAULT_LEVELS,
    DEFAULT_MATCH_PRIOR,
    LAST_LEVEL_M,
    MAX_RECORDS_PER_PERSON,
    MAX_TF_BONUS_BITS,
    PROBABILITY_FLOOR,
    START_M_DECAY,
    START_MATCH_SHARE,
    U_SMOOTHING,
    ResolutionConfig,
)
from search.resolve.features import RecordFeatures
from search.resolve.frequencies import given_names_of_their_own, value_counts
from search.resolve.seen_apart import bin_of_records, shift_tables

FLOOR = PROBABILITY_FLOOR

log = logging.getLogger(__name__)


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
    # comparison -> the levels that are exact agreement on the term-frequency value
    tf_levels: dict[str, list[int]] = field(default_factory=dict)
    # parameter -> why the documented default was used instead of an estimate (too little data)
    defaults_used: dict[str, str] = field(default_factory=dict)
    # The levels whose u lost the random pairs' own matches (u_among_non_matches), and by how much.
    u_corrections: dict[str, str] = field(default_factory=dict)
    # attribute -> why the data showed it to be an identifier (search.resolve.identifiers)
    detected_identifiers: dict[str, str] = field(default_factory=dict)
    # Given names the data shows to be names of their own (never-merge: Marie is not Martine).
    given_names: list[str] = field(default_factory=list)
    # The bar a link resting on names alone joins from, estimated at training (search.resolve.weak_links);
    # None: too few such links to say, or a model stored before it was estimated.
    weak_link_bar: float | None = None
    # Namesakes under one roof as the training pairs show them (search.resolve.namesakes.NamesakesAtHome);
    # None: no pair of one name at one address held two birth dates, or a model stored before it was estimated.
    namesakes_at_home: dict[str, Any] | None = None
    # m of the values a person changes (address, phone, e-mail) per distance in time between two
    # records (search.resolve.seen_apart); None: no dated pair, or a model stored before it was estimated.
    m_by_gap: dict[str, Any] | None = None
    # Not stored: erasures the counts still hold, loaded without the suppression key that settles them.
    unsettled_erasures: int = field(default=0, init=False, compare=False)

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The source attributes this model compares as identifiers, configured or detected."""
        return tuple(name[3:] for name in self.names if name.startswith("id:"))

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) per comparison and level."""
        return [np.log2(np.maximum(m, FLOOR) / np.maximum(u, FLOOR)) for m, u in zip(self.m, self.u, strict=True)]

    def compares_as(self, comparisons: tuple[Comparison, ...]) -> bool:
        """Whether this model was trained on these comparisons and levels (one stored by an older
        rcu, before a level was added, was not: its tables do not fit today's vectors)."""
        return self.names == [c.name for c in comparisons] and self.levels == [list(c.levels) for c in comparisons]

    @property
    def prior_weight(self) -> float:
        """Bits before any evidence for two records of different sources."""
        return math.log2(self.prior / (1 - self.prior))

    def prior_weight_for(self, same_source: bool) -> float:
        prior = self.prior_within_source if same_source and self.prior_within_source is not None else self.prior
        return math.log2(prior / (1 - prior))

    def exact_levels(self, comparison: int) -> list[int]:
        """The levels of a comparison that are exact agreement on its term-frequency value."""
        return self.tf_levels.get(self.names[comparison], [0])

    def tf_adjustment(self, comparison: int, value: str, level: int = 0) -> float:
        """Bits added to an exact agreement on `value`: negative for frequent values, a little positive for rare ones."""
        feature = self.tf_features.get(self.names[comparison])
        if feature is None or not value:
            return 0.0
        count = self.term_frequencies.get(feature, {}).get(value, 1)
        frequency = count / max(self.records, 1)
        return min(MAX_TF_BONUS_BITS, math.log2(max(self.u[comparison][level], FLOOR) / frequency))

    @cached_property
    def _tables(self) -> list[list[float]]:
        return [table.tolist() for table in self.level_weights()]

    @cached_property
    def gap_shifts(self) -> dict[int, np.ndarray]:
        """Per changing comparison's column, the bits a (bin of distance in time, level) adds to
        the pooled weight (search.resolve.seen_apart)."""
        return shift_tables(self.m_by_gap, self.names)

    @property
    def gap_edges(self) -> tuple[float, ...]:
        return tuple(self.m_by_gap["edges_years"]) if self.m_by_gap else ()

    def set_m_by_gap(self, m_by_gap: dict[str, Any] | None) -> None:
        self.m_by_gap = m_by_gap
        self.__dict__.pop("gap_shifts", None)

    def field_bits(self, x: RecordFeatures, y: RecordFeatures, vector: list[int]) -> list[float | None]:
        """Each comparison's weight for one pair (term frequency included), None where a side is missing."""
        bits: list[float | None] = []
        for column, level in enumerate(vector):
            if level == NULL:
                bits.append(None)
                continue
            weight = self._tables[column][level]
            feature = self.tf_features.get(self.names[column])
            if feature and level in self.exact_levels(column) and getattr(x, feature) == getattr(y, feature):
                weight += self.tf_adjustment(column, getattr(x, feature), level)
            if column in self.gap_shifts:
                gap = bin_of_records(x, y, self.gap_edges)
                weight += float(self.gap_shifts[column][gap, level]) if gap >= 0 else 0.0
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
            "tf_levels": self.tf_levels,
            "defaults_used": self.defaults_used,
            "u_corrections": self.u_corrections,
            "detected_identifiers": self.detected_identifiers,
            "given_names": self.given_names,
            "weak_link_bar": self.weak_link_bar,
            "namesakes_at_home": self.namesakes_at_home,
            "m_by_gap": self.m_by_gap,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchModel:
        """The model as stored; keys this version does not know (a model saved by a newer rcu) are
        left out, with a log line naming them."""
        known = {f.name for f in fields(cls) if f.init}
        unknown = sorted(set(data) - known)
        if unknown:
            log.warning("event=model_keys_ignored keys=%s", ",".join(unknown))
        return cls(**{key: value for key, value in data.items() if key in known})


def _level_frequencies(
    vectors: np.ndarray,
    comparisons: tuple[Comparison, ...],
    weights: np.ndarray | None = None,
    pseudo_counts: list[np.ndarray] | None = None,
) -> list[list[float]]:
    tables = []
    for column, comparison in enumerate(comparisons):
        levels = vectors[:, column]
        counts = np.zeros(len(comparison.levels))
        present = levels != NULL
        np.add.at(counts, levels[present], 1.0 if weights is None else weights[present])
        smoothed = counts + (U_SMOOTHING if pseudo_counts is None else pseudo_counts[column] + FLOOR)
        tables.append((smoothed / smoothed.sum()).tolist())
    return tables


def random_pair_levels(records: list[RecordFeatures], comparisons: tuple[Comparison, ...], pairs: int, seed: int = 1) -> list[np.ndarray]:
    """How many of `pairs` random record pairs fall at each level of each comparison."""
    rng = random.Random(seed)
    n = len(records)
    if n < 2:
        return [np.zeros(len(c.levels)) for c in comparisons]
    sample = [rng.sample(range(n), 2) for _ in range(min(pairs, n * (n - 1) // 2))]
    vectors = np.array([comparison_vector(records[i], records[j], comparisons) for i, j in sample], dtype=np.int8)
    return [
        np.bincount(vectors[vectors[:, column] != NULL, column], minlength=len(c.levels)).astype(float)
        for column, c in enumerate(comparisons)
    ]


def u_among_non_matches(
    level_counts: list[np.ndarray],
    m: list[list[float]] | None = None,
    match_share: float = 0.0,
    corrections: dict[str, str] | None = None,
    names: list[list[str]] | None = None,
) -> list[list[float]]:
    """u from random-pair level counts, the expected matches among them taken out: a share
    `match_share` of the pairs are one person (random_pair_match_share bounds it), spread over the
    levels as `m` says. On a small file of duplicates they are as many as the random pairs that
    agree exactly on an identifier or a birth date, whose weight would otherwise just cancel the
    prior. Each level corrected is written in `corrections` (keyed comparison/level by `names`,
    each comparison's name then its levels), and those left at the smoothing floor said so."""
    tables = []
    for column, counts in enumerate(level_counts):
        corrected = counts
        if m is not None and match_share > 0:
            corrected = np.maximum(counts - match_share * counts.sum() * np.array(m[column]), 0.0)
        smoothed = corrected + U_SMOOTHING
        tables.append((smoothed / smoothed.sum()).tolist())
        if corrections is not None and names is not None:
            before = (counts + U_SMOOTHING) / (counts + U_SMOOTHING).sum()
            for level, label in enumerate(names[column][1:]):
                removed = counts[level] - corrected[level]
                if removed >= 0.5:  # half a pair: below that u barely moves
                    floor = ", at the smoothing floor" if corrected[level] == 0 else ""
                    corrections[f"{names[column][0]}/{label}"] = (
                        f"u {before[level]:.2g} → {tables[-1][level]:.2g} ({math.log2(before[level] / tables[-1][level]):+.1f} bits), "
                        f"{removed:.0f} of {counts[level]:.0f} random pairs taken out as one person{floor}"
                    )
    return tables


def random_pair_match_share(expected_matches: float, records: int) -> float:
    """The share of random pairs that are one person, as EM's first pass counts them among the
    candidates, bounded by what MAX_RECORDS_PER_PERSON records per person could make."""
    if records < 2:
        return 0.0
    return min(expected_matches / (records * (records - 1) / 2), (MAX_RECORDS_PER_PERSON - 1) / (records - 1))


def _initial_m(comparisons: tuple[Comparison, ...]) -> list[list[float]]:
    tables = []
    for comparison in comparisons:
        raw = np.array([0.9 * (START_M_DECAY**level) for level in range(len(comparison.levels))])
        raw[-1] = max(raw[-1], LAST_LEVEL_M)
        tables.append((raw / raw.sum()).tolist())
    return tables


def default_levels(comparison: Comparison) -> tuple[list[float], list[float]]:
    """The documented default m and u of a comparison (config.DEFAULT_LEVELS)."""
    levels = DEFAULT_LEVELS["identifier" if comparison.name.startswith("id:") else comparison.name]
    m = np.array([level[0] for level in levels])
    u = np.array([level[1] for level in levels])
    return (m / m.sum()).tolist(), (u / u.sum()).tolist()


def _evidence_for(m: list[float], u: list[float], exact_levels: tuple[int, ...]) -> list[float]:
    """Exact agreement is evidence for one person, never against: where EM found m below u at an
    exact level (a handful of pairs, a skewed sample), m is raised to u and the rest rescaled."""
    m = list(m)
    for level in exact_levels:
        if m[level] < u[level]:
            rest = 1.0 - m[level]
            m[level] = min(u[level], 0.999)
            scale = (1.0 - m[level]) / rest if rest > 0 else 0.0
            m = [value if k == level else value * scale for k, value in enumerate(m)]
    return m


def train_m(
    vectors: np.ndarray,
    comparisons: tuple[Comparison, ...],
    u: list[list[float]],
    iterations: int,
    same_source: np.ndarray,
    pseudo_pairs: float = 0.0,
    non_matches: np.ndarray | None = None,
) -> tuple[list[list[float]], tuple[float, float]]:
    """EM over candidate-pair vectors with u fixed: the m tables and the share of matching pairs
    among candidates of different sources and among candidates of one source. Each m is held by a
    weakly informative Dirichlet prior centred on the documented defaults, worth `pseudo_pairs`
    pairs (maximum a posteriori): it decides on a handful of pairs and vanishes on thousands.
    `non_matches` flags the pairs known to be two people (a never-merge rule): posterior 0."""
    # A pair's posterior depends only on its levels and on whether its records share a source, so
    # EM runs once per distinct pattern, weighted by how many pairs show it: a few thousand
    # patterns for millions of pairs, the same estimates.
    if non_matches is None:
        non_matches = np.zeros(len(vectors), dtype=bool)
    patterns, counts = _distinct_rows(np.column_stack([vectors, same_source.astype(vectors.dtype), non_matches.astype(vectors.dtype)]))
    vectors, within_source, possible = patterns[:, :-2], patterns[:, -2].astype(bool), ~patterns[:, -1].astype(bool)
    m = _initial_m(comparisons)
    prior_m = [np.array(default_levels(comparison)[0]) * pseudo_pairs for comparison in comparisons]
    across, within = START_MATCH_SHARE, START_MATCH_SHARE
    log_u = sum(_column_log(vectors, column, table) for column, table in enumerate(u))
    for _ in range(iterations):
        log_m = sum(_column_log(vectors, column, table) for column, table in enumerate(m))
        log_prior = np.where(within_source, math.log(within / (1 - within)), math.log(across / (1 - across)))
        odds = np.exp(np.clip(log_m - log_u + log_prior, -50, 50))
        posterior = np.where(possible, odds / (1 + odds), 0.0)
        m = _level_frequencies(vectors, comparisons, posterior * counts, prior_m)
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
    """u from random pairs, m and the shares of matches by EM held by weakly informative priors;
    where the data is too small to estimate a parameter, its documented default (said in
    `defaults_used`, which `rcu resolve` prints)."""
    priors = config.priors
    defaults_used: dict[str, str] = {}
    u_corrections: dict[str, str] = {}
    small = len(records) < priors.min_records
    random_levels: list[np.ndarray] | None = None
    if small:
        u = [default_levels(comparison)[1] for comparison in comparisons]
        defaults_used["u"] = f"{len(records)} records (fewer than {priors.min_records}): default u for every comparison"
    else:
        random_levels = random_pair_levels(records, comparisons, config.u_sample_pairs)
        u = u_among_non_matches(random_levels)
    if same_source is None:
        same_source = np.zeros(len(pair_vectors), dtype=bool)
    relaxed = relaxed_never_merge_rules(pair_vectors, comparisons, config)
    if len(pair_vectors):
        known_apart = never_merge_pairs(pair_vectors, comparisons, enforced_never_merge(config, relaxed))

        def em(u: list[list[float]]) -> tuple[list[list[float]], tuple[float, float]]:
            return train_m(pair_vectors, comparisons, u, config.em_iterations, same_source, priors.pseudo_pairs, known_apart)

        m, (share_across, share_within) = em(u)
        if random_levels is not None:
            # The random pairs' own matches, as this first estimate counts them, out of u; then m again.
            within = int(np.count_nonzero(same_source))
            expected = share_across * (len(pair_vectors) - within) + share_within * within
            share = random_pair_match_share(expected, len(records))
            names = [[c.name, *c.levels] for c in comparisons]
            u = u_among_non_matches(random_levels, m, share, u_corrections, names)
            m, (share_across, share_within) = em(u)
    else:
        m, (share_across, share_within) = _initial_m(comparisons), (START_MATCH_SHARE, START_MATCH_SHARE)
    for column, comparison in enumerate(comparisons):
        present = int(np.count_nonzero(pair_vectors[:, column] != NULL)) if len(pair_vectors) else 0
        if present < priors.min_pairs:
            m[column] = default_levels(comparison)[0]
            defaults_used[f"m:{comparison.name}"] = f"{present} candidate pairs compare it (fewer than {priors.min_pairs}): default m"
        m[column] = _evidence_for(m[column], u[column], comparison.tf_levels)
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

    prior_across = prior(share_across, candidates_across, all_pairs - within_pairs)
    prior_within = prior(share_within, candidates_within, within_pairs)
    if small or len(pair_vectors) < priors.min_pairs:
        prior_across = prior_within = DEFAULT_MATCH_PRIOR
        defaults_used["prior"] = f"{len(pair_vectors)} candidate pairs: default share of matches {DEFAULT_MATCH_PRIOR}"
    if small:
        defaults_used["term frequencies"] = "too few records: no term-frequency adjustment"
    model = MatchModel(
        names=[c.name for c in comparisons],
        levels=[list(c.levels) for c in comparisons],
        m=m,
        u=u,
        prior=prior_across,
        prior_within_source=prior_within,
        # Value frequencies of a few records say nothing about how common a name is.
        term_frequencies={} if small else value_counts(records, comparisons),
        records=len(records),
        tf_features={} if small else {c.name: c.term_frequency for c in comparisons if c.term_frequency},
        tf_levels={c.name: list(c.tf_levels) for c in comparisons if c.term_frequency},
        relaxed_rules=relaxed,
        defaults_used=defaults_used,
        u_corrections=u_corrections,
        given_names=given_names_of_their_own(records),
    )
    apply_overrides(model, config)
    return model
