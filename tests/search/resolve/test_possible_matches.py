"""Records that rest on a name alone, and possible matches, against a real node: a name that fits
two homonyms joins neither — in a full run and in real time, whatever order the records arrive in —
and becomes a possible match of both; possible matches survive a re-run and go when their two
customers merge or one of them disappears."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.resolve.clustering import AMBIGUOUS
from search.resolve.features import features_from_document
from search.resolve.pipeline import resolve_all, resolve_since_last_run, resolve_touched
from search.resolve.possible import AMBIGUOUS as AMBIGUOUS_KIND
from search.resolve.possible import customers_without_relation, most_probable_per_customer
from search.resolve.possible_store import CustomerChanges, pair_id, save_possible_matches, stored_relations
from search.resolve.scoring import resolve_records
from search.resolve.store import ensure_resolution_indices, get_records, save_model, save_watermark
from tests.conftest import Ingest, Resolved, customer_assignment
from tests.stories import NAMESAKES

PARIS, MARSEILLE, NAME_ONLY = NAMESAKES[:2], NAMESAKES[2:4], NAMESAKES[4:]


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['source']}:{r['source_id']}" for r in records]


def _with_session_model(opensearch: OpenSearch, names: IndexNames, resolved: Resolved) -> None:
    """This test's index resolves with the session's model: seven records are too few to train one."""
    ensure_resolution_indices(opensearch, names)
    save_model(opensearch, names, resolved.model)


def _relations(opensearch: OpenSearch, names: IndexNames) -> dict[frozenset[str], dict[str, Any]]:
    opensearch.indices.refresh(index=names.possible_matches)
    documents = (hit["_source"] for hit in scan(opensearch, index=names.possible_matches, query={"query": {"match_all": {}}}))
    return {frozenset(d["customer_ids"]): d for d in documents}


def _partition(assignment: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record_id, customer in assignment.items():
        groups.setdefault(customer, set()).add(record_id)
    return {frozenset(group) for group in groups.values()}


def test_a_name_only_record_that_fits_two_homonyms_joins_neither_and_becomes_a_possible_match_of_both(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(NAMESAKES)
    _with_session_model(opensearch, names, resolved)
    report = resolve_all(opensearch, names, resolved.config, retrain=False)
    customer = customer_assignment(opensearch, names)
    paris, marseille = customer["crm:Q1"], customer["ecommerce:Q3"]
    assert customer["loyalty_paris11:Q2"] == paris and customer["loyalty_marseille:Q4"] == marseille and paris != marseille
    relations = _relations(opensearch, names)
    for record_id in _ids(NAME_ONLY):
        assert customer[record_id] not in (paris, marseille)
        for homonym in (paris, marseille):
            relation = relations[frozenset((customer[record_id], homonym))]
            assert (relation["kind"], relation["rule"]) == (AMBIGUOUS_KIND, AMBIGUOUS)
            # A link the name alone would have made: above the match threshold.
            assert relation["probability"] >= resolved.config.match_threshold
            fields = {f["field"]: f for f in relation["explanation"]["fields"]}
            assert fields["family_name"]["level"] == "exact" and fields["phone"]["level"] == "missing on one side"
            assert relation["pair_id"] == "_".join(sorted(relation["customer_ids"])) and relation["created_at"]
    assert report.possible_matches == len(relations) >= 6


def test_a_name_only_record_joins_the_one_customer_it_fits(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(PARIS + NAME_ONLY)
    records = [features_from_document(d) for d in get_records(opensearch, names, _ids(PARIS + NAME_ONLY))]
    resolution = resolve_records(records, resolved.config, resolved.model)
    assert len(set(resolution.clustering.labels)) == 1


ARRIVALS = {
    "name-only records first": NAME_ONLY + PARIS + MARSEILLE,
    "between the two people": PARIS + NAME_ONLY + MARSEILLE,
    "last": PARIS + MARSEILLE + NAME_ONLY,
    "interleaved": [NAMESAKES[i] for i in (4, 0, 5, 2, 1, 6, 3)],
}


@pytest.mark.parametrize("arrival", ARRIVALS, ids=list(ARRIVALS))
def test_two_homonyms_are_never_merged_through_name_only_records_whatever_order_they_arrive_in(
    arrival: str, resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    for record in ARRIVALS[arrival]:  # one at a time, as POST /v1/records resolves them
        ingest([record])
        resolve_touched(opensearch, names, resolved.config, _ids([record]), model=resolved.model)
    customer = customer_assignment(opensearch, names)
    paris, marseille = customer["crm:Q1"], customer["ecommerce:Q3"]
    assert paris != marseille
    assert all(customer[record_id] not in (paris, marseille) for record_id in _ids(NAME_ONLY))
    # The same customers as a full run over the same records.
    records = [features_from_document(d) for d in get_records(opensearch, names, _ids(NAMESAKES))]
    full = resolve_records(records, resolved.config, resolved.model)
    assert _partition(customer) == _partition({r.record_id: str(label) for r, label in zip(records, full.clustering.labels, strict=True)})
    assert len(_relations(opensearch, names)) == len(full.possible_matches)


def test_possible_matches_survive_a_rerun(resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames) -> None:
    ingest(NAMESAKES)
    _with_session_model(opensearch, names, resolved)
    resolve_all(opensearch, names, resolved.config, retrain=False)
    before = _relations(opensearch, names)
    resolve_all(opensearch, names, resolved.config, retrain=False)
    resolve_touched(opensearch, names, resolved.config, ["crm:Q1", "callcenter:Q5"], model=resolved.model)
    after = _relations(opensearch, names)
    assert before and {k: (d["pair_id"], d["created_at"]) for k, d in after.items()} == {
        k: (d["pair_id"], d["created_at"]) for k, d in before.items()
    }
    assert all(after[k]["updated_at"] > before[k]["updated_at"] for k in before)


def test_a_possible_match_disappears_when_its_two_customers_merge(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    for record in NAMESAKES:  # in real time, nothing refreshed in between
        ingest([record])
        resolve_touched(opensearch, names, resolved.config, _ids([record]), model=resolved.model)
    before = customer_assignment(opensearch, names)
    call, paris = before["callcenter:Q5"], before["crm:Q1"]
    assert opensearch.exists(index=names.possible_matches, id=pair_id(call, paris))  # a real-time get: nothing refreshed
    # The caller gave her mobile number: the call was the Parisian Ombeline's.
    ingest([{**NAMESAKES[4], "phone": "06 45 12 39 87", "updated_at": "2026-03-01T10:00:00Z"}])
    resolve_touched(opensearch, names, resolved.config, ["callcenter:Q5"], model=resolved.model)
    after = customer_assignment(opensearch, names)
    assert after["callcenter:Q5"] == after["crm:Q1"]
    relations = _relations(opensearch, names)
    assert frozenset((call, paris)) not in relations and call not in {c for pair in relations for c in pair}
    assert all(len(pair) == 2 and pair <= set(after.values()) for pair in relations)


def test_a_possible_match_goes_with_a_customer_that_disappears(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(NAMESAKES)
    _with_session_model(opensearch, names, resolved)
    resolve_all(opensearch, names, resolved.config, retrain=False)
    card = customer_assignment(opensearch, names)["loyalty_lille:Q7"]
    assert any(card in pair for pair in _relations(opensearch, names))
    ingest([{"source": "loyalty_lille", "source_id": "Q7", "deleted": True, "updated_at": "2026-03-01T10:00:00Z"}])
    resolve_touched(opensearch, names, resolved.config, ["loyalty_lille:Q7"], model=resolved.model)
    assert not any(card in pair for pair in _relations(opensearch, names))


def test_a_possible_match_follows_a_customer_merged_into_another_while_the_other_side_was_not_resolved(
    opensearch: OpenSearch, names: IndexNames
) -> None:
    ensure_resolution_indices(opensearch, names)
    earlier, now = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    relation = {"kind": "below-threshold", "probability": 0.4, "rule": None, "reason": "", "records": ["a:1", "b:1"], "explanation": {}}
    found = [{**relation, "customer_ids": ["CX", "CY"]}, {**relation, "customer_ids": ["CX", "CZ"]}]
    save_possible_matches(opensearch, names, found, CustomerChanges(None, set(), {}, set()), earlier)
    # A real-time run resolved CX and CZ (CX merged into CZ); CY lay outside what it saw.
    save_possible_matches(opensearch, names, [], CustomerChanges({"CZ"}, {"CX", "CZ"}, {"CX": "CZ"}, {"CX"}), now)
    relations = _relations(opensearch, names)
    assert set(relations) == {frozenset(("CY", "CZ"))}
    moved = relations[frozenset(("CY", "CZ"))]
    assert moved["pair_id"] == pair_id("CZ", "CY") and moved["created_at"] == earlier.isoformat()


def test_a_record_left_apart_on_its_name_alone_is_offered_to_the_steward_with_that_reason() -> None:
    import numpy as np

    from search.resolve.clustering import Clustering
    from search.resolve.possible import BELOW_THRESHOLD, NAME_BELOW_BAR, possible_matches

    # Three customers: a loyalty record holding the name alone (0.93, below the bar a name joins
    # from), and a record sharing the name and a phone one digit off (0.8, evidence, not a name alone).
    pairs = np.array([(0, 1), (0, 2)])
    found = possible_matches(
        [0, 1, 2],
        pairs,
        np.array([0.93, 0.8]),
        Clustering(labels=[0, 1, 2]),
        review_threshold=0.1,
        match_threshold=0.99,
        name_alone=np.array([True, False]),
    )
    reasons = {(m.left, m.right): (m.kind, m.rule) for m in found}
    assert reasons == {(0, 1): (BELOW_THRESHOLD, NAME_BELOW_BAR), (0, 2): (BELOW_THRESHOLD, None)}


def test_a_customer_s_possible_matches_are_bounded_to_the_most_probable_and_the_rest_counted(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    # Each homonym fits both name-only records: two possible matches each, and the bound is one.
    ingest(NAMESAKES)
    _with_session_model(opensearch, names, resolved)
    config = resolved.config.model_copy(update={"max_possible_matches_per_customer": 1})
    report = resolve_all(opensearch, names, config, retrain=False)
    relations = _relations(opensearch, names)
    unbounded = resolve_all(opensearch, names, resolved.config, retrain=False)
    held = Counter(customer for pair in relations for customer in pair)
    # Every customer keeps its best; one holds a second only because the other side ranks it first.
    assert relations and set(held) == {customer for pair in _relations(opensearch, names) for customer in pair}
    assert report.possible_matches == len(relations) < unbounded.possible_matches and report.possible_matches_beyond_bound >= 1
    assert report.customers_without_possible_match == 0
    assert f"possible_matches_beyond_bound={report.possible_matches_beyond_bound}" in report.line()
    assert "customers_without_possible_match=0" in report.line()


def test_the_bound_keeps_each_customer_s_most_probable_possible_matches() -> None:
    # (customers, probability): "a" fits four others; with a bound of two its own two most probable
    # are kept, and so is every relation the other side ranks among its two best: "b" keeps its
    # only one, "d" its two.
    relations = [(("a", "b"), 0.5), (("a", "c"), 0.9), (("a", "d"), 0.2), (("a", "e"), 0.7), (("d", "e"), 0.3), (("b", "f"), 0.8)]
    relations += [(("b", "g"), 0.85), (("a", "h"), 0.1), (("h", "i"), 0.6), (("h", "j"), 0.65)]
    kept = most_probable_per_customer(relations, lambda r: r[0], lambda r: r[1], 2)
    # a-b: b holds two more probable (f, g); a-h: h holds two more probable (i, j): both left out.
    assert sorted(customers for customers, _ in kept) == [
        ("a", "c"),
        ("a", "d"),
        ("a", "e"),
        ("b", "f"),
        ("b", "g"),
        ("d", "e"),
        ("h", "i"),
        ("h", "j"),
    ]


def test_no_name_only_card_is_left_without_a_possible_match_when_three_namesakes_fit_it() -> None:
    # Three namesakes each fit eight name-only cards, all equally probable; the bound is five. Every
    # card keeps its relations (it holds three, below the bound), so none misses the steward's queue.
    relations = [((f"N{n}", f"C{c}"), 0.4) for n in range(1, 4) for c in range(1, 9)]
    kept = most_probable_per_customer(relations, lambda r: r[0], lambda r: r[1], 5)
    cards = Counter(customers[1] for customers, _ in kept)
    assert set(cards) == {f"C{c}" for c in range(1, 9)}
    assert customers_without_relation(relations, kept, lambda r: r[0]) == 0


def test_a_crowded_customer_keeps_only_the_relations_another_customer_ranks_among_its_best() -> None:
    # A namesake fits eight cards, each of which holds five more probable relations elsewhere: the
    # namesake's list is its own five most probable, not eight.
    relations = [(("N", f"C{c}"), 0.3 + c / 100) for c in range(1, 9)]
    relations += [((f"C{c}", f"O{c}-{o}"), 0.9) for c in range(1, 9) for o in range(5)]
    kept = most_probable_per_customer(relations, lambda r: r[0], lambda r: r[1], 5)
    assert sorted(customers[1] for customers, _ in kept if customers[0] == "N") == ["C4", "C5", "C6", "C7", "C8"]
    assert customers_without_relation(relations, kept, lambda r: r[0]) == 0


def test_an_incremental_run_leaves_the_possible_matches_it_stored_searchable_for_the_next_push(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    # A push reads its customers' stored relations by a search without refreshing first (one round
    # trip less per push): every writer refreshes what it wrote, an incremental run after each batch.
    _with_session_model(opensearch, names, resolved)
    save_watermark(opensearch, names, datetime.now(UTC) - timedelta(minutes=1))
    ingest(NAMESAKES)
    opensearch.indices.put_settings(index=names.possible_matches, body={"index": {"refresh_interval": "-1"}})
    report = resolve_since_last_run(opensearch, names, resolved.config)
    customer = customer_assignment(opensearch, names)
    asked = {customer[record_id] for record_id in _ids(NAME_ONLY)}
    stored = {frozenset(d["customer_ids"]) for d in stored_relations(opensearch, names, asked)}
    assert report.possible_matches >= 6
    assert stored == {pair for pair in _relations(opensearch, names) if pair & asked} and len(stored) >= 6


def _relation(first: str, second: str, probability: float) -> dict[str, Any]:
    return {
        "customer_ids": sorted((first, second)),
        "kind": "below-threshold",
        "probability": probability,
        "rule": None,
        "reason": "",
        "records": [f"a:{first}", f"b:{second}"],
        "explanation": {},
    }


# Bound 2. N holds relations with O1 and O2, each of which holds two more probable ones elsewhere;
# a push resolving N and Y finds N-Y, more probable than both: a full run keeps N-Y and N-O1 (N's
# two best) and leaves N-O2 out (neither N nor O2 ranks it among its two best).
ELSEWHERE = [_relation("O1", "P1", 0.9), _relation("O1", "P2", 0.8), _relation("O2", "P3", 0.9), _relation("O2", "P4", 0.8)]
BOUND = 2


def _full_run(opensearch: OpenSearch, names: IndexNames, found: list[dict[str, Any]]) -> set[frozenset[str]]:
    """What a full run stores: its relations bounded (as resolve_all bounds them) and saved."""
    kept = most_probable_per_customer(found, lambda r: tuple(r["customer_ids"]), lambda r: r["probability"], BOUND)
    save_possible_matches(opensearch, names, kept, CustomerChanges(None, set(), {}, set()), datetime.now(UTC), BOUND)
    return set(_relations(opensearch, names))


def test_a_push_keeps_a_customer_s_stored_possible_matches_within_the_bound_as_a_full_run_would(
    opensearch: OpenSearch, names: IndexNames
) -> None:
    ensure_resolution_indices(opensearch, names)
    everything = [*ELSEWHERE, _relation("N", "O1", 0.5), _relation("N", "O2", 0.4), _relation("N", "Y", 0.7)]
    full = _full_run(opensearch, names, everything)
    assert frozenset(("N", "O2")) not in full and frozenset(("N", "Y")) in full
    # A full run without N-Y, then the push that finds it.
    _full_run(opensearch, names, everything[:-1])
    push = CustomerChanges({"N", "Y"}, {"N", "Y"}, {}, set())
    save_possible_matches(opensearch, names, [_relation("N", "Y", 0.7)], push, datetime.now(UTC), BOUND)
    assert set(_relations(opensearch, names)) == full


def test_a_push_finding_a_relation_beyond_the_bound_stores_nothing_a_full_run_would_drop(opensearch: OpenSearch, names: IndexNames) -> None:
    ensure_resolution_indices(opensearch, names)
    everything = [*ELSEWHERE, _relation("N", "O1", 0.5), _relation("N", "Y", 0.7), _relation("N", "O2", 0.4)]
    full = _full_run(opensearch, names, everything)
    assert frozenset(("N", "O2")) not in full
    # The other order: N-Y and N-O1 stored first, then a push resolving N and O2 finds N-O2.
    _full_run(opensearch, names, everything[:-1])
    push = CustomerChanges({"N", "O2"}, {"N", "O2"}, {}, set())
    save_possible_matches(opensearch, names, [_relation("N", "O2", 0.4)], push, datetime.now(UTC), BOUND)
    assert set(_relations(opensearch, names)) == full
