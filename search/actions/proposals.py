"""The best actions to propose to one customer, and why: the rules in force whose condition the
customer's profile meets (percolated), less any action for a product the customer holds, any
action refused within its cooldown, and any channel the customer did not consent to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch, TransportError

from search.access import MARKETING_CHANNELS
from search.actions.outcomes import last_refusals, refusals_body, refusals_from
from search.indices import IndexNames
from search.segments.conditions import definitions_in_force, definitions_of, matched_slots, percolate, percolate_body

COUNTER = "counter"


@dataclass(frozen=True)
class Proposal:
    action: str
    label: str
    reason: str
    priority: int
    channels: list[str]
    product: str | None


def allowed_channels(profile: dict[str, Any], channels: list[str]) -> list[str]:
    """The rule's channels this customer may be reached by: the counter (the customer is there)
    always, any other only while usable for marketing (search.access.MARKETING_CHANNELS: its
    contact point visible, no restriction)."""
    return [c for c in channels if c == COUNTER or MARKETING_CHANNELS[c].usable(profile)]


def best_actions(
    client: OpenSearch, names: IndexNames, profile: dict[str, Any], now: datetime, limit: int = 3, generation: str | None = None
) -> list[Proposal]:
    """At most `limit` eligible actions for the customer of `profile` (search.segments.profiles,
    with its segments), highest priority first; `generation`: the rules in force, when the caller
    read it (the rules matched and the customer's refusals then come in one round trip)."""
    if generation is None:
        (matched,) = percolate(client, names, "action", [profile])
        refused = last_refusals(client, names, profile.get("records", [])) if matched else {}
    else:
        matched, refused = _matched_and_refused(client, names, profile, generation)
    if not matched:
        return []
    in_force = definitions_of(client, names, "action", generation) if generation else definitions_in_force(client, names, "action")
    return choose_actions(profile, matched, refused, in_force, now, limit)


def choose_actions(
    profile: dict[str, Any], matched: list[str], refused: dict[str, datetime], in_force: list[dict[str, Any]], now: datetime, limit: int = 3
) -> list[Proposal]:
    """Of the rules `in_force` the profile `matched`, those eligible (no product held, not refused
    within the cooldown, a channel allowed), highest priority first, at most `limit`."""
    rules = {d["name"]: d for d in in_force if d["name"] in matched}
    held = set(profile.get("products_held", []))
    proposals = []
    for name, rule in rules.items():
        if rule.get("product") and rule["product"] in held:
            continue
        refused_at = refused.get(name)
        if refused_at is not None and now < refused_at + timedelta(days=rule.get("cooldown_days", 0)):
            continue
        channels = allowed_channels(profile, rule["channels"])
        if not channels:
            continue
        proposals.append(Proposal(name, rule["label"], rule["reason"], rule.get("priority", 0), channels, rule.get("product")))
    proposals.sort(key=lambda p: (-p.priority, p.action))
    return proposals[:limit]


def _matched_and_refused(
    client: OpenSearch, names: IndexNames, profile: dict[str, Any], generation: str
) -> tuple[list[str], dict[str, datetime]]:
    """The rules of `generation` the profile meets and the customer's last refusals: one msearch."""
    searches = matched_and_refused_searches(names, profile, generation)
    responses = client.msearch(body=[line for header, body in searches for line in (header, body)])["responses"]
    for response in responses:
        if "error" in response:
            raise TransportError(response.get("status", 500), "msearch", response["error"])
    return matched_and_refused_from(responses)


def matched_and_refused_searches(
    names: IndexNames, profile: dict[str, Any], generation: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The searches (msearch header, body) of the rules of `generation` the profile meets, then of
    the customer's last refusals when the profile has records; read by `matched_and_refused_from`."""
    searches: list[tuple[dict[str, Any], dict[str, Any]]] = [({"index": names.conditions}, percolate_body("action", generation, [profile]))]
    records = list(profile.get("records", []))
    if records:
        searches.append(({"index": names.events, "ignore_unavailable": True, "allow_no_indices": True}, refusals_body(records)))
    return searches


def matched_and_refused_from(responses: list[dict[str, Any]]) -> tuple[list[str], dict[str, datetime]]:
    """The rules matched and the last refusals, from the answers to `matched_and_refused_searches`."""
    (matched,) = matched_slots(responses[0], 1)
    return matched, refusals_from(responses[1]) if len(responses) > 1 else {}
