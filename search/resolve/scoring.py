"""From records to scored pairs and clusters, in memory: the engine under full and incremental runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from search.resolve.calibration import RULE_FIELDS, enforced_never_merge
from search.resolve.candidates import CandidatePairs, candidate_pairs
from search.resolve.clustering import AGREE, DIFFER, DIFFER_AT_TWO_STREETS, Clustering, cluster
from search.resolve.comparisons import Comparison, clearly_different_people, comparison_vector, comparisons_for
from search.resolve.config import DEFAULT_WEAK_LINK_BAR, MIN_WEAK_LINK_PAIRS, ResolutionConfig
from search.resolve.constraints import NO_CONSTRAINTS, Constraints
from search.resolve.evidence import WEAK_LINK_BARRING_LEVELS, names_alone, names_and_place
from search.resolve.features import RecordFeatures, collector_paused
from search.resolve.identifiers import detect_identifiers, use_identifiers
from search.resolve.model import MatchModel, train_model
from search.resolve.namesakes import NamesakesAtHome, estimate_namesakes_at_home
from search.resolve.personal import OWN_CONTACTS
from search.resolve.possible import PossibleMatch, possible_matches
from search.resolve.seen_apart import changed_for_pair, changed_with_time, estimate_m_by_gap, gap_bits, pair_bins
from search.resolve.weak_links import estimate_weak_link_bar, weak_link_bar


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
    possible_matches: list[PossibleMatch] = field(default_factory=list)  # between the clusters (search.resolve.possible)


def pair_vectors(records: list[RecordFeatures], pairs: np.ndarray, comparisons: tuple[Comparison, ...]) -> np.ndarray:
    """The comparison vector of every pair (pairs × comparisons).

    One process: a forked worker reading the records would write their reference counts, copying
    most of their pages (1.8 GB more at 1M records, measured), for 13 s saved of 31."""
    if not len(pairs):
        return np.empty((0, len(comparisons)), dtype=np.int8)
    return np.array([comparison_vector(records[i], records[j], comparisons) for i, j in pairs.tolist()], dtype=np.int8)


def tf_bits(model: MatchModel, records: list[RecordFeatures], pairs: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Term-frequency adjustments of exact agreements, summed per pair."""
    bits = np.zeros(len(pairs))
    for column, name in enumerate(model.names):
        feature = model.tf_features.get(name)
        if not feature:
            continue
        for level in model.exact_levels(column):
            rows = np.nonzero(vectors[:, column] == level)[0]
            if not len(rows):
                continue
            # Records numbered by their value: a pair agrees on the value when its numbers agree (a
            # swapped-name agreement at level 0 holds other values, and gets no adjustment).
            codes, value_of = value_numbers(records, feature)
            left, right = codes[pairs[rows, 0]], codes[pairs[rows, 1]]
            agree = left == right
            distinct, inverse = np.unique(left[agree], return_inverse=True)
            adjustments = np.array([model.tf_adjustment(column, value_of[code], level) for code in distinct.tolist()], dtype=float)
            bits[rows[agree]] += adjustments[inverse]  # one row per pair: no index repeats
    return bits


