"""Every customer's figures at once, for work over all customers (recomputing segments after a
definition changed): one search per page of customers instead of one per customer.

The figures are those of search.events.figures, merged from per-record aggregations: a terms
aggregation over the page's record ids carries, per record, its latest event, its visit days
(as terms, so a day and shop seen on two records of one customer counts once), its spend, shops,
channels and latest holding statements; each customer's records are then merged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.events.figures import MAX_TERMS, figures_body, holdings_from, record_filter, records_with_holdings, window_ends
from search.events.model import CustomerFigures
from search.indices import IndexNames

PAGE = 500  # customers per search
MAX_VISIT_DAYS = 1000  # distinct (day, shop) per record in a year: far above any customer's


def page_body(record_ids: Sequence[str], now: datetime) -> dict[str, Any]:
    """figures_body's aggregations, per record: visits as their (day, shop) terms."""
    aggs = figures_body(record_ids, now)["aggs"]
    aggs["visits"]["aggs"]["days"] = {"terms": {"field": "visit_day", "size": MAX_VISIT_DAYS}}
    return {
        "query": {"bool": {"filter": [record_filter(record_ids)]}},
        "size": 0,
        "aggs": {"records": {"terms": {"field": "record_id", "size": len(record_ids)}, "aggs": aggs}},
    }


def merged_figures(
    buckets: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]], holding_attributes: Sequence[str]
) -> CustomerFigures:
    """One customer's figures from its records' buckets of `page_body`."""
    seen = [bucket["last_seen"].get("value_as_string") for bucket in buckets]
    last = max((value for value in seen if value), default=None)
    holdings = holdings_from(
        {"holdings": {"offers": {"buckets": [offer for bucket in buckets for offer in bucket["holdings"]["offers"]["buckets"]]}}},
        records,
        holding_attributes,
    )
    return CustomerFigures(
        last_seen=datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None,
        visits_12m=len({day["key"] for bucket in buckets for day in bucket["visits"]["days"]["buckets"]}),
        spend_12m=round(sum(float(bucket["spend"]["amount"]["value"] or 0.0) for bucket in buckets), 2),
        shops=sorted({shop["key"] for bucket in buckets for shop in bucket["shops"]["buckets"]})[:MAX_TERMS],
        channels=sorted({channel["key"] for bucket in buckets for channel in bucket["channels"]["buckets"]})[:MAX_TERMS],
        products_held=[holding.offer for holding in holdings if holding.held],
        events=sum(int(bucket["doc_count"]) for bucket in buckets),
        window_ends=window_ends(bucket[name]["first"].get("value_as_string") for bucket in buckets for name in ("visits", "spend")),
    )


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
    record_ids = [record_id for _customer, records in page for record_id in records]
    by_record: dict[str, dict[str, Any]] = {}
    if record_ids and client.indices.exists_alias(name=names.events):
        response = client.search(index=names.events, body=page_body(record_ids, now))
        by_record = {bucket["key"]: bucket for bucket in response["aggregations"]["records"]["buckets"]}
    held = records_with_holdings(client, names, record_ids, holding_attributes) if holding_attributes else {}
    for customer_id, records in page:
        buckets = [by_record[record_id] for record_id in records if record_id in by_record]
        yield customer_id, merged_figures(buckets, [held[r] for r in records if r in held], holding_attributes)
