"""A long-running API must not keep customers' values in its caches: neither after the requests
that carried them (a push, a look-up, a 360 view, an event) nor after the customer is erased.
The caches are inspected in this very process (the API runs in it), not mocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.caches import caches_holding
from tests.rights.test_erasure import LUCIEN

RoleClient = Callable[[str], Any]

PERSON = {
    **LUCIEN[0],
    "source_id": "NC1",
    "given_name": "Séraphine",
    "family_name": "Pélissardière",
    "birth_date": "1958-03-14",
    "email": "seraphine.pelissardiere@wanadoo.fr",
    "phone": "06 12 09 38 58",
    "street": "12 rue des Vanneaux",
    "postcode": "29200",
    "city": "Brest",
}
# Each as some cache would have kept it: typed, folded, normalized, E.164, ISO.
TRACES = ("pelissardiere", "pélissardière", "seraphine.pelissardiere", "612093858", "1958-03-14", "14/03/1958", "vanneaux")


def _kept() -> dict[str, list[str]]:
    return {trace: holders for trace in TRACES if (holders := caches_holding(trace))}


def test_no_cache_keeps_a_customer_s_values_after_the_api_s_requests_nor_after_the_erasure(as_role: RoleClient) -> None:
    steward, counter = as_role("steward"), as_role("counter")
    pushed = steward.post("/v1/records", json=PERSON)
    assert pushed.status_code == 200, pushed.text
    customer = pushed.json()["customer_id"]
    again = steward.post("/v1/records", json={**PERSON, "source": "ecommerce", "birth_date": "14/03/1958", "phone": "+33612093858"})
    assert again.json()["customer_id"] == customer, again.text
    for q in ("Séraphine Pélissardière", "pelissardiere 14/03/1958", "06 12 09 38 58", PERSON["email"]):
        found = steward.get("/v1/search", params={"q": q}).json()["results"]
        assert [hit for hit in found if hit["customer_id"] == customer], q
    assert counter.get(f"/v1/customers/{customer}").status_code == 200
    event = {"source": "crm", "event_id": "NC-E1", "at": "2026-11-20T10:00:00Z", "type": "visit", "email": PERSON["email"]}
    assert steward.post("/v1/events", json=event).status_code == 200
    assert _kept() == {}

    assert as_role("privacy_officer").delete(f"/v1/customers/{customer}").status_code == 200
    assert _kept() == {}
