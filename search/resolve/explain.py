"""Why two records are, or are not, one customer: each field's level and weight, the probability,
the decision and what decided it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from search.resolve.calibration import enforced_never_merge
from search.resolve.clustering import NAMESAKES_AT_HOME, PERSONAL_CONTACTS
from search.resolve.comparisons import Comparison, clearly_different_people, comparison_vector, comparisons_for
from search.resolve.config import ResolutionConfig
from search.resolve.evidence import names_alone
from search.resolve.features import RecordFeatures
from search.resolve.model import MatchModel
from search.resolve.namesakes import NamesakesAtHome, namesakes_apart
from search.resolve.personal import contacts_differ, personal_evidence
from search.resolve.possible import REASONS, PossibleMatch
from search.resolve.scoring import contradicted_pairs, telling_columns
from search.resolve.seen_apart import changed_for_pair
from search.resolve.weak_links import weak_link_bar


@dataclass
class FieldEvidence:
    field: str
    level: str
    weight_bits: float
    m: float | None
    u: float | None


@dataclass
class PairExplanation:
    record_ids: tuple[str, str]
    fields: list[FieldEvidence]
    prior_bits: float
    match_weight_bits: float
    probability: float
    threshold: float
    different_people: str | None
    decision: str
    deciding_fields: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": list(self.record_ids),
            "fields": [evidence.__dict__ for evidence in self.fields],
            "prior_bits": round(self.prior_bits, 2),
            "match_weight_bits": round(self.match_weight_bits, 2),
            "probability": self.probability,
            "threshold": self.threshold,
            "different_people": self.different_people,
            "decision": self.decision,
            "deciding_fields": self.deciding_fields,
        }


def explain_pair(
    x: RecordFeatures,
    y: RecordFeatures,
    model: MatchModel,
    config: ResolutionConfig,
    customers: tuple[list[RecordFeatures], list[RecordFeatures]] | None = None,
) -> PairExplanation:
    """Why `x` and `y` are, or are not, one customer. `customers`: the records of the customers
    the clustering put each in, when known (a run's possible matches). The rule
    `different_personal_contacts` is one over customers, not record pairs: given them, the
    explanation weighs it as the clustering did; without them (`rcu explain`), on the pair alone."""
    comparisons = comparisons_for(model.identifiers)
    vector = comparison_vector(x, y, comparisons)
    evidence = []
    for column, (comparison, level, bits) in enumerate(zip(comparisons, vector, model.field_bits(x, y, vector), strict=True)):
        if bits is None:
            evidence.append(FieldEvidence(comparison.name, "missing on one side", 0.0, None, None))
            continue
        evidence.append(
            FieldEvidence(comparison.name, comparison.levels[level], round(bits, 2), model.m[column][level], model.u[column][level])
        )
    prior_weight = model.prior_weight_for(same_source=x.source == y.source)
    total = prior_weight + sum(e.weight_bits for e in evidence)
    probability = 1.0 / (1.0 + 2.0 ** (-total))
    rules = enforced_never_merge(config, model.relaxed_rules)
    different = clearly_different_people(x, y, rules, frozenset(model.given_names))
    if not different and PERSONAL_CONTACTS in rules and _contacts_differ(x, y, customers):
        different = REASONS[PERSONAL_CONTACTS]
    if not different and NAMESAKES_AT_HOME in rules and _namesakes_apart(x, y, customers, model, config):
        different = REASONS[NAMESAKES_AT_HOME]
    if different:
        decision = "different people"
    elif probability >= config.match_threshold:
        decision = "same customer"
    elif probability >= weak_link_bar(config, model.weak_link_bar) and _names_alone_uncontradicted(x, y, vector, comparisons, model):
        # The clustering's rule for links resting on names alone (search.resolve.clustering): such a
        # link joins from the weak-link bar (search.resolve.weak_links) when it fits exactly one customer, which a pair alone
        # cannot tell.
        decision = "same customer if no other customer fits the names"
    else:
        decision = "not linked"
    deciding = [e.field for e in sorted(evidence, key=lambda e: -abs(e.weight_bits)) if abs(e.weight_bits) >= 1.0][:4]
    return PairExplanation(
        (x.record_id, y.record_id), evidence, prior_weight, total, probability, config.match_threshold, different, decision, deciding
    )


def _contacts_differ(x: RecordFeatures, y: RecordFeatures, customers: tuple[list[RecordFeatures], list[RecordFeatures]] | None) -> bool:
    a, b = customers or ([x], [y])
    return contacts_differ([personal_evidence(r, s) for r in a for s in b], a, b)


def _namesakes_apart(
    x: RecordFeatures,
    y: RecordFeatures,
    customers: tuple[list[RecordFeatures], list[RecordFeatures]] | None,
    model: MatchModel,
    config: ResolutionConfig,
) -> bool:
    namesakes = NamesakesAtHome.from_dict(model.namesakes_at_home)
    if namesakes is None:
        return False
    a, b = customers or ([x], [y])
    return namesakes_apart(namesakes, [personal_evidence(r, s) for r in a for s in b], a, b, config.match_threshold)


def explain_possible_matches(
    matches: list[PossibleMatch], labels: Sequence[int], features: list[RecordFeatures], model: MatchModel, config: ResolutionConfig
) -> list[PairExplanation]:
    """Each possible match's explanation, its two records' customers (`labels`, the clustering's)
    given, so that it says what held them apart as the clustering saw it."""
    wanted = {labels[m.left] for m in matches} | {labels[m.right] for m in matches}
    members: dict[int, list[RecordFeatures]] = {label: [] for label in wanted}
    for index, label in enumerate(labels):
        if label in members:
            members[label].append(features[index])
    return [
        explain_pair(features[m.left], features[m.right], model, config, (members[labels[m.left]], members[labels[m.right]]))
        for m in matches
    ]


def _names_alone_uncontradicted(
    x: RecordFeatures, y: RecordFeatures, vector: list[int], comparisons: tuple[Comparison, ...], model: MatchModel
) -> bool:
    """Whether the pair rests on names alone (a name, a birth year, a town) with no telling field
    plainly different — a value the dates say one person changed (seen_apart) not counting, as in
    the clustering: the links the clustering lets join from the weak-link bar."""
    row = np.array([vector], dtype=np.int64)
    if not bool(names_alone(row, comparisons)[0]):
        return False
    changed = changed_for_pair(model.m_by_gap, model.names, x, y, vector)[np.newaxis]
    return not bool(contradicted_pairs(row, comparisons, telling_columns(comparisons, model), changed)[0])
