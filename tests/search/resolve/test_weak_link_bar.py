"""The bar a link resting on names alone joins from is estimated from the data being resolved (issue
16), and single records sharing nothing but a name do not chain into one person. Pure parts first,
then a real-node run in full and in real time."""

from __future__ import annotations

import numpy as np
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.clustering import AMBIGUOUS, cluster
from search.resolve.config import DEFAULT_WEAK_LINK_BAR, MIN_WEAK_LINK_PAIRS, ResolutionConfig
from search.resolve.features import RecordFeatures, features_from_document
from search.resolve.pipeline import resolve_touched
from search.resolve.scoring import resolve_records
from search.resolve.store import get_records
from search.resolve.weak_links import estimate_weak_link_bar, weak_link_bar
from tests.conftest import Ingest, Resolved, customer_assignment


def _record(record_id: str, **fields: str) -> RecordFeatures:
    return features_from_document({"record_id": record_id, "source": record_id.split(":")[0], **fields})


def _weak_links(near_certain: int, doubtful: int) -> np.ndarray:
    """Candidate links on names alone: `near_certain` at 0.999 (rare names, a birth year and a
    town), `doubtful` spread evenly over 0.90-0.98 (common names, bare records)."""
    return np.concatenate([np.full(near_certain, 0.999), np.linspace(0.90, 0.98, doubtful)])


def test_the_weak_link_bar_follows_the_data_not_a_constant() -> None:
    budget, match = 0.015, 0.99
    mostly_rare_names = estimate_weak_link_bar(_weak_links(near_certain=900, doubtful=300), budget, match)
    mostly_common_names = estimate_weak_link_bar(_weak_links(near_certain=100, doubtful=900), budget, match)
    assert mostly_rare_names is not None and mostly_common_names is not None
    # A link at 0.95 on names alone joins its one customer among records whose name links are
    # mostly near-certain, not among records whose name links are mostly doubtful.
    assert mostly_rare_names < 0.95 < mostly_common_names
    config = ResolutionConfig()
    assert weak_link_bar(config, mostly_rare_names) < 0.95 < weak_link_bar(config, mostly_common_names)


def test_the_weak_links_joined_are_wrong_no_more_often_than_the_budget_on_average() -> None:
    links = _weak_links(near_certain=500, doubtful=700)
    bar = estimate_weak_link_bar(links, 0.015, 0.99)
    assert bar is not None
    assert float(np.mean(1 - links[links >= bar])) <= 0.015
    lower = links[links < bar].max()  # one link more and the budget is spent
    assert float(np.mean(1 - links[links >= lower])) > 0.015


def test_too_few_weak_links_leave_the_documented_bar_and_configuration_overrides_the_estimate() -> None:
    assert estimate_weak_link_bar(np.full(MIN_WEAK_LINK_PAIRS - 1, 0.999), 0.015, 0.99) is None
    assert weak_link_bar(ResolutionConfig(), None) == DEFAULT_WEAK_LINK_BAR
    assert weak_link_bar(ResolutionConfig(weak_link_threshold=0.98), 0.93) == 0.98
    assert weak_link_bar(ResolutionConfig(match_threshold=0.95), 0.97) == 0.95  # never above the match threshold


# Three records of one name that share nothing else (an address, an e-mail, a birth date), and a
# customer of two records with two records holding her name alone.
MASSON = [
    _record("ecommerce:1", given_name="Jérôme", family_name="Masson", street="9 allée Georges Clemenceau", postcode="15554"),
    _record("crm:2", given_name="Jérôme", family_name="Masson", email="jerome.masson43@gmail.com"),
    _record("callcenter:3", given_name="Jérôme", family_name="Masson", birth_date="1981-09-25"),
]
RAVELET = [
    _record("crm:a1", given_name="Ombeline", family_name="Ravelet", phone="0645123987"),
    _record("ecommerce:a2", given_name="Ombeline", family_name="Ravelet", phone="0645123987"),
    _record("loyalty:w1", given_name="Ombeline", family_name="Ravelet"),
    _record("callcenter:w2", given_name="Ombeline", family_name="Ravelet"),
]


def _cluster(records: list[RecordFeatures], links: list[tuple[int, int, float, bool]], bar: float) -> list[int]:
    probabilities = np.array([p for *_, p, _ in links])
    result = cluster(
        records,
        np.array([(i, j) for i, j, *_ in links]),
        np.log2(probabilities / (1 - probabilities)),
        probabilities,
        threshold=0.99,
        max_cluster_size=10,
        names_alone=np.array([alone for *_, alone in links]),
        weak_threshold=bar,
    )
    if len(set(result.labels)) == len(records):
        assert {h.rule for h in result.ambiguous_links} == {AMBIGUOUS}  # kept as possible matches
    return result.labels


def test_three_single_records_sharing_only_a_name_are_not_joined_into_one_person() -> None:
    # Each link alone passes the bar (0.9736 ≥ 0.96); all three right together: 0.948.
    labels = _cluster(MASSON, [(0, 1, 0.9736, True), (0, 2, 0.9736, True), (1, 2, 0.9736, True)], bar=0.96)
    assert len(set(labels)) == 3
    # Two of them are one link, held to the bar alone.
    assert len(set(_cluster(MASSON[:2], [(0, 1, 0.9736, True)], bar=0.96))) == 1


def test_a_customer_takes_every_record_holding_her_name_alone_when_she_is_the_only_one_it_fits() -> None:
    links = [(0, 1, 0.9999, False), (0, 2, 0.9736, True), (0, 3, 0.9736, True), (2, 3, 0.9736, True)]
    assert len(set(_cluster(RAVELET, links, bar=0.96))) == 1


def test_single_records_sharing_only_a_common_name_stay_apart_in_a_full_run_and_in_real_time(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    documents = [
        {"source": "ecommerce", "source_id": "JM1", "given_name": "Jérôme", "family_name": "Masson", "street": "9 allée Georges Clemenceau",
         "postcode": "15554", "city": "Marsac-d'Arc"},
        {"source": "crm", "source_id": "JM2", "given_name": "Jérôme", "family_name": "Masson", "email": "jerome.masson43@gmail.com"},
        {"source": "callcenter", "source_id": "JM3", "given_name": "Jérôme", "family_name": "Masson", "birth_date": "1981-09-25"},
    ]  # fmt: skip
    ids = [f"{d['source']}:{d['source_id']}" for d in documents]
    ingest(documents)
    records = [features_from_document(d) for d in get_records(opensearch, names, ids)]
    probabilities = resolve_records(records, resolved.config, resolved.model).scored.probabilities
    assert len(probabilities) == 3  # every pair compared, each on the name alone
    # A configuration in which each link alone passes both bars, all three together neither: the
    # session's model puts name-only links close to 1.
    weakest, strongest = float(probabilities.min()), float(probabilities.max())
    config = resolved.config.model_copy(
        update={"match_threshold": min(strongest + (1 - strongest) / 2, 1 - 1e-12), "weak_link_threshold": weakest}
    )
    assert strongest**2 < weakest
    assert len(set(resolve_records(records, config, resolved.model).clustering.labels)) == 3
    for record in reversed(ids):  # one at a time, in real time: three customers still
        resolve_touched(opensearch, names, config, [record], model=resolved.model)
    customer = customer_assignment(opensearch, names)
    assert len({customer[r] for r in ids}) == 3
