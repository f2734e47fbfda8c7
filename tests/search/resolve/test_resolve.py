"""Golden customers against a real node: one person's records merge whatever their flaws; a
household, a homonym or a shared placeholder never do; ids stay stable and changes redirect."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.redirects import redirect_target
from search.resolve.blocking import blocking_keys
from search.resolve.candidates import candidate_pairs
from search.resolve.config import ResolutionConfig
from search.resolve.explain import explain_pair
from search.resolve.features import features_from_document
from search.resolve.pipeline import resolve_all, resolve_touched
from search.resolve.scoring import resolve_records
from search.resolve.store import (
    candidate_records,
    customers_of,
    get_records,
    scan_live_records,
)
from tests.conftest import Ingest, Resolved, customer_assignment
from tests.stories import COSENDEY, HELENE, OTHERS, PLACEHOLDER


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['source']}:{r['source_id']}" for r in records]


def test_one_persons_records_merge_despite_typos_accents_swaps_maiden_name_and_a_move(resolved: Resolved) -> None:
    customers = {resolved.customer_of[record_id] for record_id in _ids(HELENE)}
    assert len(customers) == 1


def test_household_members_and_a_homonym_stay_separate_customers(resolved: Resolved) -> None:
    helene = resolved.customer_of["crm:H1"]
    others = [resolved.customer_of[record_id] for record_id in _ids(OTHERS)]
    assert helene not in others
    assert len(set(others)) == len(others)


def test_a_name_alone_that_fits_two_homonyms_joins_neither(resolved: Resolved, opensearch: OpenSearch) -> None:
    # A threshold low enough that the call-center record's name alone links it to both women.
    config = ResolutionConfig(match_threshold=0.95)
    records = [features_from_document(d) for d in get_records(opensearch, resolved.names, _ids(COSENDEY))]
    resolution = resolve_records(records, config, resolved.model)
    customer = dict(zip((r.record_id for r in records), resolution.clustering.labels, strict=True))
    assert customer["ecommerce:J1"] == customer["loyalty_paris11:J2"] and customer["ecommerce:J3"] == customer["loyalty_lille:J4"]
    assert customer["ecommerce:J1"] != customer["ecommerce:J3"]
    assert customer["callcenter:J5"] not in (customer["ecommerce:J1"], customer["ecommerce:J3"])
    possible = {
        frozenset((customer[records[m.left].record_id], customer[records[m.right].record_id])): m for m in resolution.possible_matches
    }
    for other in ("ecommerce:J1", "ecommerce:J3"):
        assert possible[frozenset((customer["callcenter:J5"], customer[other]))].kind == "ambiguous-weak-record"


def test_a_shared_placeholder_email_links_nobody(resolved: Resolved) -> None:
    customers = {resolved.customer_of[record_id] for record_id in _ids(PLACEHOLDER)}
    assert len(customers) == len(PLACEHOLDER)


def test_a_card_alone_is_its_own_customer(resolved: Resolved) -> None:
    customer = resolved.customer_of["loyalty_lille:C1"]
    assert [r for r, c in resolved.customer_of.items() if c == customer] == ["loyalty_lille:C1"]


def test_every_record_belongs_to_exactly_one_customer(resolved: Resolved, opensearch: OpenSearch) -> None:
    live = {d["record_id"] for d in scan_live_records(opensearch, resolved.names)}
    assert set(resolved.customer_of) == live


def test_demo_data_resolves_with_high_pairwise_precision_and_recall(resolved: Resolved) -> None:
    with open(resolved.demo / "truth.tsv") as stream:
        truth = {f"{row['source']}:{row['source_id']}": row["person_id"] for row in csv.DictReader(stream, delimiter="\t")}
    predicted, actual = _pairs(resolved.customer_of, truth), _pairs(truth, truth)
    true_positives = len(predicted & actual)
    assert true_positives / len(predicted) >= 0.98
    assert true_positives / len(actual) >= 0.95


def _pairs(grouping: dict[str, str], keep: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for record_id, group in grouping.items():
        if record_id in keep:
            groups.setdefault(group, []).append(record_id)
    return {(a, b) for members in groups.values() for a in members for b in members if a < b}


def test_golden_record_takes_names_from_the_crm_and_keeps_provenance(resolved: Resolved, opensearch: OpenSearch) -> None:
    customer = opensearch.get(index=resolved.names.customers, id=resolved.customer_of["crm:H1"])["_source"]
    assert (customer["given_name"], customer["family_name"], customer["birth_date"]) == ("Hélène", "Lefèvre", "1980-05-17")
    assert customer["provenance"]["family_name"]["record_id"] == "crm:H1"
    assert customer["provenance"]["family_name"]["rule"] == "source_priority"
    assert set(customer["phones"]) == {"+33612345678"} and customer["emails"] == ["helene.lefevre@orange.fr"]
    assert customer["addresses"][0]["city"] == "Paris"  # the current address first, the old Lyon one after
    assert {a["city"] for a in customer["addresses"]} == {"Paris", "Lyon"}
    assert customer["loyalty_cards"][0]["card"] == "2901234567890"


def test_rerunning_resolve_keeps_every_customer_id(resolved: Resolved, opensearch: OpenSearch) -> None:
    resolve_all(opensearch, resolved.names, resolved.config, retrain=False)
    assert customer_assignment(opensearch, resolved.names) == resolved.customer_of


def test_explanations_name_the_deciding_fields(resolved: Resolved, opensearch: OpenSearch) -> None:
    documents = {d["record_id"]: d for d in get_records(opensearch, resolved.names, ["crm:H1", "loyalty_lyon2:H4", "crm:X1"])}
    same = explain_pair(
        features_from_document(documents["crm:H1"]), features_from_document(documents["loyalty_lyon2:H4"]), resolved.model, resolved.config
    )
    assert same.decision == "same customer" and "phone" in same.deciding_fields
    homonym = explain_pair(
        features_from_document(documents["crm:H1"]), features_from_document(documents["crm:X1"]), resolved.model, resolved.config
    )
    assert homonym.decision == "different people" and "birth dates" in (homonym.different_people or "")


def test_opensearch_candidates_are_the_in_memory_candidates(resolved: Resolved, opensearch: OpenSearch) -> None:
    documents = list(scan_live_records(opensearch, resolved.names))
    features = [features_from_document(d) for d in documents]
    in_memory = candidate_pairs(features, resolved.config.max_block_size).pairs
    neighbours: dict[str, set[str]] = {}
    for i, j in in_memory:
        neighbours.setdefault(features[i].record_id, set()).add(features[j].record_id)
        neighbours.setdefault(features[j].record_id, set()).add(features[i].record_id)
    for record in features[:: max(1, len(features) // 60)]:
        found = set(
            candidate_records(opensearch, resolved.names, [blocking_keys(record)], resolved.config.max_block_size, searchers=[record])
        )
        assert found - {record.record_id} == neighbours.get(record.record_id, set()), record.record_id


@pytest.fixture
def story(opensearch: OpenSearch, names: IndexNames, ingest: Ingest, resolved: Resolved) -> Iterator[IndexNames]:
    """A small index of its own for stories that change customers, with the module's trained model."""
    yield names


