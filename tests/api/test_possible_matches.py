"""Possible matches through the API: the 360 view lists the customers possibly the same person for
roles that read names, never for one that does not; homonyms pushed in real time never merge
through a record holding their name alone."""

from __future__ import annotations

from tests.api.test_lookup import RoleClient, customer_holding
from tests.stories import namesakes


def test_the_360_view_lists_possible_matches_for_roles_reading_names(as_role: RoleClient) -> None:
    paris = customer_holding(as_role, "crm:Q1", "Ombeline Quesnoy")
    call = customer_holding(as_role, "callcenter:Q5", "Ombeline Quesnoy")
    for role in ("counter", "callcenter", "steward"):
        view = as_role(role).get(f"/v1/customers/{paris}").json()
        possibly_same = {p["customer_id"]: p for p in view["possibly_same"]}
        assert (possibly_same[call]["display_name"], possibly_same[call]["sources"]) == ("Ombeline Quesnoy", ["callcenter"]), role
        assert 0.5 <= possibly_same[call]["probability"] <= 1 and possibly_same[call]["reason"]
        assert possibly_same[call]["kind"] in ("below-threshold", "ambiguous-weak-record")


def test_the_360_view_never_lists_possible_matches_for_a_role_without_names(as_role: RoleClient) -> None:
    paris = customer_holding(as_role, "crm:Q1", "Ombeline Quesnoy")
    response = as_role("marketing").get(f"/v1/customers/{paris}")
    assert response.status_code == 200 and response.json()["possibly_same"] == []
    assert "Quesnoy" not in response.text and "Ombeline" not in response.text


def test_homonyms_pushed_in_real_time_never_merge_through_a_name_only_record(as_role: RoleClient) -> None:
    records = namesakes("Ysoline", "Darricau", "Y")  # a name the API's model never saw: its agreement weighs most
    customer: dict[str, str] = {}
    for record in records[4:] + records[:4]:  # the calls and the card first, then the two people
        answer = as_role("steward").post("/v1/records", json=record)
        assert answer.status_code == 200, answer.text
        customer[f"{record['source']}:{record['source_id']}"] = answer.json()["customer_id"]
    paris = as_role("steward").get(f"/v1/customers/{customer['crm:Y1']}").json()
    marseille = as_role("steward").get(f"/v1/customers/{customer['ecommerce:Y3']}").json()
    held = {(r["source"], r["source_id"]) for r in paris["records"]}, {(r["source"], r["source_id"]) for r in marseille["records"]}
    assert held == ({("crm", "Y1"), ("loyalty_paris11", "Y2")}, {("ecommerce", "Y3"), ("loyalty_marseille", "Y4")})
    assert {p["customer_id"] for p in paris["possibly_same"]} & {p["customer_id"] for p in marseille["possibly_same"]}
