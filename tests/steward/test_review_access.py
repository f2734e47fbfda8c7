"""Who may use the workbench, and what the customer's rights see of it: counter, marketing and
integrator keys are refused every review route and meet no review data anywhere; the customer's
export holds the decisions about them, and erasure removes them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from tests.steward.conftest import RoleClient
from tests.steward.test_decisions import _decide

Role = Callable[[str], RoleClient]
CustomerOf = Callable[[str], str]
REVIEW_GETS = ["/v1/review", "/v1/review/stats", "/v1/review/customers/{c}", "/v1/review/decisions/D0123456789ABCDEF"]
REVIEW_POSTS = ["/v1/review/decisions", "/v1/review/decisions/D0123456789ABCDEF/undo"]


@pytest.mark.parametrize("role", ["counter", "marketing", "integrator", "callcenter", "privacy_officer", "shop"])
def test_roles_without_the_review_right_get_403_on_every_review_route(as_role: Role, customer_of: CustomerOf, role: str) -> None:
    customer = customer_of("crm:Q1")
    for url in REVIEW_GETS:
        answer = as_role(role).get(url.format(c=customer))
        assert answer.status_code == 403, (role, url, answer.text)
        assert customer not in answer.text
    body = {"kind": "detach", "customer_ids": [customer], "version": "x", "records": ["crm:Q2"]}
    for url in REVIEW_POSTS:
        answer = as_role(role).post(url, json=body)
        assert answer.status_code == 403, (role, url, answer.text)


def test_a_refused_key_gets_401_and_no_review_data(as_role: Role, steward_api) -> None:
    answer = steward_api.get("/v1/review", headers={"X-API-Key": "not-a-key"})
    assert answer.status_code == 401 and "items" not in answer.text


def test_the_counter_sees_no_decision_in_the_360_view_or_the_search(as_role: Role, customer_of: CustomerOf) -> None:
    berthier = customer_of("crm:B1")
    outcome = _decide(as_role, "same_person", [berthier], reason="Confirmé par pièce d'identité")
    decision_id = outcome["decision"]["decision_id"]
    for role in ("counter", "marketing"):
        view = as_role(role).get(f"/v1/customers/{berthier}")
        assert view.status_code == 200
        found = as_role(role).get("/v1/search", params={"q": "Arsène Berthier"})
        for text in (view.text, found.text):
            assert decision_id not in text and "pièce d'identité" not in text and "kept_apart" not in text


def test_the_export_holds_the_decisions_about_the_customer_and_erasure_removes_them(
    as_role: Role, customer_of: CustomerOf, opensearch: OpenSearch, world_names: IndexNames
) -> None:
    paris, call = customer_of("crm:Q1"), customer_of("callcenter:Q5")
    _decide(as_role, "different_people", [paris, call], reason="Pas la même personne : autre voix au téléphone")
    decisions = as_role("steward").get(f"/v1/review/customers/{paris}").json()["decisions"]
    assert [d["kind"] for d in decisions] == ["different_people"]
    exported = as_role("privacy_officer").get(f"/v1/customers/{paris}/export").json()
    assert {d["decision_id"] for d in exported["steward_decisions"]} >= {d["decision_id"] for d in decisions}
    assert all(d["reason"] for d in exported["steward_decisions"])
    records = [r["record_id"] for r in as_role("steward").get(f"/v1/review/customers/{paris}").json()["records"]]
    assert as_role("privacy_officer").delete(f"/v1/customers/{paris}").status_code == 200
    opensearch.indices.refresh(index=world_names.decisions)
    left = opensearch.search(
        index=world_names.decisions,
        body={"query": {"bool": {"should": [{"terms": {"customer_ids": [paris]}}, {"terms": {"records": records}}]}}},
    )
    assert left["hits"]["total"]["value"] == 0
