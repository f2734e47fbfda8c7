"""Resolution's reads and writes in OpenSearch: records in, customers, redirects and the model out."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

import orjson
from opensearchpy import ConflictError, NotFoundError, OpenSearch
from opensearchpy.helpers import parallel_bulk, scan, streaming_bulk

from analyzers.addresses import street_key
from analyzers.index_settings import READ_BY_ID_REFRESH, customers_index_body
from search.highlights import NAME_WORDS, name_word_keys
from search.indices import IndexNames, ensure_records_index, ensure_versioned_index, index_bodies
from search.records import LIVE_RECORD, is_live
from search.resolve.blocking import KeyRule, block_bound, keys_version, one_sided_pairs, pair_budget, selective_rule
from search.resolve.comparisons import comparisons_for
from search.resolve.config import MAX_NAME_BLOCK_SIZE, ResolutionConfig
from search.resolve.errors import ModelCountsVanished, ModelMissing, ModelStale
from search.resolve.features import SOURCE_FIELDS, FeaturesOnce, RecordFeatures
from search.resolve.ids import Redirect
from search.resolve.model import MatchModel
from search.resolve.term_frequencies import (
    MODEL_ID,
    MODEL_READ_ATTEMPTS,
    BucketsGone,
    StoredCounts,
    counts_of,
    drop_other_generations,
    forget_receipts_before,
    new_generation,
    owed,
    owed_since,
    read_tables,
    settle_debts,
    settle_on,
    without_erased,
    write_tables,
)
from settings import get_settings

# How a write is made visible to searches: not waited for, refreshed now, or waited for the next refresh.
Refresh = bool | Literal["wait_for"]
log = logging.getLogger(__name__)

LIVE_RECORDS = {"bool": {"filter": [LIVE_RECORD]}}


_ENSURED: set[str] = set()


def ensure_resolution_indices(client: OpenSearch, names: IndexNames) -> None:
    """Create the customers, redirects, record links, state, possible-matches, decisions and
    identity-conflicts indices behind their aliases if missing (checked once per process) — and the
    suppression list's, so the first erasure does not pay for creating an index (a cluster state update)."""
    if names.prefix in _ENSURED:
        return
    bodies = index_bodies(names)
    aliases = (
        names.customers,
        names.redirects,
        names.record_customers,
        names.resolution_state,
        names.possible_matches,
        names.decisions,
        names.identity_conflicts,
        names.suppression,
    )
    for alias in aliases:
        ensure_versioned_index(client, alias, bodies[alias])
    # An index created by an older rcu refreshed its links each second: given the body's interval.
    client.indices.put_settings(index=names.record_customers, body={"index": READ_BY_ID_REFRESH})
    _ENSURED.add(names.prefix)


def scan_live_records(client: OpenSearch, names: IndexNames) -> Iterator[dict[str, Any]]:
    """Every live record's resolution fields, streamed (refreshed first: a run sees every record
    written before it started, whoever wrote it and however)."""
    client.indices.refresh(index=names.records)
    for hit in scan(client, index=names.records, query={"query": LIVE_RECORDS, "_source": SOURCE_FIELDS}, size=5000, scroll="5m"):
        yield hit["_source"]


def get_records(client: OpenSearch, names: IndexNames, record_ids: Iterable[str]) -> list[dict[str, Any]]:
    ids = sorted(set(record_ids))
    if not ids:
        return []
    response = client.mget(index=names.records, body={"ids": ids}, _source_includes=[*SOURCE_FIELDS, "deleted"])
    return [doc["_source"] for doc in response["docs"] if doc.get("found") and is_live(doc["_source"])]


def current_assignment(client: OpenSearch, names: IndexNames, hashes: dict[str, str] | None = None) -> dict[str, str]:
    """record_id → customer_id, as the last run left it; each customer's stored resolution hash
    (resolution_hash) into `hashes` when given."""
    assignment: dict[str, str] = {}
    for source in scan_customers(client, names):
        for record_id in source["records"]:
            assignment[record_id] = source["customer_id"]
        if hashes is not None and source.get("resolution_hash"):
            hashes[source["customer_id"]] = source["resolution_hash"]
    return assignment


def scan_links(client: OpenSearch, names: IndexNames) -> Iterator[tuple[str, str]]:
    """(record_id, customer_id) of every stored record link, streamed (refreshed first: real-time
    calls write links without refreshing them)."""
    client.indices.refresh(index=names.record_customers, ignore_unavailable=True)
    for hit in scan(client, index=names.record_customers, query={"_source": ["customer_id"]}, size=10_000):
        yield hit["_id"], hit["_source"]["customer_id"]


