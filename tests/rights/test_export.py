"""Access and portability: the privacy officer's export holds every record, change and audit entry
of the customer and nothing of anyone else, as JSON and as a French document."""

from __future__ import annotations

import json
from collections.abc import Callable

from opensearchpy import OpenSearch
from typer.testing import CliRunner

from rcu.cli import app
from search.indices import IndexNames
from search.resolve.possible_store import relations_query
from settings import Settings
from tests.rights.conftest import customer_of
from tests.rights.people import BASTIEN, CAMILLE, NEIGHBOUR
from tests.stories import namesakes

RoleClient = Callable[[str], object]


def test_the_export_holds_every_record_change_and_audit_entry_of_the_customer_and_nothing_else(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    as_role("counter").get(f"/v1/customers/{camille}")
    as_role("callcenter").get("/v1/search", params={"q": "garnier camille"})
    as_role("counter").put(f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "profiling", "status": "refused"}]})
    answer = as_role("privacy_officer").get(f"/v1/customers/{camille}/export")
    assert answer.status_code == 200, answer.text
    export = answer.json()

    assert sorted(r["record_id"] for r in export["records"]) == ["crm:CG1", "ecommerce:CG2"]
    crm = next(r for r in export["records"] if r["source"] == "crm")
    assert crm["birth_date"] == "1988-04-12" and crm["phone"] == "+33677889900" and crm["raw"]["phone"] == "0677889900"
    assert export["customer"]["provenance"]["given_name"]["source"] in ("crm", "ecommerce")
    assert export["consents"]["decided"]["profiling"]["status"] == "refused"
    assert any(s["kind"] == "consent" and s["purpose"] == "profiling" for s in export["statements"])
    assert any(c["kind"] == "consent_changed" for c in export["changes"])
    looked = {(e["caller"], e["action"]) for e in export["audit"]}
    assert {("demo counter agent", "customer"), ("demo call center", "search"), ("demo counter agent", "consents")} <= looked
    assert all(e["customer_ids"] == [camille] for e in export["audit"])

    text = answer.text
    for other in (*BASTIEN, *NEIGHBOUR):
        for field in ("family_name", "email", "phone", "source_id"):
            if other.get(field):
                assert other[field] not in text, (field, other[field])


def test_the_export_reads_as_a_french_document_and_is_itself_audited(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    page = as_role("privacy_officer").get(f"/v1/customers/{camille}/export", params={"format": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for heading in ("Vos données personnelles", "Vos consentements", "Vos fiches dans nos systèmes", "Qui a consulté votre fiche"):
        assert heading in page.text
    assert CAMILLE[0]["email"] in page.text and "Prospection par e-mail" in page.text
    trail = as_role("admin").get("/v1/audit", params={"customer_id": camille}).json()["entries"]
    assert any(e["action"] == "export" and e["role"] == "privacy_officer" for e in trail)


def test_only_the_privacy_officer_and_the_admin_may_export(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    for role in ("counter", "callcenter", "marketing", "steward", "integrator"):
        assert as_role(role).get(f"/v1/customers/{camille}/export").status_code == 403
    assert as_role("privacy_officer").get("/v1/customers/CNOBODY/export").status_code == 404


def test_rcu_subject_export_writes_the_json_and_the_french_document_and_audits_the_operator(
    as_role: RoleClient, world: Settings, tmp_path, monkeypatch
) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    monkeypatch.setenv("RCU_INDEX_PREFIX", world.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", world.opensearch_url)
    from settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["subject", "export", camille, "--out", str(tmp_path / "camille.json")])
        document = CliRunner().invoke(app, ["subject", "export", camille, "--html", "--out", str(tmp_path / "camille.html")])
        missing = CliRunner().invoke(app, ["subject", "export", "CNOBODY"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "camille.json").read_text())["customer_id"] == camille
    assert document.exit_code == 0, document.output
    page = (tmp_path / "camille.html").read_text(encoding="utf-8")
    assert "Vos données personnelles" in page and "Vos consentements" in page and CAMILLE[0]["email"] in page
    assert missing.exit_code == 5
    trail = as_role("admin").get("/v1/audit", params={"customer_id": camille}).json()["entries"]
    assert any(e["action"] == "export" and e["role"] == "operator" and e["caller"].startswith("cli:") for e in trail)


def _push_namesakes(as_role: RoleClient) -> dict[str, str]:
    """Two people with one rare name and three records holding the name alone, pushed in real
    time: customer id per record id."""
    customer = {}
    for record in namesakes("Ysolde", "Marchetti", "PM"):
        answer = as_role("steward").post("/v1/records", json=record)
        assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
        customer[f"{record['source']}:{record['source_id']}"] = answer.json()["customer_id"]  # type: ignore[attr-defined]
    return customer


def test_the_export_holds_the_possible_matches_of_the_customer_and_nothing_of_the_other_side(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    customer = _push_namesakes(as_role)
    paris = customer["crm:PM1"]
    names = IndexNames(world.index_prefix)
    opensearch.indices.refresh(index=names.possible_matches)
    stored = [h["_source"] for h in opensearch.search(index=names.possible_matches, body=relations_query(paris, 100))["hits"]["hits"]]
    assert stored, "the namesakes' customers are possible matches of each other"

    export = as_role("privacy_officer").get(f"/v1/customers/{paris}/export").json()  # type: ignore[attr-defined]
    relations = export["possible_matches"]
    assert sorted((r["kind"], r["probability"]) for r in relations) == sorted((s["kind"], s["probability"]) for s in stored)
    mine = {r["record_id"] for r in export["records"]}
    assert all(r["your_records"] and set(r["your_records"]) <= mine and r["fields"] for r in relations)
    others = {c for s in stored for c in s["customer_ids"]} - {paris}
    other_records = {r for s in stored for r in s["records"]} - mine
    shown = json.dumps(relations)
    assert not any(other in shown for other in others | other_records)
    page = as_role("privacy_officer").get(f"/v1/customers/{paris}/export", params={"format": "html"}).text  # type: ignore[attr-defined]
    assert "Fiches qui pourraient aussi être les vôtres" in page and "crm:PM1" in page
    assert not any(other in page for other in others | other_records)
