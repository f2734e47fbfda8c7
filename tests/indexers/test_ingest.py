"""`rcu ingest` against a real node: what integrators and agents rely on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from indexers.contract import MAX_FIELD_CHARS, MAX_RECORD_BYTES
from search.indices import IndexNames
from search.records import find_records_by_family_name
from tests.conftest import Ingest

PHONE_SHAPES = ["0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+33612345678", "+33 6 12 34 56 78"]


def _person(source_id: str, given: str, family: str, **fields: object) -> dict[str, object]:
    return {"source": "crm", "source_id": source_id, "given_name": given, "family_name": family, **fields}


def _found(opensearch: OpenSearch, names: IndexNames, family_name: str) -> list[str]:
    return [hit["record_id"] for hit in find_records_by_family_name(opensearch, names.records, family_name)]


@pytest.mark.parametrize(("sent", "asked"), [("HELENE", "Hélène"), ("l'Hôpital", "L'HOPITAL"), ("Lefèvre", "lefevre")])
def test_a_record_is_found_by_its_family_name_whatever_the_accents_and_case(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames, sent: str, asked: str
) -> None:
    # The counter's forgiving look-up (prefixes, phonetics, typos) searches customers: tests/api/test_lookup.py.
    summary, _ = ingest([_person("1", "Anne", sent), _person("2", "Marc", "Durand")])
    assert summary.outcomes["indexed"] == 2
    assert _found(opensearch, names, asked) == ["crm:1"]


def test_every_phone_shape_is_indexed_as_one_e164(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    records = [_person(str(i), "Jean", "Dupont", phone=shape) for i, shape in enumerate(PHONE_SHAPES)]
    summary, report = ingest(records)
    assert summary.outcomes["indexed"] == len(PHONE_SHAPES) and report == []
    hits = opensearch.count(index=names.records, body={"query": {"term": {"phone": "+33612345678"}}})
    assert hits["count"] == len(PHONE_SHAPES)
    raw = opensearch.get(index=names.records, id="crm:1")["_source"]["raw"]["phone"]
    assert raw == "06 12 34 56 78"


def test_reingesting_the_same_file_writes_nothing(ingest: Ingest, opensearch: OpenSearch, names: IndexNames, tmp_path: Path) -> None:
    records = [_person(str(i), "Jean", f"Dupont{i}", updated_at="2024-01-01T00:00:00Z") for i in range(20)]
    records.append(_person("undated", "Anne", "Durand"))
    first, _ = ingest(records)
    seq_before = opensearch.get(index=names.records, id="crm:3")["_seq_no"]
    second, _ = ingest(records)
    assert first.outcomes["indexed"] == 21
    assert second.outcomes["indexed"] == 0 and second.outcomes["unchanged"] == 21
    assert opensearch.get(index=names.records, id="crm:3")["_seq_no"] == seq_before


def test_an_older_update_never_overwrites_a_newer_one(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    newer = _person("7", "Jean", "Dupont", city="Lyon", updated_at="2025-06-01T12:00:00Z")
    older = _person("7", "Jean", "Dupont", city="Paris", updated_at="2023-01-01T12:00:00Z")
    ingest([newer])
    summary, _ = ingest([older])
    assert summary.outcomes["stale"] == 1
    assert opensearch.get(index=names.records, id="crm:7")["_source"]["city"] == "Lyon"
    newest = _person("7", "Jean", "Dupont", city="Nantes", updated_at="2026-01-01T12:00:00Z")
    summary, _ = ingest([newest])
    assert summary.outcomes["indexed"] == 1
    assert opensearch.get(index=names.records, id="crm:7")["_source"]["city"] == "Nantes"


def test_concurrent_writers_keep_the_newest_version(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    versions = [
        [_person(str(n), "Jean", "Dupont", city=f"City{month}", updated_at=f"2024-{month:02d}-01T00:00:00Z") for n in range(30)]
        for month in range(1, 9)
    ]
    ingest(versions[0])  # creates the index before the race
    threads = [threading.Thread(target=ingest, args=(batch,)) for batch in reversed(versions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cities = {opensearch.get(index=names.records, id=f"crm:{n}")["_source"]["city"] for n in range(30)}
    assert cities == {"City8"}


def test_a_deleted_record_leaves_search_and_an_older_copy_does_not_bring_it_back(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames
) -> None:
    ingest([_person("9", "Jean", "Valjean", updated_at="2024-01-01T00:00:00Z")])
    assert _found(opensearch, names, "Valjean") == ["crm:9"]
    summary, _ = ingest([{"source": "crm", "source_id": "9", "deleted": True, "updated_at": "2024-02-01T00:00:00Z"}])
    assert summary.outcomes["deleted"] == 1
    assert _found(opensearch, names, "Valjean") == []
    tombstone = opensearch.get(index=names.records, id="crm:9")["_source"]
    assert "family_name" not in tombstone and tombstone["deleted"] is True
    summary, _ = ingest([_person("9", "Jean", "Valjean", updated_at="2024-01-15T00:00:00Z")])
    assert summary.outcomes["stale"] == 1
    assert _found(opensearch, names, "Valjean") == []


def test_bad_records_are_rejected_with_a_reason_and_the_good_ones_indexed(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames
) -> None:
    lines = [
        _person("good-1", "Jean", "Dupont"),
        "{not json",
        b'{"source": "crm", "source_id": "latin", "family_name": "Lef\xe8vre"}',
        {"source": "crm", "given_name": "Sans", "family_name": "Identifiant"},
        {"source_id": "no-source", "family_name": "Perdu"},
        _person("wrong-type", 42, "Dupont"),
        _person("too-long", "Jean", "D" * (MAX_FIELD_CHARS + 1)),
        _person("huge", "Jean", "Dupont", note="x" * MAX_RECORD_BYTES),
        "[1, 2, 3]",
        {"source": "crm et co", "source_id": "1"},
        _person("good-2", "Anne", "Durand"),
    ]
    summary, report = ingest(lines)
    rejected = {entry["line"]: entry["reason"] for entry in report if entry["kind"] == "rejected"}
    assert summary.outcomes["indexed"] == 2 and summary.rejected == 9
    assert "invalid JSON" in rejected[2]
    assert "UTF-8" in rejected[3]
    assert "source_id" in rejected[4] and "required" in rejected[4]
    assert rejected[5].startswith("source:")
    assert "given_name" in rejected[6] and "string" in rejected[6]
    assert "family_name" in rejected[7] and str(MAX_FIELD_CHARS) in rejected[7]
    assert "oversized" in rejected[8]
    assert "JSON object" in rejected[9]
    assert rejected[10].startswith("source:")
    assert opensearch.count(index=names.records)["count"] == 2


def test_a_record_with_bad_fields_is_indexed_findable_and_reported(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    summary, report = ingest(
        [_person("bad-fields", "Jeanne", "Moreau", birth_date="31/02/1980", phone="12345", email="jeanne@", postcode="99999")]
    )
    assert summary.outcomes["indexed"] == 1 and summary.rejected == 0
    assert {entry["field"] for entry in report if entry["kind"] == "warning"} == {"birth_date", "phone", "email", "postcode"}
    assert _found(opensearch, names, "Moreau") == ["crm:bad-fields"]
    document = opensearch.get(index=names.records, id="crm:bad-fields")["_source"]
    assert "birth_date" not in document and "phone" not in document
    assert document["raw"]["birth_date"] == "31/02/1980" and document["raw"]["phone"] == "12345"
    assert set(document["quality"]["fields"]) == {"birth_date", "phone", "email", "postcode"}


def test_unknown_fields_are_kept_as_source_attributes(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    ingest([_person("note", "Jean", "Dupont", note="Rappeler le matin", segment="premium")])
    attributes = opensearch.get(index=names.records, id="crm:note")["_source"]["attributes"]
    assert attributes == {"note": "Rappeler le matin", "segment": "premium"}


def test_a_latin1_csv_export_is_read_through_its_mapping(ingest: Ingest, opensearch: OpenSearch, names: IndexNames, tmp_path: Path) -> None:
    export = tmp_path / "legacy.csv"
    export.write_bytes(
        "NUM;NOM;PRENOM;NAISS;TEL;VILLE;SUPPRIME\n"
        "A1;LEFÈVRE;Hélène;17/05/1980;06 12 34 56 78;Orléans;non\n"
        "A2;DURAND;Marc;01/02/1970;;Lyon;oui\n"
        "A3;TROP;DE;COLONNES;ICI;X;Y;Z\n".encode("latin-1")
    )
    (tmp_path / "legacy.mapping.toml").write_text(
        'source = "legacy"\ndelimiter = ";"\nencoding = "latin-1"\ndate_format = "%d/%m/%Y"\n'
        '[columns]\nNUM = "source_id"\nNOM = "family_name"\nPRENOM = "given_name"\nNAISS = "birth_date"\n'
        'TEL = "phone"\nVILLE = "city"\nSUPPRIME = "deleted"\n'
    )
    summary, report = ingest(export)
    assert summary.outcomes["indexed"] == 1 and summary.outcomes["deleted"] == 1 and summary.rejected == 1
    assert report[0]["line"] == 4 and "columns" in report[0]["reason"]
    helene = opensearch.get(index=names.records, id="legacy:A1")["_source"]
    assert (helene["family_name"], helene["given_name"], helene["city"]) == ("Lefèvre", "Hélène", "Orléans")
    assert helene["birth_date"] == "1980-05-17" and helene["phone"] == "+33612345678"
