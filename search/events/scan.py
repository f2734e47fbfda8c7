"""Every record's figures in one pass over the events, for work over all customers at once (the
first `rcu segments`, `--rebuild-profiles`): the events read once, in index order, and summed up
per record in this process, instead of one aggregation search per page of customers — which costs
the node a terms aggregation with its sub-aggregations per record (≈ 400 µs of node CPU per
customer at 100,000 customers, bench/RESULTS.md).

The sums are those of search.events.figures' aggregations, computed as the node computes them:
instants compared at the millisecond (a `date` field keeps milliseconds), amounts as a
`scaled_float` of factor 100 stores them, shops and channels and offers as terms aggregations of
MAX_TERMS buckets list them, an offer's latest statement by (time, event key) as its `top_hits`
sorts; `customer_figures` merges a customer's records exactly as search.events.bulk does. A test
compares both ways on a real node (tests/search/test_events_scan.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from search.events.figures import MAX_TERMS, YEAR, attribute_offers, holdings_from
from search.events.model import HOLDING_TYPES, SPENDING_TYPES, VISIT_TYPES, CustomerFigures
from search.indices import IndexNames
from search.read_ahead import pages_ahead

_FIELDS = ["record_id", "at", "type", "amount", "shop", "channel", "offer", "visit_day", "event_key", "source"]
_SCAN_PAGE = 10_000
# Slices a whole-family scroll is read in (search.read_ahead). One: the events' indices have one
# shard each (a year), and a slice of a one-shard index is drawn by hashing every document's id —
# measured at +38 µs of node CPU per customer (100,000 synthetic customers, ≈ 1 event each,
# bench.segments, session 15: node 100 µs with two slices, 62 with one, same wall time at load
# 14–20). Reading ahead alone overlaps the node's work with this process's.
SCAN_SLICES = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _millis(text: str) -> int:
    """An ISO instant as the node's `date` field holds it: milliseconds since the epoch, rounded down."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _instant(millis: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=millis)


def _cents(amount: float) -> int:
    """An amount as a `scaled_float` of factor 100 stores it, in cents (Java's Math.round: half up).
    Summed as integers, a record's spend is the same whatever order its events are read in (a
    sliced scroll reads them in no set order; a sum of floats would depend on it)."""
    return math.floor(amount * 100 + 0.5)


_NONE: dict[str, Any] = {}


@dataclass(slots=True)
class RecordTally:
    """One record's events summed up (what search.events.bulk.page_body's bucket of it holds).

    The sets and counts are made when a first event needs them (`None` until then): most records
    have a few events, some no shop, channel or offer, and a first run tallies a million records
    (building three Counters and a set for each was 7% of its CPU in this process: py-spy, 100,000
    synthetic customers, session 16)."""

    events: int = 0
    last_ms: int | None = None
    visit_days: set[str] | None = None
    visits_first_ms: int | None = None
    spend_cents: int = 0
    spend_first_ms: int | None = None
    shops: dict[str, int] | None = None
    channels: dict[str, int] | None = None
    # offer → (time in ms, event key, type, time as stored, source) of its latest statement
    offers: dict[str, tuple[int, str, str, str, str]] | None = None
    offer_counts: dict[str, int] | None = None

    def add(self, event: dict[str, Any], since_ms: int, now_ms: int) -> None:
        at = _millis(event["at"])
        kind = event.get("type")
        self.events += 1
        if self.last_ms is None or at > self.last_ms:
            self.last_ms = at
        if since_ms <= at <= now_ms:
            if kind in VISIT_TYPES:
                day = event.get("visit_day")
                if day is not None:
                    if self.visit_days is None:
                        self.visit_days = set()
                    self.visit_days.add(day)
                if self.visits_first_ms is None or at < self.visits_first_ms:
                    self.visits_first_ms = at
            if kind in SPENDING_TYPES:
                if event.get("amount") is not None:
                    self.spend_cents += _cents(float(event["amount"]))
                if self.spend_first_ms is None or at < self.spend_first_ms:
                    self.spend_first_ms = at
        shop = event.get("shop")
        if shop is not None:
            if self.shops is None:
                self.shops = {}
            self.shops[shop] = self.shops.get(shop, 0) + 1
        channel = event.get("channel")
        if channel is not None:
            if self.channels is None:
                self.channels = {}
            self.channels[channel] = self.channels.get(channel, 0) + 1
        offer = event.get("offer")
        if kind in HOLDING_TYPES and offer is not None:
            if self.offers is None or self.offer_counts is None:
                self.offers, self.offer_counts = {}, {}
            self.offer_counts[offer] = self.offer_counts.get(offer, 0) + 1
            statement = (at, event.get("event_key", ""), kind, event["at"], event.get("source", ""))
            known = self.offers.get(offer)
            if known is None or statement[:2] > known[:2]:
                self.offers[offer] = statement


