"""Recall of records that share little with the rest of their person, without losing safety (issue 16):
a name alone joins the one customer it fits, close given names of one household stay two people,
a town is not "elsewhere" from a postcode. Pure parts here; the real-node runs at the end."""

from __future__ import annotations

from typing import Any

import numpy as np
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.clustering import AMBIGUOUS, cluster
from search.resolve.comparisons import NULL, address_level, clearly_different_people
from search.resolve.config import OWN_NAME_FAMILIES, ResolutionConfig
from search.resolve.constraints import Constraints
from search.resolve.explain import explain_pair
from search.resolve.features import RecordFeatures, features_from_document
from search.resolve.frequencies import given_names_of_their_own
from search.resolve.pipeline import resolve_all, resolve_touched
from search.resolve.scoring import resolve_records
from search.resolve.store import get_records
from tests.conftest import Ingest, Resolved, customer_assignment
from tests.stories import NAMESAKES


def _record(record_id: str, **fields: str) -> RecordFeatures:
    return features_from_document({"record_id": record_id, "source": record_id.split(":")[0], **fields})


HOME = {"family_name": "Pelanet", "street": "4 rue des Lilas", "postcode": "29200", "city": "Brest"}
OWN_NAMES = frozenset({"marie", "martine", "nicolas", "nicole", "jean", "jean marc"})


def test_close_given_names_each_a_name_of_their_own_are_two_people_of_one_household() -> None:
    for first, second in (("Marie", "Martine"), ("Nicolas", "Nicole"), ("Jean", "Jean-Marc")):
        a = _record("crm:1", given_name=first, phone="0611111111", **HOME)
        b = _record("ecommerce:2", given_name=second, phone="0622222222", **HOME)
        assert clearly_different_people(a, b, given_names=OWN_NAMES) == "different given names"
        assert clearly_different_people(a, b) is None  # names the data does not know: left to the weights


def test_a_slip_or_a_shared_personal_value_keeps_close_given_names_one_person() -> None:
    patrick = _record("crm:1", given_name="Patrick", **HOME)
    assert (
        clearly_different_people(patrick, _record("ecommerce:2", given_name="Pateick", **HOME), given_names=OWN_NAMES | {"patrick"}) is None
    )
    marie = _record("crm:1", given_name="Marie", phone="+33611111111", **HOME)
    assert (
        clearly_different_people(marie, _record("ecommerce:2", given_name="Martine", phone="+33611111111", **HOME), given_names=OWN_NAMES)
        is None
    )
    # One keystroke apart ("Maria" / "Marie"): a slip as often as another name, never a rule.
    assert clearly_different_people(marie, _record("ecommerce:2", given_name="Maria", **HOME), given_names=OWN_NAMES | {"maria"}) is None


def test_given_names_of_their_own_are_those_many_families_write() -> None:
    families = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand"][:OWN_NAME_FAMILIES]
    records = [_record(f"crm:{k}", given_name="Marie", family_name=family) for k, family in enumerate(families)]
    records += [_record(f"web:{k}", given_name="Mraie", family_name="Martin") for k in range(OWN_NAME_FAMILIES)]
    assert given_names_of_their_own(records) == ["marie"]


def test_a_slip_of_a_common_given_name_in_a_large_sample_is_not_a_name_of_its_own() -> None:
    # A large sample: Nathalie and Marie in 300 records each, Martine in 60, each of another family
    # (165, 165 and 41 family names by sound); a two-keystroke slip of Nathalie ("Nathlaei") in 8
    # records of 6 families, more than OWN_NAME_FAMILIES.
    written = {"Nathalie": 300, "Marie": 300, "Martine": 60, "Nathlaei": 8}
    records = [
        _record(f"crm:{name}{k}", given_name=name, family_name=f"Famille{chr(97 + k % 26)}{chr(97 + k // 26 % 26)}{chr(97 + k // 676)}")
        for name, count in written.items()
        for k in range(count)
    ]
    assert len({r.family_ph for r in records if r.given == "nathlaei"}) >= OWN_NAME_FAMILIES
    assert given_names_of_their_own(records) == ["marie", "martine", "nathalie"]


def test_a_town_against_a_postcode_says_nothing_of_where_either_lives() -> None:
    town = _record("loyalty:1", given_name="Leo", family_name="Thievelle", city="Chaumont-du-Lac")
    postcode = _record("crm:2", given_name="Leo", family_name="Thievelle", postcode="13731")
    assert address_level(town, postcode) == NULL
    assert address_level(town, _record("crm:3", city="Marseille")) == 5  # two towns: elsewhere


# A customer of two records (a1, a2), a namesake (b1), and a record holding the name alone (w).
PEOPLE = [
    _record("crm:a1", given_name="Ombeline", family_name="Ravelet", phone="0645123987"),
    _record("ecommerce:a2", given_name="Ombeline", family_name="Ravelet", phone="0645123987"),
    _record("loyalty:w", given_name="Ombeline", family_name="Ravelet"),
    _record("crm:b1", given_name="Ombeline", family_name="Ravelet", phone="0733221100"),
]


def _clusters(pairs: list[tuple[int, int, float, bool]], contradicted: list[bool] | None = None) -> Any:
    """cluster() over PEOPLE: (i, j, probability, resting on names alone) per link."""
    probabilities = np.array([p for _, _, p, _ in pairs])
    return cluster(
        PEOPLE,
        np.array([(i, j) for i, j, _, _ in pairs]),
        np.log2(probabilities / (1 - probabilities)),
        probabilities,
        threshold=0.99,
        max_cluster_size=10,
        names_alone=np.array([alone for *_, alone in pairs]),
        weak_threshold=0.97,
        contradicted=None if contradicted is None else np.array(contradicted),
    )


