"""What the 360 view shows of a customer's interactions, as the caller's role may see it:
- `interactions` (counter, call center, stewards …): the timeline, the offers held and the figures;
  an event's free-text attributes only for roles reading `attributes`;
- `figures` alone (marketing): the figures, never an event — and nothing for a customer who
  refused profiling (consent purpose `profiling`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import AsyncOpenSearch

from search.access import FieldAccess
from search.events.figures import Holding, figures_of_records_async
from search.events.model import CustomerFigures
from search.events.timeline import TimelinePage, timeline_page
from search.indices import IndexNames


@dataclass(frozen=True)
class InteractionsView:
    page: TimelinePage | None = None
    holdings: list[Holding] | None = None
    figures: CustomerFigures | None = None


def refused_profiling(customer: dict[str, Any]) -> bool:
    decided = (customer.get("consents") or {}).get("profiling") or {}
    return decided.get("status") == "refused"


async def interactions_view(
    client: AsyncOpenSearch,
    names: IndexNames,
    customer: dict[str, Any],
    access: FieldAccess,
    now: datetime,
    holding_attributes: Sequence[str],
    size: int,
    after: str | None = None,
) -> InteractionsView:
    """The customer's interactions through its current records (so merges and splits are followed)."""
    records = list(customer.get("records") or [])
    if access.interactions:
        page, (figures, holdings) = await asyncio.gather(
            timeline_page(client, names, records, size, after, access.reads_attributes),
            figures_of_records_async(client, names, records, now, holding_attributes),
        )
        return InteractionsView(page, holdings, figures)
    if access.figures and not (access.marketing and refused_profiling(customer)):
        figures, _holdings = await figures_of_records_async(client, names, records, now, holding_attributes)
        return InteractionsView(figures=figures)
    return InteractionsView()
