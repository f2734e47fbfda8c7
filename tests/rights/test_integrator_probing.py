"""An integrator's key is bound to its own systems' sources: what POST /v1/events answers must not
tell it whether another system holds a card, an e-mail, a phone or a record id. An event naming
another source's data is refused the same way whether that data exists or not; its own sources'
records still take its events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.rights.test_erasure import LUCIEN

RoleClient = Callable[[str], Any]

HELD_BY_CRM = {
    **LUCIEN[0],
    "source": "crm",
    "source_id": "PRB1",
    "given_name": "Firmin",
    "family_name": "Lagrenouillère",
    "email": "firmin.lagrenouillere@free.fr",
    "phone": "0612771903",
}


def _event(number: int, **naming: str) -> dict[str, Any]:
    return {"source": "caisse_lyon2", "event_id": f"PRB-{number}", "at": "2026-11-20T10:00:00Z", "type": "visit", "shop": "lyon2", **naming}


def _answer(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("detail")


def test_an_integrator_learns_nothing_of_another_system_s_customers_from_an_event_s_answer(as_role: RoleClient) -> None:
    assert as_role("steward").post("/v1/records", json=HELD_BY_CRM).status_code == 200
    post = as_role("integrator").post
    pairs = [
        ({"email": HELD_BY_CRM["email"]}, {"email": "personne.inconnue@free.fr"}),
        ({"phone": HELD_BY_CRM["phone"]}, {"phone": "0612771999"}),
        ({"record": "crm:PRB1"}, {"record": "crm:PRB-NOBODY"}),
    ]
    for number, (held, unknown) in enumerate(pairs):
        answered, not_held = (
            _answer(post("/v1/events", json=_event(2 * number, **held))),
            _answer(post("/v1/events", json=_event(2 * number + 1, **unknown))),
        )
        assert answered == not_held, (held, answered, not_held)
        assert answered[0] == 422 and "prb1" not in answered[1].lower() and "lagrenouill" not in answered[1].lower()


def test_an_integrator_s_event_still_joins_its_own_system_s_record_and_a_steward_s_any(as_role: RoleClient) -> None:
    own = {**HELD_BY_CRM, "source": "ecommerce", "source_id": "PRB2", "email": "f.lagrenouillere@sfr.fr"}
    assert as_role("integrator").post("/v1/records", json=own).status_code == 200
    joined = as_role("integrator").post("/v1/events", json=_event(10, email=own["email"]))
    assert joined.status_code == 200 and joined.json()["record_id"] == "ecommerce:PRB2", joined.text
    assert as_role("steward").post("/v1/records", json=HELD_BY_CRM).status_code == 200
    by_steward = as_role("steward").post("/v1/events", json={**_event(11, email=HELD_BY_CRM["email"]), "source": "crm"})
    assert by_steward.status_code == 200 and by_steward.json()["record_id"] == "crm:PRB1", by_steward.text