def resolution_hash(customer_id: str, members: list[dict[str, Any]], statements: dict[str, list[dict[str, Any]]], config_key: str) -> str:
    """A digest of everything a customer document is built from: its id, its member records as
    loaded, the statements naming them, and the rules building golden records (`config_key`). A
    full run rewrites a customer only when this differs from the one stored with it."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{config_key}|{customer_id}".encode())
    for record in sorted(members, key=lambda r: r["record_id"]):
        digest.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
        for statement in sorted(statements.get(record["record_id"], ()), key=lambda s: s["statement_id"]):
            digest.update(orjson.dumps(statement, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


@cache
def _customers_schema() -> str:
    return str(customers_index_body()["mappings"]["_meta"]["rcu_schema"])


def golden_rules_key(config: ResolutionConfig) -> str:
    """What, beside its records, decides a customer document: the source priorities and the customers
    index's schema (a new rcu building documents differently rewrites them all)."""
    return f"{_customers_schema()}|{orjson.dumps(config.source_priority, option=orjson.OPT_SORT_KEYS).decode()}"


def customers_of(client: OpenSearch, names: IndexNames, record_ids: Iterable[str]) -> dict[str, list[str]]:
    """customer_id → its record ids, for the customers holding any of `record_ids` (real-time gets)."""
    return {customer_id: document["records"] for customer_id, document in stored_customers_of(client, names, record_ids).items()}