def _top(counts: Mapping[str, int] | None) -> list[str]:
    """The keys a terms aggregation of MAX_TERMS buckets returns: most frequent first, ties by key."""
    if not counts:
        return []
    return [key for key, _count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_TERMS]]


def tally_events(client: OpenSearch, names: IndexNames, now: datetime, slices: int = SCAN_SLICES) -> dict[str, RecordTally]:
    """record id → its events summed up at `now`, over the whole events family (one scroll, read
    ahead in `slices`)."""
    tallies: dict[str, RecordTally] = {}
    if not client.indices.exists_alias(name=names.events):
        return tallies
    since_ms, now_ms = _millis((now - YEAR).isoformat()), _millis(now.isoformat())
    query = {"query": {"match_all": {}}, "_source": _FIELDS, "sort": ["_doc"]}
    # Read ahead (in slices if asked: a tally does not depend on the order events come in).
    with closing(pages_ahead(client, names.events, query, _SCAN_PAGE, slices)) as pages:
        for page in pages:
            for hit in page:
                event = hit["_source"]
                record = event.get("record_id")
                if record is None:
                    continue
                tally = tallies.get(record)
                if tally is None:
                    tally = tallies[record] = RecordTally()
                tally.add(event, since_ms, now_ms)
    return tallies


def records_holding(
    client: OpenSearch, names: IndexNames, attributes: Sequence[str], slices: int = SCAN_SLICES
) -> dict[str, dict[str, Any]]:
    """record id → its source, updated_at and holding attributes, for every record stating an
    offer in one of `attributes` (most records state none), from one scroll of the records index.

    A whole-index run reads them this way, not by a multi-get of each batch's records: OpenSearch
    compiles a multi-get's source filter again for every document (≈ 235 µs of the node's CPU per
    record of the resolved demo set, ≈ 1,170 µs per customer at 2.4 records each, against 65 µs for
    a record's whole source; bench/RESULTS.md, session 14), and records fetched by id are read from
    blocks decompressed one record at a time; a scroll compiles the filter once per page and reads
    the blocks in order. Records written since the last refresh are not seen: a record changed
    while the run reads is the live path's to follow (its profile's version is later)."""
    if not attributes or not client.indices.exists_alias(name=names.records):
        return {}
    held: dict[str, dict[str, Any]] = {}
    query = {"_source": ["source", "updated_at", *(f"attributes.{name}" for name in attributes)], "sort": ["_doc"]}
    with closing(pages_ahead(client, names.records, query, _SCAN_PAGE, slices)) as pages:
        for page in pages:
            for hit in page:
                record = hit["_source"]
                stated = record.get("attributes") or {}
                if any(attribute_offers(stated.get(name)) for name in attributes):
                    held[hit["_id"]] = record
    return held


def _first(moments: Iterable[int | None]) -> datetime | None:
    oldest = min((moment for moment in moments if moment is not None), default=None)
    return _instant(oldest) + YEAR if oldest is not None else None


def customer_figures(
    tallies: Sequence[RecordTally], records: Sequence[dict[str, Any]], holding_attributes: Sequence[str]
) -> CustomerFigures:
    """One customer's figures from its records' tallies (and its records' holding attributes), as
    search.events.bulk.merged_figures merges its records' buckets."""
    offers = [
        {"key": offer, "latest": {"hits": {"hits": [{"_source": {"type": kind, "at": text, "source": source}}]}}}
        for tally in tallies
        for offer in _top(tally.offer_counts)
        for _at, _key, kind, text, source in [(tally.offers or _NONE)[offer]]
    ]
    holdings = holdings_from({"holdings": {"offers": {"buckets": offers}}}, records, holding_attributes)
    last = max((tally.last_ms for tally in tallies if tally.last_ms is not None), default=None)
    return CustomerFigures(
        last_seen=_instant(last) if last is not None else None,
        visits_12m=len({day for tally in tallies for day in tally.visit_days or ()}),
        spend_12m=sum(tally.spend_cents for tally in tallies) / 100,
        shops=sorted({shop for tally in tallies for shop in _top(tally.shops)})[:MAX_TERMS],
        channels=sorted({channel for tally in tallies for channel in _top(tally.channels)})[:MAX_TERMS],
        products_held=[holding.offer for holding in holdings if holding.held],
        events=sum(tally.events for tally in tallies),
        window_ends=_first(moment for tally in tallies for moment in (tally.visits_first_ms, tally.spend_first_ms)),
    )
