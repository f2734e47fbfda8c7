"""Nothing of an erased customer is left in the steward's workbench: no possible match, decision or
review item names it or its records, whichever side of the pair it was; and the erasure's forced
merge really rewrites the segments, so no index it touched keeps a deleted document on disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.rights.erasure import expunge_deletes
from tests.steward.conftest import RoleClient
from tests.steward.test_decisions import _decide

Role = Callable[[str], RoleClient]
CustomerOf = Callable[[str], str]


def _documents_naming(client: OpenSearch, indices: list[str], values: list[str]) -> list[str]:
    client.indices.refresh(index=indices, ignore_unavailable=True)
    hits = scan(client, index=indices, query={"query": {"match_all": {}}}, ignore_unavailable=True)
    dumped = [json.dumps(hit) for hit in hits]
    return [d[:200] for d in dumped if any(f'"{value}"' in d for value in values)]


def _queue(as_role: Role) -> list[dict[str, Any]]:
    answer = as_role("steward").get("/v1/review", params={"limit": 50})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_an_erased_customer_is_in_no_possible_match_decision_or_review_item_on_either_side(
    as_role: Role, customer_of: CustomerOf, opensearch: OpenSearch, world_names: IndexNames
) -> None:
    # A possible match (the namesakes of Quesnoy) and a pair a steward kept apart (Vasseur).
    paris, call = customer_of("crm:Q1"), customer_of("callcenter:Q5")
    assert any({c["customer_id"] for c in item["customers"]} == {paris, call} for item in _queue(as_role))
    lille, bordeaux = customer_of("crm:V1"), customer_of("ecommerce:V2")
    _decide(as_role, "different_people", [lille, bordeaux], reason="Deux personnes : dates différentes au guichet")
    names = world_names
    stewards = [names.possible_matches, names.decisions, names.identity_conflicts]
    assert _documents_naming(opensearch, stewards, [call]) and _documents_naming(opensearch, stewards, [bordeaux])

    # Each erased as the second side of its pair.
    erased: list[str] = []
    for customer_id in (call, bordeaux):
        records = as_role("privacy_officer").get(f"/v1/customers/{customer_id}").json()["customer"]["records"]
        assert as_role("privacy_officer").delete(f"/v1/customers/{customer_id}").status_code == 200
        erased += [customer_id, *records]
    assert not _documents_naming(opensearch, stewards, erased)
    for item in _queue(as_role):
        shown = json.dumps(item)
        assert not [value for value in erased if f'"{value}"' in shown], item
    # The other sides stay.
    assert as_role("steward").get(f"/v1/customers/{paris}").status_code == 200
    assert as_role("steward").get(f"/v1/customers/{lille}").status_code == 200

    # The forced merge leaves no deleted document in any index the erasures touched.
    touched = _deleted_documents(opensearch, names)
    assert touched, "the erasures deleted documents"
    expunge_deletes(opensearch, names)
    left = _deleted_documents(opensearch, names)
    assert not {index: n for index, n in left.items() if index in touched}, left


def _deleted_documents(client: OpenSearch, names: IndexNames) -> dict[str, int]:
    """docs.deleted per index of the world, from _stats (primaries): what Lucene still keeps on disk."""
    stats = client.indices.stats(index=f"{names.prefix}-*", metric="docs")["indices"]
    return {index: s["primaries"]["docs"]["deleted"] for index, s in stats.items() if s["primaries"]["docs"]["deleted"]}