def stored_customers_of(
    client: OpenSearch, names: IndexNames, record_ids: Iterable[str], fields: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """customer_id → its stored document (`records` and `fields`), for the customers holding any of
    `record_ids` (real-time gets)."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    links = client.mget(index=names.record_customers, body={"ids": ids})["docs"]
    customer_ids = sorted({doc["_source"]["customer_id"] for doc in links if doc.get("found")})
    if not customer_ids:
        return {}
    customers = client.mget(index=names.customers, body={"ids": customer_ids}, _source_includes=["records", *fields])["docs"]
    return {doc["_id"]: doc["_source"] for doc in customers if doc.get("found")}


def candidate_records(
    client: OpenSearch,
    names: IndexNames,
    keys_per_record: list[list[str]],
    max_block_size: int,
    max_name_block_size: int = MAX_NAME_BLOCK_SIZE,
    searchers: list[RecordFeatures] | None = None,
    features: FeaturesOnce | None = None,
) -> dict[str, dict[str, Any]]:
    """Live records sharing a blocking key with any of the given records, asked of OpenSearch (one
    search for all the keys: key_holders, their resolution fields returned with the hits); a key with more holders than
    its bound (`max_block_size`, `max_name_block_size` for a weak key) is too common to use — the
    same rule as in-memory blocking, so both paths find the same candidates. Through a selective
    key (search.resolve.blocking.KeyRule: one-sided or gated), `searchers` (one per list of keys;
    when not given, every holder is kept) find only the holders they would be paired with in memory:
    a searcher the one-sided rule does not hold for finds only holders it holds for, and a one-sided
    block past its pair budget is left out; a gated key keeps the holders its gate passes with one
    of its searchers. `features`: the holders' features, each computed once for the caller's
    whole piece of work (a holder of several selective keys is gated under each)."""
    keys = sorted({key for keys in keys_per_record for key in keys})
    if not keys:
        return {}
    searchers_of: dict[str, list[RecordFeatures]] = {}
    if searchers is not None:
        for record, record_keys in zip(searchers, keys_per_record, strict=True):
            for key in record_keys:
                searchers_of.setdefault(key, []).append(record)
    features = features or FeaturesOnce()
    bounds = {key: block_bound(key, max_block_size, max_name_block_size) for key in keys}
    holders_of = key_holders(client, names, bounds)
    found: dict[str, dict[str, Any]] = {}
    for key in keys:
        hits = holders_of.get(key)
        if hits is None:
            continue
        if (rule := selective_rule(key)) and searchers is not None:
            hits = _paired_hits(hits, rule, searchers_of.get(key, []), min(max_name_block_size, max_block_size), features)
        found.update((hit["_id"], hit["_source"]) for hit in hits)
    return found


# OpenSearch's default `index.max_inner_result_window`: a top_hits aggregation returns at most this
# many hits, so a key whose bound needs more (a large max_block_size or max_name_block_size: a
# one-sided key's bound grows with the square of the latter) is asked by a search of its own.
MAX_TOP_HITS = 100


def key_holders(client: OpenSearch, names: IndexNames, bounds: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """The live records holding each key (hits with their resolution fields), for the keys held by
    at most their bound (the others left out: too common). One search whatever the number of keys —
    a `filters` aggregation per bound, each key's holders its bucket's top hits — where one search
    per key cost a pushed record ~50 searches of every shard (bench/RESULTS.md, session 12 scale
    section). A bucket counts every live holder, so "more than the bound" is exact. Keys whose
    bound needs more hits than a top_hits returns (MAX_TOP_HITS) are asked one search each, in
    one msearch."""
    by_bound: dict[int, list[str]] = {}
    for key, bound in bounds.items():
        by_bound.setdefault(bound, []).append(key)
    large = {bound: keys for bound, keys in by_bound.items() if bound + 1 > MAX_TOP_HITS}
    holders = _holders_one_search_each(client, names, large) if large else {}
    by_bound = {bound: keys for bound, keys in by_bound.items() if bound not in large}
    if not by_bound:
        return holders
    aggregations = {
        f"bound_{bound}": {
            "filters": {"filters": {key: {"term": {"blocking_keys": key}} for key in keys}},
            "aggs": {"holders": {"top_hits": {"size": bound + 1, "_source": SOURCE_FIELDS}}},
        }
        for bound, keys in by_bound.items()
    }
    asked = sorted(key for keys in by_bound.values() for key in keys)
    body = {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": [{"terms": {"blocking_keys": asked}}, LIVE_RECORD]}},
        "aggs": aggregations,
    }
    # Not cached: the next push's answer differs (a refresh in between), and each entry would only fill the cache.
    response = client.search(index=names.records, body=body, request_cache=False)
    for bound, keys in by_bound.items():
        buckets = response["aggregations"][f"bound_{bound}"]["buckets"]
        holders.update((key, buckets[key]["holders"]["hits"]["hits"]) for key in keys if buckets[key]["doc_count"] <= bound)
    return holders


def _holders_one_search_each(client: OpenSearch, names: IndexNames, by_bound: dict[int, list[str]]) -> dict[str, list[dict[str, Any]]]:
    """key_holders for keys asked one search each (their bound past MAX_TOP_HITS), in one msearch."""
    asked = [(key, bound) for bound, keys in by_bound.items() for key in keys]
    body: list[dict[str, Any]] = []
    for key, bound in asked:
        body.append({"index": names.records})
        body.append(
            {
                "query": {"bool": {"filter": [{"term": {"blocking_keys": key}}, LIVE_RECORD]}},
                "_source": SOURCE_FIELDS,
                "size": bound + 1,
                "track_total_hits": bound + 1,
            }
        )
    responses = client.msearch(body=body)["responses"]
    holders: dict[str, list[dict[str, Any]]] = {}
    for (key, bound), response in zip(asked, responses, strict=True):
        if "error" in response:
            raise RuntimeError(f"searching the holders of a blocking key failed: {response['error']}")
        if len(hits := response["hits"]["hits"]) <= bound:
            holders[key] = hits
    return holders


def _paired_hits(
    hits: list[dict[str, Any]], rule: KeyRule, searchers: list[RecordFeatures], weak_bound: int, features: FeaturesOnce
) -> list[dict[str, Any]]:
    """The holders of a selective key its searchers are paired with (search.resolve.candidates)."""
    holders = [(hit, features.of(hit["_source"])) for hit in hits]
    if (needs := rule.pairs_need) is not None:
        needing = sum(1 for _, record in holders if needs(record))
        if not needing or one_sided_pairs(needing, len(holders)) > pair_budget(weak_bound):
            return []
        if not any(needs(searcher) for searcher in searchers):
            holders = [(hit, record) for hit, record in holders if needs(record)]
    if (gate := rule.pairs_gate) is not None:
        holders = [(hit, record) for hit, record in holders if any(gate(searcher, record) for searcher in searchers)]
    return [hit for hit, _ in holders]


def searched_only(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the look-up searches beyond the golden record and no role reads: every town, given
    name, family name and birth date its records hold (the golden one may come from another record,
    hold a slip another record does not, or be missing), and when each loyalty shop's record of the
    customer was last updated ("seen recently in this shop")."""
    visits: dict[str, str] = {}
    for record in records:
        source, at = record.get("source") or "", record.get("updated_at") or ""
        if source.startswith(LOYALTY_SOURCE) and at and at > visits.get(source, ""):
            visits[source] = at
    return {
        "towns": sorted({r["city"] for r in records if r.get("city")}),
        **{f"{field}s": sorted({r[field] for r in records if r.get(field)}) for field in ("given_name", "family_name")},
        "birth_dates": sorted({r["birth_date"] for r in records if r.get("birth_date")}),
        "shop_visits": [{"shop": source.removeprefix(LOYALTY_SOURCE), "at": at} for source, at in sorted(visits.items())],
    }


# A shop's own records come from its loyalty program: source loyalty_<shop>.
LOYALTY_SOURCE = "loyalty_"


def customer_document(customer_id: str, records: list[dict[str, Any]], golden: dict[str, Any], resolved_at: datetime) -> dict[str, Any]:
    """The customers-index document: golden fields, members, and what search needs."""
    variants = sorted({r[f] for r in records for f in ("given_name", "family_name", "birth_name") if r.get(f)})
    current = (golden.get("addresses") or [{}])[0]
    document: dict[str, Any] = {
        "customer_id": customer_id,
        "records": sorted(r["record_id"] for r in records),
        "sources": sorted({r["source"] for r in records}),
        "record_count": len(records),
        "name_variants": variants,
        **searched_only(records),
        "updated_at": max((r.get("updated_at") or "" for r in records), default="") or None,
        "resolved_at": resolved_at.isoformat(),
        **{k: v for k, v in golden.items() if k not in {"addresses"}},
        "addresses": golden.get("addresses", []),
    }
    if current:
        document.update(street=current.get("street") or None, postcode=current.get("postcode") or None, city=current.get("city") or None)
        if current.get("street") and current.get("postcode"):
            document["household_key"] = f"{street_key(current['street'])}|{current['postcode']}"
    # Each name word's foldings and sounds, for the look-up's highlights (computed here once, not per look-up).
    document[NAME_WORDS] = name_word_keys(document)
    return {k: v for k, v in document.items() if v not in (None, "", [], {})}


def customer_actions(
    names: IndexNames,
    documents: Iterable[dict[str, Any]],
    deleted_ids: Iterable[str],
    links: dict[str, str],
    unlinked: Iterable[str],
) -> Iterator[dict[str, Any]]:
    """Bulk actions writing customers, removing some, and the record → customer links that changed."""
    for document in documents:
        yield {"_op_type": "index", "_index": names.customers, "_id": document["customer_id"], "_source": document}
    for customer_id in deleted_ids:
        yield {"_op_type": "delete", "_index": names.customers, "_id": customer_id}
    for record_id, customer_id in links.items():
        yield {"_op_type": "index", "_index": names.record_customers, "_id": record_id, "_source": {"customer_id": customer_id}}
    for record_id in unlinked:
        yield {"_op_type": "delete", "_index": names.record_customers, "_id": record_id}


def send_actions(
    client: OpenSearch, actions: Iterable[dict[str, Any]], refresh: Refresh = False, request_timeout: float | None = None
) -> set[str]:
    """Bulk actions sent in order (one request per thousand), a deletion of what is not there
    accepted; with `refresh`, every index they touch is searchable once this returns. Returns the
    indices (concrete names) something changed in: a deletion of what is not there changes nothing.
    `request_timeout`: how long each request is waited for (the client's timeout when None)."""
    changed: set[str] = set()
    timeout: dict[str, Any] = {"request_timeout": request_timeout} if request_timeout else {}
    bulk = streaming_bulk(client, actions, chunk_size=1000, max_retries=6, raise_on_error=False, yield_ok=True, refresh=refresh, **timeout)
    for ok, item in bulk:
        result = next(iter(item.values()))
        if result.get("status") == 404:
            continue
        if not ok:
            raise RuntimeError(f"writing {result.get('_index')} document {result.get('_id')} failed: {result.get('error')}")
        changed.add(result["_index"])
    return changed


def write_customers(
    client: OpenSearch,
    names: IndexNames,
    documents: Iterable[dict[str, Any]],
    deleted_ids: Iterable[str],
    links: dict[str, str],
    unlinked: Iterable[str],
    bulk_threads: int = 1,
    refresh: Refresh = False,
    also: Iterable[dict[str, Any]] = (),
    chunk_bytes: int = 10 * 1024 * 1024,
    request_timeout: float | None = None,
) -> None:
    """Customers written and removed, and the record → customer links that changed; with
    `refresh`, visible to searches once this returns (bulk_threads 1 only). `also`: more bulk
    actions sent with them (a full run's few changes for the feed). Parallel writers send
    requests of up to `chunk_bytes` (one request per customer chunk costs the node more than its
    documents: bench/RESULTS.md, 2026-11-27 scale section), each waited for `request_timeout`
    seconds (the client's timeout when None): a request given up on is sent again while the node
    still indexes it, so a loaded node would index its customers twice."""
    actions = itertools.chain(customer_actions(names, documents, deleted_ids, links, unlinked), also)
    if bulk_threads <= 1:
        send_actions(client, actions, refresh, request_timeout)
        return
    # A full run writes every customer: two writers keep the node busy while Python builds the next chunk.
    timeout: dict[str, Any] = {"request_timeout": request_timeout} if request_timeout else {}
    results = parallel_bulk(
        client,
        actions,
        thread_count=bulk_threads,
        chunk_size=5000,
        max_chunk_bytes=chunk_bytes,
        raise_on_error=False,
        raise_on_exception=True,
        **timeout,
    )
    for ok, item in results:
        result = next(iter(item.values()))
        if not ok and result.get("status") != 404:
            raise RuntimeError(f"writing customer {result.get('_id')} failed: {result.get('error')}")


def redirect_actions(names: IndexNames, redirects: list[Redirect], at: datetime) -> Iterator[dict[str, Any]]:
    """Bulk actions writing one redirect per merge or split."""
    for r in redirects:
        yield {
            "_op_type": "index",
            "_index": names.redirects,
            "_id": f"{r.old_id}>{r.new_id}",
            "_source": {"old_id": r.old_id, "new_id": r.new_id, "kind": r.kind, "at": at.isoformat()},
        }


def write_redirects(client: OpenSearch, names: IndexNames, redirects: list[Redirect], at: datetime, refresh: Refresh = False) -> None:
    if redirects:
        send_actions(client, redirect_actions(names, redirects, at), refresh)


def save_model(
    client: OpenSearch, names: IndexNames, model: MatchModel, trained_from: datetime | None = None, suppression_key: bytes | None = None
) -> None:
    """Store the model: its term frequencies in buckets under a new generation
    (search.resolve.term_frequencies), then the model naming it, then the previous one's buckets go.
    `trained_from`: when the scan it was trained on started (now when None). The erasures since
    then (debts and receipts) are taken out of its counts before they are stored, and those arriving
    while it is stored after; the key is the settings' when `suppression_key` is None."""
    since = (trained_from or datetime.now(UTC)).isoformat()
    key = suppression_key or get_settings().suppression_key_bytes
    late = owed_since(client, names, since)
    if late and key is None:
        log.warning("event=model_saved_with_erased_values erasures=%d reason=no_suppression_key", len(late))
    applied = {debt["erasure"]: debt["at"] for debt in late} if key else {}
    if key:
        model.term_frequencies = without_erased(key, late, model.term_frequencies)
    generation = new_generation()
    buckets = write_tables(client, names, generation, model.term_frequencies, applied)
    stored = {k: v for k, v in model.as_dict().items() if k != "term_frequencies"}
    body = {
        "model": stored,
        "saved_at": datetime.now(UTC).isoformat(),
        "trained_from": since,
        "tf_generation": generation,
        "tf_buckets": buckets,
    }
    client.index(index=names.resolution_state, id=MODEL_ID, body=body, refresh=True)
    drop_other_generations(client, names, generation)
    if key:  # an erasure between the read above and now decremented the counts just replaced
        arrived = [debt for debt in owed_since(client, names, since) if debt["erasure"] not in applied]
        settle_on(client, names, key, StoredCounts(generation, buckets, since), arrived, model.term_frequencies)
    forget_receipts_before(client, names, since)


def model_stamp(client: OpenSearch, names: IndexNames) -> tuple[int, int] | None:
    """The stored match model's version (sequence number and primary term, which any write to it
    changes: a full run's, or an erasure's edit), without reading the model; None without one."""
    try:
        document = client.get(index=names.resolution_state, id="model", _source=False)
    except NotFoundError:
        return None
    return int(document["_seq_no"]), int(document["_primary_term"])


def read_model(client: OpenSearch, names: IndexNames, suppression_key: bytes | None = None) -> MatchModel:
    """The stored match model. ModelMissing before the first full run; ModelStale when it was
    trained on other comparison levels than this version's (stored by an older rcu). An erasure's
    debt found beside it is settled first, with `suppression_key` (the settings' when None). A full
    run saving a new model between the read of the model and of its buckets drops the buckets read:
    the model is read again (ModelCountsVanished if that keeps happening), never handed out with
    partial counts."""
    for _ in range(MODEL_READ_ATTEMPTS):
        try:
            model = _read_model_once(client, names, suppression_key)
        except BucketsGone:
            log.info("event=model_reread reason=buckets_replaced")
            continue
        if not model.compares_as(comparisons_for(model.identifiers)):
            log.warning("event=stale_match_model reason=comparison_levels_changed action=full_run")
            raise ModelStale()
        return model
    raise ModelCountsVanished()


def _read_model_once(client: OpenSearch, names: IndexNames, suppression_key: bytes | None) -> MatchModel:
    try:
        document = client.get(index=names.resolution_state, id=MODEL_ID)
    except NotFoundError:
        raise ModelMissing() from None
    model = MatchModel.from_dict(document["_source"]["model"])
    stored = counts_of(document["_source"])
    if stored:  # else stored by an earlier rcu, its counts inside (moved out by the first erasure)
        model.term_frequencies, debts = read_tables(client, names, stored)
        if debts:
            key = suppression_key or get_settings().suppression_key_bytes
            model.term_frequencies = _settled_tables(client, names, stored, debts, model.term_frequencies, key)
            model.unsettled_erasures = 0 if key else len(debts)
    return model


def _settled_tables(
    client: OpenSearch,
    names: IndexNames,
    where: StoredCounts,
    debts: list[dict[str, Any]],
    as_stored: dict[str, dict[str, int]],
    key: bytes | None,
) -> dict[str, dict[str, int]]:
    """The counts once the erasures' debts found beside them are applied (an erasure stopped after
    its records went): no erased person's value is handed to a resolution. Without the suppression
    key the values cannot be found: the debts stay, and the counts are the ones stored."""
    if key is None:
        log.error("event=model_debts_unsettled debts=%d reason=no_suppression_key action=set_RCU_SUPPRESSION_KEY", len(debts))
        return as_stored
    settle_debts(client, names, key, debts)
    return read_tables(client, names, where)[0]


def owed_erasures(client: OpenSearch, names: IndexNames) -> int:
    """How many erasures the stored model's counts still owe (a scan of the resolution state)."""
    return len(owed(client, names)) if client.indices.exists(index=names.resolution_state) else 0


def load_model(client: OpenSearch, names: IndexNames, suppression_key: bytes | None = None) -> MatchModel | None:
    """The stored match model, or None when there is none to use (read_model): the next `rcu
    resolve` is then a full run, which trains it."""
    try:
        return read_model(client, names, suppression_key)
    except ModelMissing:
        return None


def identifiers_in_use(client: OpenSearch, names: IndexNames, config: ResolutionConfig) -> tuple[str, ...]:
    """The source attributes compared and blocked on as identifiers: the trained model's
    (configured or found in the data), or the configured ones before any model exists. The one
    place ingest, real time and explanations read them from."""
    model = load_model(client, names)
    return model.identifiers if model is not None else tuple(config.extra_identifiers)


# Where the records index says whose rules made its records' stored blocking keys.
KEYS_VERSION_META = "rcu_blocking_keys"


def blocking_keys_current(client: OpenSearch, names: IndexNames) -> bool:
    """Whether every record of the index holds the keys today's rules make (search.resolve.blocking.
    keys_version): false for an index keyed by an older rcu, or reindexed (its version is not copied)."""
    (mapping,) = client.indices.get_mapping(index=names.records).values()
    return bool(mapping["mappings"].get("_meta", {}).get(KEYS_VERSION_META) == keys_version())


def mark_blocking_keys_current(client: OpenSearch, names: IndexNames) -> None:
    """Record that the index's records hold today's keys (after a full run wrote them, or on an
    empty index that this rcu will fill). The mapping's _meta is replaced whole, so it is merged.
    The keys written are made searchable first: the real-time path finds them once this returns."""
    client.indices.refresh(index=names.records)
    (mapping,) = client.indices.get_mapping(index=names.records).values()
    meta = {**mapping["mappings"].get("_meta", {}), KEYS_VERSION_META: keys_version()}
    client.indices.put_mapping(index=names.records, body={"_meta": meta})


def ensure_keyed_records_index(client: OpenSearch, names: IndexNames, body: dict[str, Any] | None = None) -> None:
    """The records index (search.indices.ensure_records_index); an empty one is marked as keyed by
    today's rules, since every record written from now on is."""
    ensure_records_index(client, names, body)
    if not blocking_keys_current(client, names) and not client.count(index=names.records)["count"]:
        mark_blocking_keys_current(client, names)


@dataclass
class Rekeyed:
    """What a rewrite of stored blocking keys did: `changed` records were written by a push since
    they were read (their push stored its own keys), `failed` ones still hold their old keys."""

    rekeyed: int = 0
    changed: int = 0
    failed: int = 0

    def add(self, other: Rekeyed) -> None:
        self.rekeyed += other.rekeyed
        self.changed += other.changed
        self.failed += other.failed


REKEY_CHUNK = 500  # records read whole and written back at once


def update_blocking_keys(
    client: OpenSearch,
    names: IndexNames,
    record_ids: Iterable[str],
    keys_of: Callable[[dict[str, Any]], list[str]],
    streams: int = 1,
) -> Rekeyed:
    """Rewrite the stored blocking keys of some records (an identifier found in the data is blocked
    on from now on, or a rule added since the records were keyed, so OpenSearch finds the candidates
    the full run found), read in chunks (a partition's records at once would hold millions of key
    strings). Each record is read as it is now, its keys made from that (`keys_of` its source) and
    written back whole at its own external version (`external_gte`): the version the ingest compares
    stays the same, so an identical copy pushed again is still `unchanged`, and a push that lands
    between the read and the write has a higher version and wins (counted as `changed`). `streams`
    chunks are read and written at once (each a read, then a bulk request: one keeps one of the
    node's write threads busy, and leaves it idle while the client makes the keys)."""
    outcome, ids = Rekeyed(), iter(record_ids)
    chunks = iter(lambda: list(itertools.islice(ids, REKEY_CHUNK)), [])
    if streams <= 1:
        for chunk in chunks:
            outcome.add(_rekey_chunk(client, names, chunk, keys_of))
    else:
        with ThreadPoolExecutor(max_workers=streams) as pool:
            # At most two chunks per stream read or held at once: the ids may be millions.
            for done in _bounded_map(pool, lambda chunk: _rekey_chunk(client, names, chunk, keys_of), chunks, 2 * streams):
                outcome.add(done)
    if outcome.failed:
        log.warning("blocking_keys_not_rewritten records=%s rewritten=%s", outcome.failed, outcome.rekeyed)
    return outcome


def _rekey_chunk(client: OpenSearch, names: IndexNames, chunk: list[str], keys_of: Callable[[dict[str, Any]], list[str]]) -> Rekeyed:
    """update_blocking_keys for one chunk of record ids: one mget, one bulk request."""
    return write_rekeyed(client, names, read_for_rekey(client, names, chunk, keys_of))


def read_for_rekey(
    client: OpenSearch, names: IndexNames, chunk: list[str], keys_of: Callable[[dict[str, Any]], list[str]]
) -> list[dict[str, Any]]:
    """The first stage of a chunk's rewrite: its live records read as they are now, as bulk actions
    writing them back with their new keys at their own external version."""
    docs = client.mget(index=names.records, body={"ids": chunk})["docs"]
    return [
        {
            "_op_type": "index",
            "_index": names.records,
            "_id": doc["_id"],
            "version": doc["_version"],
            "version_type": "external_gte",
            "_source": {**doc["_source"], "blocking_keys": keys_of(doc["_source"])},
        }
        for doc in docs
        if doc.get("found") and is_live(doc["_source"])
    ]


def write_rekeyed(client: OpenSearch, names: IndexNames, actions: list[dict[str, Any]]) -> Rekeyed:
    """The second stage: the records written back. A record erased since it was read must not come
    back: OpenSearch refuses the older version only while it remembers the delete (`index.gc_deletes`,
    60 s), so no retry waits past that (a 429 leaves the keys old: counted as failed, the next full
    run rewrites them), and a write that still *created* its record (the delete forgotten) is undone
    at once, at the sequence number it wrote (a push recreating the record meanwhile is left alone)."""
    outcome, recreated = Rekeyed(), []
    for ok, item in streaming_bulk(client, actions, chunk_size=REKEY_CHUNK, max_retries=0, raise_on_error=False, raise_on_exception=False):
        written = item["index"]
        if ok and written.get("result") == "created":
            recreated.append(written)
        elif ok:
            outcome.rekeyed += 1
        elif written.get("status") == 409:
            outcome.changed += 1
        else:
            outcome.failed += 1
    for written in recreated:  # erased since read: counted as changed, like a record a push rewrote
        outcome.changed += 1
        with contextlib.suppress(NotFoundError, ConflictError):  # gone again, or a push's copy since: that stands
            client.delete(index=names.records, id=written["_id"], if_seq_no=written["_seq_no"], if_primary_term=written["_primary_term"])
    return outcome


def _bounded_map(pool: ThreadPoolExecutor, work: Callable[[Any], Rekeyed], items: Iterator[Any], in_flight: int) -> Iterator[Rekeyed]:
    """pool.map without reading `items` ahead of `in_flight` unfinished jobs."""
    pending: deque[Future[Rekeyed]] = deque()
    for item in items:
        pending.append(pool.submit(work, item))
        if len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def last_run_watermark(client: OpenSearch, names: IndexNames) -> str | None:
    try:
        return client.get(index=names.resolution_state, id="state")["_source"]["watermark"]
    except NotFoundError:
        return None


def save_watermark(client: OpenSearch, names: IndexNames, watermark: datetime) -> None:
    client.index(index=names.resolution_state, id="state", body={"watermark": watermark.isoformat()}, refresh=True)


def records_ingested_since(client: OpenSearch, names: IndexNames, watermark: str) -> list[str]:
    """Ids of the records (tombstones included) written since `watermark` (refreshed first: every
    record written before the run started, whoever wrote it and however)."""
    client.indices.refresh(index=names.records)
    query = {"query": {"range": {"ingested_at": {"gte": watermark}}}, "_source": False}
    return [hit["_id"] for hit in scan(client, index=names.records, query=query, size=5000)]


def scan_customers(client: OpenSearch, names: IndexNames) -> Iterator[dict[str, Any]]:
    """Every customer's id, records and resolution hash, streamed."""
    query = {"_source": ["customer_id", "records", "resolution_hash"]}
    yield from (hit["_source"] for hit in scan(client, index=names.customers, query=query, size=5000))


def left_unrefreshed_by_full_run(names: IndexNames) -> list[str]:
    """What a full run writes without refreshing, besides the customers and links (bulk_write_mode
    refreshes those): redirects, possible matches, conflicts, the change feed (appended in blocks),
    the records' rewritten keys, the model. Refreshed at the run's end, so that the first reader
    after it — an erasure, which refreshes what it searches — does not pay for them: at 1M the first
    erasure after a full run paid ~0.7 s (bench/RESULTS.md, session 13 lead)."""
    return [names.redirects, names.possible_matches, names.identity_conflicts, names.changes, names.records, names.resolution_state]


@contextmanager
def bulk_write_mode(client: OpenSearch, indices: list[str], kept_replicas: list[str] | None = None) -> Iterator[None]:
    """Indices written in bulk without refreshes or replicas, restored afterwards (then refreshed):
    a full run rewrites many documents, and each refresh and replica copy makes the node do it again.
    `kept_replicas`: indices written in bulk that keep their replicas, only their periodic refresh
    stopped (the records: no run can make them again if a node is lost meanwhile). An interval left
    at -1 by a run that was killed is restored to the node's default."""
    with _bulk_settings(client, indices, drop_replicas=True), _bulk_settings(client, kept_replicas or [], drop_replicas=False):
        yield


@contextmanager
def _bulk_settings(client: OpenSearch, indices: list[str], drop_replicas: bool) -> Iterator[None]:
    if not indices:
        yield
        return
    found = client.indices.get_settings(index=",".join(indices), name="index.refresh_interval,index.number_of_replicas")
    before = {
        index: (values["settings"]["index"].get("refresh_interval"), values["settings"]["index"].get("number_of_replicas", "0"))
        for index, values in found.items()
    }
    bulk = {"refresh_interval": "-1", **({"number_of_replicas": 0} if drop_replicas else {})}
    client.indices.put_settings(index=",".join(before), body={"index": bulk})
    try:
        yield
    finally:
        for index, (interval, replicas) in before.items():
            restored = None if interval in (None, "-1") else interval
            client.indices.put_settings(index=index, body={"index": {"refresh_interval": restored, "number_of_replicas": int(replicas)}})
        client.indices.refresh(index=",".join(before))


def write_streams(client: OpenSearch, configured: int | None) -> int:
    """Bulk requests to keep in flight for a full run's writes: as configured, else one per
    processor the cluster's nodes have (a bulk request keeps one write thread busy), from 2 to 8."""
    if configured:
        return configured
    nodes = client.nodes.info(metric="os")["nodes"].values()
    return max(2, min(8, sum(int(node["os"].get("allocated_processors", 1)) for node in nodes)))


def node_cpu_ms(client: OpenSearch) -> int:
    """CPU time every node of the cluster has used so far (ms): a stage's cost on the engine's side."""
    nodes = client.nodes.stats(metric="process")["nodes"].values()
    return sum(int(node["process"]["cpu"]["total_in_millis"]) for node in nodes)
