"""`rcu ingest` of event files beside records: recognised by the contract, stored once per event
id, every bad line rejected with its reason while its neighbours are stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from indexers.contract import RecordRejected
from indexers.event_contract import EventClock, validate_event
from rcu.cli import EXIT_REJECTED, app
from search.indices import IndexNames
from settings import Settings, get_settings
from tests.conftest import write_jsonl

RECENT = (datetime.now(UTC) - timedelta(days=3)).isoformat()


@pytest.fixture
def cli_prefix(opensearch_settings: Settings, test_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    prefix = f"{test_prefix}-evcli"
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_settings.opensearch_url)
    monkeypatch.setenv("RCU_INDEX_PREFIX", prefix)
    get_settings.cache_clear()
    yield prefix
    get_settings.cache_clear()


def _event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"source": "caisse_paris11", "event_id": event_id, "at": RECENT, "type": "visit", "record": "crm:E1", **fields}


def _stored(opensearch: OpenSearch, prefix: str) -> dict[str, dict[str, Any]]:
    names = IndexNames(prefix)
    opensearch.indices.refresh(index=names.events)
    hits = opensearch.search(index=names.events, body={"size": 100, "query": {"match_all": {}}})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def test_an_events_file_beside_records_is_ingested_and_every_bad_event_is_rejected_with_its_reason(
    tmp_path: Path, cli_prefix: str, opensearch: OpenSearch
) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    write_jsonl(folder / "crm.jsonl", [{"source": "crm", "source_id": "E1", "family_name": "Eymard", "loyalty_card": "2907777777777"}])
    write_jsonl(
        folder / "tills.jsonl",
        [
            _event("1", type="purchase", amount=12.5, products=["pain", "lait"], shop="paris11", ticket="T-88"),
            _event("2", record=None, loyalty_card="2907 7777 77777"),  # by card, as printed
            _event("3", type="purchase"),  # a purchase without its amount
            _event("4", at="2031-01-01T00:00:00Z"),  # years ahead
            _event("5", record=None),  # whose?
            b"{not json",
            _event("1", type="purchase", amount=12.5, products=["pain", "lait"], shop="paris11", ticket="T-88"),  # again
            _event("6", record=None, email="nobody@example.fr"),
        ],
    )
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--rejects", str(rejects)])
    assert result.exit_code == EXIT_REJECTED, result.output
    assert "indexed=1" in result.output
    assert "events: read=8 recorded=2 unchanged=1 rejected=5" in result.output
    reasons = {entry["line"]: entry["reason"] for entry in map(orjson.loads, rejects.read_bytes().splitlines())}
    assert "amount: required for a purchase" in reasons[3]
    assert "in the future" in reasons[4]
    assert "record: required" in reasons[5]
    assert "invalid JSON" in reasons[6]
    assert "no record holds this email" in reasons[8]
    stored = _stored(opensearch, cli_prefix)
    assert stored["caisse_paris11:2"]["record_id"] == "crm:E1" and stored["caisse_paris11:2"]["attached_by"] == "loyalty_card"
    assert stored["caisse_paris11:1"]["attributes"] == {"ticket": "T-88"} and stored["caisse_paris11:1"]["channel"] == "shop"
    # Sent again whole, the file changes nothing.
    again = CliRunner().invoke(app, ["ingest", str(folder / "tills.jsonl"), "--rejects", str(tmp_path / "again.jsonl")])
    assert "recorded=0 unchanged=3" in again.output


def test_a_csv_of_events_with_its_mapping_is_read_like_json_lines(tmp_path: Path, cli_prefix: str, opensearch: OpenSearch) -> None:
    (tmp_path / "appels.csv").write_text(
        f"ID;QUAND;TYPE;FICHE;MONTANT;PRODUITS\nA1;{RECENT};call;callcenter:77;;\nA2;{RECENT};web_order;ecommerce:9;19,90;livre|stylo\n",
        encoding="utf-8",
    )
    (tmp_path / "appels.mapping.toml").write_text(
        'source = "standard"\ncontract = "events"\ndelimiter = ";"\n'
        '[columns]\nID = "event_id"\nQUAND = "at"\nTYPE = "type"\nFICHE = "record"\nMONTANT = "amount"\nPRODUITS = "products"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "appels.csv"), "--rejects", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 0, result.output
    stored = _stored(opensearch, cli_prefix)
    assert stored["standard:A2"]["amount"] == 19.9 and stored["standard:A2"]["products"] == ["livre", "stylo"]
    assert stored["standard:A1"]["channel"] == "phone"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"type": "subscription"}, "offer: required for a subscription"),
        ({"type": "proposal", "action": "carte_premium"}, "outcome: required for a proposal"),
        ({"type": "visit", "outcome": "accepted"}, "only a proposal has an outcome"),
        ({"type": "appointment"}, "type: Input should be"),
        ({"amount": "douze"}, "amount: must be a number"),
        ({"at": "1990-01-01T00:00:00Z"}, "older than the 36 months of events kept"),
        ({"phone": "not a phone", "record": None}, "phone:"),
        ({"event_id": "e\x00"}, "event_id: holds an invisible or control character"),
        ({"event_id": "\u202e1"}, "event_id: holds an invisible or control character"),
        ({"record": "crm:D1\x00"}, "record: holds an invisible or control character"),
    ],
)
def test_the_contract_refuses_an_event_with_the_reason(payload: dict[str, Any], reason: str) -> None:
    base = {"source": "caisse", "event_id": "x", "at": RECENT, "type": "visit", "record": "crm:1"}
    with pytest.raises(RecordRejected, match=reason):
        validate_event({k: v for k, v in {**base, **payload}.items() if v is not None}, EventClock())


def test_an_event_by_phone_carries_its_e164_form_and_a_record_wins_over_an_identifier() -> None:
    by_phone = validate_event({"source": "s", "event_id": 1, "at": RECENT, "type": "call", "phone": "06 11 22 33 44"})
    assert by_phone.identifier == ("phone", "+33611223344") and by_phone.key == "s:1"
    both = validate_event({"source": "S", "event_id": "2", "at": RECENT, "type": "call", "phone": "0611223344", "record": "CRM:D1"})
    assert both.record_id == "crm:D1" and both.identifier is None


class _CountingLinks:
    """A client that counts the record ids asked of the record links (every other call passed on)."""

    def __init__(self, client: OpenSearch, links: str) -> None:
        self._client, self._links, self.asked = client, links, 0

    def mget(self, index: str, body: dict[str, Any], **kwargs: Any) -> Any:
        if index == self._links:
            self.asked += len(body["ids"])
        return self._client.mget(index=index, body=body, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_an_events_file_asks_each_record_s_customer_once_and_names_the_customers_it_touched(
    tmp_path: Path, opensearch: OpenSearch, test_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexers import event_ingest
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from search.resolve.store import ensure_resolution_indices

    names = IndexNames(f"{test_prefix}-evlinks")
    ensure_resolution_indices(opensearch, names)
    for record, customer in (("crm:L1", "C-L"), ("caisse:L2", "C-L"), ("crm:L3", "C-M")):
        opensearch.index(index=names.record_customers, id=record, body={"customer_id": customer})
    # Nine events in five batches of two: records L1 and L2 (one customer) again and again, L9 unresolved.
    records = ["crm:L1", "caisse:L2", "crm:L9"] * 3
    path = write_jsonl(tmp_path / "tills.jsonl", [_event(str(n), record=record) for n, record in enumerate(records)])
    monkeypatch.setattr(event_ingest, "BATCH", 2)
    client = _CountingLinks(opensearch, names.record_customers)
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        ingestion = event_ingest.EventIngestion(client, names, report)  # type: ignore[arg-type]
        summary = ingestion.run(SourceFiles.discover([path]).event_lines())
    assert summary.as_dict() == {"read": 9, "recorded": 9, "unchanged": 0, "rejected": 0}
    assert client.asked == 3  # each record once, not each of its events
    assert ingestion.touched == {"C-L"}  # C-M had no event; L9 belongs to no customer yet
