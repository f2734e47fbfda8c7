"""Every customer's figures at once, for work over all customers (`rcu segments`): one search per
page of customers instead of one per customer.

The figures are those of search.events.figures (the 360 view's, one customer at a time by
aggregations), computed here in Python from the events' doc values: per-record aggregations with a
latest-holding `top_hits` cost the node about 0.5 ms of CPU per customer (bench/RESULTS.md,
session 9), reading the few events of each customer as columns costs a fraction of it. The two
agree (tests/search/test_events.py): last seen is the latest event, visits the distinct (day, shop)
of visits and purchases in the year, spend the amounts of purchases and web orders in the year,
shops and channels every one seen, and per offer the latest statement (time, then event key)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.events.figures import MAX_TERMS, YEAR, holdings_from, record_filter, records_with_holdings
from search.events.model import HOLDING_TYPES, SPENDING_TYPES, VISIT_TYPES, CustomerFigures
from search.indices import IndexNames

PAGE = 500  # customers per search
EVENTS_PER_REQUEST = 10_000  # hits per search (the node's default result window)
COLUMNS = ("record_id", "type", "visit_day", "amount", "shop", "channel", "offer", "source", "event_key")


def events_body(record_ids: Sequence[str], after: list[Any] | None) -> dict[str, Any]:
    """The events of `record_ids` as doc values only (no source read), in event key order."""
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [record_filter(record_ids)]}},
        "size": EVENTS_PER_REQUEST,
        "_source": False,
        "docvalue_fields": [{"field": "at", "format": "epoch_millis"}, *COLUMNS],
        "sort": [{"event_key": "asc"}],
        "track_total_hits": False,
    }
    if after:
        body["search_after"] = after
    return body


@dataclass
class Tally:
    """One customer's events summed up as they are read."""

    last_ms: int | None = None
    visit_days: set[str] = field(default_factory=set)
    spend: float = 0.0
    shops: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    latest: dict[str, tuple[int, str, str, str]] = field(default_factory=dict)  # offer → (at, event key, type, source)
    events: int = 0

    def add(self, columns: dict[str, list[Any]], year_from_ms: int, now_ms: int) -> None:
        at = int(float(columns["at"][0]))
        kind = columns["type"][0]
        self.events += 1
        self.last_ms = at if self.last_ms is None else max(self.last_ms, at)
        in_year = year_from_ms <= at <= now_ms
        if in_year and kind in VISIT_TYPES:
            self.visit_days.update(columns.get("visit_day", ()))
        if in_year and kind in SPENDING_TYPES:
            self.spend += sum(float(amount) for amount in columns.get("amount", ()))
        self.shops.update(columns.get("shop", ()))
        self.channels.update(columns.get("channel", ()))
        if kind in HOLDING_TYPES:
            statement = (at, columns["event_key"][0], kind, (columns.get("source") or [""])[0])
            for offer in columns.get("offer", ()):
                if offer not in self.latest or statement[:2] > self.latest[offer][:2]:
                    self.latest[offer] = statement

    def figures(self, records: Sequence[dict[str, Any]], holding_attributes: Sequence[str]) -> CustomerFigures:
        offers = [
            {"key": offer, "latest": {"hits": {"hits": [{"_source": {"type": kind, "at": _iso(at), "source": source}}]}}}
            for offer, (at, _key, kind, source) in self.latest.items()
        ]
        holdings = holdings_from({"holdings": {"offers": {"buckets": offers}}}, records, holding_attributes)
        return CustomerFigures(
            last_seen=datetime.fromtimestamp(self.last_ms / 1000, UTC) if self.last_ms is not None else None,
            visits_12m=len(self.visit_days),
            spend_12m=round(self.spend, 2),
            shops=sorted(self.shops)[:MAX_TERMS],
            channels=sorted(self.channels)[:MAX_TERMS],
            products_held=[holding.offer for holding in holdings if holding.held],
            events=self.events,
        )


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()


def all_customers(client: OpenSearch, names: IndexNames) -> Iterator[tuple[str, list[str]]]:
    """(customer id, its record ids) of every customer."""
    query = {"query": {"match_all": {}}, "_source": ["records"]}
    for hit in scan(client, index=names.customers, query=query, size=2000):
        yield hit["_id"], list(hit["_source"].get("records") or [])


def figures_of_customers(
    client: OpenSearch,
    names: IndexNames,
    now: datetime,
    holding_attributes: Sequence[str] = (),
    customers: Iterable[tuple[str, list[str]]] | None = None,
) -> Iterator[tuple[str, CustomerFigures]]:
    """(customer id, figures) of `customers` (every customer by default, as the customers index was
    last refreshed), a page at a time; the same figures as search.events.customer_figures gives one
    by one."""
    page: list[tuple[str, list[str]]] = []
    for customer in customers if customers is not None else all_customers(client, names):
        page.append(customer)
        if len(page) >= PAGE:
            yield from _page(client, names, now, holding_attributes, page)
            page = []
    if page:
        yield from _page(client, names, now, holding_attributes, page)


def _page(
    client: OpenSearch, names: IndexNames, now: datetime, holding_attributes: Sequence[str], page: list[tuple[str, list[str]]]
) -> Iterator[tuple[str, CustomerFigures]]:
    owner = {record_id: customer_id for customer_id, records in page for record_id in records}
    tallies = {customer_id: Tally() for customer_id, _records in page}
    if owner and client.indices.exists_alias(name=names.events):
        year_from_ms, now_ms = int((now - YEAR).timestamp() * 1000), int(now.timestamp() * 1000)
        after = None
        while True:
            hits = client.search(index=names.events, body=events_body(list(owner), after))["hits"]["hits"]
            for hit in hits:
                columns = hit["fields"]
                tallies[owner[columns["record_id"][0]]].add(columns, year_from_ms, now_ms)
            if len(hits) < EVENTS_PER_REQUEST:
                break
            after = hits[-1]["sort"]
    held = records_with_holdings(client, names, list(owner), holding_attributes) if holding_attributes else {}
    for customer_id, records in page:
        yield customer_id, tallies[customer_id].figures([held[r] for r in records if r in held], holding_attributes)
