"""The look-up finds what agents actually type (issue 17), against the real node: first letters
misheard or swapped, a town or a département beside a name, a birth date or an e-mail the counter
may only verify, parts a role may not use said so, and the agent's shop's customers first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.policy import DEMO_KEYS, DEMO_SHOP_KEY

RoleClient = Callable[[str], object]
Search = Callable[..., dict]
JEAN_BIRTH_DATE = ("1975-03-02", "02/03/1975", "1975-3-2")


def _first_name(body: dict) -> str | None:
    return body["results"][0]["display_name"] if body["results"] else None


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Marine ePrret", "Marine Perret"),  # two letters swapped at the start
        ("Marine Prerret", "Marine Perret"),
        ("Roland Pasca-lRuiz", "Roland Pascal-Ruiz"),  # the hyphen typed one letter early
        ("Cabriel Morvan", "Gabriel Morvan"),  # first letters misheard
        ("Kuillaume Kerbrat", "Guillaume Kerbrat"),
        ("Phillipe Santos", "Filipe Santos"),
        ("Marine Oerret", "Marine Perret"),
    ],
)
def test_a_typo_on_the_first_letters_still_finds_the_customer_first(search: Search, q: str, expected: str) -> None:
    assert _first_name(search(q)) == expected


def test_a_first_letter_typo_does_not_flood_the_results(search: Search, as_role: RoleClient) -> None:
    # "Morvan" found through its last letters: only names ending the same way come with it.
    body = search("Cabriel Morvan")
    assert all("Morvan" in (hit["display_name"] or "") or "Gabriel" in (hit["display_name"] or "") for hit in body["results"])


@pytest.mark.parametrize("q", ["07 20 65 09 81", "0720650981", "+33 7 20 65 09 81", "07.20.65.09.81"])
def test_a_phone_libphonenumber_does_not_accept_is_found_in_any_shape(search: Search, q: str) -> None:
    # 07 20…: a range not yet allocated, yet ten digits starting with 0 are a phone to every agent.
    body = search(q)
    assert [hit["display_name"] for hit in body["results"]] == ["Gwladys Kerhervé"]
    assert body["results"][0]["matched"] == ["phone"] and "phone" in body["kinds"]


@pytest.mark.parametrize(
    ("q", "name"),
    [
        ("06 93 28 29 87", "Maëva Payet"),  # her source wrote +262; typed nationally it reads +33
        ("+33 6 93 28 29 87", "Maëva Payet"),
        ("0692 45 67 89", "Teddy Hoarau"),  # a valid Réunion mobile, which his source wrote +33
        ("+262 692 45 67 89", "Teddy Hoarau"),
    ],
)
def test_an_overseas_line_is_found_whichever_country_code_the_source_or_the_agent_wrote(search: Search, q: str, name: str) -> None:
    body = search(q)
    assert [hit["display_name"] for hit in body["results"]] == [name]
    assert body["results"][0]["matched"] == ["phone"]
    # The call center reads phones whole: it sees the number found marked, as the source wrote it.
    (held,) = search(q, role="callcenter")["results"][0]["highlights"]["phones"]
    assert held in ("<mark>+262693282987</mark>", "<mark>+33692456789</mark>")


@pytest.mark.parametrize(("q", "city"), [("quintard bordeaux", "Bordeaux"), ("quintard lille", "Lille"), ("Bordeaux Quintard", "Bordeaux")])
def test_a_town_typed_with_a_name_puts_the_namesake_living_there_first(search: Search, as_role: RoleClient, q: str, city: str) -> None:
    body = search(q)
    assert body["results"][0]["display_name"] == "Solène Quintard" and body["results"][0]["customer"]["city"] == city
    assert "city" in body["results"][0]["matched"]


def test_a_name_that_is_also_a_town_still_finds_its_person(search: Search, as_role: RoleClient) -> None:
    body = search("noemie lyon")
    assert body["results"][0]["display_name"] == "Noémie Lyon" and body["results"][0]["customer"]["city"] == "Rennes"


def test_a_departement_typed_with_a_name_narrows_to_it(search: Search, as_role: RoleClient) -> None:
    body = search("quintard 59")
    assert [hit["customer"]["city"] for hit in body["results"]] == ["Lille"]
    assert "departement" in body["kinds"] and body["ignored"] == []


def test_a_counter_agent_verifying_a_birth_date_finds_the_customer_and_never_sees_the_full_date(
    search: Search, as_role: RoleClient
) -> None:
    for typed in ("Jean Dupont 02/03/1975", "dupont 1975-03-02"):
        body = search(typed)
        first = body["results"][0]
        assert first["display_name"] == "Jean Dupont" and body["ignored"] == []
        assert first["customer"]["birth_date"] == "1975"
        assert "birth_date" not in first["matched"] and "birth_date" not in first["highlights"]
        results = str(body["results"])
        assert not any(date in results for date in JEAN_BIRTH_DATE)
        view = as_role("counter").get(f"/v1/customers/{first['customer_id']}").text
        assert not any(date in view for date in JEAN_BIRTH_DATE)


def test_a_wrong_birth_date_finds_no_one_and_says_nothing_about_it(search: Search, as_role: RoleClient) -> None:
    body = search("Jean Dupont 03/03/1975")
    assert "Jean Dupont" not in [hit["display_name"] for hit in body["results"]]
    assert body["ignored"] == [] and "1975" not in str(body["results"])


def test_a_counter_agent_verifying_an_email_finds_the_customer_without_reading_it(search: Search, as_role: RoleClient) -> None:
    body = search("Jean Dupont jean.dupont@free.fr")
    first = body["results"][0]
    assert first["display_name"] == "Jean Dupont" and "email" not in first["matched"] and "emails" not in first["highlights"]
    assert "free.fr" not in str(body["results"])
    assert "Jean Dupont" not in [hit["display_name"] for hit in search("Jean Dupont jean.dupont@orange.fr")["results"]]


def test_a_verified_kind_alone_is_refused_with_a_readable_reason(search: Search, as_role: RoleClient) -> None:
    for q, kind in (("jean.dupont@free.fr", "email"), ("02/03/1975", "birth_date")):
        body = search(q)
        assert body["results"] == []
        assert [(part["kind"], part["code"]) for part in body["ignored"]] == [(kind, "verify_only")]
        assert "confirm" in body["ignored"][0]["reason"]


@pytest.mark.parametrize(("q", "kind"), [("Jean Dupont", "names"), ("06 11 22 33 44", "phone"), ("dupont 1975-03-02", "names")])
def test_a_role_that_may_neither_search_nor_verify_a_kind_is_told_so(search: Search, as_role: RoleClient, q: str, kind: str) -> None:
    body = search(q, role="marketing")
    refused = {part["kind"]: part for part in body["ignored"]}
    assert refused[kind]["code"] == "not_allowed" and "may neither search nor verify" in refused[kind]["reason"]
    assert "Dupont" not in str(body["results"]) and "Jean" not in str(body["results"])


def test_the_shops_own_cardholder_comes_first_among_namesakes(search: Search, as_role: RoleClient, api: TestClient) -> None:
    without = search("solene quintard")
    assert [hit["display_name"] for hit in without["results"][:3]] == ["Solène Quintard"] * 3
    assert without["results"][0]["customer"]["city"] != "Lyon"
    shop_key = {"X-API-Key": DEMO_SHOP_KEY}
    with_key = api.get("/v1/search", params={"q": "solene quintard"}, headers=shop_key).json()
    assert with_key["results"][0]["customer"]["city"] == "Lyon"
    assert {card["source"] for card in with_key["results"][0]["customer"]["loyalty_cards"]} == {"loyalty_lyon2"}
    with_header = search("solene quintard", **{"X-Shop": "lyon2"})
    assert with_header["results"][0]["customer_id"] == with_key["results"][0]["customer_id"]
    assert api.get("/v1/me", headers=shop_key).json()["shop"] == "lyon2"


def test_without_a_shop_named_nothing_changes(search: Search, as_role: RoleClient) -> None:
    for q in ("solene quintard", "dup jea", "lefevre"):
        plain = [hit["customer_id"] for hit in search(q)["results"]]
        # A shop no customer holds a card of ranks exactly as no shop at all.
        assert [hit["customer_id"] for hit in search(q, **{"X-Shop": "nowhere"})["results"]] == plain


def test_a_malformed_shop_header_is_a_422_with_a_reason(api: TestClient) -> None:
    response = api.get("/v1/search", params={"q": "dupont"}, headers={"X-API-Key": DEMO_KEYS["counter"], "X-Shop": "Lyon 2!"})
    assert response.status_code == 422 and "X-Shop" in response.json()["detail"]


@pytest.mark.parametrize(
    "typed",
    ["a.bertahud@laposte.net", "a.berthaud@lapsote.net", "a.berthaudd@laposte.net", "a.bertaud@laposte.net", ".aberthaud@laposte.net"],
)
def test_an_email_typed_with_one_typo_finds_its_customer_for_a_role_searching_emails(search: Search, typed: str) -> None:
    body = search(typed, role="callcenter")
    assert [hit["display_name"] for hit in body["results"]] == ["Aurélien Berthaud"]
    assert body["results"][0]["matched"] == ["email"]


def test_an_email_typed_exactly_finds_only_its_holder_not_its_look_alikes(search: Search) -> None:
    body = search("helene.lefevre@orange.fr", role="callcenter")
    assert {email for hit in body["results"] for email in hit["customer"]["emails"]} >= {"helene.lefevre@orange.fr"}
    assert all("helene.lefevre@orange.fr" in hit["customer"]["emails"] for hit in body["results"])


def test_a_counter_agent_verifying_an_email_with_a_typo_finds_no_one(search: Search) -> None:
    # Verifying is exact: a neighbourhood of e-mails would confirm someone the customer is not.
    body = search("Aurélien Berthaud a.bertahud@laposte.net")
    assert body["results"] == [] and body["ignored"] == []


def test_a_tokens_shop_claim_puts_that_shops_cardholder_first_and_a_malformed_one_is_refused(api_settings) -> None:
    # Issue 17 names three ways to say the agent's shop: a key, a JWT claim, a header. The claim had no test.
    import time

    import jwt
    from pydantic import SecretStr

    from api.app import create_app
    from api.policy import DEMO_POLICY, Policy

    secret = "s3cret-for-tests-only-32-bytes!!"
    settings = api_settings.model_copy(update={"jwt_secret": SecretStr(secret)})

    def bearer(**claims: object) -> dict[str, str]:
        token = jwt.encode({"sub": "agent-7", "rcu_role": "counter", "exp": int(time.time()) + 60, **claims}, secret)
        return {"Authorization": f"Bearer {token}"}

    with TestClient(create_app(settings, Policy.load(DEMO_POLICY))) as client:
        plain = client.get("/v1/search", params={"q": "solene quintard"}, headers=bearer()).json()["results"]
        assert plain[0]["customer"]["city"] != "Lyon"
        at_shop = client.get("/v1/search", params={"q": "solene quintard"}, headers=bearer(rcu_shop="lyon2")).json()["results"]
        assert at_shop[0]["customer"]["city"] == "Lyon"
        assert {card["source"] for card in at_shop[0]["customer"]["loyalty_cards"]} == {"loyalty_lyon2"}
        assert client.get("/v1/me", headers=bearer(rcu_shop="lyon2")).json()["shop"] == "lyon2"
        refused = client.get("/v1/search", params={"q": "solene quintard"}, headers=bearer(rcu_shop="Lyon 2!"))
        assert refused.status_code == 401 and "rcu_shop" in refused.json()["detail"]