def pair_bits(model: MatchModel, records: list[RecordFeatures], pairs: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """What each pair's values add to its comparison levels' weights: term frequencies of exact
    agreements, and the distance in time between its records for the values a person changes
    (search.resolve.seen_apart)."""
    bits = tf_bits(model, records, pairs, vectors)
    if model.gap_shifts:
        bits += gap_bits(model.gap_shifts, vectors, pair_bins(records, pairs, model.gap_edges))
    return bits


def estimate_model_m_by_gap(
    model: MatchModel, config: ResolutionConfig, records: list[RecordFeatures], pairs: np.ndarray, vectors: np.ndarray, weights: np.ndarray
) -> None:
    """The m of values a person changes per distance in time, for a freshly trained model, from its
    candidate pairs and their weights under the pooled m (search.resolve.seen_apart)."""
    bins = pair_bins(records, pairs)
    model.set_m_by_gap(estimate_m_by_gap(model.names, model.m, vectors, bins, weights, config.priors.pseudo_pairs))


def value_numbers(records: list[RecordFeatures], feature: str) -> tuple[np.ndarray, list[str]]:
    """Each record's value of `feature` as a number (one per distinct value), and the values by number."""
    numbers: dict[str, int] = {}
    codes = np.fromiter(
        (numbers.setdefault(getattr(record, feature), len(numbers)) for record in records), dtype=np.int64, count=len(records)
    )
    return codes, list(numbers)


def same_source_pairs(records: list[RecordFeatures], pairs: np.ndarray) -> np.ndarray:
    """For each pair, whether its two records come from one source."""
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    source, _ = value_numbers(records, "source")
    return source[pairs[:, 0]] == source[pairs[:, 1]]


def resolve_records(
    records: list[RecordFeatures],
    config: ResolutionConfig,
    model: MatchModel | None = None,
    constraints: Constraints = NO_CONSTRAINTS,
    frequent_hashes: np.ndarray | None = None,
) -> Resolution:
    """Candidates, scores (training the model first when none is given) and coherent clusters
    that respect the stewards' decisions (`constraints`); `frequent_hashes`: blocking keys too
    common over the whole set these records are part of (a partition of a full run)."""
    with collector_paused():
        return _resolve_records(records, config, model, constraints, frequent_hashes)


def _candidates(records: list[RecordFeatures], config: ResolutionConfig, frequent_hashes: np.ndarray | None) -> CandidatePairs:
    return candidate_pairs(records, config.max_block_size, config.worker_count(), config.max_name_block_size, skip=frequent_hashes)


def _resolve_records(
    records: list[RecordFeatures],
    config: ResolutionConfig,
    model: MatchModel | None,
    constraints: Constraints,
    frequent_hashes: np.ndarray | None,
) -> Resolution:
    candidates = _candidates(records, config, frequent_hashes)
    detected: dict[str, str] = {}
    if model is None:
        identifiers = tuple(config.extra_identifiers)
        if any(record.attributes for record in records):
            detected = detect_identifiers(records, candidates.pairs, config.identifier_detection)
            detected = {name: why for name, why in detected.items() if name not in identifiers}
        if detected:
            use_identifiers(records, detected)
            identifiers += tuple(detected)
            candidates = _candidates(records, config, frequent_hashes)
    else:
        identifiers = model.identifiers
    comparisons = comparisons_for(identifiers)
    pairs = candidates.pairs
    vectors = pair_vectors(records, pairs, comparisons)
    same_source = same_source_pairs(records, pairs)
    trained = model is None
    if model is None:
        model = train_model(records, vectors, comparisons, config, same_source)
        model.detected_identifiers = detected
    if trained:
        weights, _ = model.score(vectors, tf_bits(model, records, pairs, vectors), same_source)
        estimate_model_m_by_gap(model, config, records, pairs, vectors, weights)
    weights, probabilities = model.score(vectors, pair_bits(model, records, pairs, vectors), same_source)
    if trained:
        estimate_model_weak_link_bar(model, config, weak_link_candidates(model, config, comparisons, vectors, probabilities))
        estimate_model_namesakes(model, records, pairs, vectors, comparisons)
    scored = ScoredPairs(pairs, vectors, weights, probabilities)
    return _clustered(records, config, model, constraints, comparisons, scored, candidates.frequent_keys)


def resolve_scored(
    records: list[RecordFeatures], config: ResolutionConfig, model: MatchModel, constraints: Constraints, scored: ScoredPairs
) -> Resolution:
    """Coherent clusters and possible matches from pairs scored before under `model` (a partition
    of a full run: search.resolve.partitioned scores every candidate pair once). `scored` must hold
    every pair at least `review_threshold` probable, in (i, j) order: lower pairs neither link nor
    make a possible match, so they may be left out."""
    with collector_paused():
        return _clustered(records, config, model, constraints, comparisons_for(model.identifiers), scored, {})


def _clustered(
    records: list[RecordFeatures],
    config: ResolutionConfig,
    model: MatchModel,
    constraints: Constraints,
    comparisons: tuple[Comparison, ...],
    scored: ScoredPairs,
    frequent_keys: dict[str, int],
) -> Resolution:
    pairs, vectors, weights, probabilities = scored.pairs, scored.vectors, scored.weights, scored.probabilities
    threshold_bits = math.log2(config.match_threshold / (1 - config.match_threshold))
    telling = telling_columns(comparisons, model)

    rows = _ScoredRows(pairs, len(records))
    two_streets = _level_of(comparisons, "address", "same postcode, another street")

    # The differences the time between each scored pair's records explains (seen_apart).
    changed = changed_with_time(model.m_by_gap, model.names, vectors, pair_bins(records, pairs, model.gap_edges))

    def compared(i: int, j: int) -> tuple[list[int], float, int | None]:
        row = rows.row(i, j)  # a scored pair is not compared again
        if row is None:
            vector = comparison_vector(records[i], records[j], comparisons)
            return vector, model.pair_weight(records[i], records[j], vector), None
        return vectors[row].tolist(), float(weights[row]), row

    def explained(i: int, j: int, vector: list[int], row: int | None) -> np.ndarray:
        # A person's old address or mobile on a record seen years before is no sign of another person.
        return changed[row] if row is not None else changed_for_pair(model.m_by_gap, model.names, records[i], records[j], vector)

    def disagree(i: int, j: int) -> int:
        vector, weight, row = compared(i, j)
        if weight >= threshold_bits:
            return AGREE
        differing = [column for column, last in telling if vector[column] == last]
        if differing and model.m_by_gap:
            differing = [column for column in differing if not explained(i, j, vector, row)[column]]
        if not differing:
            return AGREE
        return DIFFER_AT_TWO_STREETS if two_streets is not None and vector[two_streets[0]] == two_streets[1] else DIFFER

    def contacts_changed_with_time(i: int, j: int) -> frozenset[str]:
        """The contacts whose difference the time between records i and j explains (as `disagree` reads them)."""
        if not model.m_by_gap:
            return frozenset()
        vector, _, row = compared(i, j)
        changed_here = explained(i, j, vector, row)
        return frozenset(name for column, name in enumerate(model.names) if name in OWN_CONTACTS and changed_here[column])

    never_merge = enforced_never_merge(config, model.relaxed_rules)
    given_names = frozenset(model.given_names)
    alone, contradicted = names_alone(vectors, comparisons), contradicted_pairs(vectors, comparisons, telling, changed)
    clustering = cluster(
        records,
        pairs,
        weights,
        probabilities,
        config.match_threshold,
        config.max_cluster_size,
        never_merge,
        disagree,
        alone,
        constraints,
        weak_link_bar(config, model.weak_link_bar),
        given_names,
        contradicted,
        names_and_place(vectors, comparisons),
        NamesakesAtHome.from_dict(model.namesakes_at_home),
        contacts_changed_with_time,
    )
    members: dict[int, list[int]] = clustering.clusters() if constraints else {}
    possible = possible_matches(
        clustering.labels,
        pairs,
        probabilities,
        clustering,
        config.review_threshold,
        config.match_threshold,
        lambda i, j: clearly_different_people(records[i], records[j], never_merge, given_names) is not None,
        (lambda a, b: constraints.apart(members[a], members[b])) if constraints else None,
        alone & ~contradicted,
    )
    return Resolution(model, scored, clustering, frequent_keys, possible)


def weak_link_candidates(
    model: MatchModel, config: ResolutionConfig, comparisons: tuple[Comparison, ...], vectors: np.ndarray, probabilities: np.ndarray
) -> np.ndarray:
    """The probabilities of the candidate weak links among scored pairs: pairs resting on names
    alone, nothing plainly different, at least review_threshold probable."""
    candidate = names_alone(vectors, comparisons) & ~contradicted_pairs(vectors, comparisons, telling_columns(comparisons, model))
    candidate &= probabilities >= config.review_threshold
    return probabilities[candidate]


def estimate_model_namesakes(
    model: MatchModel, records: list[RecordFeatures], pairs: np.ndarray, vectors: np.ndarray, comparisons: tuple[Comparison, ...]
) -> None:
    """Namesakes under one roof as a freshly trained model's candidate pairs show them
    (search.resolve.namesakes); none where this data's birth dates are noise (a relaxed rule)."""
    if "different_birth_dates" in model.relaxed_rules:
        model.namesakes_at_home = None
        return
    estimate = estimate_namesakes_at_home(records, pairs, vectors, comparisons)
    model.namesakes_at_home = estimate.as_dict() if estimate else None


def estimate_model_weak_link_bar(model: MatchModel, config: ResolutionConfig, candidates: np.ndarray) -> None:
    """The weak-link bar of a freshly trained model, from the candidate weak links of every record
    it resolves (weak_link_candidates), scored under it as it is kept."""
    model.weak_link_bar = estimate_weak_link_bar(candidates, config.weak_link_error_budget, config.match_threshold)
    model.defaults_used.pop("weak_link_bar", None)
    if model.weak_link_bar is None:
        model.defaults_used["weak_link_bar"] = (
            f"{len(candidates)} candidate links on names alone (fewer than {MIN_WEAK_LINK_PAIRS}): "
            f"default weak-link bar {DEFAULT_WEAK_LINK_BAR}"
        )


def _level_of(comparisons: tuple[Comparison, ...], name: str, level: str) -> tuple[int, int] | None:
    """(column, level index) of a comparison's level, None without that comparison."""
    for column, comparison in enumerate(comparisons):
        if comparison.name == name:
            return column, comparison.levels.index(level)
    return None


def telling_columns(comparisons: tuple[Comparison, ...], model: MatchModel) -> list[tuple[int, int]]:
    """(column, last level) of the fields whose plain difference says two people: not loyalty cards
    (one per shop), nor a field the data showed to be noisy (search.resolve.calibration)."""
    noisy = {"loyalty_card"} | {field for rule, field in RULE_FIELDS.items() if rule in model.relaxed_rules}
    return [(column, len(c.levels) - 1) for column, c in enumerate(comparisons) if c.name not in noisy]


def contradicted_pairs(
    vectors: np.ndarray, comparisons: tuple[Comparison, ...], telling: list[tuple[int, int]], changed: np.ndarray | None = None
) -> np.ndarray:
    """For each pair, whether a telling field plainly differs (its last level: another address,
    phone, e-mail, birth date or name), or holds a level that counts as such beside names alone
    (evidence.WEAK_LINK_BARRING_LEVELS: one mailbox name at two providers). `changed` (pairs ×
    comparisons): the differences the time between the records explains
    (search.resolve.seen_apart.changed_with_time), which do not count."""
    differs = np.zeros(len(vectors), dtype=bool)
    for column, last in telling:
        barring = [last, *(k for k, level in enumerate(comparisons[column].levels) if level in WEAK_LINK_BARRING_LEVELS)]
        plain = np.isin(vectors[:, column], barring)
        differs |= plain & ~changed[:, column] if changed is not None else plain
    return differs


class _ScoredRows:
    """The row of a scored pair (i < j) among `pairs`, by binary search over keys sorted on first use
    (most resolutions never ask)."""

    def __init__(self, pairs: np.ndarray, records: int) -> None:
        self.pairs, self.records = pairs, records
        self.keys: np.ndarray | None = None
        self.order = np.empty(0, dtype=np.int64)

    def row(self, i: int, j: int) -> int | None:
        if self.keys is None:
            keys = self.pairs[:, 0].astype(np.int64) * self.records + self.pairs[:, 1]
            self.order = np.argsort(keys, kind="stable")
            self.keys = keys[self.order]
        key = i * self.records + j
        at = int(np.searchsorted(self.keys, key))
        return int(self.order[at]) if at < len(self.keys) and self.keys[at] == key else None
