"""`rcu segments` as time passes: every profile brought up to date without computing every
customer's figures again.

The live path (search.segments.store.refresh_profiles) recomputes a customer's profile whenever one
of its records, events or consents changes. What it cannot see is time passing, and a neighbour
joining or leaving a household. A run at `now` after an earlier one therefore only:

1. moves `days_since_seen` on, on the node (one update-by-query; a profile whose value is already
   right is not written) — only when a segment's condition names it: every profile seen moves on
   every day, and rewriting them all costs more than the rest of the run (87 µs of the node's CPU
   a profile at 100,000 customers, bench/RESULTS.md). A condition on the date instead,
   `last_seen:<=now-183d`, is evaluated by OpenSearch at the moment it runs and needs no rewrite;
2. computes again the profiles that time alone made stale: each profile stores `valid_until`
   (search.segments.profiles.valid_until: a birthday, a household's minor coming of age, an event
   leaving the 12 months), found by one range query;
3. computes again the profiles of the households whose members disagree (one pass over the
   profiles' doc values: members counted against `household_size`, minors against `children`);
4. counts every segment's members (search.segments.membership: a segment is its condition
   searched over the profiles, nothing to settle).

Every profile is recomputed instead (`recompute_all`) when no earlier run is recorded — the first
run, segments newly defined, events expired by retention — or when profiles and customers are not
one to one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.segments.conditions import active_generation, definitions_of, last_run, mark_run
from search.segments.membership import memberships_moved, segment_members
from search.segments.profiles import ADULT_AGE, CUSTOMER_FIELDS
from search.segments.store import RecomputeReport, ensure_profiles_index, members_in_force, recompute_all, write_profiles
from settings import Settings

log = logging.getLogger(__name__)
_BATCH = 2000
# Households per page of the households' check (≈ 150 bytes each in the answer).
_HOUSEHOLDS_PAGE = 10_000
# Painless: days_since_seen as profile_document computes it (whole days, rounded down), written
# only when it moved.
_AGE_LAST_SEEN = (
    "long ms = params.now - ZonedDateTime.parse(ctx._source.last_seen).toInstant().toEpochMilli(); "
    "long days = ms / 86400000L; if (ms < 0 && ms % 86400000L != 0) { days -= 1; } "
    "if (ctx._source.days_since_seen != null && ctx._source.days_since_seen == days) { ctx.op = 'noop'; } "
    "else { ctx._source.days_since_seen = days; }"
)


def bring_up_to_date(client: OpenSearch, settings: Settings, names: IndexNames, now: datetime | None = None) -> RecomputeReport:
    """Every profile as a full recompute at `now` would leave it, computing again only what time
    and households changed since the last run (module docstring)."""
    now = now or datetime.now(UTC)
    ensure_profiles_index(client, names)
    previous = last_run(client, names)
    client.indices.refresh(index=[names.profiles, names.customers])
    customers = client.count(index=names.customers)["count"]
    if previous is None or previous > now or client.count(index=names.profiles)["count"] != customers:
        return recompute_all(client, settings, names, now)
    started = time.monotonic()
    aged = _age_last_seen(client, names, now) if _named_in_conditions(client, names, "days_since_seen") else 0
    report = RecomputeReport(customers=customers, aged=aged)
    report.rebuilt = _rebuild(client, settings, names, _due(client, names, now), now)
    report.rebuilt += _rebuild(client, settings, names, _out_of_step_households(client, names), now)
    report.members = members_in_force(client, names)
    mark_run(client, names, now)
    report.seconds = time.monotonic() - started
    log.info(
        "segments_brought_up_to_date customers=%d rebuilt=%d aged=%d seconds=%.1f", customers, report.rebuilt, report.aged, report.seconds
    )
    return report


def reevaluate_all(
    client: OpenSearch, names: IndexNames, now: datetime | None = None, before: list[dict[str, Any]] | None = None
) -> RecomputeReport:
    """After a definition change only: nothing to write for the memberships (a segment is its
    condition searched over the profiles); the members of each segment counted, and how many
    memberships the change moved against the definitions in force `before` it (when given). Profiles
    are as current as the live path and the last run left them; their day counts are moved on first
    when a condition in force names `days_since_seen` (a stored count is as of when its profile was
    computed)."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    ensure_profiles_index(client, names)
    client.indices.refresh(index=names.profiles)
    report = RecomputeReport(customers=client.count(index=names.profiles)["count"])
    report.aged = _age_last_seen(client, names, now) if _named_in_conditions(client, names, "days_since_seen") else 0
    generation = active_generation(client, names, "segment")
    after = definitions_of(client, names, "segment", generation) if generation else []
    report.members = segment_members(client, names, after)
    if before is not None:
        report.changed = memberships_moved(client, names, before, after)
    report.seconds = time.monotonic() - started
    log.info(
        "segments_reevaluated customers=%d aged=%d changed=%s seconds=%.1f", report.customers, report.aged, report.changed, report.seconds
    )
    return report


