"""What the customer's sheet (the 360 view) shows of segments and actions: the segments the
customer is in, with their French labels, and the best eligible actions with their reasons.

The segments are not stored: the customer's profile is percolated against the segment conditions
in force when the sheet is read (search.segments.membership), then against the action rules with
the segments found (a rule may name one)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import AsyncOpenSearch, NotFoundError, OpenSearch

from search.actions.proposals import Proposal, best_actions, choose_actions, matched_and_refused_from, matched_and_refused_searches
from search.indices import IndexNames
from search.segments.conditions import (
    Kind,
    cached_definitions,
    definitions_of,
    generations_from,
    generations_in_force,
    generations_mget_body,
    matched_slots,
    percolate,
)
from search.segments.marketing import PROFILING
from search.segments.membership import segments_search, stored_profile_segments_search
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
    customer refused profiling, None when they asked for restriction. Four round trips when the profile is stored: the generations in
    force with the profile (one multi-get), the segments it is in (percolated), the rules matched
    with the customer's refusals (one msearch), the definitions being read once per generation and
    process."""
    generations, (stored,) = generations_in_force(client, names, (names.profiles, customer_id))
    action_generation = generations["action"] if with_actions else None
    if generations["segment"] is None and action_generation is None:
        # Nothing defined: no profile to compute or store on a read.
        found = client.get(index=names.customers, id=customer_id, _source_includes=["restricted"], ignore=[404])
        return Sheet() if found.get("found") and not _gone_for_reader(found["_source"], for_marketing) else None
    profile = stored["_source"] if stored.get("found") else profile_of(client, settings, names, customer_id)
    if profile is None or _gone_for_reader(profile, for_marketing):
        return None
    if _hidden_from_reader(profile, for_marketing):
        return Sheet()
    segment_generation = generations["segment"]
    definitions = definitions_of(client, names, "segment", segment_generation) if segment_generation else []
    (segments,) = percolate(client, names, "segment", [profile], segment_generation) if segment_generation else ([],)
    now = datetime.now(UTC)
    # Action rules may name segments ("segments:client_fidele"): they see the ones just found.
    current = {**with_current_day_count(profile, now), "segments": segments}
    actions = best_actions(client, names, current, now, generation=action_generation) if action_generation else []
    return sheet_of(profile, definitions, segments, actions)


def sheet_of(profile: dict[str, Any], segment_definitions: list[dict[str, Any]], segments: list[str], actions: list[Proposal]) -> Sheet:
    """The sheet of a profile: the `segments` it is in labelled by the definitions in force, the
    actions chosen for it, the products it holds — the one step the sync and async paths share."""
    labels = {d["name"]: d["label"] for d in segment_definitions}
    return Sheet([SegmentLabel(name, labels[name]) for name in segments if name in labels], actions, profile.get("products_held", []))


def _gone_for_reader(customer: dict[str, Any], for_marketing: bool) -> bool:
    """A customer who asked for restriction is on no marketing route: unknown to a marketing reader."""
    return for_marketing and bool(customer.get("restricted"))


def _hidden_from_reader(profile: dict[str, Any], for_marketing: bool) -> bool:
    """A marketing reader sees no segment nor action of a customer who refused profiling."""
    return for_marketing and PROFILING in profile.get("consents_refused", [])


async def customer_sheet_async(
    client: AsyncOpenSearch,
    sync_client: OpenSearch,
    settings: Settings,
    names: IndexNames,
    customer_id: str,
    with_actions: bool,
    for_marketing: bool = False,
) -> Sheet | None:
    """`customer_sheet` through the API's asynchronous client, for the 360 view: through a
    search.coalesce.CoalescingClient its reads share the view's round trips (the generations in
    force and the profile go with the customer's get, the stored profile's segments percolated in
    a search beside it, the rules percolated with the segments found and the refusals with the
    household's search: the coalescing client sends that second round only once the first has
    landed, however late the percolation answers). Anything but the common case — nothing
    defined, no stored profile, an index missing — is `customer_sheet`, in a thread."""

    def in_a_thread() -> Any:
        return asyncio.to_thread(customer_sheet, sync_client, settings, names, customer_id, with_actions, for_marketing)

    # The segments of the stored profile are asked beside the profile itself (one round trip).
    header, body = stored_profile_segments_search(names, customer_id)
    read: dict[str, Any] | BaseException
    percolated: dict[str, Any] | BaseException
    read, percolated = await asyncio.gather(
        client.mget(body=generations_mget_body(names, (names.profiles, customer_id))),
        client.search(body=body, **header),
        return_exceptions=True,
    )
    if isinstance(read, NotFoundError):
        return await in_a_thread()
    if isinstance(read, BaseException):
        raise read
    generations, (stored,) = generations_from(read["docs"])
    segment_generation, action_generation = generations["segment"], generations["action"] if with_actions else None
    if not stored.get("found") or not (segment_generation or action_generation):
        return await in_a_thread()

    async def definitions(kind: Kind, generation: str | None) -> list[dict[str, Any]]:
        """Read once per generation and process (search.segments.conditions.definitions_of)."""
        if generation is None:
            return []
        cached = cached_definitions(names, kind, generation)
        return cached if cached is not None else await asyncio.to_thread(definitions_of, sync_client, names, kind, generation)

    labels, rules = await definitions("segment", segment_generation), await definitions("action", action_generation)
    profile = stored["_source"]
    if _gone_for_reader(profile, for_marketing):
        return None
    if _hidden_from_reader(profile, for_marketing):
        return Sheet()
    segments: list[str] = []
    if segment_generation:
        found = percolated
        if isinstance(found, BaseException):  # the profile was written between the two reads: asked again
            header, body = segments_search(names, segment_generation, profile)
            found = await client.search(body=body, **header)
        (segments,) = matched_slots(found, 1)
    actions: list[Proposal] = []
    if action_generation:
        now = datetime.now(UTC)
        # Action rules may name segments ("segments:client_fidele"): they see the ones just found.
        current = {**with_current_day_count(profile, now), "segments": segments}
        searches = matched_and_refused_searches(names, current, action_generation)
        responses = await asyncio.gather(*(client.search(body=body, **header) for header, body in searches))
        matched, refused = matched_and_refused_from(list(responses))
        actions = choose_actions(current, matched, refused, rules, now) if matched else []
    return sheet_of(profile, labels, segments, actions)
