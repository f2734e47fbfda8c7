"""The customer's rights over their interactions: the export holds their events, an erasure takes
them away (and refuses them if sent again), retention counts an event as activity and deletes
whole periods past the events' retention period."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from search.events.model import Event
from search.events.store import EventWriter, ensure_period
from search.indices import IndexNames
from settings import Settings
from tests.rights.conftest import customer_of

RoleClient = Callable[[str], Any]
RECENT = (datetime.now(UTC) - timedelta(days=2)).isoformat()


def _visit(event_id: str, record: str) -> dict[str, Any]:
    return {"source": "caisse_paris11", "event_id": event_id, "at": RECENT, "type": "visit", "record": record, "shop": "paris11"}


def test_the_export_holds_the_customers_events_and_the_erasure_takes_them_away(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    gaspard = customer_of(as_role, "Gaspard Vernet")
    records = as_role("steward").get(f"/v1/customers/{gaspard}").json()["customer"]["records"]
    for number, record in enumerate(records):
        assert as_role("steward").post("/v1/events", json=_visit(f"G{number}", record)).status_code == 200
    exported = as_role("privacy_officer").get(f"/v1/customers/{gaspard}/export").json()
    assert sorted(e["event_key"] for e in exported["events"]) == sorted(f"caisse_paris11:G{n}" for n in range(len(records)))

    receipt = as_role("privacy_officer").delete(f"/v1/customers/{gaspard}").json()
    assert receipt["events"] == len(records)
    names = IndexNames(world.index_prefix)
    left = opensearch.count(index=names.events, body={"query": {"terms": {"record_id": records}}})["count"]
    assert left == 0
    again = as_role("steward").post("/v1/events", json=_visit("G-again", records[0]))
    assert again.status_code == 409 and "erased" in again.json()["detail"]
    assert as_role("steward").get(f"/v1/customers/{gaspard}/interactions").status_code == 410


def test_retention_keeps_a_customer_seen_recently_and_deletes_months_of_events_past_their_period(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, cli: Callable[..., Any]
) -> None:
    names = IndexNames(world.index_prefix)
    days = (datetime.now(UTC) - datetime(2025, 1, 1, tzinfo=UTC)).days
    listed = [line.split("\t")[0] for line in cli("retention", "--days", str(days)).output.splitlines() if "\tlast update " in line]
    assert listed
    seen = listed[0]  # no record update for the period, but a visit two days ago
    record = as_role("steward").get(f"/v1/customers/{seen}").json()["customer"]["records"][0]
    assert as_role("steward").post("/v1/events", json=_visit("R1", record)).status_code == 200
    old_year = ensure_period(opensearch, names, 2019, 3)
    # In the index straddling the cutoff (36 months of 31 days): one event past it, one within.
    cutoff = datetime.now(UTC) - timedelta(days=36 * 31)
    straddling = [
        Event("caisse_paris11", key, cutoff + timedelta(days=shift), "visit", record_id=record, shop="paris11")
        for key, shift in (("past", -2), ("kept", 2))
    ]
    EventWriter(opensearch, names).store(straddling, refresh=True)

    dry = cli("retention", "--days", str(days))
    assert seen not in dry.output and "kept for an event in the period: 1" in dry.output
    # 2019's index, and the past event's own when the cutoff falls in a year's first two days.
    assert re.search(r"events indices past 36 months: [12]\b", dry.output)
    applied = cli("retention", "--days", str(days), "--apply")
    assert applied.exit_code == 0, applied.output
    assert as_role("counter").get(f"/v1/customers/{seen}").status_code == 200
    assert as_role("counter").get(f"/v1/customers/{listed[1]}").status_code == 410
    assert not opensearch.indices.exists(index=old_year)
    left = {hit["_id"] for hit in opensearch.search(index=names.events, body={"size": 100})["hits"]["hits"]}
    assert "caisse_paris11:kept" in left and "caisse_paris11:past" not in left