def _named_in_conditions(client: OpenSearch, names: IndexNames, field: str) -> bool:
    """Whether a segment condition in force names `field` (in the query DSL or in Lucene syntax).
    Action rules are percolated against the profile with its day count made current when the
    sheet is read (search.actions.sheet)."""
    generation = active_generation(client, names, "segment")
    definitions = definitions_of(client, names, "segment", generation) if generation else []
    return any(field in json.dumps(definition["query"]) for definition in definitions)


def _age_last_seen(client: OpenSearch, names: IndexNames, now: datetime) -> int:
    script = {"source": _AGE_LAST_SEEN, "lang": "painless", "params": {"now": int(now.timestamp() * 1000)}}
    body = {"query": {"exists": {"field": "last_seen"}}, "script": script}
    response = client.update_by_query(index=names.profiles, body=body, conflicts="proceed", refresh=True, slices=2, request_timeout=3600)
    return int(response.get("updated", 0))


def _due(client: OpenSearch, names: IndexNames, now: datetime) -> list[str]:
    query = {"query": {"range": {"valid_until": {"lte": now.isoformat()}}}, "_source": False}
    return [hit["_id"] for hit in scan(client, index=names.profiles, query=query, size=5000)]


def _out_of_step_households(client: OpenSearch, names: IndexNames) -> list[str]:
    """The customers of every household whose profiles disagree with its members: a member came or
    went (size), a minor was born into it or came of age (children). One composite aggregation paged
    over the households in the order of their keys — each page reads the doc values of its own
    households' profiles only — each household's members counted against the size and children
    its profiles state (a profile stating none counts as -1, so it disagrees). Reading every
    profile's doc values through the fetch phase instead cost the node ≈ 55 µs per customer
    (100,000 synthetic customers, bench/RESULTS.md session 18)."""
    stated = {
        f"{field}_{end}": {end: {"field": field, "missing": -1}} for field in ("household_size", "children") for end in ("min", "max")
    }
    composite: dict[str, Any] = {"size": _HOUSEHOLDS_PAGE, "sources": [{"household": {"terms": {"field": "household"}}}]}
    aggs = {"households": {"composite": composite, "aggs": {**stated, "minors": {"filter": {"range": {"age": {"lt": ADULT_AGE}}}}}}}
    body = {"size": 0, "query": {"exists": {"field": "household"}}, "aggs": aggs}
    wrong: list[str] = []
    while True:
        page = client.search(index=names.profiles, body=body)["aggregations"]["households"]
        for bucket in page["buckets"]:
            size, children = bucket["household_size_min"]["value"], bucket["children_min"]["value"]
            agree = size == bucket["household_size_max"]["value"] and children == bucket["children_max"]["value"]
            if not agree or (size, children) != (bucket["doc_count"], bucket["minors"]["doc_count"]):
                wrong.append(bucket["key"]["household"])
        if not page["buckets"] or "after_key" not in page:
            break
        composite["after"] = page["after_key"]
    ids: list[str] = []
    for start in range(0, len(wrong), 1000):
        query = {"query": {"terms": {"household": wrong[start : start + 1000]}}, "_source": False}
        ids += [hit["_id"] for hit in scan(client, index=names.profiles, query=query, size=5000)]
    return ids


def _rebuild(client: OpenSearch, settings: Settings, names: IndexNames, customer_ids: list[str], now: datetime) -> int:
    """The profiles of these customers computed again at `now` (a customer gone loses its profile)."""
    if not customer_ids:
        return 0
    gone: list[str] = []

    def batches() -> Iterator[list[dict[str, Any]]]:
        for start in range(0, len(customer_ids), _BATCH):
            docs = client.mget(index=names.customers, body={"ids": customer_ids[start : start + _BATCH]}, _source_includes=CUSTOMER_FIELDS)
            gone.extend(doc["_id"] for doc in docs["docs"] if not doc.get("found"))
            yield [doc["_source"] for doc in docs["docs"] if doc.get("found")]

    rebuilt = write_profiles(client, settings, names, batches(), now)
    for customer_id in gone:
        client.delete(index=names.profiles, id=customer_id, ignore=[404])
    client.indices.refresh(index=names.profiles)
    return rebuilt
