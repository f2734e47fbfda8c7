"""The figures of customers' interactions a profile holds, read from search.events for a batch of
customers at once: one read of their records, one multi-search of the events (search.events.figures
writes each search's body and reads its answer, so the figures are the 360 view's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from search.events.figures import figures_body, figures_from, holdings_from
from search.events.model import CustomerFigures
from search.indices import IndexNames
from settings import Settings


def figures_of(
    client: OpenSearch, settings: Settings, names: IndexNames, customers: list[dict[str, Any]], now: datetime
) -> dict[str, CustomerFigures]:
    """customer id → the figures of its interactions at `now`, for customers-index documents
    holding `customer_id` and `records`."""
    attributes = settings.events_holding_attributes
    record_ids = sorted({r for c in customers for r in c.get("records", [])})
    records: dict[str, dict[str, Any]] = {}
    if record_ids:
        includes = ",".join(["source", "updated_at", *(f"attributes.{name}" for name in attributes)])
        docs = client.mget(index=names.records, body={"ids": record_ids}, _source_includes=includes)["docs"]
        records = {doc["_id"]: doc["_source"] for doc in docs if doc.get("found")}
    responses: list[dict[str, Any] | None] = [None] * len(customers)
    with_records = [i for i, c in enumerate(customers) if c.get("records")]
    if with_records and client.indices.exists_alias(name=names.events):
        body: list[dict[str, Any]] = []
        for i in with_records:
            body += [{"index": names.events}, figures_body(customers[i]["records"], now)]
        for i, response in zip(with_records, client.msearch(body=body)["responses"], strict=True):
            if "error" in response:
                raise RuntimeError(f"figures of customer {customers[i]['customer_id']} failed: {response['error'].get('type')}")
            responses[i] = response
    figures = {}
    for customer, response in zip(customers, responses, strict=True):
        own = [records[r] for r in customer.get("records", []) if r in records]
        holdings = holdings_from((response or {}).get("aggregations"), own, attributes)
        figures[customer["customer_id"]] = figures_from(response, holdings)
    return figures
