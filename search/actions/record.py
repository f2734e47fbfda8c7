"""An outcome recorded: a `proposal` event of the customer (search.events — their timeline, the
cooldown and the rates read it), and the customer's profile recomputed so segments and the next
proposal see it at once."""

from __future__ import annotations

from opensearchpy import OpenSearch

from search.actions.outcomes import ActionOutcome
from search.events import Event, record_event
from search.indices import IndexNames
from search.segments.store import refresh_profiles
from settings import Settings

# The source of the events rcu itself records.
RCU_SOURCE = "rcu"


def record_outcome(client: OpenSearch, settings: Settings, names: IndexNames, outcome: ActionOutcome) -> None:
    event = Event(
        source=RCU_SOURCE,
        event_id=f"action-{outcome.outcome_id}",
        at=outcome.at,
        type="proposal",
        customer_id=outcome.customer_id,
        shop=outcome.shop,
        channel=outcome.channel,
        action=outcome.action,
        outcome=outcome.outcome,
        reason=outcome.reason,
        attributes={"by": outcome.by},
    )
    record_event(client, settings, event, names=names)
    refresh_profiles(client, settings, names, [outcome.customer_id])
