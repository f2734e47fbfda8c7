"""What marketing gets of segments: the number of customers in each and their pseudonymous ids —
never a direct identifier, each segment's condition searched over the profiles as it is asked
(search.segments.membership) — leaving out every customer who asked for restriction, refused
profiling, or whose consents close the channel the use needs (search.access.MARKETING_CHANNELS:
one rule with what marketing may see of a customer's contact points)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.access import MARKETING_CHANNELS, purpose_clauses
from search.indices import IndexNames
from search.segments.conditions import definitions_in_force
from search.segments.membership import member_query

# Segmenting a customer is profiling (GDPR art. 4(4), 21): one who refused it is in no export.
PROFILING = "profiling"


class SegmentNotFound(LookupError):
    """No segment of that name is in force."""


def marketing_filter(consent: str | None) -> list[dict[str, Any]]:
    """The clauses every marketing read of profiles carries: no restriction, no refusal of
    profiling, and what the use needs (search.access.purpose_clauses: a channel's purpose by the
    channel's rule, another purpose granted)."""
    clauses: list[dict[str, Any]] = [
        {"bool": {"must_not": [{"term": {"restricted": True}}, {"term": {"consents_refused": PROFILING}}]}},
    ]
    if consent:
        clauses.extend(purpose_clauses(consent))
    return clauses


def _needs(definition: dict[str, Any], channel: str | None) -> list[dict[str, Any]]:
    """Filter clauses for the segment's own consent and, when given, the channel of the export."""
    needed = purpose_clauses(definition["consent"]) if definition.get("consent") else []
    if channel:
        needed += MARKETING_CHANNELS[channel].usable_clauses()
    return needed


def segment_counts(client: OpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    """Every segment in force with its label and the customers marketing may use in it, and how
    many of those may be reached by each channel."""
    definitions = definitions_in_force(client, names, "segment")
    if not definitions or not client.indices.exists(index=names.profiles):
        return [
            {"name": d["name"], "label": d["label"], "customers": 0, "reachable": dict.fromkeys(MARKETING_CHANNELS, 0)} for d in definitions
        ]
    body: list[dict[str, Any]] = []
    for definition in definitions:
        filters = [member_query(definition), *marketing_filter(None), *_needs(definition, None)]
        channels = {name: {"filter": {"bool": {"filter": channel.usable_clauses()}}} for name, channel in MARKETING_CHANNELS.items()}
        body += [{"index": names.profiles}, {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": filters}}, "aggs": channels}]
    responses = client.msearch(body=body)["responses"]
    counts = []
    for definition, response in zip(definitions, responses, strict=True):
        aggregations = response.get("aggregations", {})
        counts.append(
            {
                "name": definition["name"],
                "label": definition["label"],
                "consent": definition.get("consent"),
                "customers": response["hits"]["total"]["value"],
                "reachable": {channel: aggregations.get(channel, {}).get("doc_count", 0) for channel in MARKETING_CHANNELS},
            }
        )
    return counts


def segment_definition(client: OpenSearch, names: IndexNames, name: str) -> dict[str, Any]:
    for definition in definitions_in_force(client, names, "segment"):
        if definition["name"] == name:
            return definition
    raise SegmentNotFound(name)


def _export_query(definition: dict[str, Any], channel: str | None) -> dict[str, Any]:
    filters = [member_query(definition), *marketing_filter(None), *_needs(definition, channel)]
    return {"bool": {"filter": filters}}


def export_page(
    client: OpenSearch, names: IndexNames, name: str, channel: str | None, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    """One page of a segment's customer ids marketing may use (through `channel` when given), in
    id order; returns them and the id to continue after (None at the end)."""
    definition = segment_definition(client, names, name)
    body: dict[str, Any] = {"size": limit, "query": _export_query(definition, channel), "sort": [{"customer_id": "asc"}], "_source": False}
    body["docvalue_fields"] = ["customer_id"]
    if after:
        body["search_after"] = [after]
    hits = client.search(index=names.profiles, body=body)["hits"]["hits"]
    ids = [hit["fields"]["customer_id"][0] for hit in hits]
    return ids, (ids[-1] if len(ids) == limit else None)


def export_all(client: OpenSearch, names: IndexNames, name: str, channel: str | None) -> Iterator[str]:
    """Every customer id of a segment marketing may use (through `channel` when given), streamed."""
    definition = segment_definition(client, names, name)
    query = {"query": _export_query(definition, channel), "_source": False, "docvalue_fields": ["customer_id"]}
    for hit in scan(client, index=names.profiles, query=query, size=5000):
        yield hit["fields"]["customer_id"][0]
