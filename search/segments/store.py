"""Profiles kept live: a customer's profile recomputed when one of their records or events changes
(`refresh_profiles`), and every profile recomputed as time passes (`recompute_all`, `rcu segments`).
A profile holds no membership: a segment is its condition searched over the profiles
(search.segments.membership).

Every profile is written with the moment its inputs began to be read as its external version
(`_versioned`, `read_moment`): a profile read later — the live path's, while a whole-index run writes
what it read before — is never overwritten by one read earlier. The version is the wall clock of
the reading, not the `now` a profile is computed for (a run may compute for another day).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import parallel_bulk, streaming_bulk

from analyzers.index_settings import profiles_index_body
from search.events.model import CustomerFigures
from search.events.scan import RecordTally, records_holding, tally_events
from search.indices import IndexNames, ensure_versioned_index
from search.read_ahead import pages_ahead
from search.segments.conditions import active_generation, definitions_of, mark_run
from search.segments.figures import figures_from_tallies, figures_of
from search.segments.membership import segment_members
from search.segments.profiles import ADULT_AGE, CUSTOMER_FIELDS, Household, adult_on, age_on, profile_document
from settings import Settings

log = logging.getLogger(__name__)
# Customers per round of a full run: one households search, one figures read, a few percolations.
_BATCH = 2000
# Profiles per bulk request of a whole-index write (≈ 1 KB each).
_BULK = 2000
# Customers per scroll page of a whole-index run (≈ 0.5 KB each of CUSTOMER_FIELDS).
_SCAN_PAGE = 10_000
# What a whole-index write reads of each item of a bulk answer: not its index name, version,
# sequence number and shards (≈ 200 bytes an item, parsed for nothing: 3% of a first run's CPU
# in this process, py-spy, 100,000 synthetic customers, session 16).
_BULK_ITEM_KEYS = "items.*._id,items.*.status,items.*.error"


def ensure_profiles_index(client: OpenSearch, names: IndexNames) -> None:
    ensure_versioned_index(client, names.profiles, profiles_index_body(names.layout.replicas))


def _minors_born_after(now: datetime) -> str:
    """A customer born after this day (`strict_date`, as the customers index holds birth dates) is a minor at `now`."""
    return now.date().replace(year=now.year - ADULT_AGE).isoformat()


def households(client: OpenSearch, names: IndexNames, customers: list[dict[str, Any]], now: datetime) -> dict[str, Household]:
    """household key → its size and the minors in it, for the households of `customers`."""
    keys = sorted({c["household_key"] for c in customers if c.get("household_key")})
    if not keys:
        return {}
    minors_born_after = _minors_born_after(now)
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


def households_of_members(members: Iterable[dict[str, Any]], now: datetime) -> dict[str, Household]:
    """household key → its size and the minors in it, from every member of each household
    (customers-index documents): what `households` searches, for a run that reads every customer
    anyway — the customers' scroll sorted by household key hands each household over whole
    (`_household_batches`). Birth dates compare as text: the index holds them as `strict_date`."""
    born_after = _minors_born_after(now)
    sizes: Counter[str] = Counter()
    minors: Counter[str] = Counter()
    eldest: dict[str, str] = {}
    for member in members:
        key = member.get("household_key")
        if not key:
            continue
        sizes[key] += 1
        born = member.get("birth_date")
        if born and born > born_after:
            minors[key] += 1
            if key not in eldest or born < eldest[key]:
                eldest[key] = born
    return {key: Household(size, minors[key], adult_on(eldest.get(key))) for key, size in sizes.items()}


def build_profiles(
    client: OpenSearch,
    settings: Settings,
    names: IndexNames,
    customers: list[dict[str, Any]],
    now: datetime,
    figures: Mapping[str, CustomerFigures] | None = None,
    homes: Mapping[str, Household] | None = None,
) -> list[dict[str, Any]]:
    """The profiles of `customers` (customers-index documents); their figures read from the events
    and their households searched unless given (customer id → figures, household key → household)."""
    if homes is None:
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
    return profiles


def read_moment() -> int:
    """Now on the wall clock, in milliseconds: the version of the profiles about to be read."""
    return time.time_ns() // 1_000_000


def _versioned(index: str, profile: dict[str, Any], version: int) -> dict[str, Any]:
    """The bulk action writing `profile`, whose inputs began to be read at `version`
    (`read_moment`), unless the stored one was read later."""
    return {
        "_op_type": "index",
        "_index": index,
        "_id": profile["customer_id"],
        "_source": profile,
        "version": version,
        "version_type": "external_gte",
    }


def _newer_kept(item: dict[str, Any]) -> bool:
    """A bulk item refused because the stored profile was computed later: that one stays."""
    result = next(iter(item.values()))
    return result.get("status") == 409


def refresh_profiles(
    client: OpenSearch, settings: Settings, names: IndexNames, customer_ids: list[str], now: datetime | None = None, refresh: bool = True
) -> list[str]:
    """Recompute the profiles of some customers now (after a record or an event of theirs changed),
    visible to searches — so in or out of every segment — when this returns (unless not `refresh`);
    a customer that no longer exists loses its profile. Returns the customers whose profile was
    computed (a profile stored computed later than `now` stays). With no segment defined nothing is read
    or written (one look-up of the definitions in force): the profiles index holds memberships, and
    a sheet with action rules only builds the profile it needs when it is read (`profile_of`)."""
    ids = sorted(set(customer_ids))
    if not ids or active_generation(client, names, "segment") is None:
        return []
    ensure_profiles_index(client, names)
    now = now or datetime.now(UTC)
    version = read_moment()
    docs = client.mget(index=names.customers, body={"ids": ids}, _source_includes=CUSTOMER_FIELDS)["docs"]
    customers = [doc["_source"] for doc in docs if doc.get("found")]
    gone = sorted(set(ids) - {c["customer_id"] for c in customers})
    profiles = build_profiles(client, settings, names, customers, now)
    actions: list[dict[str, Any]] = [_versioned(names.profiles, p, version) for p in profiles]
    actions += [{"_op_type": "delete", "_index": names.profiles, "_id": customer_id} for customer_id in gone]
    for ok, item in streaming_bulk(client, actions, raise_on_error=False, refresh=refresh, max_retries=6):
        result = next(iter(item.values()))
        if not ok and result.get("status") != 404 and not _newer_kept(item):
            raise RuntimeError(f"writing profile {result.get('_id')} failed: {result.get('error')}")
    return [p["customer_id"] for p in profiles]


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
    changed: int | None = None  # memberships a definition change moved (a profile joining or leaving one segment)
    members: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rebuilt: int | None = None  # a run bringing profiles up to date: the profiles computed again
    aged: int | None = None  # … and those whose days_since_seen moved on
    kept_live: int = 0  # profiles the live path computed after this run began: not overwritten

    def line(self) -> str:
        counts = " ".join(f"{name}={count}" for name, count in sorted(self.members.items()))
        changed = "" if self.changed is None else f" changed={self.changed}"
        daily = "" if self.rebuilt is None else f" rebuilt={self.rebuilt} aged={self.aged}"
        live = f" kept_live={self.kept_live}" if self.kept_live else ""
        return f"customers={self.customers} removed={self.removed}{daily}{changed}{live} seconds={self.seconds:.1f} {counts}".rstrip()


def _household_batches(
    client: OpenSearch, index: str, now: datetime
) -> Generator[tuple[list[dict[str, Any]], dict[str, Household]], None, None]:
    """Every customer of `index` (CUSTOMER_FIELDS), about _BATCH at a time, each batch with its
    households (`households_of_members`), the scroll's pages read ahead. The scroll is sorted by
    household key, so a household's members come one after the other and a batch ends only where a
    household does: its households are whole in it, and no households search is needed — the
    search per batch cost the node ≈ 79 µs per customer (100,000 synthetic customers, session 15)."""
    batch: list[dict[str, Any]] = []
    sort = [{"household_key": {"order": "asc", "missing": "_last"}}]
    with closing(pages_ahead(client, index, {"_source": CUSTOMER_FIELDS, "sort": sort}, _SCAN_PAGE)) as pages:
        for page in pages:
            for hit in page:
                customer = hit["_source"]
                if len(batch) >= _BATCH and (
                    not customer.get("household_key") or customer["household_key"] != batch[-1].get("household_key")
                ):
                    yield batch, households_of_members(batch, now)
                    batch = []
                batch.append(customer)
    if batch:
        yield batch, households_of_members(batch, now)


def _write_versioned(client: OpenSearch, profiles: Iterable[dict[str, Any]], index: str, version: int) -> int:
    """Write `profiles`, read from `version` on (`_versioned`); returns how many were left as
    stored because the stored one was read later (the live path's, meanwhile)."""
    kept = 0
    actions = (_versioned(index, profile, version) for profile in profiles)
    for ok, item in parallel_bulk(client, actions, thread_count=2, chunk_size=_BULK, raise_on_error=False, filter_path=_BULK_ITEM_KEYS):
        if not ok:
            if not _newer_kept(item):
                result = next(iter(item.values()))
                raise RuntimeError(f"writing profile {result.get('_id')} failed: {result.get('error')}")
            kept += 1
    return kept


def write_profiles(
    client: OpenSearch, settings: Settings, names: IndexNames, batches: Iterable[list[dict[str, Any]]], now: datetime
) -> int:
    """The profiles of every batch of customers (customers-index documents) computed at `now` and
    written; returns how many were computed."""
    written, version = 0, read_moment()

    def profiles() -> Iterator[dict[str, Any]]:
        nonlocal written
        for customers in batches:
            if customers:
                built = build_profiles(client, settings, names, customers, now)
                written += len(built)
                yield from built

    _write_versioned(client, profiles(), names.profiles, version)
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
    batches: Iterable[tuple[list[dict[str, Any]], Mapping[str, Household]]],
    tallies: Mapping[str, RecordTally],
    now: datetime,
    read_at: int,
    held: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[int, int]:
    """The profiles of every batch of customers (with the households they are in, whole:
    `_household_batches`) computed at `now` from their records' `tallies`
    (search.events.scan: the events read once) and the records stating a holding (`held`, read
    once here unless given), whose reading began at `read_at` (`read_moment`),
    each written once. Returns the profiles computed and those left as stored because the live
    path read them after `read_at`."""
    written = 0
    if held is None:
        held = records_holding(client, names, settings.events_holding_attributes)

    def profiles() -> Iterator[dict[str, Any]]:
        nonlocal written
        for customers, homes in batches:
            figures = figures_from_tallies(settings, customers, tallies, held)
            built = build_profiles(client, settings, names, customers, now, figures=figures, homes=homes)
            written += len(built)
            yield from built

    kept = _write_versioned(client, profiles(), names.profiles, read_at)
    return written, kept


def recompute_all(client: OpenSearch, settings: Settings, names: IndexNames, now: datetime | None = None) -> RecomputeReport:
    """Every customer's profile recomputed at `now` and written (a profile the live path read
    after this run began reading stays); profiles of customers gone since are removed, and every segment's members
    counted. The figures come from one pass over the events (search.events.scan), not a search per
    page of customers; the profiles index is not refreshed while they are written."""
    started = time.monotonic()
    ensure_profiles_index(client, names)
    now = now or datetime.now(UTC)
    report = RecomputeReport()
    read_at = read_moment()
    # The records stating a holding are read while the events are summed up: both are scrolls
    # whose pages the node serves while this process works on the other's (search.read_ahead).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rcu-records-holding") as reader:
        holding = reader.submit(records_holding, client, names, settings.events_holding_attributes)
        tallies = tally_events(client, names, now)
        held = holding.result()
    # A customers' page some shard did not answer raises (search.read_ahead.ScrollIncomplete) here,
    # before the stale profiles are removed: its customers' profiles are not stale.
    with _refresh_paused(client, names.profiles), closing(_household_batches(client, names.customers, now)) as batches:
        report.customers, report.kept_live = write_all_profiles(client, settings, names, batches, tallies, now, read_at, held)
    del tallies, held
    client.indices.refresh(index=names.profiles)
    stale = {"query": {"range": {"computed_at": {"lt": now.isoformat()}}}}
    report.removed = client.delete_by_query(index=names.profiles, body=stale, refresh=True, conflicts="proceed", request_timeout=3600)[
        "deleted"
    ]
    report.members = members_in_force(client, names)
    mark_run(client, names, now)
    report.seconds = time.monotonic() - started
    log.info(
        "segments_recomputed customers=%d removed=%d kept_live=%d seconds=%.1f",
        report.customers,
        report.removed,
        report.kept_live,
        report.seconds,
    )
    return report


def members_in_force(client: OpenSearch, names: IndexNames) -> dict[str, int]:
    """segment name → its members, for the segments in force (search.segments.membership)."""
    generation = active_generation(client, names, "segment")
    return segment_members(client, names, definitions_of(client, names, "segment", generation)) if generation else {}


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
