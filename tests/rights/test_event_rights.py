"""The customer's rights over their interactions: the export holds their events, an erasure takes
them away (and refuses them if sent again), retention counts an event as activity and deletes
whole months past the events' retention period."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from rcu.cli import app
from search.events.store import ensure_month
from search.indices import IndexNames
from settings import Settings, get_settings
from tests.rights.conftest import SUPPRESSION_KEY, customer_of

RoleClient = Callable[[str], Any]
RECENT = (datetime.now(UTC) - timedelta(days=2)).isoformat()


def _visit(event_id: str, record: str) -> dict[str, Any]:
    return {"source": "caisse_paris11", "event_id": event_id, "at": RECENT, "type": "visit", "record": record, "shop": "paris11"}


@pytest.fixture
def cli(world: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    monkeypatch.setenv("RCU_INDEX_PREFIX", world.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", world.opensearch_url)
    monkeypatch.setenv("RCU_SUPPRESSION_KEY", SUPPRESSION_KEY)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


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
    old_month = ensure_month(opensearch, names, 2019, 3)

    dry = cli("retention", "--days", str(days))
    assert seen not in dry.output and "kept for an event in the period: 1" in dry.output
    assert "months of events past 36 months: 1" in dry.output
    applied = cli("retention", "--days", str(days), "--apply")
    assert applied.exit_code == 0, applied.output
    assert as_role("counter").get(f"/v1/customers/{seen}").status_code == 200
    assert as_role("counter").get(f"/v1/customers/{listed[1]}").status_code == 410
    assert not opensearch.indices.exists(index=old_month)
