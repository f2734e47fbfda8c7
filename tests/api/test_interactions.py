"""The 360 view's interactions through the API: events pushed one at a time, the timeline newest
first and paged, offers held and figures — each role seeing only what the policy lets it, every
view audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_lookup import customer_holding

RoleClient = Callable[[str], TestClient]
NOW = datetime.now(UTC)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


HELENE_EVENTS: list[dict[str, Any]] = [
    {"source": "caisse_lyon2", "event_id": "L1", "at": _at(3), "type": "purchase", "loyalty_card": "2901234567890", "amount": 42.5,
     "products": ["café"], "shop": "lyon2"},
    {"source": "ecommerce", "event_id": "W1", "at": _at(10), "type": "web_order", "record": "ecommerce:H2", "amount": 80},
    {"source": "callcenter", "event_id": "C1", "at": _at(1), "type": "call", "record": "callcenter:H3", "motif": "retard de livraison"},
    {"source": "ecommerce", "event_id": "S1", "at": _at(60), "type": "subscription", "record": "ecommerce:H2", "offer": "livraison illimitée"},
    {"source": "caisse_lyon2", "event_id": "V1", "at": _at(5), "type": "visit", "loyalty_card": "2901234567890", "shop": "lyon2"},
]  # fmt: skip


@pytest.fixture(scope="module")
def helene(as_role: RoleClient) -> str:
    for event in HELENE_EVENTS:
        answer = as_role("integrator").post("/v1/events", json=event)
        assert answer.status_code == 200, answer.text
    return customer_holding(as_role, "crm:H1", "Lefèvre Hélène")


def test_a_pushed_event_names_its_record_and_customer_and_the_same_event_again_changes_nothing(as_role: RoleClient, helene: str) -> None:
    answer = as_role("integrator").post("/v1/events", json=HELENE_EVENTS[0]).json()
    assert answer == {"event_key": "caisse_lyon2:L1", "outcome": "unchanged", "record_id": "loyalty_lyon2:H4", "customer_id": helene}


@pytest.mark.parametrize(
    ("role", "event", "status", "said"),
    [
        ("integrator", {**HELENE_EVENTS[1], "source": "crm"}, 403, "may not write events of the source 'crm'"),
        ("integrator", {**HELENE_EVENTS[1], "amount": None}, 422, "amount"),
        ("integrator", {**HELENE_EVENTS[1], "amount": 81}, 409, "already recorded with other content"),
        ("integrator", {**HELENE_EVENTS[1], "event_id": "W2", "record": None, "email": "personne@example.fr"}, 422, "no record holds"),
        ("counter", HELENE_EVENTS[1], 403, "may not use events"),
    ],
)
def test_a_refused_event_says_why(as_role: RoleClient, helene: str, role: str, event: dict[str, Any], status: int, said: str) -> None:
    answer = as_role(role).post("/v1/events", json={k: v for k, v in event.items() if v is not None})
    assert answer.status_code == status and said in answer.json()["detail"]


def test_the_counter_sees_the_timeline_across_systems_newest_first_with_offers_held_and_figures(as_role: RoleClient, helene: str) -> None:
    view = as_role("counter").get(f"/v1/customers/{helene}").json()
    events = view["interactions"]["events"]
    assert [e["event_key"] for e in events] == ["callcenter:C1", "caisse_lyon2:L1", "caisse_lyon2:V1", "ecommerce:W1", "ecommerce:S1"]
    assert {e["record_id"] for e in events} == {"loyalty_lyon2:H4", "ecommerce:H2", "callcenter:H3"}
    assert all("attributes" not in e for e in events)  # a call's free text is for roles reading attributes
    assert [h["offer"] for h in view["holdings"] if h["held"]] == ["livraison illimitée"]
    figures = view["figures"]
    assert (figures["visits_12m"], figures["spend_12m"], figures["shops"]) == (2, 122.5, ["lyon2"])
    assert figures["channels"] == ["phone", "shop", "web"] and figures["last_seen"].startswith(_at(1)[:16])


def test_the_call_center_reads_an_events_attributes(as_role: RoleClient, helene: str) -> None:
    events = as_role("callcenter").get(f"/v1/customers/{helene}").json()["interactions"]["events"]
    assert events[0]["attributes"] == {"motif": "retard de livraison"}


def test_the_timeline_pages_newest_first_without_repeating_or_skipping_an_event(as_role: RoleClient, helene: str) -> None:
    whole = [e["event_key"] for e in as_role("steward").get(f"/v1/customers/{helene}").json()["interactions"]["events"]]
    first = as_role("steward").get(f"/v1/customers/{helene}", params={"interactions": 2}).json()["interactions"]
    paged, cursor = [e["event_key"] for e in first["events"]], first["next"]
    while cursor:
        page = as_role("steward").get(f"/v1/customers/{helene}/interactions", params={"after": cursor, "size": 2}).json()
        paged += [e["event_key"] for e in page["events"]]
        cursor = page["next"]
    assert paged == whole and len(whole) == len(HELENE_EVENTS)
    bad = as_role("steward").get(f"/v1/customers/{helene}/interactions", params={"after": "bm90IGEgY3Vyc29y"})
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


def test_marketing_sees_the_figures_only_never_an_event(as_role: RoleClient, helene: str) -> None:
    view = as_role("marketing").get(f"/v1/customers/{helene}").json()
    assert view["interactions"] is None and view["holdings"] is None
    assert view["figures"]["visits_12m"] == 2
    assert "café" not in str(view) and "retard" not in str(view)
    assert as_role("marketing").get(f"/v1/customers/{helene}/interactions").status_code == 403


def test_every_look_at_the_timeline_is_audited(as_role: RoleClient, helene: str) -> None:
    as_role("counter").get(f"/v1/customers/{helene}/interactions", params={"size": 1})
    entries = as_role("admin").get("/v1/audit", params={"customer_id": helene}).json()["entries"]
    actions = {(e["action"], e["role"]) for e in entries}
    assert {("interactions", "counter"), ("customer", "counter"), ("event", "integrator")} <= actions


def test_marketing_sees_no_figures_of_a_customer_who_refused_profiling(as_role: RoleClient) -> None:
    marc = customer_holding(as_role, "crm:M1", "Lefèvre Marc")
    assert as_role("steward").post("/v1/events", json={**HELENE_EVENTS[1], "event_id": "M-W1", "record": "crm:M1"}).status_code == 200
    assert as_role("marketing").get(f"/v1/customers/{marc}").json()["figures"]["spend_12m"] == 80.0
    refused = {"statements": [{"purpose": "profiling", "status": "refused"}]}
    assert as_role("counter").put(f"/v1/customers/{marc}/consents", json=refused).status_code == 200
    assert as_role("marketing").get(f"/v1/customers/{marc}").json()["figures"] is None
    assert as_role("counter").get(f"/v1/customers/{marc}").json()["figures"]["spend_12m"] == 80.0  # a service use still sees them