def test_a_name_alone_below_the_match_threshold_joins_the_one_customer_it_fits() -> None:
    result = _clusters([(0, 1, 0.9999, False), (0, 2, 0.98, True)])
    assert result.labels[2] == result.labels[0] == result.labels[1]


def test_a_name_alone_that_fits_two_customers_joins_neither() -> None:
    result = _clusters([(0, 1, 0.9999, False), (0, 2, 0.98, True), (2, 3, 0.98, True)])
    assert len({result.labels[0], result.labels[2], result.labels[3]}) == 3
    assert {h.rule for h in result.ambiguous_links} == {AMBIGUOUS}


def test_a_name_alone_with_a_field_that_differs_does_not_join_below_the_match_threshold() -> None:
    result = _clusters([(0, 1, 0.9999, False), (0, 2, 0.98, True)], contradicted=[False, True])
    assert result.labels[2] != result.labels[0]


def test_a_steward_keeping_a_record_from_a_customer_does_not_keep_an_unrelated_record_from_it() -> None:
    # r: the name alone, fitting the customer (a1, a2) and her namesake b1; s: the name alone,
    # fitting only the customer. The steward said "r is not a1/a2's customer".
    records = [*PEOPLE[:2], _record("callcenter:r", given_name="Ombeline", family_name="Ravelet"), PEOPLE[2], PEOPLE[3]]
    links = [(0, 1, 0.9999), (0, 2, 0.98), (2, 4, 0.98), (0, 3, 0.98)]
    probabilities = np.array([p for *_, p in links])
    decision = Constraints(tags={2: frozenset({(0, 0)}), 0: frozenset({(0, 1)}), 1: frozenset({(0, 1)})}, bound=frozenset({0, 1, 2}))
    labels = cluster(
        records,
        np.array([(i, j) for i, j, _ in links]),
        np.log2(probabilities / (1 - probabilities)),
        probabilities,
        threshold=0.99,
        max_cluster_size=10,
        names_alone=np.array([False, True, True, True]),
        constraints=decision,
        weak_threshold=0.97,
    ).labels
    assert labels[3] == labels[0] == labels[1]  # s joins the one customer it fits
    assert labels[2] not in (labels[0], labels[4])  # r: not a1/a2's, and not b1's by elimination
    assert labels.count(labels[4]) == 1


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['source']}:{r['source_id']}" for r in records]


PARIS, MARSEILLE, NAME_ONLY = NAMESAKES[:2], NAMESAKES[2:4], NAMESAKES[4:]


def _left_to_the_weak_link_threshold(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> tuple[list[RecordFeatures], ResolutionConfig]:
    """The Parisian Ombeline and the name-only records, with a configuration whose match threshold
    is above their name-only links' probability: those links are left to the weak-link threshold
    alone (the session's model puts them above 0.99)."""
    ingest(PARIS + NAME_ONLY)
    records = [features_from_document(d) for d in get_records(opensearch, names, _ids(PARIS + NAME_ONLY))]
    scored = resolve_records(records, resolved.config, resolved.model).scored
    weakest = float(scored.probabilities.min())
    strictest = min(float(scored.probabilities.max()), 1 - 1e-12)
    assert weakest < strictest
    return records, resolved.config.model_copy(update={"match_threshold": strictest, "weak_link_threshold": min(weakest, 0.97)})


def test_a_name_alone_joins_its_one_customer_from_the_weak_link_threshold_in_a_full_run_and_in_real_time(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    records, config = _left_to_the_weak_link_threshold(resolved, opensearch, ingest, names)
    full = resolve_records(records, config, resolved.model)
    assert len(set(full.clustering.labels)) == 1
    for record in _ids(PARIS + NAME_ONLY):  # one at a time, in real time: the same customer
        resolve_touched(opensearch, names, config, [record], model=resolved.model)
    assert len(set(customer_assignment(opensearch, names).values())) == 1
    ingest(MARSEILLE)  # a namesake with her own customer: the names alone now fit two
    resolve_all(opensearch, names, config.model_copy(update={"match_threshold": resolved.config.match_threshold}), retrain=False)
    customer = customer_assignment(opensearch, names)
    assert all(customer[r] not in (customer["crm:Q1"], customer["ecommerce:Q3"]) for r in _ids(NAME_ONLY))


def test_explain_says_a_name_alone_link_joins_when_it_fits_one_customer_instead_of_not_linked(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    # The full run above joins these name-only records below the match threshold; `rcu explain`
    # on such a pair must not answer "not linked" for a link the clustering makes.
    records, config = _left_to_the_weak_link_threshold(resolved, opensearch, ingest, names)
    assert len(set(resolve_records(records, config, resolved.model).clustering.labels)) == 1
    by_id = {r.record_id: r for r in records}
    decisions = {
        explain_pair(by_id[p], by_id[n], resolved.model, config).decision
        for p in _ids(PARIS)
        for n in _ids(NAME_ONLY)
        if explain_pair(by_id[p], by_id[n], resolved.model, config).probability < config.match_threshold
    }
    assert decisions == {"same customer if no other customer fits the names"}
