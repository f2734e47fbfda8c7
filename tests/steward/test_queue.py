"""The review queue: what needs a person, most useful first, with filters; a customer whose records
disagree on an identity field is listed until a steward confirms it; a steward's merge reaches the
change feed like an automatic one."""

from __future__ import annotations

from collections.abc import Callable

from tests.steward.conftest import RoleClient
from tests.steward.test_decisions import _decide

Role = Callable[[str], RoleClient]
CustomerOf = Callable[[str], str]


def _queue(as_role: Role, **params: object) -> list[dict]:
    answer = as_role("steward").get("/v1/review", params={"limit": 50, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_the_queue_is_ordered_by_expected_value_and_shows_both_customers_side_by_side(as_role: Role) -> None:
    items = _queue(as_role, kind="possible-match")
    assert len(items) >= 2
    values = [item["expected_value"] for item in items]
    assert values == sorted(values, reverse=True)
    for item in items:
        assert len(item["customers"]) == 2 and item["version"] and item["explanation"]["fields"]
        assert {row["field"] for row in item["comparison"]} >= {"given_name", "family_name"}
        differing = [row for row in item["comparison"] if not row["same"]]
        assert all(row["values"][0] != row["values"][1] for row in differing)


def test_a_customer_whose_records_disagree_on_the_birth_date_is_listed_until_confirmed(as_role: Role, customer_of: CustomerOf) -> None:
    lemoine = customer_of("crm:L1")
    assert customer_of("ecommerce:L2") == lemoine
    conflicts = [i for i in _queue(as_role, kind="identity-conflict") if i["customers"][0]["customer_id"] == lemoine]
    assert len(conflicts) == 1 and conflicts[0]["fields"] == ["birth_date"]
    assert conflicts[0]["disagreements"][0]["values"] == {"crm:L1": "1970-05-12", "ecommerce:L2": "1970-05-21"}
    _decide(as_role, "same_person", [lemoine], reason="Date inversée à la saisie web")
    assert customer_of("ecommerce:L2") == customer_of("crm:L1") == lemoine
    assert not [i for i in _queue(as_role, kind="identity-conflict") if i["customers"][0]["customer_id"] == lemoine]


def test_filters_by_source_and_shop_keep_only_items_holding_them(as_role: Role) -> None:
    for item in _queue(as_role, source="callcenter"):
        assert any("callcenter" in c["customer"]["sources"] for c in item["customers"])
    for item in _queue(as_role, shop="paris11"):
        assert any("loyalty_paris11" in c["customer"]["sources"] for c in item["customers"])
    assert _queue(as_role, since="2100-01-01") == []
    assert as_role("steward").get("/v1/review", params={"kind": "everything"}).status_code == 422


def test_a_steward_merge_reaches_the_change_feed_like_an_automatic_one(as_role: Role, customer_of: CustomerOf) -> None:
    cursor = as_role("admin").get("/v1/changes", params={"since": 0, "limit": 1000}).json()
    while cursor["more"]:
        cursor = as_role("admin").get("/v1/changes", params={"since": cursor["cursor"], "limit": 1000}).json()
    left, right = customer_of("crm:Q1"), customer_of("callcenter:Q6")
    assert left != right
    _decide(as_role, "same_person", [left, right])
    survivor = customer_of("crm:Q1")
    gone = right if survivor == left else left
    changes = as_role("admin").get("/v1/changes", params={"since": cursor["cursor"]}).json()["changes"]
    merged = [c for c in changes if c["kind"] == "merged"]
    assert [(c["old_id"], c["new_id"]) for c in merged] == [(gone, survivor)]
    assert "reason" not in str(changes) and "steward" not in str(changes)


def test_an_impossible_date_filter_is_a_clear_422(as_role: Role) -> None:
    answer = as_role("steward").get("/v1/review", params={"since": "2024-13-45"})
    assert answer.status_code == 422 and "since: not a date" in answer.json()["detail"]


def test_a_record_joined_on_its_name_alone_makes_its_customer_an_item(opensearch, world_names) -> None:
    from datetime import UTC, datetime

    from search.resolve.config import ResolutionConfig
    from search.resolve.features import features_from_document
    from search.resolve.identity_conflicts import identity_conflict
    from search.resolve.pipeline import _weak_records
    from search.resolve.scoring import resolve_records
    from search.resolve.store import get_records, load_model

    # A threshold low enough that the call's name and town alone link it (the default keeps it apart here).
    documents = get_records(opensearch, world_names, ["callcenter:G2", "crm:G1"])
    records = [features_from_document(d) for d in documents]
    resolution = resolve_records(records, ResolutionConfig(match_threshold=0.9), load_model(opensearch, world_names))
    assert resolution.clustering.labels[0] == resolution.clustering.labels[1]
    weak = _weak_records(documents, resolution)
    assert weak == {"callcenter:G2", "crm:G1"}
    conflict = identity_conflict("C1", documents, datetime.now(UTC), weak)
    assert conflict is not None and conflict["fields"] == ["name_alone"]
    lemoine = get_records(opensearch, world_names, ["crm:L1", "ecommerce:L2"])
    assert identity_conflict("C2", lemoine, datetime.now(UTC), weak)["fields"] == ["birth_date"]  # type: ignore[index]
