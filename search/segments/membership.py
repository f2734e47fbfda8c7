"""Who is in a segment, asked when someone asks — never stored.

A segment is its condition: an OpenSearch query over the profiles index (search.segments.profiles).
Its members are the profiles that query matches, searched when marketing counts or exports them;
the one customer on a sheet is percolated against the conditions when the sheet is read. Both read
the condition through the profile mapping (the percolator field of the conditions index parses a
document with the same mapping the profiles index searches), so a count, an export and a sheet
agree on every profile. Nothing is written when a definition changes, and a profile written by the
live path is in or out of every segment as soon as it is visible.

Why not stored memberships (sessions 9–12): writing them meant percolating every profile on a full
run and rewriting each profile whose membership moved after a definition change — at 100,000
customers ≈ 76 µs of the node's CPU per customer of a first run's ≈ 140 (bench/RESULTS.md, session
12), for a list the marketing searches and the sheet can each get from the condition itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.segments.conditions import percolate_body
from search.segments.definitions import MAX_DEFINITIONS


def member_query(definition: dict[str, Any]) -> dict[str, Any]:
    """The profiles in the segment of a stored definition (`definitions_of`: with its query)."""
    return definition["query"]


def segments_search(names: IndexNames, generation: str, profile: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The search (msearch header, body) of the segments of `generation` one profile is in."""
    return {"index": names.conditions}, percolate_body("segment", generation, [profile])


def stored_profile_segments_search(names: IndexNames, customer_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The search (msearch header, body) of the segments in force the customer's STORED profile is
    in, sent before either the profile or the generation in force was read: OpenSearch fetches the
    profile (a real-time get, the percolator's `id`) and the generation (a terms look-up of the
    `active:segment` document: none, nothing matches). Fails when no profile is stored."""
    in_force = {"index": names.conditions, "id": "active:segment", "path": "generation"}
    query = {
        "bool": {
            "filter": [
                {"term": {"condition_kind": "segment"}},
                {"terms": {"generation": in_force}},
                {"percolate": {"field": "query", "index": names.profiles, "id": customer_id}},
            ]
        }
    }
    return {"index": names.conditions}, {"query": query, "_source": ["name"], "size": MAX_DEFINITIONS}


def segment_members(client: OpenSearch, names: IndexNames, definitions: Sequence[dict[str, Any]]) -> dict[str, int]:
    """segment name → how many profiles are in it (one msearch of counts)."""
    if not definitions or not client.indices.exists(index=names.profiles):
        return {}
    body: list[dict[str, Any]] = []
    for definition in definitions:
        body += [{"index": names.profiles}, {"size": 0, "track_total_hits": True, "query": member_query(definition)}]
    responses = client.msearch(body=body)["responses"]
    return {d["name"]: r["hits"]["total"]["value"] for d, r in zip(definitions, responses, strict=True)}


def memberships_moved(client: OpenSearch, names: IndexNames, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> int:
    """How many (profile, segment) memberships a definition change moved: per segment name, the
    profiles its new condition takes in that the old one did not, and those it lets go (a segment
    added or dropped counts all its members)."""
    if not client.indices.exists(index=names.profiles):
        return 0
    old, new = {d["name"]: member_query(d) for d in before}, {d["name"]: member_query(d) for d in after}
    nothing: dict[str, Any] = {"match_none": {}}
    body: list[dict[str, Any]] = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        was, now = old.get(name, nothing), new.get(name, nothing)
        for inside, outside in ((now, was), (was, now)):
            query = {"bool": {"filter": [inside], "must_not": [outside]}}
            body += [{"index": names.profiles}, {"size": 0, "track_total_hits": True, "query": query}]
    if not body:
        return 0
    return sum(r["hits"]["total"]["value"] for r in client.msearch(body=body)["responses"])


def memberships(client: OpenSearch, names: IndexNames, definitions: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """customer id → the segments it is in (sorted), for every profile in at least one: one scan
    per segment (for checks and small indices; marketing pages through `search.segments.marketing`)."""
    found: dict[str, list[str]] = {}
    for definition in sorted(definitions, key=lambda d: d["name"])[:MAX_DEFINITIONS]:
        query = {"query": member_query(definition), "_source": False}
        for hit in scan(client, index=names.profiles, query=query, size=5000):
            found.setdefault(hit["_id"], []).append(definition["name"])
    return found
