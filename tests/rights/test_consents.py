"""Consent: the most recent statement per purpose wins across sources and the API, the history is
kept and shown; marketing obeys it — restriction hides a customer from marketing, never from the
counter, and a refused channel never reaches a marketing role."""

from __future__ import annotations

from collections.abc import Callable

from tests.rights.conftest import customer_of
from tests.rights.people import BASTIEN, CAMILLE

RoleClient = Callable[[str], object]


def test_the_most_recent_consent_statement_wins_across_sources_and_history_is_kept(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    view = as_role("counter").get(f"/v1/customers/{camille}").json()["customer"]
    assert view["consents"]["marketing_email"]["status"] == "refused"  # ecommerce, 2026, over the CRM's 2025 grant
    assert view["consents"]["marketing_email"]["origin"] == "ecommerce"
    assert view["consents"]["marketing_sms"]["status"] == "granted"
    assert [(s["purpose"], s["status"], s["origin"]) for s in view["consent_history"]] == [
        ("marketing_email", "refused", "ecommerce"),
        ("marketing_email", "granted", "crm"),
        ("marketing_sms", "granted", "crm"),
    ]

    answer = as_role("callcenter").put(
        f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "marketing_email", "status": "granted"}]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["consents"]["marketing_email"]["status"] == "granted"
    view = as_role("counter").get(f"/v1/customers/{camille}").json()["customer"]
    assert view["consents"]["marketing_email"] == {**view["consents"]["marketing_email"], "status": "granted", "origin": "api"}
    assert len(view["consent_history"]) == 4 and view["consent_history"][0]["by"] == "demo call center"


def test_an_older_statement_through_the_api_does_not_override_a_newer_one(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    as_role("steward").put(
        f"/v1/customers/{camille}/consents",
        json={"statements": [{"purpose": "marketing_sms", "status": "refused", "at": "2020-01-01T00:00:00Z"}]},
    )
    view = as_role("counter").get(f"/v1/customers/{camille}").json()["customer"]
    assert view["consents"]["marketing_sms"]["status"] == "granted"
    assert any(s["at"].startswith("2020-01-01") for s in view["consent_history"])


def test_restriction_hides_a_customer_from_marketing_and_not_from_the_counter(as_role: RoleClient) -> None:
    bastien = customer_of(as_role, "Bastien Rolland")
    found = as_role("marketing").get("/v1/search", params={"q": "59800"}).json()["results"]
    assert bastien in {r["customer_id"] for r in found}
    assert as_role("marketing").get(f"/v1/customers/{bastien}").status_code == 200

    answer = as_role("privacy_officer").put(
        f"/v1/customers/{bastien}/consents", json={"statements": [{"purpose": "restriction", "status": "requested"}]}
    )
    assert answer.status_code == 200 and answer.json()["restricted"] is True

    for role in ("marketing", "campaigns"):
        found = as_role(role).get("/v1/search", params={"q": "59800"}).json()["results"]
        assert bastien not in {r["customer_id"] for r in found}
        assert as_role(role).get(f"/v1/customers/{bastien}").status_code == 404
    assert as_role("campaigns").get("/v1/search", params={"q": "Bastien Rolland"}).json()["results"] == []
    counter = as_role("counter").get("/v1/search", params={"q": "Bastien Rolland"}).json()["results"]
    assert counter and counter[0]["customer_id"] == bastien
    view = as_role("counter").get(f"/v1/customers/{bastien}").json()
    assert view["customer"]["restricted"] is True

    as_role("privacy_officer").put(
        f"/v1/customers/{bastien}/consents", json={"statements": [{"purpose": "restriction", "status": "lifted"}]}
    )
    assert as_role("marketing").get(f"/v1/customers/{bastien}").status_code == 200


def test_a_refused_channel_never_reaches_a_marketing_role(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    as_role("steward").put(f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "marketing_email", "status": "refused"}]})
    email = CAMILLE[0]["email"]
    search = as_role("campaigns").get("/v1/search", params={"q": "Camille Garnier"})
    view = as_role("campaigns").get(f"/v1/customers/{camille}")
    assert search.json()["results"] and view.status_code == 200
    for text in (search.text, view.text):
        assert email not in text
    assert "+33677889900" in view.text  # SMS granted: the phone is there
    # A customer who granted e-mail marketing keeps his address for the campaign.
    bastien_view = as_role("campaigns").get(f"/v1/customers/{customer_of(as_role, 'Bastien Rolland')}").text
    assert BASTIEN[0]["email"] in bastien_view
    # A service role still sees the refused address: consent limits marketing, not service.
    assert email in as_role("callcenter").get(f"/v1/customers/{camille}").text


def test_a_consent_statement_with_a_wrong_status_is_refused_with_the_reason(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    answer = as_role("steward").put(
        f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "restriction", "status": "granted"}]}
    )
    assert answer.status_code == 422 and "restriction takes requested or lifted" in answer.json()["detail"]
    assert (
        as_role("marketing")
        .put(f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "profiling", "status": "refused"}]})
        .status_code
        == 403
    )
    assert (
        as_role("steward")
        .put("/v1/customers/CNOBODY/consents", json={"statements": [{"purpose": "profiling", "status": "refused"}]})
        .status_code
        == 404
    )


def test_a_source_record_with_a_malformed_consent_is_rejected_with_the_reason_and_its_neighbours_indexed(ingest) -> None:
    good = {
        "source": "crm",
        "source_id": "OK1",
        "family_name": "Petit",
        "consents": [{"purpose": "profiling", "status": "refused", "at": "2026-01-01"}],
    }
    bad_status = {
        "source": "crm",
        "source_id": "KO1",
        "consents": [{"purpose": "marketing_sms", "status": "requested", "at": "2026-01-01"}],
    }
    bad_date = {"source": "crm", "source_id": "KO2", "consents": [{"purpose": "profiling", "status": "refused", "at": "hier"}]}
    summary, report = ingest([good, bad_status, bad_date])
    assert summary.outcomes["indexed"] == 1 and summary.rejected == 2
    reasons = [line["reason"] for line in report if line["kind"] == "rejected"]
    assert "marketing_sms takes granted or refused" in reasons[0]
    assert "not an ISO 8601 date-time" in reasons[1]


def test_a_consent_dated_in_the_future_is_refused_so_the_customer_can_always_take_it_back(as_role: RoleClient, ingest) -> None:
    # A statement dated 2999 would outvote every later one: a grant nobody could ever withdraw.
    camille = customer_of(as_role, "Camille Garnier")
    for at in ("2999-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        answer = as_role("counter").put(
            f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "marketing_post", "status": "granted", "at": at}]}
        )
        assert answer.status_code == 422, (at, answer.text)
        assert answer.json()["detail"].startswith("statements: ") and "at" in answer.json()["detail"]
    view = as_role("counter").get(f"/v1/customers/{camille}").json()["customer"]
    assert "marketing_post" not in view.get("consents", {})

    future = {"source": "crm", "source_id": "KO3", "consents": [{"purpose": "profiling", "status": "granted", "at": "2999-01-01"}]}
    far = {
        "source": "crm",
        "source_id": "KO4",
        "consents": [{"purpose": "profiling", "status": "granted", "at": "0001-01-01T00:00:00+01:00"}],
    }
    summary, report = ingest([future, far, {"source": "crm", "source_id": "OK2", "family_name": "Petit"}])
    assert summary.outcomes["indexed"] == 1 and summary.rejected == 2
    reasons = [line["reason"] for line in report if line["kind"] == "rejected"]
    assert "future" in reasons[0] and "consents.0" in reasons[0]
    assert "out of the range of dates" in reasons[1]
