"""Next best actions against a real node: never a product already held, never again within the
cooldown after a refusal, never on a channel the customer refused; outcomes become events and
acceptance rates; a rules file with a mistake is refused with its line, the rules in force stay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.segments.store import refresh_profiles
from settings import Settings
from tests.segments.conftest import event, segments_on_sheet, store_events
from tests.segments.people import CALLS_REFUSED, HOLDER, LOYAL, NO_EMAIL, POST_REFUSED, POST_SILENT, REFUSER

Role = Callable[[str], Any]
CustomerOf = Callable[[dict[str, Any]], str]


def _six_visits(opensearch: OpenSearch, world: Settings, record: dict[str, Any], prefix: str) -> None:
    store_events(opensearch, world, [event(record, f"{prefix}{n}", days_ago=n * 15 + 1, shop="rennes") for n in range(6)])


def _proposed(as_role: Role, customer: str, role: str = "counter") -> dict[str, Any]:
    response = as_role(role).get(f"/v1/customers/{customer}/actions")
    assert response.status_code == 200, response.text
    return {action["action"]: action for action in response.json()["actions"]}


def test_a_product_already_held_is_never_proposed(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, as_role: Role, customer_of: CustomerOf
) -> None:
    holder, loyal = customer_of(HOLDER), customer_of(LOYAL)
    _six_visits(opensearch, world, HOLDER, "H")
    _six_visits(opensearch, world, LOYAL, "LV")
    store_events(opensearch, world, [event(HOLDER, "HP", days_ago=30, type="subscription", offer="carte_premium")])
    refresh_profiles(opensearch, world, world_names, [holder, loyal])
    assert all("client_fidele" in segments_on_sheet(opensearch, world, world_names, c) for c in (holder, loyal))
    assert "carte_premium" not in _proposed(as_role, holder)
    premium = _proposed(as_role, loyal)["carte_premium"]
    assert premium["reason"] == "Client fidèle (≥ 6 visites sur 12 mois) sans carte Premium"
    assert premium["label"] == "Proposer la carte Premium" and premium["channels"] == ["counter", "email"]
    sheet = as_role("counter").get(f"/v1/customers/{holder}").json()
    assert "carte_premium" not in [a["action"] for a in sheet["next_actions"]]


def test_a_refusal_holds_the_action_back_for_its_cooldown(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, as_role: Role, customer_of: CustomerOf
) -> None:
    refuser = customer_of(REFUSER)
    _six_visits(opensearch, world, REFUSER, "P")
    refresh_profiles(opensearch, world, world_names, [refuser])
    assert "carte_premium" in _proposed(as_role, refuser)
    without_reason = as_role("counter").post(f"/v1/customers/{refuser}/actions", json={"action": "carte_premium", "outcome": "refused"})
    assert without_reason.status_code == 422 and "reason" in without_reason.json()["detail"]
    refused = as_role("counter").post(
        f"/v1/customers/{refuser}/actions", json={"action": "carte_premium", "outcome": "refused", "reason": "Trop cher"}
    )
    assert refused.status_code == 201, refused.text
    assert "carte_premium" not in _proposed(as_role, refuser)
    # The cooldown is 90 days: a refusal 91 days ago no longer holds the action back, one 89 days ago does.
    loyal = customer_of(LOYAL)
    _six_visits(opensearch, world, LOYAL, "LW")
    old = event(LOYAL, "LR1", days_ago=91, type="proposal", action="carte_premium", outcome="refused", reason="Pas le moment")
    store_events(opensearch, world, [old])
    assert "carte_premium" in _proposed(as_role, loyal)
    recent = event(LOYAL, "LR2", days_ago=89, type="proposal", action="carte_premium", outcome="refused", reason="Pas le moment")
    store_events(opensearch, world, [recent])
    assert "carte_premium" not in _proposed(as_role, loyal)


def test_a_refused_channel_is_never_in_a_proposed_action(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, as_role: Role, customer_of: CustomerOf
) -> None:
    customer = customer_of(NO_EMAIL)
    store_events(opensearch, world, [event(NO_EMAIL, "NS", days_ago=2, type="subscription", offer="compte_courant")])
    refresh_profiles(opensearch, world, world_names, [customer])
    second = _proposed(as_role, customer)["second_produit"]
    assert second["channels"] == ["counter", "phone"]
    by_email = as_role("counter").post(
        f"/v1/customers/{customer}/actions", json={"action": "second_produit", "outcome": "proposed", "channel": "email"}
    )
    assert by_email.status_code == 422 and "email" in by_email.json()["detail"]


def test_outcomes_feed_acceptance_rates_per_action_shop_and_month(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, as_role: Role, customer_of: CustomerOf, cli: Callable[..., Any]
) -> None:
    customer = customer_of(NO_EMAIL)
    store_events(opensearch, world, [event(NO_EMAIL, "NS2", days_ago=2, type="subscription", offer="compte_courant")])
    refresh_profiles(opensearch, world, world_names, [customer])
    for outcome in ("proposed", "accepted"):
        answer = as_role("counter").post(f"/v1/customers/{customer}/actions", json={"action": "second_produit", "outcome": outcome})
        assert answer.status_code == 201, answer.text
    sheet = as_role("counter").get(f"/v1/customers/{customer}").json()
    assert sheet["customer"]  # the outcome went through the customer's events (search.events)
    rows = {row["action"]: row for row in as_role("marketing").get("/v1/actions/report", params={"by": "action"}).json()["rows"]}
    assert rows["second_produit"]["accepted"] >= 1 and rows["second_produit"]["proposed"] >= 1
    assert rows["carte_premium"]["refused"] >= 1
    answered = rows["carte_premium"]["accepted"] + rows["carte_premium"]["refused"]
    assert rows["carte_premium"]["acceptance_rate"] == round(rows["carte_premium"]["accepted"] / answered, 4)
    months = as_role("marketing").get("/v1/actions/report", params={"by": "month"}).json()["rows"]
    assert months and all(len(row["month"]) == 7 for row in months)
    shops = as_role("marketing").get("/v1/actions/report", params={"by": "shop"}).json()["rows"]
    assert any(row["shop"] == "—" for row in shops)  # the plain counter key names no shop
    assert as_role("counter").get("/v1/actions/report").status_code == 403
    printed = cli("report", "actions", "--by", "action")
    assert printed.exit_code == 0 and "second_produit" in printed.output


def test_a_rules_file_with_a_mistake_is_refused_with_its_line_and_the_rules_in_force_stay(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, as_role: Role, customer_of: CustomerOf
) -> None:
    path = Path(world.actions)  # type: ignore[arg-type]
    good = path.read_text(encoding="utf-8")
    customer = customer_of(NO_EMAIL)
    store_events(opensearch, world, [event(NO_EMAIL, "NS3", days_ago=2, type="subscription", offer="compte_courant")])
    refresh_profiles(opensearch, world, world_names, [customer])
    before = as_role("admin").get("/v1/actions/rules").json()
    assert before["refused"] is None and len(before["rules"]) == 4
    try:
        broken = good.replace("priority = 80", "priority = = 80")
        path.write_text(broken, encoding="utf-8")
        line = next(n for n, row in enumerate(broken.splitlines(), 1) if "priority = = 80" in row)
        status = as_role("admin").get("/v1/actions/rules").json()
        assert f"line {line}" in status["refused"]
        assert status["generation"] == before["generation"] and len(status["rules"]) == 4
        assert "second_produit" in _proposed(as_role, customer)
        unknown_field = good.replace('condition = "segments:mono_offre"', 'condition = "segmens:mono_offre"')
        path.write_text(unknown_field, encoding="utf-8")
        header = next(n for n, row in enumerate(unknown_field.splitlines(), 1) if row.startswith("[actions.second_produit]"))
        status = as_role("admin").get("/v1/actions/rules").json()
        assert f"line {header}" in status["refused"] and "segmens" in status["refused"]
        assert status["generation"] == before["generation"]
        reloaded = good.replace("priority = 80", "priority = 90")
        path.write_text(reloaded, encoding="utf-8")
        status = as_role("admin").get("/v1/actions/rules").json()
        assert status["refused"] is None and status["generation"] != before["generation"]
        assert {r["name"]: r for r in status["rules"]}["carte_premium"]["priority"] == 90
    finally:
        path.write_text(good, encoding="utf-8")


# Proposed to seniors by SMS or post: the channels each may be reached by are what consent leaves.
SENIOR_MAIL = """
[actions.courrier_senior]
label = "Envoyer la brochure senior"
reason = "Client senior"
condition = "segments:senior"
priority = 10
channels = ["sms", "post"]
cooldown_days = 30
"""


def test_an_action_is_proposed_by_a_channel_exactly_when_marketing_may_see_its_contact_point(world: Settings, as_role: Role) -> None:
    """Refusing calls hides the phone from marketing: no SMS proposed either; post is opt-out: a
    customer who said nothing about it may be written to, one who refused it may not."""
    path = Path(world.actions)  # type: ignore[arg-type]
    good = path.read_text(encoding="utf-8")
    try:
        path.write_text(good + SENIOR_MAIL, encoding="utf-8")
        assert as_role("admin").get("/v1/actions/rules").json()["refused"] is None
        channels = {}
        for record in (CALLS_REFUSED, POST_SILENT, POST_REFUSED):
            pushed = as_role("steward").post("/v1/records", json=record)
            assert pushed.status_code == 200, pushed.text
            proposed = _proposed(as_role, pushed.json()["customer_id"])
            channels[record["source_id"]] = proposed["courrier_senior"]["channels"]
        assert channels == {
            CALLS_REFUSED["source_id"]: ["post"],
            POST_SILENT["source_id"]: ["sms", "post"],
            POST_REFUSED["source_id"]: ["sms"],
        }
    finally:
        path.write_text(good, encoding="utf-8")
