"""Interactions: what happened with a customer in each system (README, "Interactions").

Events live in a time-based index family (one index per month, search.events.store), attached to
a source record; the customer is read through the record → customer link, so events follow
merges and splits. The two entry points other packages use:

- `record_event(client, settings, event)`: store one event now (an action's outcome …);
- `customer_figures(client, settings, customer_id, now)`: last seen, visits and spend over 12
  months, shops, channels and products held.
"""

from __future__ import annotations

from datetime import datetime

from opensearchpy import OpenSearch

from search.events.attach import Sources
from search.events.figures import figures_of_records
from search.events.model import (
    EVENT_TYPES,
    CustomerFigures,
    Event,
    EventConflict,
    EventOutcome,
    EventRejected,
    EventSuppressed,
    EventUnattached,
)
from search.events.store import EventWriter, OnRecorded
from search.indices import IndexNames
from search.rights.overlay import CustomerNotFound
from search.rights.suppression import lookup_refusal
from settings import Settings

__all__ = [
    "EVENT_TYPES",
    "CustomerFigures",
    "Event",
    "EventConflict",
    "EventOutcome",
    "EventRejected",
    "EventSuppressed",
    "EventUnattached",
    "customer_figures",
    "record_event",
]


def record_event(
    client: OpenSearch,
    settings: Settings,
    event: Event,
    names: IndexNames | None = None,
    refresh: bool | str = True,
    on_recorded: OnRecorded | None = None,
    sources: Sources | None = None,
) -> EventOutcome:
    """Store one event (refreshed by default: the next 360 view and figures see it), checked
    against the suppression list. Raises EventRejected (EventConflict, EventUnattached,
    EventSuppressed) with the reason. `names`: the indices, when not the settings' (tests);
    `on_recorded`: told when the event is new (search.events.store.OnRecorded); `sources`: whose
    records the sender may attach it to (search.events.attach), None for all."""
    names = names or IndexNames.for_settings(settings)
    key = settings.suppression_key_bytes
    writer = EventWriter(client, names, lambda document: lookup_refusal(client, names, key, document), on_recorded, sources)
    (stored,) = writer.store([event], refresh=refresh)
    if stored.refusal:
        raise stored.refusal
    assert stored.outcome is not None
    return stored.outcome


def customer_figures(
    client: OpenSearch, settings: Settings, customer_id: str, now: datetime, names: IndexNames | None = None
) -> CustomerFigures:
    """The customer's figures at `now`, through its current records. CustomerNotFound when no
    customer has this id (a merged-away id is not followed: ask for its survivor)."""
    names = names or IndexNames.for_settings(settings)
    response = client.get(index=names.customers, id=customer_id, _source_includes="records", ignore=[404])
    if not response.get("found"):
        raise CustomerNotFound(customer_id)
    figures, _holdings = figures_of_records(
        client, names, response["_source"].get("records") or [], now, settings.events_holding_attributes
    )
    return figures
