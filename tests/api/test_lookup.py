"""What the counter and the integrators rely on: each kind of query finds the right customer
first, a card scan finds the customer across shops, the 360 view, pushing a record."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opensearchpy import OpenSearch

from analyzers.phonetic import french_phonetic_key
from search import highlights
from search.highlights import NAME_WORDS
from search.indices import IndexNames
from settings import Settings
from tests.stories import NEWCOMER, NEWCOMER_AT_THE_SHOP

RoleClient = Callable[[str], object]


def _first(as_role: RoleClient, q: str, role: str = "steward") -> dict:
    response = as_role(role).get("/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results, f"nothing found for {q!r}"
    return results[0]


def customer_holding(as_role: RoleClient, record: str, name: str = "Dupont Jean") -> str:
    """The customer of a record, found by its name as a steward would."""
    source, _, source_id = record.partition(":")
    for result in as_role("steward").get("/v1/search", params={"q": name, "limit": 50}).json()["results"]:
        if {"source": source, "source_id": source_id} in result["records"]:
            return result["customer_id"]
    raise AssertionError(f"{record} not found")


@pytest.mark.parametrize(
    "q", ["dup jea", "dupont j", "Jean Dupont", "Dupont Jean", "Dupond Jean", "Jean Dupon", "DUPONT", "jean dupont 33000"]
)
def test_partial_names_typos_and_either_order_find_jean_dupont_first(as_role: RoleClient, q: str) -> None:
    first = _first(as_role, q)
    assert first["display_name"] == "Jean Dupont"
    assert {"source": "crm", "source_id": "D1"} in first["records"]
    assert "names" in first["matched"]


@pytest.mark.parametrize("q", ["helene lefevre", "Hélène Lefèvre", "lefev hel", "Lefebvre Helene"])
def test_missing_accents_and_phonetic_spellings_find_helene(as_role: RoleClient, q: str) -> None:
    first = _first(as_role, q)
    assert {"source": "crm", "source_id": "H1"} in first["records"]


@pytest.mark.parametrize("q", ["06 11 22 33 44", "0611223344", "+33 6 11 22 33 44", "06.11.22.33.44"])
def test_a_phone_in_any_format_finds_its_customer(as_role: RoleClient, q: str) -> None:
    first = _first(as_role, q)
    assert first["display_name"] == "Jean Dupont" and first["matched"] == ["phone"]


def test_an_email_and_a_card_number_find_their_customer(as_role: RoleClient) -> None:
    assert _first(as_role, "Jean.Dupont@free.fr")["matched"] == ["email"]
    assert _first(as_role, "2905 5555 55555")["matched"] == ["card"]


@pytest.mark.parametrize(("q", "record"), [("Chevrolet Pascal", "W1"), ("Pascal Chevrolet", "W1"), ("Arana Agathe", "W3")])
def test_a_whole_given_and_family_name_comes_before_compound_names_holding_the_same_words(as_role: RoleClient, q: str, record: str) -> None:
    assert {"source": "crm", "source_id": record} in _first(as_role, q, role="counter")["records"]


def test_highlights_mark_what_matched(as_role: RoleClient) -> None:
    first = _first(as_role, "dup jea")
    fragments = " ".join(f for values in first["highlights"].values() for f in values)
    assert "<mark>" in fragments and "Dupont" in fragments


def test_a_card_scan_returns_the_customer_with_every_card_and_shop(as_role: RoleClient) -> None:
    response = as_role("counter").get("/v1/cards/2906666666666")
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Jean Dupont"
    assert set(body["shops"]) == {"loyalty_bordeaux", "loyalty_nantes"}
    assert {c["card"] for c in body["customer"]["loyalty_cards"]} == {"2905555555555", "2906666666666"}


def test_an_unknown_card_is_a_404_and_a_malformed_one_a_422(as_role: RoleClient) -> None:
    unknown = as_role("counter").get("/v1/cards/2900000000000")
    assert unknown.status_code == 404 and "2900000000000" in unknown.json()["detail"]
    malformed = as_role("counter").get("/v1/cards/%2B%2B")
    assert malformed.status_code == 422 and "card_number" in malformed.json()["detail"]


def test_the_360_view_has_provenance_records_timeline_and_household(as_role: RoleClient) -> None:
    helene = _first(as_role, "Hélène Lefèvre 17/05/1980")
    view = as_role("steward").get(f"/v1/customers/{helene['customer_id']}").json()
    assert view["customer"]["provenance"]["given_name"]["source"] == "crm"
    assert {(r["source"], r["source_id"]) for r in view["records"]} >= {("crm", "H1"), ("legacy", "H5")}
    assert [e["at"] for e in view["timeline"]] == sorted((e["at"] for e in view["timeline"]), reverse=True)
    household_names = {c.get("given_name") for c in view["household"]}
    assert "Marc" in household_names


def test_search_hits_carry_current_values_and_the_360_view_adds_provenance_and_addresses(as_role: RoleClient) -> None:
    hit = _first(as_role, "Hélène Lefèvre 17/05/1980")
    assert hit["customer"]["given_name"] == "Hélène" and hit["customer"]["city"]
    assert "provenance" not in hit["customer"] and "addresses" not in hit["customer"]
    view = as_role("steward").get(f"/v1/customers/{hit['customer_id']}").json()
    assert view["customer"]["provenance"]["given_name"]["source"] == "crm"
    assert {a["city"] for a in view["customer"]["addresses"]} >= {hit["customer"]["city"]}


def test_an_unknown_customer_is_a_404(as_role: RoleClient) -> None:
    response = as_role("steward").get("/v1/customers/C000000000000")
    assert response.status_code == 404 and "C000000000000" in response.json()["detail"]


def test_a_pushed_record_is_resolved_in_real_time_into_its_customer(as_role: RoleClient) -> None:
    jean = customer_holding(as_role, "crm:D1")
    record = {
        "source": "ecommerce",
        "source_id": "W-77",
        "updated_at": "2026-11-01T10:00:00Z",
        "given_name": "jean",
        "family_name": "dupont",
        "email": "jean.dupont@free.fr",
        "phone": "06-11-22-33-44",
        "birth_date": "02/03/1975",
    }
    response = as_role("integrator").post("/v1/records", json=record)
    assert response.status_code == 200, response.text
    assert response.json() == {"record_id": "ecommerce:W-77", "outcome": "indexed", "customer_id": jean, "warnings": []}
    again = as_role("integrator").post("/v1/records", json=record).json()
    assert again["outcome"] == "unchanged" and again["customer_id"] == jean


def test_a_pushed_record_with_a_bad_field_is_kept_with_a_warning(as_role: RoleClient) -> None:
    record = {"source": "ecommerce", "source_id": "W-78", "given_name": "Inès", "family_name": "Roussel", "birth_date": "31/02/1990"}
    body = as_role("integrator").post("/v1/records", json=record).json()
    assert body["outcome"] == "indexed" and body["customer_id"]
    assert body["warnings"][0]["field"] == "birth_date"


def test_an_invalid_record_is_a_422_naming_the_field(as_role: RoleClient) -> None:
    response = as_role("integrator").post("/v1/records", json={"source": "crm", "given_name": 12})
    assert response.status_code == 422
    assert "source_id" in response.json()["detail"] and "given_name" in response.json()["detail"]


def test_two_records_of_a_new_person_pushed_back_to_back_become_one_customer(as_role: RoleClient) -> None:
    first = NEWCOMER
    second = {**NEWCOMER_AT_THE_SHOP, "loyalty_card": "2907777777777"}
    a = as_role("integrator").post("/v1/records", json=first).json()
    b = as_role("integrator").post("/v1/records", json=second).json()
    assert a["customer_id"] and b["customer_id"] == a["customer_id"]


def test_a_pushed_record_is_in_its_customers_search_hit_and_360_view_as_soon_as_the_push_answers(as_role: RoleClient) -> None:
    for number in range(3):
        record = {
            "source": "ecommerce",
            "source_id": f"RYW-{number}",
            "given_name": "Ysaline",
            "family_name": f"Marchetti{'abc'[number]}",
            "birth_date": f"1{number}/04/1991",
            "email": f"ysaline.{number}@example.fr",
            "updated_at": "2026-11-20T10:00:00Z",
        }
        pushed = as_role("integrator").post("/v1/records", json=record).json()
        hits = as_role("steward").get("/v1/search", params={"q": f"ysaline marchetti{'abc'[number]}"}).json()["results"]
        assert hits and hits[0]["customer_id"] == pushed["customer_id"]
        assert {"source": "ecommerce", "source_id": f"RYW-{number}"} in hits[0]["records"]
        view = as_role("steward").get(f"/v1/customers/{pushed['customer_id']}").json()
        assert f"RYW-{number}" in [r["source_id"] for r in view["records"]]


def test_a_record_pushed_to_an_existing_customer_shows_in_its_search_hit_at_once(as_role: RoleClient) -> None:
    record = {
        "source": "ecommerce",
        "source_id": "RYW-JEAN",
        "given_name": "Jean",
        "family_name": "Dupont",
        "email": "jean.dupont@free.fr",
        "birth_date": "02/03/1975",
        "updated_at": "2026-11-02T10:00:00Z",
    }
    pushed = as_role("integrator").post("/v1/records", json=record).json()
    hit = as_role("steward").get("/v1/search", params={"q": "jean.dupont@free.fr"}).json()["results"][0]
    assert hit["customer_id"] == pushed["customer_id"] and {"source": "ecommerce", "source_id": "RYW-JEAN"} in hit["records"]


@pytest.mark.parametrize(("role", "q"), [("steward", "dupont"), ("marketing", "06 11 22 33 44 dupont"), ("counter", "lefev hel")])
def test_a_search_answer_has_exactly_the_documented_shape(as_role: RoleClient, role: str, q: str) -> None:
    # The route serializes plain data itself (no model on the way): the answer must still be a SearchResponse.
    from api.schemas import SearchResponse

    body = as_role(role).get("/v1/search", params={"q": q}).json()
    assert body["results"] or body["ignored"]
    assert SearchResponse.model_validate(body).model_dump() == body


def _helene(opensearch: OpenSearch, api_settings: Settings) -> dict:
    customers = IndexNames.for_settings(api_settings).customers
    (hit,) = opensearch.search(index=customers, body={"query": {"term": {"records": "crm:H1"}}, "size": 1})["hits"]["hits"]
    return hit


def test_a_same_sounding_name_is_highlighted_from_the_sounds_stored_with_the_customer(
    as_role: RoleClient, opensearch: OpenSearch, api_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The resolver stores each name word's foldings and sounds with the customer (`name_words`);
    # the look-up reads them back with the hit and sounds only what was typed.
    assert f"Lefèvre lefevre {french_phonetic_key('lefevre')}" in _helene(opensearch, api_settings)["_source"][NAME_WORDS]
    sounded: list[str] = []

    def counted(word: str) -> str:
        sounded.append(word)
        return french_phonetic_key(word)

    monkeypatch.setattr(highlights, "french_phonetic_key", counted)
    # "Elene" is no typo of "Hélène" the search forgives (the first letter differs): only its sound finds it.
    first = _first(as_role, "Lefebvre Elene", role="counter")
    assert {"source": "crm", "source_id": "H1"} in first["records"]
    assert first["highlights"]["given_name"] == ["<mark>Hélène</mark>"]
    assert first["highlights"]["family_name"] == ["<mark>Lefèvre</mark>"]
    assert "helene" not in sounded, sounded
    assert NAME_WORDS not in first["customer"], "what the highlights read is never shown"


def test_a_customer_written_before_the_stored_sounds_is_still_highlighted(
    as_role: RoleClient, opensearch: OpenSearch, api_settings: Settings
) -> None:
    # An index an older rcu wrote has no `name_words` until `rcu reindex` and a full run.
    hit = _helene(opensearch, api_settings)
    older = {k: v for k, v in hit["_source"].items() if k != NAME_WORDS}
    opensearch.index(index=hit["_index"], id=hit["_id"], body=older, refresh=True)
    try:
        first = _first(as_role, "Lefebvre Elene", role="counter")
        assert first["highlights"]["family_name"] == ["<mark>Lefèvre</mark>"]
        assert first["highlights"]["given_name"] == ["<mark>Hélène</mark>"]
    finally:
        opensearch.index(index=hit["_index"], id=hit["_id"], body=hit["_source"], refresh=True)
