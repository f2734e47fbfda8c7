"""Field-level access control: each role sees exactly its fields — in results, highlights, the 360
view and its source records — and cannot search through a field it may not read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RoleClient = Callable[[str], object]

# Jean Dupont's direct identifiers as stored, and as the sources wrote them.
PHONE = ("+33611223344", "0611223344", "06 11 22 33 44", "+33 6 11 22 33 44")
EMAIL = "jean.dupont@free.fr"
STREET = "rue des Lilas"


def _jean(as_role: RoleClient, role: str) -> tuple[dict, str]:
    """Jean Dupont's first search result and his 360 view's raw text, as `role` gets them."""
    found = as_role("steward").get("/v1/search", params={"q": "Jean Dupont"}).json()["results"][0]
    view = as_role(role).get(f"/v1/customers/{found['customer_id']}")
    assert view.status_code == 200
    return found, view.text


def test_counter_agent_sees_names_city_cards_and_a_masked_phone_only(as_role: RoleClient) -> None:
    search = as_role("counter").get("/v1/search", params={"q": "dup jea"})
    first = search.json()["results"][0]
    assert first["display_name"] == "Jean Dupont"
    assert first["customer"]["phones"] == ["06 •• •• •• 44"]
    assert first["customer"]["birth_date"] == "1975"
    assert first["customer"]["city"] == "Bordeaux" and first["customer"]["loyalty_cards"]
    for forbidden in ("emails", "street", "postcode"):
        assert forbidden not in first["customer"]
    _, view = _jean(as_role, "counter")
    for text in (search.text, view):
        assert not any(phone in text for phone in PHONE) and EMAIL not in text and STREET not in text and "1975-03-02" not in text


def test_counter_agent_never_gets_a_highlight_on_a_phone(as_role: RoleClient) -> None:
    first = as_role("counter").get("/v1/search", params={"q": "06 11 22 33 44"}).json()["results"][0]
    assert first["display_name"] == "Jean Dupont"
    assert first["highlights"] == {} and first["customer"]["phones"] == ["06 •• •• •• 44"]


def test_call_center_sees_full_phone_and_email(as_role: RoleClient) -> None:
    first = as_role("callcenter").get("/v1/search", params={"q": "dupont jean"}).json()["results"][0]
    assert "+33611223344" in first["customer"]["phones"] and EMAIL in first["customer"]["emails"]
    assert "street" not in first["customer"]


def test_marketing_sees_no_direct_identifier_anywhere(as_role: RoleClient) -> None:
    _found, view = _jean(as_role, "marketing")
    assert "Dupont" not in view and "DUPONT" not in view and "Jean" not in view
    assert not any(phone in view for phone in PHONE) and EMAIL not in view and STREET not in view and "2905555555555" not in view
    assert '"postcode":"33000"' in view.replace(" ", "")


@pytest.mark.parametrize("q", ["Jean Dupont", "dup jea", "06 11 22 33 44", "jean.dupont@free.fr", "2905555555555"])
def test_searching_through_a_forbidden_field_finds_nothing(as_role: RoleClient, q: str) -> None:
    response = as_role("marketing").get("/v1/search", params={"q": q})
    assert response.status_code == 200 and response.json()["results"] == []


def test_a_role_that_sees_only_the_birth_year_cannot_test_a_full_birth_date(as_role: RoleClient) -> None:
    right = as_role("marketing").get("/v1/search", params={"q": "dupont 33000 02/03/1975"}).json()
    wrong = as_role("marketing").get("/v1/search", params={"q": "dupont 33000 17/11/1961"}).json()
    assert "birth_date" in [part["kind"] for part in right["ignored"]]
    assert [hit["customer_id"] for hit in right["results"]] == [hit["customer_id"] for hit in wrong["results"]]


def test_counter_agent_cannot_search_by_email(as_role: RoleClient) -> None:
    assert as_role("counter").get("/v1/search", params={"q": EMAIL}).json()["results"] == []


@pytest.mark.parametrize(
    ("role", "method", "url"),
    [
        ("marketing", "get", "/v1/cards/2905555555555"),
        ("integrator", "get", "/v1/search?q=dupont"),
        ("counter", "get", "/v1/audit"),
        ("counter", "post", "/v1/records"),
    ],
)
def test_a_role_outside_its_endpoints_gets_a_403(as_role: RoleClient, role: str, method: str, url: str) -> None:
    response = getattr(as_role(role), method)(url, **({"json": {"source": "crm", "source_id": "x"}} if method == "post" else {}))
    assert response.status_code == 403 and role in response.json()["detail"]


def test_no_key_or_an_unknown_key_is_a_401(api) -> None:
    assert api.get("/v1/search", params={"q": "dupont"}).status_code == 401
    response = api.get("/v1/search", params={"q": "dupont"}, headers={"X-API-Key": "demo-counter-key-guess"})
    assert response.status_code == 401 and response.json()["detail"] == "Unknown API key."


def test_every_look_up_is_audited(as_role: RoleClient) -> None:
    scan = as_role("counter").get("/v1/cards/2906666666666").json()
    as_role("callcenter").get(f"/v1/customers/{scan['customer_id']}")
    entries = as_role("admin").get("/v1/audit", params={"customer_id": scan["customer_id"]}).json()["entries"]
    seen = {(e["caller"], e["role"], e["action"]) for e in entries}
    assert ("demo counter agent", "counter", "card") in seen and ("demo call center", "callcenter", "customer") in seen
    assert all(e["at"] for e in entries)


def test_a_bearer_jwt_names_the_role_and_an_expired_one_is_refused(api_settings) -> None:
    import time

    import jwt
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.policy import DEMO_POLICY, Policy

    settings = api_settings.model_copy(update={"jwt_secret": __import__("pydantic").SecretStr("s3cret-for-tests-only-32-bytes!!")})
    valid = jwt.encode({"sub": "agent-42", "rcu_role": "counter", "exp": int(time.time()) + 60}, "s3cret-for-tests-only-32-bytes!!")
    expired = jwt.encode({"sub": "agent-42", "rcu_role": "counter", "exp": int(time.time()) - 60}, "s3cret-for-tests-only-32-bytes!!")
    with TestClient(create_app(settings, Policy.load(DEMO_POLICY))) as client:
        first = client.get("/v1/search", params={"q": "dup jea"}, headers={"Authorization": f"Bearer {valid}"}).json()["results"][0]
        assert first["customer"]["phones"] == ["06 •• •• •• 44"]
        refused = client.get("/v1/search", params={"q": "dup jea"}, headers={"Authorization": f"Bearer {expired}"})
        assert refused.status_code == 401 and "expired" in refused.json()["detail"].lower()
