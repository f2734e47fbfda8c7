"""Rectification: a steward's correction of a golden field is a source of its own (manual, who,
when, why) that survives every re-resolution until the steward accepts the sources' value again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import Settings, get_settings
from tests.rights.conftest import customer_of

RoleClient = Callable[[str], Any]


def test_a_rectification_survives_a_full_re_resolution_until_the_steward_accepts_the_sources(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    answer = as_role("steward").put(
        f"/v1/customers/{camille}/fields/family_name", json={"value": "GARNIER-LEROY", "reason": "Mariage, acte présenté au guichet"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["value"] == "Garnier-Leroy"

    resolve_all(opensearch, IndexNames(world.index_prefix), ResolutionConfig())  # `rcu resolve --full`

    view = as_role("counter").get(f"/v1/customers/{camille}").json()["customer"]
    assert view["family_name"] == "Garnier-Leroy"
    provenance = view["provenance"]["family_name"]
    assert provenance["source"] == "manual" and provenance["by"] == "demo data steward" and provenance["why"].startswith("Mariage")
    assert provenance["source_value"] == "Garnier"  # what the sources say, for the steward to compare
    assert as_role("counter").get("/v1/search", params={"q": "garnier-leroy camille"}).json()["results"][0]["customer_id"] == camille
    trail = as_role("admin").get("/v1/audit", params={"customer_id": camille}).json()["entries"]
    assert any(e["action"] == "rectification" and e["caller"] == "demo data steward" for e in trail)

    accepted = as_role("steward").delete(f"/v1/customers/{camille}/fields/family_name")
    assert accepted.status_code == 200 and accepted.json()["value"] == "Garnier"
    assert as_role("steward").delete(f"/v1/customers/{camille}/fields/family_name").status_code == 404


def test_a_rectification_is_refused_with_the_reason_for_a_bad_value_or_field_or_role(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    bad_date = as_role("steward").put(f"/v1/customers/{camille}/fields/birth_date", json={"value": "31/02/1988", "reason": "acte"})
    assert bad_date.status_code == 422 and "birth_date" in bad_date.json()["detail"]
    bad_field = as_role("steward").put(f"/v1/customers/{camille}/fields/emails", json={"value": "x@y.fr", "reason": "acte"})
    assert bad_field.status_code == 422 and "cannot be corrected" in bad_field.json()["detail"]
    assert (
        as_role("counter").put(f"/v1/customers/{camille}/fields/given_name", json={"value": "Camilla", "reason": "acte"}).status_code == 403
    )


def test_a_corrected_name_keeps_only_what_shows_and_an_invisible_one_is_refused(as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    answer = as_role("steward").put(f"/v1/customers/{camille}/fields/given_name", json={"value": "\u202eCami\x00lle", "reason": "saisie"})
    assert answer.status_code == 200 and answer.json()["value"] == "Camille", answer.text
    blank = as_role("steward").put(f"/v1/customers/{camille}/fields/given_name", json={"value": "\u200b\u202e", "reason": "saisie"})
    assert blank.status_code == 422 and blank.json()["detail"].startswith("given_name:"), blank.text


def test_a_rectification_survives_rcu_resolve_full_where_large_indices_are_partitioned(
    as_role: RoleClient, cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rcu resolve --full` as a 1M index runs it: spooled and resolved a partition at a time."""
    bastien = customer_of(as_role, "Bastien Rolland")
    answer = as_role("steward").put(
        f"/v1/customers/{bastien}/fields/family_name", json={"value": "Rolland-Morel", "reason": "Nom d'usage, courrier du client"}
    )
    assert answer.status_code == 200, answer.text
    partitioned = tmp_path / "resolution.toml"
    partitioned.write_text("[scale]\npartition_records = 40\n", encoding="utf-8")  # the world holds a few hundred records
    monkeypatch.setenv("RCU_RESOLUTION_CONFIG", str(partitioned))
    monkeypatch.setenv("RCU_RESOLVE_SPOOL_DIR", str(tmp_path))
    get_settings.cache_clear()

    result = cli("resolve", "--full")
    assert result.exit_code == 0, result.output
    assert "partitions=" in result.output  # the partitioned path ran

    view = as_role("counter").get(f"/v1/customers/{bastien}").json()["customer"]
    assert view["family_name"] == "Rolland-Morel"
    provenance = view["provenance"]["family_name"]
    assert provenance["source"] == "manual" and provenance["by"] == "demo data steward"
    assert as_role("steward").delete(f"/v1/customers/{bastien}/fields/family_name").json()["value"] == "Rolland"


