"""The change feed (GET /v1/changes): what happened to customers, in order, so every source system
can write golden ids back, follow merges and splits, and apply erasures and opt-outs (GDPR art. 19).

Each change is a document of `<prefix>-changes` with a sequence number `seq`. Writers reserve a
block of numbers with one atomic update of a counter (`<prefix>-sequences`), then write the block;
readers refresh before reading. A reader asks for `seq > cursor` and returns only the run without holes: a hole is a
writer between reserving and writing, so the reader stops there — unless a later change is older
than `changes_gap_timeout_s`, when the hole is a writer that died and is stepped over. A consumer
that keeps the last `seq` it handled as its cursor therefore gets every change once, in order,
across restarts of either side. Changes carry ids, sources and field names, never personal values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from analyzers.index_settings import READ_BY_ID_REFRESH, changes_index_body, sequences_index_body
from search.indices import IndexNames, ensure_versioned_index

# Golden fields whose change is an `updated` change (consents have a kind of their own).
WATCHED_FIELDS = (
    "given_name",
    "family_name",
    "birth_name",
    "birth_date",
    "civility",
    "emails",
    "phones",
    "loyalty_cards",
    "street",
    "postcode",
    "city",
    "records",
)
CONSENT_FIELDS = ("consents", "restricted")
_GET_CHUNK = 1000
BLOCK = 2000  # changes numbered and written per bulk request


_ENSURED: set[str] = set()


def ensure_changes_indices(client: OpenSearch, names: IndexNames) -> None:
    """Create the changes and sequences indices if missing (checked once per process)."""
    if names.prefix in _ENSURED:
        return
    ensure_versioned_index(client, names.changes, changes_index_body(names.layout.replicas))
    ensure_versioned_index(client, names.sequences, sequences_index_body(names.layout.replicas))
    # An index created by an older rcu refreshed its counters each second: given the body's interval.
    client.indices.put_settings(index=names.sequences, body={"index": READ_BY_ID_REFRESH})
    _ENSURED.add(names.prefix)


COMPARED_FIELDS = (*WATCHED_FIELDS, *CONSENT_FIELDS, "sources", "consent_history")


def previous_customers(
    client: OpenSearch, names: IndexNames, customer_ids: list[str], stored: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """The stored documents of customers about to be rewritten (real-time gets), to compare with.
    `stored`: the caller read them already (with COMPARED_FIELDS), every one that exists."""
    if stored is not None:
        return {customer_id: stored[customer_id] for customer_id in customer_ids if customer_id in stored}
    found: dict[str, dict[str, Any]] = {}
    fields = list(COMPARED_FIELDS)
    for start in range(0, len(customer_ids), _GET_CHUNK):
        chunk = customer_ids[start : start + _GET_CHUNK]
        docs = client.mget(index=names.customers, body={"ids": chunk}, _source_includes=fields, ignore=[404]).get("docs", [])
        found.update((doc["_id"], doc["_source"]) for doc in docs if doc.get("found"))
    return found


def redirect_changes(
    redirects: list[tuple[str, str, str]], written: dict[str, dict[str, Any]], previous: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """`merged` and `split` changes of (old_id, new_id, kind) redirects; `written` are the new
    documents by id, `previous` the stored ones of every id named."""
    changes = []
    for old_id, new_id, kind in redirects:
        survivor = written.get(new_id) or previous.get(new_id) or {}
        before = previous.get(old_id) or {}
        changes.append(
            {
                "kind": "merged" if kind == "merge" else "split",
                "customer_id": new_id,
                "old_id": old_id,
                "new_id": new_id,
                "sources": sorted({*before.get("sources", []), *survivor.get("sources", [])}),
                "records": survivor.get("records", []),
            }
        )
    return changes


def document_changes(documents: list[dict[str, Any]], previous: dict[str, dict[str, Any]], split_off: set[str]) -> list[dict[str, Any]]:
    """`created` (unless split off: the split says it), `updated` with the golden fields that
    changed, and `consent_changed` with the purposes, between stored and new documents."""
    changes: list[dict[str, Any]] = []
    for document in documents:
        customer_id = document["customer_id"]
        before = previous.get(customer_id)
        common = {
            "customer_id": customer_id,
            "sources": sorted({*document.get("sources", []), *(before or {}).get("sources", [])}),
            "records": document.get("records", []),
        }
        if before is None:
            if customer_id not in split_off:
                changes.append({"kind": "created", **common, "fields": [f for f in WATCHED_FIELDS if document.get(f)]})
            continue
        fields = [f for f in WATCHED_FIELDS if document.get(f) != before.get(f)]
        if fields:
            changes.append({"kind": "updated", **common, "fields": fields})
        if any(document.get(f) != before.get(f) for f in CONSENT_FIELDS):
            changes.append({"kind": "consent_changed", **common, "fields": sorted(_changed_purposes(before, document))})
    return changes


def removed_changes(removed: list[str], previous: dict[str, dict[str, Any]], merged_away: set[str]) -> list[dict[str, Any]]:
    """`removed`: customers gone without a merge (every record deleted)."""
    return [
        {"kind": "removed", "customer_id": customer_id, "sources": (previous.get(customer_id) or {}).get("sources", []), "records": []}
        for customer_id in removed
        if customer_id not in merged_away
    ]


def erased_change(customer_id: str, erased_ids: list[str], record_ids: list[str]) -> dict[str, Any]:
    """The `erased` change: the notice every source system needs to apply an erasure (GDPR art. 19).
    It names the golden ids erased (the customer's and those merged into it) and, for each reader,
    the records of its own sources (`source:source_id`, cut by read_changes) — nothing else of the
    person. The record keys are pseudonymous identifiers of an erased person: they are kept for the
    notice period only (`erasure_notice_days`), then no reader gets them and `rcu retention --apply`
    drops them from the index (expire_erasure_notices)."""
    records = sorted(set(record_ids))
    return {
        "kind": "erased",
        "customer_id": customer_id,
        "erased_ids": sorted(set(erased_ids)),
        "sources": sorted({record_id.partition(":")[0] for record_id in records}),
        "records": records,
    }


def _notice_expired(change: dict[str, Any], cutoff: str | None) -> bool:
    return cutoff is not None and change.get("kind") == "erased" and change["at"] < cutoff


def expire_erasure_notices(client: OpenSearch, names: IndexNames, before: datetime) -> int:
    """Drop the record keys of `erased` changes written before `before` (their notice period is
    over: every reader stopped getting them then). Returns the changes rewritten."""
    if not client.indices.exists(index=names.changes):
        return 0
    client.indices.refresh(index=names.changes)  # erasures write their change unrefreshed
    query = {
        "bool": {"filter": [{"term": {"kind": "erased"}}, {"range": {"at": {"lt": before.isoformat()}}}, {"exists": {"field": "records"}}]}
    }
    response = client.update_by_query(
        index=names.changes,
        body={"query": query, "script": {"source": "ctx._source.records = []", "lang": "painless"}},
        refresh=True,
        conflicts="proceed",
    )
    return int(response.get("updated", 0))


def _changed_purposes(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    old, new = before.get("consents") or {}, after.get("consents") or {}
    purposes = {p for p in old.keys() | new.keys() if (old.get(p) or {}).get("status") != (new.get(p) or {}).get("status")}
    if bool(before.get("restricted")) != bool(after.get("restricted")):
        purposes.add("restriction")
    return purposes


def reserve(client: OpenSearch, names: IndexNames, count: int) -> int:
    """Reserve `count` sequence numbers; returns the first. One atomic update of the counter."""
    response = client.update(
        index=names.sequences,
        id="changes",
        body={"script": {"source": "ctx._source.next += params.n", "params": {"n": count}}, "upsert": {"next": count}},
        _source=True,
        retry_on_conflict=50,
    )
    return int(response["get"]["_source"]["next"]) - count + 1


def numbered_changes(client: OpenSearch, names: IndexNames, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bulk actions writing `changes` under sequence numbers reserved now (one atomic update): for a
    caller that sends them in its own bulk request, with what it writes (a real-time resolution's
    customers), so the feed costs one round trip more, not two. At most one block of changes."""
    if not changes:
        return []
    if len(changes) > BLOCK:
        raise ValueError(f"at most {BLOCK} changes are numbered at once; append_changes writes more")
    ensure_changes_indices(client, names)
    first = reserve(client, names, len(changes))
    at = datetime.now(UTC).isoformat()
    return [
        {"_op_type": "index", "_index": names.changes, "_id": str(first + i), "_source": {**change, "seq": first + i, "at": at}}
        for i, change in enumerate(changes)
    ]


def append_changes(client: OpenSearch, names: IndexNames, changes: list[dict[str, Any]]) -> None:
    """Number the changes and write them, a block at a time: a block's numbers are reserved only
    when it is written, so a hole in the feed lasts one bulk request, whatever the run's size.
    Readers refresh: no refresh is paid per real-time write."""
    for start in range(0, len(changes), BLOCK):
        actions = numbered_changes(client, names, changes[start : start + BLOCK])
        for ok, item in streaming_bulk(client, actions, chunk_size=BLOCK, max_retries=6, raise_on_error=False, yield_ok=False):
            if not ok:
                raise RuntimeError(f"writing change {item['index'].get('_id')} failed: {item['index'].get('error')}")
    if len(changes) > BLOCK:
        # A full run's changes made searchable now, rather than by the first reader or erasure after it
        # (bench/RESULTS.md: the first erasure after a 1M full run paid ~1 s for this refresh).
        client.indices.refresh(index=names.changes)


@dataclass
class ChangePage:
    changes: list[dict[str, Any]]
    cursor: int  # the position to resume from: the last seq read (seen or filtered out)
    more: bool


def read_changes(
    client: OpenSearch,
    names: IndexNames,
    since: int,
    limit: int,
    bound: Callable[[str], bool] | None,
    gap_timeout_s: float,
    notice_days: float | None = None,
) -> ChangePage:
    """Changes after `since`, in order, at most `limit` positions, as far as there is no hole;
    only those touching a source the reader is `bound` to (all when None), their record refs cut
    to those sources. An `erased` change older than `notice_days` comes without its record keys
    (erased_change), whether or not `rcu retention --apply` dropped them yet."""

    client.indices.refresh(index=names.changes, ignore_unavailable=True)
    response = client.search(
        index=names.changes,
        body={"query": {"range": {"seq": {"gt": since}}}, "sort": [{"seq": "asc"}], "size": limit + 1, "track_total_hits": False},
        ignore_unavailable=True,
        # The documents only: each hit's _index, _id, _score and sort values are a quarter of the bytes
        # the node writes and the API parses per change, and nothing reads them.
        filter_path="hits.hits._source",
    )
    hits = [hit["_source"] for hit in response.get("hits", {}).get("hits", [])]
    window, more = hits[:limit], len(hits) > limit
    now = datetime.now(UTC)
    cutoff = (now - timedelta(seconds=gap_timeout_s)).isoformat()
    notice_cutoff = None if notice_days is None else (now - timedelta(days=notice_days)).isoformat()
    cursor = since
    page: list[dict[str, Any]] = []
    if bound is not None:
        # A page names few sources, each many times (every record key is `source:source_id`): the
        # policy's patterns matched once per source and page, not once per key.
        bound = functools.cache(bound)
    for change in window:
        if change["seq"] != cursor + 1 and change["at"] > cutoff:
            more = True  # a writer is still filling the hole: come back for the rest
            break
        cursor = change["seq"]
        if _notice_expired(change, notice_cutoff):
            change = {**change, "records": []}
        if bound is None:
            page.append(change)
        elif any(bound(source) for source in change.get("sources", [])):
            page.append({**change, "records": [r for r in change.get("records", []) if bound(r.partition(":")[0])]})
    return ChangePage(page, cursor, more)


def naming_customers(customer_ids: list[str]) -> dict[str, Any]:
    """The query for the changes of these customers (or merged away from them)."""
    return {"bool": {"should": [{"terms": {"customer_id": customer_ids}}, {"terms": {"old_id": customer_ids}}]}}


def records_in_changes(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> list[str]:
    """Every record id the changes of these customers name (records they held at some time). Writers
    do not refresh: the caller refreshes the changes first (the erasure, with the other indices it searches)."""
    if not client.indices.exists(index=names.changes):
        return []
    body = {"query": naming_customers(customer_ids), "aggs": {"records": {"terms": {"field": "records", "size": 10_000}}}, "size": 0}
    response = client.search(index=names.changes, body=body)
    return [bucket["key"] for bucket in response["aggregations"]["records"]["buckets"]]
