"""Possible matches: customers that may be one person, kept for a data steward instead of silence.

One relation per pair of customers, of the first kind that applies, with the strongest evidence
(the record pair with the highest probability) of that kind:
- `refused-by-rule`: a link above the match threshold that a never-merge rule, the guard on links
  resting on names, or the size bound held apart;
- `ambiguous-weak-record`: a link resting on a name alone, held back because one of its sides fits
  several customers, or a record holding household values only (a name, an address, a landline)
  that fits two people a never-merge rule holds apart (search.resolve.clustering);
- `below-threshold`: a candidate pair scored between the review threshold and the match threshold,
  unless a never-merge rule says its records are two people (a household member, a homonym with
  another birth date: what such rules are for is not to be asked again); when the pair rests on a
  name alone and nothing plainly differs (a loyalty record holding a name and a card), its rule
  says so (NAME_BELOW_BAR): the steward sees why it was not joined, not only a probability.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from search.resolve.clustering import AMBIGUOUS as NAME_FITS_SEVERAL
from search.resolve.clustering import CLUSTER_SIZE, HOUSEHOLD_RECORD, NAMES_DISAGREE, NAMESAKES_OF_ONE_POSTCODE, Clustering, HeldApart
from search.resolve.constraints import STEWARD_CONTESTED

REFUSED = "refused-by-rule"
AMBIGUOUS = "ambiguous-weak-record"
NAME_BELOW_BAR = "name_alone_below_weak_link_bar"
BELOW_THRESHOLD = "below-threshold"
KINDS = (REFUSED, AMBIGUOUS, BELOW_THRESHOLD)  # in order of precedence
# Why the two customers were held apart, without the values (a reason is shown to roles that may
# not read every field): per rule, and below the threshold.
REASONS = {
    "different_birth_dates": "different birth dates",
    "different_sex": "Monsieur and Madame",
    "different_given_names": "different given names",
    "different_personal_contacts": "each holds an e-mail and a mobile of its own, nothing personal in common",
    "namesakes_at_home": "one name at one address, a contact of each differs or one system holds each, and this data holds namesakes under one roof",
    NAMES_DISAGREE: "a name alone links two customers whose other records disagree",
    NAMESAKES_OF_ONE_POSTCODE: "a name and a postcode link two customers living at two addresses of that postcode",
    NAME_FITS_SEVERAL: "a name alone, fitting several customers",
    HOUSEHOLD_RECORD: "only what a household shares, fitting two people of one household",
    NAME_BELOW_BAR: "a name alone, less probable than the bar a name joins from",
    CLUSTER_SIZE: "the customer would exceed the size bound",
    STEWARD_CONTESTED: "a new record links two customers a steward kept apart",
    None: "probability below the match threshold",
}


@dataclass(frozen=True)
class PossibleMatch:
    left: int  # the two records (indices) whose comparison is the evidence
    right: int
    kind: str
    probability: float
    rule: str | None = None  # what held the link apart; None below the threshold

    @property
    def reason(self) -> str:
        return REASONS.get(self.rule, self.rule or "")


def possible_matches(
    labels: list[int],
    pairs: np.ndarray,
    probabilities: np.ndarray,
    clustering: Clustering,
    review_threshold: float,
    match_threshold: float,
    different_people: Callable[[int, int], bool] | None = None,
    kept_apart: Callable[[int, int], bool] | None = None,
    name_alone: np.ndarray | None = None,
) -> list[PossibleMatch]:
    """The possible matches between the clusters `labels` draws, one per pair of clusters.
    Clusters a steward kept apart (`kept_apart`, by label) are offered again only when a record
    the steward never saw links them (search.resolve.constraints.STEWARD_CONTESTED).
    `name_alone` (per pair): the pair rests on names alone with nothing plainly different."""
    found: dict[tuple[int, int], PossibleMatch] = {}

    def offer(k: int, kind: str, rule: str | None) -> None:
        i, j = int(pairs[k, 0]), int(pairs[k, 1])
        a, b = labels[i], labels[j]
        if a == b or (rule != STEWARD_CONTESTED and kept_apart is not None and kept_apart(a, b)):
            return
        key = (a, b) if a < b else (b, a)
        current = found.get(key)
        candidate = PossibleMatch(i, j, kind, float(probabilities[k]), rule)
        if current is None or (KINDS.index(kind), -candidate.probability) < (KINDS.index(current.kind), -current.probability):
            found[key] = candidate

    held: list[tuple[HeldApart, str]] = [(h, REFUSED) for h in clustering.refused_links]
    held += [(h, AMBIGUOUS) for h in clustering.ambiguous_links]
    for link, kind in held:
        offer(link.pair, kind, link.rule)
    for k in _best_below_threshold(labels, pairs, probabilities, review_threshold, match_threshold).tolist():
        i, j = int(pairs[k, 0]), int(pairs[k, 1])
        key = (labels[i], labels[j]) if labels[i] < labels[j] else (labels[j], labels[i])
        if key not in found and not (different_people and different_people(i, j)):
            offer(k, BELOW_THRESHOLD, NAME_BELOW_BAR if name_alone is not None and name_alone[k] else None)
    return list(found.values())


def _best_below_threshold(labels: list[int], pairs: np.ndarray, probabilities: np.ndarray, review: float, match: float) -> np.ndarray:
    """Indices of the pairs in the review band joining two clusters, the most probable per pair of clusters."""
    band = np.nonzero((probabilities >= review) & (probabilities < match))[0]
    if not len(band):
        return band
    cluster = np.asarray(labels, dtype=np.int64)
    left, right = cluster[pairs[band, 0]], cluster[pairs[band, 1]]
    apart = left != right
    band, left, right = band[apart], left[apart], right[apart]
    codes = np.minimum(left, right) * len(labels) + np.maximum(left, right)
    order = np.lexsort((-probabilities[band], codes))
    first = np.r_[True, codes[order][1:] != codes[order][:-1]] if len(order) else np.zeros(0, dtype=bool)
    return band[order[first]]


Relation = TypeVar("Relation")


def most_probable_per_customer(
    relations: Sequence[Relation],
    customers: Callable[[Relation], tuple[Hashable, Hashable]],
    probability: Callable[[Relation], float],
    per_customer: int,
) -> list[Relation]:
    """The relations kept when each customer's list is bounded by `per_customer`: a relation is kept
    when it is among the `per_customer` most probable of EITHER of its customers (ties broken by the
    customers, so every run orders them alike). A customer whose name is common and whose records are
    sparse (a loyalty card holding "Marie Martin" and a town) fits many others below the threshold:
    none of those others is left without its best, and the crowded customer's list holds only the
    relations one of them ranks first (ResolutionConfig.max_possible_matches_per_customer). Taken
    most probable first, the rule is: kept while one of its two customers still has room. Every
    customer with a relation keeps at least one."""
    held: dict[Hashable, int] = {}
    kept: list[Relation] = []
    for relation in sorted(relations, key=lambda r: (-probability(r), sorted(map(str, customers(r))))):
        first, second = customers(relation)
        if held.get(first, 0) < per_customer or held.get(second, 0) < per_customer:
            held[first] = held.get(first, 0) + 1
            held[second] = held.get(second, 0) + 1
            kept.append(relation)
    return kept


def customers_without_relation(
    relations: Sequence[Relation], kept: Sequence[Relation], customers: Callable[[Relation], tuple[Hashable, Hashable]]
) -> int:
    """How many customers holding some relation in `relations` hold none in `kept` (the bound must
    leave none: a small customer always keeps its best)."""
    everyone = {c for r in relations for c in customers(r)}
    return len(everyone - {c for r in kept for c in customers(r)})
