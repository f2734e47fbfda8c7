"""Every marketing read obeys each channel's consent: a refused channel's contact point (e-mails,
phones, the postal address) is gone from every route a marketing role reads a customer through —
look-up, 360 view with its records and what the sources sent, households — and the customer is not
found by it; restriction takes the customer off every marketing route (cards and actions too);
the counter and the call center still see everything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

RoleClient = Callable[[str], Any]
GRANTED = [
    {"purpose": p, "status": "granted", "at": "2025-06-01T09:00:00Z"}
    for p in ("marketing_email", "marketing_sms", "marketing_phone", "marketing_post")
]


def _person(given: str, family: str, n: int) -> dict[str, Any]:
    return {
        "source": "crm",
        "source_id": f"MK{n}",
        "given_name": given,
        "family_name": family,
        "birth_date": f"19{70 + n}-03-1{n}",
        "email": f"{given.lower()}.{family.lower()}@free.fr",
        "phone": f"06112233{40 + n}",
        "street": f"{10 + n} rue des Vignes",
        "postcode": f"3300{n}",
        "city": "Bordeaux",
        "updated_at": "2025-06-01T09:00:00Z",
        "consents": GRANTED,
    }


# Per purpose: a person of its own, what of hers its refusal hides, and a query finding her by it.
CHANNELS = {
    "marketing_post": (_person("Noemie", "Ferrandou", 1), ("rue des vignes", "33001", "bordeaux"), "33001"),
    "marketing_phone": (_person("Ophelie", "Castagnet", 2), ("611223342",), "0611223342"),
    "marketing_sms": (_person("Solene", "Bergeronnet", 3), ("611223343",), "0611223343"),
    "marketing_email": (_person("Maelle", "Duvignau", 4), ("maelle.duvignau",), "maelle.duvignau@free.fr"),
}


def _push(as_role: RoleClient, record: dict[str, Any]) -> str:
    answer = as_role("steward").post("/v1/records", json=record)
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["customer_id"])


def _reads(as_role: RoleClient, role: str, customer_id: str, queries: tuple[str, ...]) -> str:
    """Everything a role reads of the customer: the 360 view, and the look-ups finding her."""
    view = as_role(role).get(f"/v1/customers/{customer_id}")
    assert view.status_code == 200, view.text
    found = [as_role(role).get("/v1/search", params={"q": q}).text for q in queries]
    return "\n".join([view.text, *found]).lower()


@pytest.mark.parametrize("purpose", list(CHANNELS))
def test_a_refused_channel_hides_its_contact_point_from_every_marketing_read_and_not_from_the_counter(
    as_role: RoleClient, purpose: str
) -> None:
    record, values, by_it = CHANNELS[purpose]
    customer_id = _push(as_role, record)
    names = f"{record['given_name']} {record['family_name']}"
    before = _reads(as_role, "campaigns", customer_id, (names, by_it))
    assert all(value in before for value in values), purpose  # granted: the campaign reaches her
    assert customer_id in as_role("campaigns").get("/v1/search", params={"q": by_it}).text

    refused = as_role("callcenter").put(
        f"/v1/customers/{customer_id}/consents", json={"statements": [{"purpose": purpose, "status": "refused"}]}
    )
    assert refused.status_code == 200, refused.text

    after = _reads(as_role, "campaigns", customer_id, (names,))
    # Still a customer of the campaign's other channels, found by her names.
    assert customer_id in as_role("campaigns").get("/v1/search", params={"q": names}).text
    assert not [value for value in values if value in after], after
    # Not found by the refused contact point either: the answer would confirm it.
    assert customer_id not in as_role("campaigns").get("/v1/search", params={"q": by_it}).text
    if purpose == "marketing_post":  # the demo marketing role reads postcode and town only
        marketing = as_role("marketing").get(f"/v1/customers/{customer_id}").text.lower()
        assert "33001" not in marketing and "bordeaux" not in marketing
        assert customer_id not in as_role("marketing").get("/v1/search", params={"q": by_it}).text
    # Consent limits marketing, not service.
    service = as_role("steward").get(f"/v1/customers/{customer_id}").text.lower()
    assert all(value in service for value in values)


def test_restriction_takes_a_customer_off_cards_households_and_actions_for_marketing_not_for_the_counter(as_role: RoleClient) -> None:
    card = "2908642086420"
    elder = {**_person("Lucien", "Pradeilles", 5), "loyalty_card": card, "source": "loyalty_bordeaux"}
    younger = {**_person("Jeanne", "Pradeilles", 6), "street": elder["street"], "postcode": elder["postcode"]}
    lucien, jeanne = _push(as_role, elder), _push(as_role, younger)
    assert as_role("campaigns").get(f"/v1/cards/{card}").status_code == 200
    assert as_role("campaigns").get(f"/v1/customers/{lucien}/actions").status_code == 200
    assert lucien != jeanne and lucien in as_role("campaigns").get(f"/v1/customers/{jeanne}").text  # one household

    answer = as_role("privacy_officer").put(
        f"/v1/customers/{lucien}/consents", json={"statements": [{"purpose": "restriction", "status": "requested"}]}
    )
    assert answer.status_code == 200 and answer.json()["restricted"] is True

    scanned = as_role("campaigns").get(f"/v1/cards/{card}")
    assert scanned.status_code == 404, scanned.text
    assert as_role("campaigns").get(f"/v1/customers/{lucien}/actions").status_code == 404
    assert lucien not in as_role("campaigns").get(f"/v1/customers/{jeanne}").text
    # The counter still sees him everywhere.
    assert as_role("counter").get(f"/v1/cards/{card}").status_code == 200
    assert as_role("counter").get(f"/v1/customers/{lucien}/actions").status_code == 200
    assert lucien in as_role("counter").get(f"/v1/customers/{jeanne}").text


def test_a_town_typed_with_a_typo_among_the_names_never_confirms_an_address_refused_to_marketing(as_role: RoleClient) -> None:
    """ "dupont brets" reads Brest with a typo: a Dupont of Brest who refused post is not found by it
    (it would confirm her hidden town), one who did not still is, as with the town typed right."""
    refused_post = {
        **_person("Yvonne", "Dupont", 5),
        "source_id": "MK-BREST-1",
        "city": "Brest",
        "postcode": "29200",
        "consents": [*GRANTED[:3], {"purpose": "marketing_post", "status": "refused", "at": "2025-06-01T09:00:00Z"}],
    }
    reachable = {**_person("Maiwenn", "Dupont", 6), "source_id": "MK-BREST-2", "city": "Brest", "postcode": "29200"}
    hidden, seen = _push(as_role, refused_post), _push(as_role, reachable)
    for query in ("dupont brets", "dupont brest"):
        found = as_role("campaigns").get("/v1/search", params={"q": query, "limit": 50}).json()["results"]
        ids = [hit["customer_id"] for hit in found]
        assert seen in ids and hidden not in ids, query
    # The counter still finds both by the town typed with a typo.
    counter = as_role("counter").get("/v1/search", params={"q": "dupont brets", "limit": 50}).text
    assert hidden in counter and seen in counter
