"""`rcu segments`' first run (and `--rebuild-profiles`) reads the events once for every customer
(search.events.scan) instead of one aggregation search per page of customers: the profiles it
writes must be those the per-customer path computes, figure for figure, and put every customer in
the segments percolating those profiles gives; a profile the live path writes meanwhile stays."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.events import Event, record_event
from search.events.scan import tally_events
from search.indices import IndexNames
from search.segments import store
from search.segments.conditions import definitions_in_force, percolate
from search.segments.membership import memberships
from search.segments.profiles import CUSTOMER_FIELDS
from search.segments.store import build_profiles, households, read_moment, recompute_all, refresh_profiles, write_all_profiles
from settings import Settings


def _stored_profiles(opensearch: OpenSearch, names: IndexNames) -> dict[str, dict[str, Any]]:
    opensearch.indices.refresh(index=names.profiles)
    return {hit["_id"]: hit["_source"] for hit in scan(opensearch, index=names.profiles, query={"query": {"match_all": {}}})}


def _events_of(customer: int, records: list[str], now: datetime) -> list[Event]:
    """Events that exercise every figure's edge on one customer's records: a visit and a purchase
    the same day in one shop on two records (one visit), a purchase just out of the year, an amount
    a scaled float rounds, an offer subscribed on one record and cancelled on another later, two
    statements on one offer within the same millisecond, calls and web orders on other channels."""
    first, second = records[0], records[1 % len(records)]
    day = (now - timedelta(days=3)).replace(hour=10, minute=customer)

    def made(number: int, at: datetime, record: str, **fields: Any) -> Event:
        return Event(
            **{"source": "caisse", "event_id": f"FR{customer}-{number}", "at": at, "type": "purchase", "record_id": record, **fields}
        )

    return [
        made(1, day, first, type="visit", shop="lyon2"),
        made(2, day + timedelta(minutes=20), second, amount=15.0, shop="lyon2"),
        made(3, now - timedelta(days=30 + customer), second, amount=12.345, shop="nantes"),
        made(4, now - timedelta(days=366), first, amount=99.99, shop="lille"),
        made(5, now - timedelta(days=364, hours=23), first, type="visit", shop="lille"),
        made(6, now - timedelta(days=40), first, type="web_order", amount=60.5),
        made(7, now - timedelta(days=50), first, type="call"),
        made(8, now - timedelta(days=200), first, type="subscription", offer="livret"),
        made(9, now - timedelta(days=20), second, type="cancellation", offer="livret"),
        made(10, now - timedelta(days=10, microseconds=100), first, type="subscription", offer="carte premium"),
        made(11, now - timedelta(days=10, microseconds=400), second, type="cancellation", offer="carte premium"),
        made(12, now - timedelta(days=5), second, type="subscription", offer="assurance habitation", channel="agence"),
    ]


def test_the_first_run_from_one_pass_over_the_events_writes_the_profiles_the_per_customer_path_computes(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames
) -> None:
    now = datetime.now(UTC)
    customers = [hit["_source"] for hit in scan(opensearch, index=world_names.customers, query={"_source": CUSTOMER_FIELDS})]
    several = [c for c in customers if len(c.get("records") or []) >= 2][:5]
    single = [c for c in customers if len(c.get("records") or []) == 1][:3]
    assert len(several) == 5 and len(single) == 3
    for n, customer in enumerate(several + single):
        for item in _events_of(n, sorted(customer["records"]), now):
            record_event(opensearch, world, item, names=world_names)
    opensearch.indices.refresh(index=world_names.events)

    recompute_all(opensearch, world, world_names, now)

    stored = _stored_profiles(opensearch, world_names)
    per_customer = {p["customer_id"]: p for p in build_profiles(opensearch, world, world_names, customers, now)}
    assert stored == per_customer
    shown = [stored[c["customer_id"]] for c in several]
    # The figures are not all empty: the comparison above covers visits, spend, holdings and windows.
    assert all(p["visits_12m"] == 3 and p["shops"] == ["lille", "lyon2", "nantes"] for p in shown)
    assert all(p["products_held"] == ["assurance habitation", "carte premium"] for p in shown)
    assert all(p["spend_12m"] > 15.0 + 60.5 and "valid_until" in p for p in shown)


def test_segment_memberships_after_a_first_run_are_those_the_profiles_percolated_one_by_one_give(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames
) -> None:
    """Equivalence with the stored memberships of sessions 9–12: a first run then percolated every
    profile it built and stored what matched. Now nothing is stored: each condition is searched
    over the profiles. Both must put every customer in the same segments."""
    now = datetime.now(UTC)
    customers = [hit["_source"] for hit in scan(opensearch, index=world_names.customers, query={"_source": CUSTOMER_FIELDS})]
    # Customers of their own in each segment the figures decide: six visits, a big basket, one
    # offer held, last seen 200 days ago.
    loyal, big, mono, gone = (c["records"][0] for c in sorted(customers, key=lambda c: c["customer_id"])[-4:])
    made = [
        Event(source="caisse", event_id=f"EQ-L{n}", at=now - timedelta(days=10 * n + 1), type="visit", record_id=loyal, shop="metz")
        for n in range(6)
    ]
    made += [
        Event(source="caisse", event_id="EQ-B", at=now - timedelta(days=2), type="purchase", record_id=big, amount=640.0, shop="metz"),
        Event(source="caisse", event_id="EQ-M", at=now - timedelta(days=9), type="subscription", record_id=mono, offer="livret"),
        Event(source="caisse", event_id="EQ-G", at=now - timedelta(days=200), type="visit", record_id=gone, shop="metz"),
    ]
    for item in made:
        record_event(opensearch, world, item, names=world_names)
    opensearch.indices.refresh(index=world_names.events)
    report = recompute_all(opensearch, world, world_names, now)
    built = build_profiles(opensearch, world, world_names, customers, now)
    percolated = dict(zip((p["customer_id"] for p in built), percolate(opensearch, world_names, "segment", built), strict=True))
    definitions = definitions_in_force(opensearch, world_names, "segment")
    searched = memberships(opensearch, world_names, definitions)
    assert {c: s for c, s in percolated.items() if s} == searched
    assert report.members == {d["name"]: sum(d["name"] in s for s in percolated.values()) for d in definitions}
    # The world's customers fall in several segments, and some in none: the comparison says something.
    assert {"client_fidele", "gros_panier", "mono_offre", "inactif_6_mois", "senior"} <= {n for names in searched.values() for n in names}
    assert len(searched) < len(built)


def test_a_profile_the_live_path_computes_while_a_first_run_writes_stays_and_is_not_overwritten_by_what_the_run_read_before(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames
) -> None:
    now = datetime.now(UTC)
    customer = next(hit["_source"] for hit in scan(opensearch, index=world_names.customers, query={"_source": CUSTOMER_FIELDS}))
    # The run begins reading: the events are tallied, the customers scanned.
    read_at = read_moment()
    tallies = tally_events(opensearch, world_names, now)
    time.sleep(0.005)
    # Meanwhile a purchase comes in and the live path writes the customer's profile with it.
    purchase = Event(
        source="caisse", event_id="RACE-1", at=datetime.now(UTC), type="purchase", record_id=customer["records"][0], amount=4321.0
    )
    record_event(opensearch, world, purchase, names=world_names)
    opensearch.indices.refresh(index=world_names.events)
    refresh_profiles(opensearch, world, world_names, [customer["customer_id"]])
    live = opensearch.get(index=world_names.profiles, id=customer["customer_id"])["_source"]
    assert live["spend_12m"] >= 4321.0
    # The run's write of what it read before the purchase comes last.
    homes = households(opensearch, world_names, [customer], now)
    written, kept = write_all_profiles(opensearch, world, world_names, [([customer], homes)], tallies, now, read_at)
    assert (written, kept) == (1, 1)
    assert opensearch.get(index=world_names.profiles, id=customer["customer_id"])["_source"] == live


def test_the_first_run_holds_the_offers_a_record_states_reading_the_records_in_one_pass_not_by_id(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, monkeypatch: Any
) -> None:
    # A multi-get of each batch's records cost ≈ 1,170 µs of the node's CPU per customer of the
    # resolved demo set (its source filter compiled again for every record; bench/RESULTS.md,
    # session 14): the first run reads the records stating an offer in one scroll instead.
    now = datetime.now(UTC)
    customers = [hit["_source"] for hit in scan(opensearch, index=world_names.customers, query={"_source": CUSTOMER_FIELDS})]
    customer = next(c for c in customers if len(c.get("records") or []) >= 2)
    stating = sorted(customer["records"])[-1]
    opensearch.update(
        index=world_names.records, id=stating, body={"doc": {"attributes": {"offres": "coffre-fort ; livret jeune"}}}, refresh=True
    )
    read_by_id: list[Any] = []
    multi_get = OpenSearch.mget

    def counted(self: OpenSearch, *args: Any, **kwargs: Any) -> Any:
        read_by_id.append(kwargs.get("index"))
        return multi_get(self, *args, **kwargs)

    monkeypatch.setattr(OpenSearch, "mget", counted)
    recompute_all(opensearch, world, world_names, now)
    monkeypatch.undo()
    assert world_names.records not in read_by_id
    stored = _stored_profiles(opensearch, world_names)[customer["customer_id"]]
    (per_customer,) = build_profiles(opensearch, world, world_names, [customer], now)
    assert stored == per_customer
    assert {"coffre-fort", "livret jeune"} <= set(stored["products_held"])


def _readers_left() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "rcu-read-ahead" and t.is_alive()}


def test_a_first_run_a_shard_does_not_answer_stops_with_exit_4_and_removes_no_profile(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The node's answer to the customers' scroll as it comes when their shard fails or times out:
    # no hits, and `_shards` saying so (what a real failure looks like: tests/search/test_read_ahead.py).
    before = _stored_profiles(opensearch, world_names)
    answer = OpenSearch.search

    def customers_shard_failed(self: OpenSearch, *args: Any, **kwargs: Any) -> Any:
        response = answer(self, *args, **kwargs)
        if kwargs.get("index") == world_names.customers and "scroll" in kwargs:
            response["hits"]["hits"] = []
            failure = {"shard": 0, "index": world_names.customers, "reason": {"type": "node_disconnected_exception"}}
            response["_shards"] = {"total": 1, "successful": 0, "skipped": 0, "failed": 1, "failures": [failure]}
        return response

    monkeypatch.setattr(OpenSearch, "search", customers_shard_failed)
    result = cli("segments", "--file", str(world.segments), "--rebuild-profiles")
    monkeypatch.undo()

    assert result.exit_code == 4, result.output
    assert "0 of 1 shards answered (node_disconnected_exception)" in result.output and "Traceback" not in result.output
    assert _stored_profiles(opensearch, world_names) == before


def test_a_first_run_that_fails_while_building_profiles_leaves_no_thread_reading_behind_it(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages and batches of five customers: the world's customers are read in several pages, so the
    # reading is still ahead when the first batch's profiles fail to build (a bug, memory running out).
    monkeypatch.setattr(store, "_SCAN_PAGE", 5)
    monkeypatch.setattr(store, "_BATCH", 5)

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("profiles could not be built")

    monkeypatch.setattr(store, "figures_from_tallies", failing)
    before = _readers_left()

    with pytest.raises(RuntimeError, match="profiles could not be built") as failed:
        recompute_all(opensearch, world, world_names)

    # Checked while the error, and the frames it keeps, is still held (as a caller logging it holds it).
    time.sleep(0.5)
    assert failed.value is not None and _readers_left() <= before


def test_the_first_run_counts_each_household_whole_from_the_customers_it_reads_without_a_households_search(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A households search per batch of 2,000 customers cost the node ≈ 79 µs per customer (session
    # 15): the first run reads every customer anyway, sorted by household key, and counts each
    # household from its members. Tiny pages and batches here, so households straddle both.
    now = datetime.now(UTC)
    customers = [hit["_source"] for hit in scan(opensearch, index=world_names.customers, query={"_source": CUSTOMER_FIELDS})]
    # One member of a shared household made a child of ten, another of twelve: the eldest minor's
    # coming of age dates the household's profiles (`valid_until`).
    members = sorted(
        (c for c in customers if c.get("household_key") and sum(o.get("household_key") == c["household_key"] for o in customers) >= 2),
        key=lambda c: (c["household_key"], c["customer_id"]),
    )[:2]
    assert len(members) == 2 and members[0]["household_key"] == members[1]["household_key"]
    born = {member["customer_id"]: member.get("birth_date") for member in members}
    try:
        for member, age in zip(members, (10, 12), strict=True):
            member["birth_date"] = now.date().replace(year=now.year - age, day=1).isoformat()
            opensearch.update(index=world_names.customers, id=member["customer_id"], body={"doc": {"birth_date": member["birth_date"]}})
        opensearch.indices.refresh(index=world_names.customers)
        per_customer = {p["customer_id"]: p for p in build_profiles(opensearch, world, world_names, customers, now)}
        shared = [p for p in per_customer.values() if p["household_size"] >= 2]
        assert shared and sum(p["children"] == 2 for p in shared) >= 2  # the comparison below covers households and their minors
        monkeypatch.setattr(store, "_SCAN_PAGE", 3)
        monkeypatch.setattr(store, "_BATCH", 2)
        aggregated: list[Any] = []
        answer = OpenSearch.search

        def counted(self: OpenSearch, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("index") == world_names.customers and "aggs" in (kwargs.get("body") or {}):
                aggregated.append(kwargs["body"])
            return answer(self, *args, **kwargs)

        monkeypatch.setattr(OpenSearch, "search", counted)
        recompute_all(opensearch, world, world_names, now)
        monkeypatch.undo()
        assert aggregated == []
        assert _stored_profiles(opensearch, world_names) == per_customer
    finally:  # the module's world as it was, for the other tests
        for customer_id, birth_date in born.items():
            opensearch.update(index=world_names.customers, id=customer_id, body={"doc": {"birth_date": birth_date}})
        opensearch.indices.refresh(index=world_names.customers)
