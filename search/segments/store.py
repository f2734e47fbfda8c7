"""Profiles kept live: a customer's profile and segments recomputed when one of their records or
events changes (`refresh_profiles`), and every profile recomputed after a definition change or as
time passes (`recompute_all`, `rcu segments`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import parallel_bulk, scan, streaming_bulk

from analyzers.index_settings import profiles_index_body
from search.events.model import CustomerFigures
from search.events.scan import RecordTally, tally_events
from search.indices import IndexNames, ensure_versioned_index
from search.segments.conditions import active_generation, definitions_of, mark_run, percolate
from search.segments.definitions import MAX_DEFINITIONS
from search.segments.figures import figures_from_tallies, figures_of
from search.segments.profiles import ADULT_AGE, CUSTOMER_FIELDS, Household, adult_on, age_on, profile_document
from settings import Settings

log = logging.getLogger(__name__)
# Customers per round of a full run: one households search, one figures read, a few percolations.
_BATCH = 2000
# Profiles per bulk request of a whole-index write (≈ 1 KB each).
_BULK = 2000


def ensure_profiles_index(client: OpenSearch, names: IndexNames) -> None:
    ensure_versioned_index(client, names.profiles, profiles_index_body(names.layout.replicas))


def households(client: OpenSearch, names: IndexNames, customers: list[dict[str, Any]], now: datetime) -> dict[str, Household]:
    """household key → its size and the minors in it, for the households of `customers`."""
    keys = sorted({c["household_key"] for c in customers if c.get("household_key")})
    if not keys:
        return {}
    minors_born_after = now.date().replace(year=now.year - ADULT_AGE).isoformat()
    body = {
        "size": 0,
        "query": {"terms": {"household_key": keys}},
        "aggs": {
            "households": {
                "terms": {"field": "household_key", "size": len(keys)},
                "aggs": {
                    "minors": {
                        "filter": {"range": {"birth_date": {"gt": minors_born_after}}},
                        "aggs": {"eldest": {"min": {"field": "birth_date"}}},
                    }
                },
            }
        },
    }
    buckets = client.search(index=names.customers, body=body)["aggregations"]["households"]["buckets"]
    return {
        b["key"]: Household(b["doc_count"], b["minors"]["doc_count"], adult_on(b["minors"]["eldest"].get("value_as_string")))
        for b in buckets
    }


def build_profiles(
    client: OpenSearch,
    settings: Settings,
    names: IndexNames,
    customers: list[dict[str, Any]],
    now: datetime,
    percolated: bool = True,
    figures: Mapping[str, CustomerFigures] | None = None,
) -> list[dict[str, Any]]:
    """The profiles of `customers` (customers-index documents) with the segments each is in
    (without segments when not `percolated`: the caller settles memberships); their figures read
    from the events unless given (customer id → figures)."""
    homes = households(client, names, customers, now)
    if figures is None:
        figures = figures_of(client, settings, names, customers, now)
    profiles = []
    for customer in customers:
        home = homes.get(customer.get("household_key") or "")
        if home is None:
            age = age_on(customer.get("birth_date"), now.date())
            home = Household(1, int(age is not None and age < ADULT_AGE))  # the customer's own birthday dates it
        profiles.append(profile_document(customer, figures[customer["customer_id"]], home, now))
    if percolated:
        for profile, segments in zip(profiles, percolate(client, names, "segment", profiles), strict=True):
            profile["segments"] = segments
    return profiles


def refresh_profiles(
    client: OpenSearch, settings: Settings, names: IndexNames, customer_ids: list[str], now: datetime | None = None, refresh: bool = True
) -> dict[str, list[str]]:
    """Recompute the profiles of some customers now (after a record or an event of theirs changed),
    visible to searches when this returns (unless not `refresh`); a customer that no longer exists
    loses its profile. Returns customer id → its segments. With no segment defined nothing is read
    or written (one look-up of the definitions in force): the profiles index holds memberships, and
    a sheet with action rules only builds the profile it needs when it is read (`profile_of`)."""
    ids = sorted(set(customer_ids))
    if not ids or active_generation(client, names, "segment") is None:
        return {}
    ensure_profiles_index(client, names)
    now = now or datetime.now(UTC)
    docs = client.mget(index=names.customers, body={"ids": ids}, _source_includes=CUSTOMER_FIELDS)["docs"]
    customers = [doc["_source"] for doc in docs if doc.get("found")]
    gone = sorted(set(ids) - {c["customer_id"] for c in customers})
    profiles = build_profiles(client, settings, names, customers, now)
    actions: list[dict[str, Any]] = [
        {"_op_type": "index", "_index": names.profiles, "_id": p["customer_id"], "_source": p} for p in profiles
    ]
    actions += [{"_op_type": "delete", "_index": names.profiles, "_id": customer_id} for customer_id in gone]
    for ok, item in streaming_bulk(client, actions, raise_on_error=False, refresh=refresh, max_retries=6):
        result = next(iter(item.values()))
        if not ok and result.get("status") != 404:
            raise RuntimeError(f"writing profile {result.get('_id')} failed: {result.get('error')}")
    return {p["customer_id"]: p["segments"] for p in profiles}


def refresh_segments_of(client: OpenSearch, settings: Settings, names: IndexNames, customer_ids: list[str]) -> None:
    """After a batch (an event file ingested): the profiles of these customers recomputed a batch at
    a time, when segments are defined, and made visible once at the end."""
    if not customer_ids or active_generation(client, names, "segment") is None:
        return
    for start in range(0, len(customer_ids), _BATCH):
        refresh_profiles(client, settings, names, customer_ids[start : start + _BATCH], refresh=False)
    client.indices.refresh(index=names.profiles)


@dataclass
class RecomputeReport:
    customers: int = 0
    removed: int = 0
    changed: int | None = None  # memberships changed (a profile joining or leaving one segment)
    members: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rebuilt: int | None = None  # a run bringing profiles up to date: the profiles computed again
    aged: int | None = None  # … and those whose days_since_seen moved on

    def line(self) -> str:
        counts = " ".join(f"{name}={count}" for name, count in sorted(self.members.items()))
        changed = "" if self.changed is None else f" changed={self.changed}"
        daily = "" if self.rebuilt is None else f" rebuilt={self.rebuilt} aged={self.aged}"
        return f"customers={self.customers} removed={self.removed}{daily}{changed} seconds={self.seconds:.1f} {counts}".rstrip()


def _batches(client: OpenSearch, index: str, fields: list[str] | bool) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for hit in scan(client, index=index, query={"_source": fields}, size=5000, scroll="5m"):
        batch.append(hit["_source"])
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def write_profiles(
    client: OpenSearch, settings: Settings, names: IndexNames, batches: Iterable[list[dict[str, Any]]], now: datetime
) -> int:
    """The profiles of every batch of customers (customers-index documents) computed at `now` and
    written with the segments they had (memberships are settled afterwards); returns how many."""
    written = 0

    def actions() -> Iterator[dict[str, Any]]:
        nonlocal written
        for customers in batches:
            if not customers:
                continue
            profiles = build_profiles(client, settings, names, customers, now, percolated=False)
            had = _stored_segments(client, names, [p["customer_id"] for p in profiles])
            for profile in profiles:
                written += 1
                profile["segments"] = had.get(profile["customer_id"], [])
                yield {"_op_type": "index", "_index": names.profiles, "_id": profile["customer_id"], "_source": profile}

    for ok, item in parallel_bulk(client, actions(), thread_count=2, chunk_size=1000, raise_on_error=False):
        if not ok:
            result = next(iter(item.values()))
            raise RuntimeError(f"writing profile {result.get('_id')} failed: {result.get('error')}")
    return written


@contextmanager
def _refresh_paused(client: OpenSearch, index: str) -> Iterator[None]:
    """No periodic refresh of `index` while a whole-index write runs (each refresh makes a segment
    the merges then rewrite); the setting it had back afterwards. Writes asking for a refresh (the
    live path's) still get theirs."""
    current = client.indices.get_settings(index=index, name="index.refresh_interval", flat_settings=True)
    before = next((found["settings"].get("index.refresh_interval") for found in current.values()), None)  # None: the default
    client.indices.put_settings(index=index, body={"index": {"refresh_interval": "-1"}})
    try:
        yield
    finally:
        # A run killed in between left -1: that is not a setting to keep (the default then).
        restored = None if before == "-1" else before
        client.indices.put_settings(index=index, body={"index": {"refresh_interval": restored}})


def write_all_profiles(
    client: OpenSearch,
    settings: Settings,
    names: IndexNames,
    batches: Iterable[list[dict[str, Any]]],
    tallies: Mapping[str, RecordTally],
    now: datetime,
) -> tuple[int, int]:
    """The profiles of every batch of customers computed at `now` from their records' `tallies`
    (search.events.scan: the events read once), each written once with the segments it meets
    (percolated a batch at a time). Returns the profiles written and the memberships that changed
    against the profiles stored before."""
    written = changed = 0
    generation = active_generation(client, names, "segment")

    def actions() -> Iterator[dict[str, Any]]:
        nonlocal written, changed
        for customers in batches:
            figures = figures_from_tallies(client, settings, names, customers, tallies)
            profiles = build_profiles(client, settings, names, customers, now, percolated=False, figures=figures)
            meets = percolate(client, names, "segment", profiles, generation) if generation else [[] for _ in profiles]
            had = _stored_segments(client, names, [p["customer_id"] for p in profiles])
            for profile, segments in zip(profiles, meets, strict=True):
                written += 1
                changed += len(set(segments) ^ set(had.get(profile["customer_id"], [])))
                profile["segments"] = segments
                yield {"_op_type": "index", "_index": names.profiles, "_id": profile["customer_id"], "_source": profile}

    for ok, item in parallel_bulk(client, actions(), thread_count=2, chunk_size=_BULK, raise_on_error=False):
        if not ok:
            result = next(iter(item.values()))
            raise RuntimeError(f"writing profile {result.get('_id')} failed: {result.get('error')}")
    return written, changed


def recompute_all(client: OpenSearch, settings: Settings, names: IndexNames, now: datetime | None = None) -> RecomputeReport:
    """Every customer's profile recomputed and written with its segments, then every segment's
    membership settled with the definitions in force (`settle_memberships`: nothing left to move
    unless a profile changed meanwhile); profiles of customers gone since are removed.
    The figures come from one pass over the events (search.events.scan), not a search per page
    of customers; the profiles index is not refreshed while they are written."""
    started = time.monotonic()
    ensure_profiles_index(client, names)
    now = now or datetime.now(UTC)
    report = RecomputeReport()
    tallies = tally_events(client, names, now)
    with _refresh_paused(client, names.profiles):
        report.customers, changed = write_all_profiles(
            client, settings, names, _batches(client, names.customers, CUSTOMER_FIELDS), tallies, now
        )
    del tallies
    client.indices.refresh(index=names.profiles)
    stale = {"query": {"range": {"computed_at": {"lt": now.isoformat()}}}}
    report.removed = client.delete_by_query(index=names.profiles, body=stale, refresh=True, conflicts="proceed", request_timeout=3600)[
        "deleted"
    ]
    settled, report.members = settle_memberships(client, names)
    report.changed = changed + settled
    mark_run(client, names, now)
    report.seconds = time.monotonic() - started
    log.info("segments_recomputed customers=%d removed=%d seconds=%.1f", report.customers, report.removed, report.seconds)
    return report


def _stored_segments(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> dict[str, list[str]]:
    docs = client.mget(index=names.profiles, body={"ids": customer_ids}, _source_includes="segments")["docs"]
    return {doc["_id"]: doc["_source"].get("segments", []) for doc in docs if doc.get("found")}


# Painless: a profile joins or leaves one segment, its list kept sorted as percolation gives it.
_JOIN = (
    "if (ctx._source.segments == null) { ctx._source.segments = []; } "
    "if (!ctx._source.segments.contains(params.name)) { ctx._source.segments.add(params.name); Collections.sort(ctx._source.segments); } "
    "else { ctx.op = 'noop'; }"
)
_LEAVE = (
    "def leaving = params.names; "
    "if (ctx._source.segments == null || !ctx._source.segments.removeIf(s -> leaving.contains(s))) { ctx.op = 'noop'; }"
)


def settle_memberships(client: OpenSearch, names: IndexNames) -> tuple[int, dict[str, int]]:
    """Every stored profile's segments made those of the definitions in force, the search engine
    doing the work: per segment, the profiles meeting its condition and not in it join, the
    profiles in it and no longer meeting it leave, and names no longer defined are dropped — only
    the profiles whose membership changes are written. Returns the memberships changed and the
    members of each segment. The same condition, percolated against one profile (the live path)
    or searched over every profile (here), gives the same answer: both use the profile mapping."""
    generation = active_generation(client, names, "segment")
    definitions = definitions_of(client, names, "segment", generation) if generation else []
    changed = 0

    def update(query: dict[str, Any], script: str, params: dict[str, Any]) -> int:
        body = {"query": query, "script": {"source": script, "lang": "painless", "params": params}}
        # Refreshed at once: the next update reads the versions this one wrote (else a version conflict skips them).
        # A whole-index update: at 1M profiles, a segment joined by a third of them takes minutes (the
        # client's 30 s deadline cut it, and its retry ran a second update beside the first).
        response = client.update_by_query(
            index=names.profiles, body=body, conflicts="proceed", refresh=True, slices="auto", request_timeout=3600
        )
        return int(response.get("updated", 0))

    for definition in definitions:
        name, condition = definition["name"], definition["query"]
        member = {"term": {"segments": name}}
        changed += update({"bool": {"filter": [condition], "must_not": [member]}}, _JOIN, {"name": name})
        changed += update({"bool": {"filter": [member], "must_not": [condition]}}, _LEAVE, {"names": [name]})
    client.indices.refresh(index=names.profiles)
    counts = _members(client, names)
    gone = sorted(set(counts) - {d["name"] for d in definitions})
    if gone:
        changed += update({"terms": {"segments": gone}}, _LEAVE, {"names": gone})
        client.indices.refresh(index=names.profiles)
        counts = {name: count for name, count in counts.items() if name not in gone}
    return changed, counts


def _members(client: OpenSearch, names: IndexNames) -> dict[str, int]:
    body = {"size": 0, "aggs": {"segments": {"terms": {"field": "segments", "size": MAX_DEFINITIONS + 100}}}}
    buckets = client.search(index=names.profiles, body=body)["aggregations"]["segments"]["buckets"]
    return {bucket["key"]: bucket["doc_count"] for bucket in buckets}


def profile_of(client: OpenSearch, settings: Settings, names: IndexNames, customer_id: str) -> dict[str, Any] | None:
    """A customer's stored profile, computed now if it never was; None for no such customer."""
    if client.indices.exists(index=names.profiles):
        response = client.get(index=names.profiles, id=customer_id, ignore=[404])
        if response.get("found"):
            return response["_source"]
    if active_generation(client, names, "segment") is None:  # action rules only: built for this read, not stored
        response = client.get(index=names.customers, id=customer_id, _source_includes=CUSTOMER_FIELDS, ignore=[404])
        if not response.get("found"):
            return None
        (profile,) = build_profiles(client, settings, names, [response["_source"]], datetime.now(UTC))
        return profile
    # Read back with a real-time get: no refresh to wait for on a read.
    if customer_id not in refresh_profiles(client, settings, names, [customer_id], refresh=False):
        return None
    return client.get(index=names.profiles, id=customer_id)["_source"]
