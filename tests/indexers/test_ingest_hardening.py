"""No record can stop an ingest and no update is silently dropped (issue 15), against a real node:
values OpenSearch would refuse are rejected with their reason and their neighbours indexed, a
request the node refuses as a whole is split until its culprit stands alone, ties and undated
records follow the README's rules, and byte-order marks are encoding marks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from opensearchpy import OpenSearch

from analyzers.index_settings import records_index_body
from indexers.contract import RecordRejected, SourceRecord, parse_record
from indexers.ingest import Ingestion
from indexers.readers import ReaderError, SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames, ensure_records_index
from tests.conftest import Ingest, write_jsonl


def _person(source_id: str, **fields: Any) -> dict[str, Any]:
    return {"source": "crm", "source_id": source_id, "given_name": "Jean", "family_name": "Dupont", **fields}


def _deep(source_id: str, levels: int) -> str:
    """A record whose `note` nests `levels` objects deep (written by hand: serializers refuse it)."""
    return f'{{"source": "crm", "source_id": "{source_id}", "note": ' + '{"niveau": ' * levels + '"fond"' + "}" * levels + "}"


def _source(opensearch: OpenSearch, names: IndexNames, record_id: str) -> dict[str, Any]:
    return opensearch.get(index=names.records, id=record_id)["_source"]


def test_values_opensearch_would_refuse_are_rejected_and_their_neighbours_indexed(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames
) -> None:
    lines = [
        _person("before"),
        _person("pre-1970", updated_at="1969-07-21T02:56:00Z"),
        _person("€" * 200),  # 600 bytes once UTF-8 encoded: past OpenSearch's 512-byte ids
        _person("after"),
    ]
    summary, report = ingest(lines)
    reasons = {entry["line"]: entry["reason"] for entry in report if entry["kind"] == "rejected"}
    assert summary.outcomes["indexed"] == 2 and summary.rejected == 2
    assert reasons[2].startswith("updated_at:") and "1970" in reasons[2]
    assert reasons[3].startswith("source_id:") and "512 bytes" in reasons[3]
    assert opensearch.count(index=names.records)["count"] == 2


def test_a_bulk_the_node_refuses_as_a_whole_is_split_until_the_culprit_stands_alone(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever slips past the contract and makes the node refuse a whole request (here an id too
    # long for it, let through on purpose), the culprit is found and rejected, the rest indexed.
    def unchecked(payload: dict[str, Any], clock: object = None) -> SourceRecord:
        return SourceRecord.model_construct(**{**payload, "updated_at": datetime(2024, 1, 1, tzinfo=UTC)})

    monkeypatch.setattr("indexers.ingest.validate_record", unchecked)
    lines = [_person(f"ok-{n}") for n in range(40)]
    lines.insert(17, _person("x" * 600))
    summary, report = ingest(lines)
    (rejected,) = [entry for entry in report if entry["kind"] == "rejected"]
    assert rejected["line"] == 18 and "too long" in rejected["reason"]
    assert summary.outcomes["indexed"] == 40 and summary.rejected == 1
    assert opensearch.count(index=names.records)["count"] == 40


def test_deep_nesting_and_dates_out_of_range_are_rejects_not_tracebacks(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    lines = [
        _person("good-1"),
        _deep("deep-300", 300),
        _deep("deep-20", 20),
        _person("year-1", updated_at="0001-01-01T00:00:00+01:00"),
        _person("year-9999", updated_at="9999-12-31T23:59:59-01:00"),
        _person("good-2"),
    ]
    summary, report = ingest(lines)
    reasons = {entry["line"]: entry["reason"] for entry in report if entry["kind"] == "rejected"}
    assert summary.outcomes["indexed"] == 2 and summary.rejected == 4 and summary.read == 6
    assert "nested" in reasons[2] and "nested" in reasons[3]
    assert reasons[4].startswith("updated_at:") and reasons[5].startswith("updated_at:")
    assert {hit["_id"] for hit in opensearch.search(index=names.records)["hits"]["hits"]} == {"crm:good-1", "crm:good-2"}


def test_an_updated_at_far_in_the_future_is_rejected_and_cannot_pin_a_record(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames
) -> None:
    ingest([_person("C-1", city="Lyon", updated_at="2024-01-01T00:00:00Z")])
    summary, report = ingest([{"source": "crm", "source_id": "C-1", "deleted": True, "updated_at": "2999-01-01T00:00:00Z"}])
    assert summary.rejected == 1 and "future" in report[0]["reason"]
    summary, _ = ingest([_person("C-1", city="Nantes", updated_at="2025-01-01T00:00:00Z")])
    assert summary.outcomes["indexed"] == 1 and _source(opensearch, names, "crm:C-1")["city"] == "Nantes"


def test_a_change_with_the_same_updated_at_is_decided_by_content_whatever_the_order(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path
) -> None:
    at = "2024-06-01"  # a day-precision export: two changes in one day share it
    paris, lyon = _person("T-1", city="Paris", updated_at=at), _person("T-1", city="Lyon", updated_at=at)
    kept = []
    for n, order in enumerate(([paris, lyon], [lyon, paris])):
        names = IndexNames(f"{test_prefix}-tie-{n}")
        summaries = []
        for m, record in enumerate(order):
            with RejectsReport(tmp_path / f"report-{n}-{m}.jsonl") as report:
                files = SourceFiles.discover([write_jsonl(tmp_path / f"{n}-{m}.jsonl", [record])])
                summaries.append(Ingestion(opensearch, names, report).run(files))
        kept.append(_source(opensearch, names, "crm:T-1")["city"])
        assert [s.outcomes["indexed"] + s.outcomes["stale"] for s in summaries] == [1, 1]
    assert kept[0] == kept[1], "two copies with the same updated_at must converge on one, whatever the order"


def test_a_lost_tie_is_said_in_the_summary_and_the_report(ingest: Ingest) -> None:
    at = "2024-06-01T08:00:00Z"
    first, _ = ingest([_person("T-2", city="Paris", updated_at=at), _person("T-2", city="Lyon", updated_at=at)])
    assert first.outcomes["indexed"] + first.outcomes["stale"] == 2
    again, report = ingest([_person("T-2", city="Paris", updated_at=at), _person("T-2", city="Lyon", updated_at=at)])
    assert again.outcomes["unchanged"] == 1 and again.outcomes["stale"] == 1 and again.ties == 1
    (tie,) = [entry for entry in report if entry["kind"] == "tie"]
    assert tie["record_id"] == "crm:T-2" and "same updated_at" in tie["reason"]


def test_a_deletion_with_the_same_updated_at_wins_and_is_not_unchanged(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    at = "2024-03-01T10:00:00Z"
    ingest([_person("D-1", updated_at=at)])
    summary, _ = ingest([{"source": "crm", "source_id": "D-1", "deleted": True, "updated_at": at}])
    assert summary.outcomes["deleted"] == 1
    assert _source(opensearch, names, "crm:D-1")["deleted"] is True
    summary, _ = ingest([_person("D-1", updated_at=at)])
    assert summary.outcomes["stale"] == 1 and _source(opensearch, names, "crm:D-1")["deleted"] is True


def test_an_undated_record_is_replaced_by_a_later_undated_copy_and_can_be_deleted(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames
) -> None:
    ingest([_person("U-1", city="Paris")])
    summary, _ = ingest([_person("U-1", city="Lyon")])
    assert summary.outcomes["indexed"] == 1 and _source(opensearch, names, "crm:U-1")["city"] == "Lyon"
    summary, _ = ingest([_person("U-1", city="Lyon")])
    assert summary.outcomes["unchanged"] == 1
    summary, _ = ingest([_person("U-1", city="Paris"), _person("U-1", city="Nice")])  # the later line wins
    assert _source(opensearch, names, "crm:U-1")["city"] == "Nice"
    summary, _ = ingest([{"source": "crm", "source_id": "U-1", "deleted": True}])
    assert summary.outcomes["deleted"] == 1 and _source(opensearch, names, "crm:U-1")["deleted"] is True
    summary, _ = ingest([_person("U-1", city="Lyon", updated_at="2024-01-01T00:00:00Z")])  # any dated copy replaces an undated one
    assert summary.outcomes["indexed"] == 1
    summary, _ = ingest([_person("U-1", city="Brest")])
    assert summary.outcomes["stale"] == 1 and _source(opensearch, names, "crm:U-1")["city"] == "Lyon"


def test_a_utf8_csv_with_a_byte_order_mark_is_read(ingest: Ingest, opensearch: OpenSearch, names: IndexNames, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes("\ufeffNUM;NOM;PRENOM\nB1;Lefèvre;Hélène\n".encode())
    (tmp_path / "export.mapping.toml").write_text(
        'source = "legacy"\ndelimiter = ";"\n[columns]\nNUM = "source_id"\nNOM = "family_name"\nPRENOM = "given_name"\n'
    )
    summary, report = ingest(export)
    assert summary.outcomes["indexed"] == 1 and report == []
    assert _source(opensearch, names, "legacy:B1")["given_name"] == "Hélène"


def test_a_jsonl_file_beginning_with_a_byte_order_mark_keeps_its_first_record(ingest: Ingest, tmp_path: Path) -> None:
    source = tmp_path / "bom.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + b'{"source": "crm", "source_id": "BOM-1"}\n{"source": "crm", "source_id": "BOM-2"}\n')
    summary, report = ingest(source)
    assert summary.outcomes["indexed"] == 2 and report == []


def test_two_first_ingests_started_together_both_succeed(opensearch: OpenSearch, names: IndexNames) -> None:
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def first_ingest() -> None:
        barrier.wait()
        try:
            ensure_records_index(opensearch, names, records_index_body())
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            failures.append(error)

    threads = [threading.Thread(target=first_ingest) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert list(opensearch.indices.get_alias(name=names.records)) == [f"{names.records}-v1"]


def test_an_id_holding_a_nul_or_an_invisible_character_is_rejected_and_its_neighbours_indexed(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames
) -> None:
    # An id must stay exactly as its source wrote it, so it is refused rather than cleaned: "A1\u200b"
    # cleaned would become the id of another record.
    lines = [_person("ok-1"), _person("n\x00ul"), _person("A1\u200b"), _person("\u202e1A"), _person("ok-2")]
    summary, report = ingest(lines)
    reasons = {entry["line"]: entry["reason"] for entry in report if entry["kind"] == "rejected"}
    assert summary.outcomes["indexed"] == 2 and summary.rejected == 3
    assert reasons == {
        2: "source_id: holds an invisible or control character (U+0000)",
        3: "source_id: holds an invisible or control character (U+200B)",
        4: "source_id: holds an invisible or control character (U+202E)",
    }
    assert {hit["_id"] for hit in opensearch.search(index=names.records)["hits"]["hits"]} == {"crm:ok-1", "crm:ok-2"}


def test_a_name_is_indexed_as_it_shows_without_invisible_characters(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    summary, _ = ingest([_person("bidi", given_name="\u202eJean", family_name="Du\u0301\u0301\u0301\u0301pont\x00", city="Ly\u200bon")])
    assert summary.outcomes["indexed"] == 1
    stored = _source(opensearch, names, "crm:bidi")
    assert (stored["given_name"], stored["family_name"], stored["city"]) == ("Jean", "Dú\u0301\u0301pont", "Lyon")


def test_a_json_lines_file_ended_by_lone_carriage_returns_is_read_record_by_record(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames, tmp_path: Path
) -> None:
    # An old Mac export: every record was one "line", rejected together for "content after document".
    export = tmp_path / "mac.jsonl"
    export.write_bytes(b"\r".join(orjson.dumps(_person(f"mac-{n}")) for n in range(3)) + b"\r{broken\r" + orjson.dumps(_person("mac-3")))
    summary, report = ingest(export)
    assert summary.outcomes["indexed"] == 4 and summary.rejected == 1 and summary.read == 5
    assert [entry["line"] for entry in report if entry["kind"] == "rejected"] == [4]


def test_a_latin1_csv_read_as_utf8_or_split_on_the_wrong_delimiter_says_what_to_change(ingest: Ingest, tmp_path: Path) -> None:
    export = tmp_path / "legacy.csv"
    export.write_bytes("NUM;NOM\r\nL1;Lefèvre\r\nL2;Martin\r\n".encode("latin-1"))
    (tmp_path / "legacy.mapping.toml").write_text('source = "legacy"\ndelimiter = ";"\n[columns]\nNUM = "source_id"\nNOM = "family_name"\n')
    summary, report = ingest(export)
    assert summary.outcomes["indexed"] == 1 and summary.rejected == 1
    (rejected,) = [entry for entry in report if entry["kind"] == "rejected"]
    assert 'encoding = "latin-1"' in rejected["reason"]

    (tmp_path / "legacy.mapping.toml").write_text('source = "legacy"\n[columns]\nNUM = "source_id"\nNOM = "family_name"\n')
    with pytest.raises(ReaderError, match=r"delimiter ','.*'NUM;NOM'"):
        ingest(export)


@pytest.mark.parametrize(
    ("line", "said"), [(b"null", "null"), (b"[1, 2]", "an array"), (b'"Dupont"', "a string"), (b"42", "a number"), (b"true", "a boolean")]
)
def test_a_line_that_is_no_json_object_is_named_in_json_words(line: bytes, said: str) -> None:
    # "not NoneType" spoke Python to an integrator writing JSON.
    with pytest.raises(RecordRejected, match=f"a record must be a JSON object, not {said}$"):
        parse_record(line)