def test_a_new_record_is_resolved_in_real_time_into_the_right_customer(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:2] + OTHERS[:1])
    resolve_touched(opensearch, names, resolved.config, _ids(HELENE[:2] + OTHERS[:1]), model=resolved.model)
    ingest([HELENE[3]])
    report = resolve_touched(opensearch, names, resolved.config, ["loyalty_lyon2:H4"], model=resolved.model)
    assignment = customer_assignment(opensearch, names)
    assert report.customer_ids["loyalty_lyon2:H4"] == assignment["crm:H1"] == assignment["loyalty_lyon2:H4"]
    assert assignment["crm:M1"] != assignment["crm:H1"]


def test_a_merge_is_recorded_and_the_old_id_redirects(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    # An account opened with another e-mail, shipping to Marseille: nothing ties it to her CRM record yet.
    ecommerce = {
        **HELENE[1],
        "given_name": "H.",
        "email": "h.lefevre@free.fr",
        "street": "8 rue Paradis",
        "postcode": "13001",
        "city": "Marseille",
    }
    ingest([HELENE[0], ecommerce])
    resolve_touched(opensearch, names, resolved.config, ["crm:H1", "ecommerce:H2"], model=resolved.model)
    before = customer_assignment(opensearch, names)
    assert before["crm:H1"] != before["ecommerce:H2"]
    ingest([{**ecommerce, "given_name": "Hélène", "email": "helene.lefevre@orange.fr", "updated_at": "2026-04-01T10:00:00Z"}])
    report = resolve_touched(opensearch, names, resolved.config, ["ecommerce:H2"], model=resolved.model)
    after = customer_assignment(opensearch, names)
    assert after["crm:H1"] == after["ecommerce:H2"] and report.merges == 1
    (merged_away,) = {before["crm:H1"], before["ecommerce:H2"]} - {after["crm:H1"]}
    assert redirect_target(opensearch, names, merged_away) == after["crm:H1"]
    assert not opensearch.exists(index=names.customers, id=merged_away)


def test_a_split_is_recorded_and_the_larger_part_keeps_the_id(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:4])
    resolve_touched(opensearch, names, resolved.config, _ids(HELENE[:4]), model=resolved.model)
    before = customer_assignment(opensearch, names)
    assert len({before[r] for r in _ids(HELENE[:4])}) == 1
    # The loyalty record was someone else's card after all: a newer version says so.
    ingest(
        [
            {
                **HELENE[3],
                "given_name": "Bernard",
                "family_name": "Tapie",
                "phone": "0699999999",
                "civility": "M.",
                "updated_at": "2026-05-01T10:00:00Z",
            }
        ]
    )
    report = resolve_touched(opensearch, names, resolved.config, ["loyalty_lyon2:H4"], model=resolved.model)
    after = customer_assignment(opensearch, names)
    assert report.splits == 1
    assert after["crm:H1"] == before["crm:H1"]
    assert after["loyalty_lyon2:H4"] != before["crm:H1"]
    events = opensearch.search(index=names.redirects, body={"query": {"term": {"kind": "split"}}})["hits"]["hits"]
    assert [(e["_source"]["old_id"], e["_source"]["new_id"]) for e in events] == [(before["crm:H1"], after["loyalty_lyon2:H4"])]


def test_deleting_a_customers_last_record_removes_the_customer(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest([OTHERS[3]])
    resolve_touched(opensearch, names, resolved.config, ["loyalty_lille:C1"], model=resolved.model)
    customer = customer_assignment(opensearch, names)["loyalty_lille:C1"]
    ingest([{"source": "loyalty_lille", "source_id": "C1", "deleted": True, "updated_at": "2026-06-01T10:00:00Z"}])
    resolve_touched(opensearch, names, resolved.config, ["loyalty_lille:C1"], model=resolved.model)
    assert not opensearch.exists(index=names.customers, id=customer)
    assert customers_of(opensearch, names, ["loyalty_lille:C1"]) == {}
