"""The figures of customers' interactions a profile holds, for a batch of customers at once
(search.events.bulk: one search per page of customers, the same figures as the 360 view's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from search.events.bulk import figures_of_customers
from search.events.model import CustomerFigures
from search.events.scan import RecordTally, customer_figures
from search.indices import IndexNames
from settings import Settings


def figures_of(
    client: OpenSearch, settings: Settings, names: IndexNames, customers: list[dict[str, Any]], now: datetime
) -> dict[str, CustomerFigures]:
    """customer id → the figures of its interactions at `now`, for customers-index documents
    holding `customer_id` and `records`."""
    pairs = [(c["customer_id"], list(c.get("records") or [])) for c in customers]
    return dict(figures_of_customers(client, names, now, settings.events_holding_attributes, pairs))


def figures_from_tallies(
    settings: Settings, customers: list[dict[str, Any]], tallies: Mapping[str, RecordTally], held: Mapping[str, dict[str, Any]]
) -> dict[str, CustomerFigures]:
    """figures_of, from the events summed up per record beforehand (search.events.scan.tally_events)
    and the records stating a holding read beforehand (search.events.scan.records_holding)."""
    attributes = settings.events_holding_attributes
    return {
        c["customer_id"]: customer_figures(
            [tallies[r] for r in c.get("records") or [] if r in tallies], [held[r] for r in c.get("records") or [] if r in held], attributes
        )
        for c in customers
    }
