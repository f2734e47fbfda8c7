"""What the customer's sheet (the 360 view) shows of segments and actions: the segments the
customer is in, with their French labels, and the best eligible actions with their reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from opensearchpy import OpenSearch

from search.actions.proposals import Proposal, best_actions
from search.indices import IndexNames
from search.segments.conditions import definitions_of, generations_in_force
from search.segments.marketing import PROFILING
from search.segments.profiles import with_current_day_count
from search.segments.store import profile_of
from settings import Settings


@dataclass(frozen=True)
class SegmentLabel:
    name: str
    label: str


@dataclass(frozen=True)
class Sheet:
    segments: list[SegmentLabel] = field(default_factory=list)
    actions: list[Proposal] = field(default_factory=list)
    products_held: list[str] = field(default_factory=list)


def customer_sheet(
    client: OpenSearch, settings: Settings, names: IndexNames, customer_id: str, with_actions: bool, for_marketing: bool = False
) -> Sheet | None:
    """The customer's segments, and (`with_actions`) the best eligible actions; None for an unknown
    customer, empty before any definition is in force — and empty for a marketing reader when the
    customer refused profiling. Three round trips when the profile is stored: the generations in
    force with the profile (one multi-get), the rules matched with the customer's refusals (one
    msearch), the definitions being read once per generation and process."""
    generations, (stored,) = generations_in_force(client, names, (names.profiles, customer_id))
    action_generation = generations["action"] if with_actions else None
    if generations["segment"] is None and action_generation is None:
        # Nothing defined: no profile to compute or store on a read.
        return Sheet() if client.exists(index=names.customers, id=customer_id) else None
    profile = stored["_source"] if stored.get("found") else profile_of(client, settings, names, customer_id)
    if profile is None:
        return None
    if for_marketing and PROFILING in profile.get("consents_refused", []):
        return Sheet()
    segment_generation = generations["segment"]
    definitions = definitions_of(client, names, "segment", segment_generation) if segment_generation else []
    labels = {d["name"]: d["label"] for d in definitions}
    segments = [SegmentLabel(name, labels[name]) for name in profile.get("segments", []) if name in labels]
    now = datetime.now(UTC)
    actions = (
        best_actions(client, names, with_current_day_count(profile, now), now, generation=action_generation) if action_generation else []
    )
    return Sheet(segments, actions, profile.get("products_held", []))
