"""The figures of customers' interactions a profile holds, for a batch of customers at once
(search.events.bulk: one search per page of customers, the same figures as the 360 view's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from search.events.bulk import figures_of_customers
from search.events.model import CustomerFigures
from search.indices import IndexNames
from settings import Settings


def figures_of(
    client: OpenSearch, settings: Settings, names: IndexNames, customers: list[dict[str, Any]], now: datetime
) -> dict[str, CustomerFigures]:
    """customer id → the figures of its interactions at `now`, for customers-index documents
    holding `customer_id` and `records`."""
    pairs = [(c["customer_id"], list(c.get("records") or [])) for c in customers]
    return dict(figures_of_customers(client, names, now, settings.events_holding_attributes, pairs))
