"""An outcome recorded: kept for the cooldown and the rates (search.actions.outcomes), and the
customer's profile recomputed so segments and the next proposal see it."""

from __future__ import annotations

from opensearchpy import OpenSearch

from search.actions.outcomes import ActionOutcome, store_outcome
from search.indices import IndexNames
from search.segments.store import refresh_profiles
from settings import Settings


def record_outcome(client: OpenSearch, settings: Settings, names: IndexNames, outcome: ActionOutcome) -> ActionOutcome:
    stored = store_outcome(client, names, outcome)
    refresh_profiles(client, settings, names, [outcome.customer_id])
    return stored
