"""A steward's decisions through the API, on a real node: applied at once, kept by every later
resolution (full, incremental, real-time), reversible, and safe when two stewards decide at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.redirects import redirect_target
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.steward.decisions import DecisionRequest, ItemChanged, current_customers, customer_version, decide, item_version, undo
from tests.steward.conftest import RoleClient
from tests.steward.people import STEWARD_PEOPLE, linking_record

Role = Callable[[str], RoleClient]
CustomerOf = Callable[[str], str]


def _file(as_role: Role, customer_id: str) -> dict:
    answer = as_role("steward").get(f"/v1/review/customers/{customer_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _version(as_role: Role, *customer_ids: str) -> str:
    from search.steward.decisions import item_version

    return item_version({c: _file(as_role, c)["version"] for c in customer_ids})


def _decide(as_role: Role, kind: str, customer_ids: list[str], records: list[str] | None = None, reason: str = "vu") -> dict:
    body = {
        "kind": kind,
        "customer_ids": customer_ids,
        "version": _version(as_role, *customer_ids),
        "records": records or [],
        "reason": reason,
    }
    answer = as_role("steward").post("/v1/review/decisions", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _records_of(as_role: Role, customer_id: str) -> set[str]:
    return {r["record_id"] for r in _file(as_role, customer_id)["records"]}


def test_a_possible_match_merged_by_a_steward_stays_merged_after_a_full_run(
    as_role: Role, customer_of: CustomerOf, opensearch: OpenSearch, world_names: IndexNames
) -> None:
    paris, call = customer_of("crm:Q1"), customer_of("callcenter:Q5")
    assert paris != call
    queue = as_role("steward").get("/v1/review", params={"kind": "possible-match", "limit": 50}).json()["items"]
    assert any({c["customer_id"] for c in item["customers"]} == {paris, call} for item in queue)
    outcome = _decide(as_role, "same_person", [paris, call], reason="Même personne : rappel noté par l'agent")
    assert customer_of("crm:Q1") == customer_of("callcenter:Q5")
    # Visible to search as soon as it is answered: one customer holds both records.
    results = as_role("steward").get("/v1/search", params={"q": "Ombeline Quesnoy", "limit": 20}).json()["results"]
    holders = [r for r in results if {"source": "callcenter", "source_id": "Q5"} in r["records"]]
    assert len(holders) == 1 and {"source": "crm", "source_id": "Q1"} in holders[0]["records"]
    resolve_all(opensearch, world_names, ResolutionConfig())
    assert customer_of("crm:Q1") == customer_of("callcenter:Q5")
    assert outcome["decision"]["by"] == "demo data steward" and outcome["decision"]["reason"].startswith("Même personne")


def test_a_kept_apart_pair_stays_apart_after_a_push_linking_them_and_comes_back_to_the_queue(
    as_role: Role, customer_of: CustomerOf, opensearch: OpenSearch, world_names: IndexNames
) -> None:
    lille, bordeaux = customer_of("crm:V1"), customer_of("ecommerce:V2")
    assert lille != bordeaux
    _decide(as_role, "different_people", [lille, bordeaux], reason="Deux personnes : dates différentes au guichet")
    pushed = as_role("integrator").post("/v1/records", json=linking_record("V", "Léonie", "Vasseur"))
    assert pushed.status_code == 200, pushed.text
    assert customer_of("crm:V1") != customer_of("ecommerce:V2")
    queue = as_role("steward").get("/v1/review", params={"kind": "possible-match", "limit": 50}).json()["items"]
    contested = [i for i in queue if {c["customer_id"] for c in i["customers"]} == {customer_of("crm:V1"), customer_of("ecommerce:V2")}]
    assert contested and contested[0]["contested"] and contested[0]["decisions"][0]["kind"] == "different_people"
    resolve_all(opensearch, world_names, ResolutionConfig())
    assert customer_of("crm:V1") != customer_of("ecommerce:V2")


def test_without_a_decision_the_same_push_links_the_pair(as_role: Role, customer_of: CustomerOf) -> None:
    assert customer_of("crm:F1") != customer_of("ecommerce:F2")
    pushed = as_role("integrator").post("/v1/records", json=linking_record("F", "Maëlys", "Fontan"))
    assert pushed.status_code == 200, pushed.text
    assert customer_of("crm:F1") == customer_of("ecommerce:F2") == customer_of("callcenter:F9")


def test_a_split_survives_full_and_incremental_runs(
    as_role: Role, customer_of: CustomerOf, opensearch: OpenSearch, world_names: IndexNames, steward_api
) -> None:
    from search.resolve.pipeline import resolve_since_last_run

    berthier = customer_of("crm:B1")
    assert customer_of("loyalty_lyon2:B3") == berthier == customer_of("ecommerce:B2")
    outcome = _decide(as_role, "split", [berthier], ["loyalty_lyon2:B3"], reason="Carte familiale : c'est son fils")
    assert customer_of("loyalty_lyon2:B3") != customer_of("crm:B1") == customer_of("ecommerce:B2")
    assert customer_of("crm:B1") == berthier  # the larger part keeps the id
    assert any(r.endswith(">" + customer_of("loyalty_lyon2:B3")) for r in outcome["decision"]["redirects"])
    resolve_all(opensearch, world_names, ResolutionConfig())
    assert customer_of("loyalty_lyon2:B3") != customer_of("crm:B1")
    changed = {"source": "loyalty_lyon2", "source_id": "B3", "given_name": "Arsène", "family_name": "Berthier", "phone": "06 55 44 33 21",
               "loyalty_card": "2901234567897", "updated_at": "2026-03-01T10:00:00Z"}  # fmt: skip
    assert as_role("integrator").post("/v1/records", json=changed).status_code == 200
    resolve_since_last_run(opensearch, world_names, ResolutionConfig())
    assert customer_of("loyalty_lyon2:B3") != customer_of("crm:B1")


def test_undo_restores_ids_and_redirects(as_role: Role, customer_of: CustomerOf, opensearch: OpenSearch, world_names: IndexNames) -> None:
    paris, marseille = customer_of("ecommerce:Q3"), customer_of("loyalty_marseille:Q4")
    assert paris == marseille  # one person, two records
    other = customer_of("loyalty_lille:Q7")
    assert other != paris
    outcome = _decide(as_role, "same_person", [paris, other])
    survivor = customer_of("loyalty_lille:Q7")
    gone = other if survivor == paris else paris
    assert customer_of("ecommerce:Q3") == survivor and redirect_target(opensearch, world_names, gone) == survivor
    answer = as_role("steward").post(f"/v1/review/decisions/{outcome['decision']['decision_id']}/undo", json={"reason": "erreur"})
    assert answer.status_code == 200, answer.text
    assert (customer_of("ecommerce:Q3"), customer_of("loyalty_lille:Q7")) == (paris, other)
    assert redirect_target(opensearch, world_names, gone) is None
    assert as_role("steward").get(f"/v1/customers/{gone}", follow_redirects=False).status_code == 200
    again = as_role("steward").post(f"/v1/review/decisions/{outcome['decision']['decision_id']}/undo", json={})
    assert again.status_code == 409 and "déjà été annulée" in again.json()["message"]


def test_two_stewards_deciding_the_same_item_the_second_is_told_and_nothing_is_lost(as_role: Role, customer_of: CustomerOf) -> None:
    first, second = customer_of("callcenter:Q6"), customer_of("ecommerce:Q3")
    version = _version(as_role, first, second)
    kept = {"kind": "different_people", "customer_ids": [first, second], "version": version, "reason": "premier"}
    late = {"kind": "same_person", "customer_ids": [first, second], "version": version, "reason": "second"}
    assert as_role("steward").post("/v1/review/decisions", json=kept).status_code == 201
    answer = as_role("admin").post("/v1/review/decisions", json=late)
    assert answer.status_code == 409
    assert "un autre gestionnaire" in answer.json()["message"]
    assert customer_of("callcenter:Q6") != customer_of("ecommerce:Q3")
    decisions = _file(as_role, first)["decisions"]
    assert [d["reason"] for d in decisions if d["status"] == "active" and set(d["customer_ids"]) == {first, second}] == ["premier"]


def test_decisions_are_audited(as_role: Role) -> None:
    entries = as_role("admin").get("/v1/audit", params={"limit": 200}).json()
    actions = {e["action"] for e in (entries["entries"] if isinstance(entries, dict) else entries)}
    assert {"review_decision", "review_undo", "review"} <= actions


def _demo_customers(opensearch: OpenSearch, names: IndexNames, count: int) -> list[str]:
    """Customers of the demo people only (none of the stories the tests above decide on), in id order."""
    stories = [f"{r['source']}:{r['source_id']}" for r in STEWARD_PEOPLE]
    query = {"bool": {"must_not": [{"terms": {"records": stories}}]}}
    hits = opensearch.search(index=names.customers, body={"query": query, "sort": [{"customer_id": "asc"}], "size": count})["hits"]["hits"]
    assert len(hits) == count
    return [hit["_id"] for hit in hits]


def _shown_version(opensearch: OpenSearch, names: IndexNames, *customer_ids: str) -> str:
    shown = current_customers(opensearch, names, customer_ids)
    return item_version({c: customer_version(shown[c]) for c in customer_ids})


def test_a_refused_decision_leaves_no_claim_that_blocks_the_other_customer(opensearch: OpenSearch, world_names: IndexNames) -> None:
    first, second, third = _demo_customers(opensearch, world_names, 3)
    # Another steward is deciding on `second` as it is now: its claim is taken, its decision not stored yet.
    state = current_customers(opensearch, world_names, [second])[second]
    claim = f"claim:{second}@{customer_version(state)}"
    opensearch.create(index=world_names.decisions, id=claim, body={"kind": "claim", "decision_id": "DOTHER", "customer_ids": [second]})
    try:
        refused = DecisionRequest("different_people", (first, second), _shown_version(opensearch, world_names, first, second))
        with pytest.raises(ItemChanged):
            decide(opensearch, world_names, ResolutionConfig(), refused, "premier", "steward")
        # `first` did not change: a decision on it, as shown, is taken (its claim was given back).
        request = DecisionRequest("different_people", (first, third), _shown_version(opensearch, world_names, first, third))
        outcome = decide(opensearch, world_names, ResolutionConfig(), request, "premier", "steward")
        assert outcome.decision["status"] == "active"
    finally:
        opensearch.delete(index=world_names.decisions, id=claim, refresh=True)


def test_a_merge_and_its_undo_are_searchable_everywhere_the_moment_each_is_answered(
    opensearch: OpenSearch, world_names: IndexNames
) -> None:
    left, right = _demo_customers(opensearch, world_names, 5)[3:]
    records = [current_customers(opensearch, world_names, [c])[c]["records"][0] for c in (left, right)]
    together = {"query": {"bool": {"filter": [{"term": {"records": r}} for r in records]}}}
    request = DecisionRequest("same_person", (left, right), _shown_version(opensearch, world_names, left, right))
    outcome = decide(opensearch, world_names, ResolutionConfig(), request, "premier", "steward")
    decision_id = outcome.decision["decision_id"]
    stored = {"query": {"ids": {"values": [decision_id]}}}
    # No refresh, no wait: the very next searches see the merged customer, the decision and its redirect.
    assert opensearch.search(index=world_names.customers, body=together)["hits"]["total"]["value"] == 1
    (hit,) = opensearch.search(index=world_names.decisions, body=stored)["hits"]["hits"]
    assert hit["_source"]["status"] == "active" and hit["_source"]["after"] == outcome.decision["after"]
    gone = left if outcome.customers == [right] else right
    assert outcome.decision["redirects"] and redirect_target(opensearch, world_names, gone) == outcome.customers[0]
    undo(opensearch, world_names, ResolutionConfig(), decision_id, "premier", "erreur")
    assert opensearch.search(index=world_names.customers, body=together)["hits"]["total"]["value"] == 0
    (hit,) = opensearch.search(index=world_names.decisions, body=stored)["hits"]["hits"]
    assert hit["_source"]["status"] == "undone"
    assert redirect_target(opensearch, world_names, gone) is None
    assert set(current_customers(opensearch, world_names, [left, right])) == {left, right}
