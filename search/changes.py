"""The change feed (GET /v1/changes): what happened to customers, in order, so every source system
can write golden ids back, follow merges and splits, and apply erasures and opt-outs (GDPR art. 19).

Each change is a document of `<prefix>-changes` with a sequence number `seq`. Writers reserve a
block of numbers with one atomic update of a counter (`<prefix>-sequences`), then write the block
and refresh. A reader asks for `seq > cursor` and returns only the run without holes: a hole is a
writer between reserving and writing, so the reader stops there — unless a later change is older
than `changes_gap_timeout_s`, when the hole is a writer that died and is stepped over. A consumer
that keeps the last `seq` it handled as its cursor therefore gets every change once, in order,
across restarts of either side. Changes carry ids, sources and field names, never personal values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from search.indices import IndexNames

CHANGES_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "seq": {"type": "long"},
        "at": {"type": "date"},
        "kind": {"type": "keyword"},  # created, updated, merged, split, consent_changed, removed, erased
        "customer_id": {"type": "keyword"},
        "old_id": {"type": "keyword"},
        "new_id": {"type": "keyword"},
        "fields": {"type": "keyword"},
        "sources": {"type": "keyword"},
        "records": {"type": "keyword"},
    },
}
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


def ensure_changes_indices(client: OpenSearch, names: IndexNames) -> None:
    small = {"number_of_shards": 1, "number_of_replicas": 0}
    if not client.indices.exists(index=names.changes):
        client.indices.create(index=names.changes, body={"settings": small, "mappings": CHANGES_MAPPINGS}, ignore=[400])
    if not client.indices.exists(index=names.sequences):
        client.indices.create(index=names.sequences, body={"settings": small, "mappings": {"enabled": False}}, ignore=[400])


def previous_customers(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored documents of customers about to be rewritten (real-time gets), to compare with."""
    found: dict[str, dict[str, Any]] = {}
    fields = [*WATCHED_FIELDS, *CONSENT_FIELDS, "sources"]
    for start in range(0, len(customer_ids), _GET_CHUNK):
        chunk = customer_ids[start : start + _GET_CHUNK]
        docs = client.mget(index=names.customers, body={"ids": chunk}, _source_includes=fields, ignore=[404]).get("docs", [])
        found.update((doc["_id"], doc["_source"]) for doc in docs if doc.get("found"))
    return found


def customer_changes(
    documents: list[dict[str, Any]],
    previous: dict[str, dict[str, Any]],
    removed: list[str],
    redirects: list[tuple[str, str, str]],
) -> list[dict[str, Any]]:
    """The changes between stored and new customer documents: merges and splits first (as
    (old_id, new_id, kind) redirects), then created, updated (with the fields) and consent changes,
    then customers gone without a merge."""
    changes: list[dict[str, Any]] = []
    written = {d["customer_id"]: d for d in documents}
    merged_away = set()
    for old_id, new_id, kind in redirects:
        survivor = written.get(new_id) or previous.get(new_id) or {}
        before = previous.get(old_id) or {}
        sources = sorted({*before.get("sources", []), *survivor.get("sources", [])})
        changes.append(
            {
                "kind": "merged" if kind == "merge" else "split",
                "customer_id": new_id,
                "old_id": old_id,
                "new_id": new_id,
                "sources": sources,
                "records": survivor.get("records", []),
            }
        )
        if kind == "merge":
            merged_away.add(old_id)
    split_off = {new_id for _old, new_id, kind in redirects if kind == "split"}
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
    for customer_id in removed:
        if customer_id not in merged_away:
            before = previous.get(customer_id) or {}
            changes.append({"kind": "removed", "customer_id": customer_id, "sources": before.get("sources", []), "records": []})
    return changes


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


def append_changes(client: OpenSearch, names: IndexNames, changes: list[dict[str, Any]]) -> None:
    """Number the changes and write them, visible to readers when this returns."""
    if not changes:
        return
    ensure_changes_indices(client, names)
    first = reserve(client, names, len(changes))
    at = datetime.now(UTC).isoformat()
    actions = (
        {"_op_type": "index", "_index": names.changes, "_id": str(first + i), "_source": {**change, "seq": first + i, "at": at}}
        for i, change in enumerate(changes)
    )
    for ok, item in streaming_bulk(client, actions, chunk_size=2000, max_retries=6, raise_on_error=False):
        if not ok:
            raise RuntimeError(f"writing change {item['index'].get('_id')} failed: {item['index'].get('error')}")
    client.indices.refresh(index=names.changes)


@dataclass
class ChangePage:
    changes: list[dict[str, Any]]
    cursor: int  # the position to resume from: the last seq read (seen or filtered out)
    more: bool


def read_changes(
    client: OpenSearch, names: IndexNames, since: int, limit: int, sources: tuple[str, ...] | None, gap_timeout_s: float
) -> ChangePage:
    """Changes after `since`, in order, at most `limit` positions, as far as there is no hole;
    only those touching `sources` (patterns like `loyalty_*`; all when None), their record refs
    cut to those sources."""

    def bound(source: str) -> bool:
        return sources is None or any(fnmatch(source, pattern) for pattern in sources)

    response = client.search(
        index=names.changes,
        body={"query": {"range": {"seq": {"gt": since}}}, "sort": [{"seq": "asc"}], "size": limit + 1, "track_total_hits": False},
        ignore_unavailable=True,
    )
    hits = [hit["_source"] for hit in response.get("hits", {}).get("hits", [])]
    window, more = hits[:limit], len(hits) > limit
    cutoff = (datetime.now(UTC) - timedelta(seconds=gap_timeout_s)).isoformat()
    cursor = since
    page: list[dict[str, Any]] = []
    for change in window:
        if change["seq"] != cursor + 1 and change["at"] > cutoff:
            more = True  # a writer is still filling the hole: come back for the rest
            break
        cursor = change["seq"]
        if sources is None:
            page.append(change)
        elif any(bound(source) for source in change.get("sources", [])):
            page.append({**change, "records": [r for r in change.get("records", []) if bound(r.partition(":")[0])]})
    return ChangePage(page, cursor, more)


def forget_records_of(client: OpenSearch, names: IndexNames, customer_id: str) -> None:
    """Earlier changes of an erased customer keep their place in the feed, without record ids."""
    if not client.indices.exists(index=names.changes):
        return
    client.update_by_query(
        index=names.changes,
        body={
            "query": {"bool": {"should": [{"term": {"customer_id": customer_id}}, {"term": {"old_id": customer_id}}]}},
            "script": {"source": "ctx._source.records = []", "lang": "painless"},
        },
        refresh=True,
        conflicts="proceed",
    )