# A person of her own, pushed by the test: nothing else in the world changes with her records.
YSALINE = {
    "source": "crm",
    "source_id": "YM1",
    "given_name": "Ysaline",
    "family_name": "Marchetti",
    "birth_date": "1991-06-23",
    "email": "ysaline.marchetti@orange.fr",
    "phone": "0611335577",
    "postcode": "06000",
    "city": "Nice",
}


def _given_name(as_role: RoleClient, customer_id: str) -> tuple[str, dict[str, Any]]:
    view = as_role("steward").get(f"/v1/customers/{customer_id}").json()["customer"]
    return view["given_name"], view["provenance"]["given_name"]


def test_a_rectification_survives_newer_source_values_by_push_file_and_incremental_run_until_the_steward_accepts_one(
    as_role: RoleClient, cli: Callable[..., Any], tmp_path: Path
) -> None:
    def now() -> str:
        return datetime.now(UTC).isoformat()

    pushed = as_role("steward").post("/v1/records", json={**YSALINE, "updated_at": "2025-05-01T09:00:00Z"})
    assert pushed.status_code in (200, 201), pushed.text
    ysaline = pushed.json()["customer_id"]
    corrected = as_role("steward").put(
        f"/v1/customers/{ysaline}/fields/given_name", json={"value": "Ysaline-Marie", "reason": "Acte de naissance"}
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["provenance"].get("pending") is None  # the sources say nothing newer than the correction

    # A newer value pushed in real time: the correction stays, the newer value waits for the steward.
    newer = as_role("steward").post("/v1/records", json={**YSALINE, "given_name": "Ysa", "updated_at": now()})
    assert newer.status_code in (200, 201) and newer.json()["customer_id"] == ysaline, newer.text
    value, provenance = _given_name(as_role, ysaline)
    assert value == "Ysaline-Marie" and provenance["source"] == "manual"
    assert "pending" in provenance, json.dumps(provenance) + newer.text
    assert provenance["pending"]["value"] == "Ysa" and provenance["pending"]["source"] == "crm"

    # A newer value from a file, then `rcu resolve --full`.
    lines = tmp_path / "crm.jsonl"
    lines.write_text(json.dumps({**YSALINE, "given_name": "Ysalina", "updated_at": now()}) + "\n", encoding="utf-8")
    assert cli("ingest", str(lines), "--rejects", str(tmp_path / "rejects.jsonl")).exit_code == 0
    full = cli("resolve", "--full")
    assert full.exit_code == 0, full.output
    value, provenance = _given_name(as_role, ysaline)
    assert value == "Ysaline-Marie" and provenance["pending"]["value"] == "Ysalina"

    # A newer value from a file, then an incremental `rcu resolve`.
    lines.write_text(json.dumps({**YSALINE, "given_name": "Ysaline Maria", "updated_at": now()}) + "\n", encoding="utf-8")
    assert cli("ingest", str(lines), "--rejects", str(tmp_path / "rejects.jsonl")).exit_code == 0
    incremental = cli("resolve")
    assert incremental.exit_code == 0, incremental.output
    value, provenance = _given_name(as_role, ysaline)
    assert value == "Ysaline-Marie" and provenance["pending"]["value"] == "Ysaline Maria"

    # The steward accepts the newer value: the source wins.
    accepted = as_role("steward").delete(f"/v1/customers/{ysaline}/fields/given_name")
    assert accepted.status_code == 200 and accepted.json()["value"] == "Ysaline Maria"
    value, provenance = _given_name(as_role, ysaline)
    assert value == "Ysaline Maria" and provenance["source"] == "crm"


def test_a_newer_value_pushed_for_a_record_updates_its_customer_whose_members_stay_the_same(as_role: RoleClient) -> None:
    record = {**YSALINE, "source_id": "YM2", "given_name": "Romane", "family_name": "Lestrade", "email": "romane.lestrade@sfr.fr"}
    record = {**record, "phone": "0622446688", "updated_at": "2025-05-01T09:00:00Z"}
    customer_id = as_role("steward").post("/v1/records", json=record).json()["customer_id"]
    newer = as_role("steward").post("/v1/records", json={**record, "phone": "0622446699", "updated_at": "2026-01-05T09:00:00Z"})
    assert newer.json()["customer_id"] == customer_id, newer.text
    view = as_role("steward").get(f"/v1/customers/{customer_id}").json()["customer"]
    assert "+33622446699" in view["phones"], view["phones"]
