"""The match model's term frequencies as stored: in small documents beside the model, a share of
the counted values each.

The model document holds the weights, a `tf_generation` and the number of `tf_buckets`; each value
its tables count (held by two records or more) sits in the bucket given by a hash of its column and
value, a document `tf:<generation>:<bucket>` of about VALUES_PER_BUCKET counts ({"counts": {column:
{value: count}}}). Why not inside the model document: an erasure must take the person's values out
of the counts, and the tables are megabytes at 1M records (187,075 values) — rewriting them cost an
erasure 1.6 s at 1M (bench/RESULTS.md, session 11). Why not one document per value: loading the
model then reads 187,075 documents (seconds; a process holding the model reloads it after every
erasure). In buckets, an erasure sends a scripted decrement to the few buckets of the person's
values, by id, in the bulk that deletes the person's documents; a count falling to one leaves its
bucket (a count of one is what an absent value means), so the value leaves the index.

An erasure records first what the model owes (`model-owed:<erasure id>`: the values as keyed hashes,
HMAC-SHA256 with the suppression key, never the values), then sends its bulk, then deletes the
debt. A debt left behind (the bulk failed half-way, the process stopped) is settled by a retry of
the erasure, by `reapply_erasures`, and by the next load of the model (search.resolve.store.read_model),
which applies it before it hands out the counts: no erased value is ever read back into a model.
A bucket remembers the erasures it applied (for ERASURE_MEMORY_DAYS), so a retry subtracts nothing twice.

A new model is saved under a new generation: its buckets first, then the model document naming
it, then the previous generation's buckets go — a reader never sees a model without its tables.
The resolution state's mapping indexes nothing, so the buckets are read by a scan of the index.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan, streaming_bulk

from search.indices import IndexNames
from search.rights.suppression import keyed_hash

Tables = dict[str, dict[str, int]]
TF_PREFIX = "tf:"
OWED_PREFIX = "model-owed:"
# A settled debt kept until a model trained after its erasure is stored: a full run that scanned
# the records before the erasure takes the person's values out of the counts it saves.
ERASED_PREFIX = "model-erased:"
MODEL_ID = "model"
# About this many counts per bucket: 1,871 buckets of ≈ 6 KB at 1M records (187,075 values) — an
# erasure rewrites ≈ 60 of them (≈ 0.4 MB instead of the model's 2 MB), a load reads 1,871
# documents instead of one (bench/RESULTS.md, session 12).
VALUES_PER_BUCKET = 100
# How long a bucket remembers an erasure it applied: a debt is settled by any load of the model
# (a process holding it checks every few seconds), far sooner than this.
ERASURE_MEMORY_DAYS = 30
MGET_BUCKETS = 500  # buckets read per request (≈ 3 MB)
# Reads of the model and its buckets before giving up when full runs keep replacing them.
MODEL_READ_ATTEMPTS = 5
log = logging.getLogger(__name__)

# The erased person's values lose, in one bucket, the times the person held them, once per erasure;
# a count at one or below leaves the bucket. The model document records the erasure too: its
# version changes, so a process holding the model (search.resolve.realtime) reads the new counts.
_DECREMENT = """
def done = ctx._source.erasures;
if (done == null) { done = new HashMap(); }
boolean changed = false;
if (!done.containsKey(params.erasure)) {
  for (column in params.values.entrySet()) {
    def counts = ctx._source.counts.get(column.getKey());
    if (counts == null) { continue; }
    for (value in column.getValue().entrySet()) {
      def count = counts.get(value.getKey());
      if (count == null) { continue; }
      if (count - value.getValue() <= 1) { counts.remove(value.getKey()); } else { counts.put(value.getKey(), count - value.getValue()); }
      changed = true;
    }
  }
}
if (changed) {
  done.put(params.erasure, params.at);
  done.entrySet().removeIf(e -> e.getValue().compareTo(params.forget_before) < 0);
  ctx._source.erasures = done;
} else {
  ctx.op = 'noop';
}
"""
_MODEL_FORGOT = """
def done = ctx._source.forgotten_erasures;
if (done == null) { ctx._source.forgotten_erasures = [params.erasure]; }
else if (done.contains(params.erasure)) { ctx.op = 'noop'; }
else { done.add(params.erasure); }
"""


@dataclass(frozen=True)
class StoredCounts:
    """Where the stored model's counts are: its generation, its number of buckets, when it was saved."""

    generation: str
    buckets: int
    saved_at: str


def new_generation() -> str:
    return uuid.uuid4().hex


def bucket_of(column: str, value: str, buckets: int) -> int:
    return int(hashlib.sha256(f"{column}\0{value}".encode()).hexdigest()[:12], 16) % buckets


def bucket_id(generation: str, bucket: int) -> str:
    return f"{TF_PREFIX}{generation}:{bucket}"


def write_tables(client: OpenSearch, names: IndexNames, generation: str, tables: Tables, applied: dict[str, str] | None = None) -> int:
    """Index the counts in buckets under `generation` (refreshed: read by scans); the number of
    buckets. `applied` ({erasure: at}): erasures already taken out of `tables`, remembered by every
    bucket so that their debts settled later subtract nothing twice."""
    buckets = max(1, math.ceil(sum(len(counts) for counts in tables.values()) / VALUES_PER_BUCKET))
    contents: list[Tables] = [{} for _ in range(buckets)]
    for column, counts in tables.items():
        for value, count in counts.items():
            contents[bucket_of(column, value, buckets)].setdefault(column, {})[value] = count
    actions = (
        {
            "_op_type": "index",
            "_index": names.resolution_state,
            "_id": bucket_id(generation, n),
            "_source": {"counts": counts, "erasures": applied or {}},
        }
        for n, counts in enumerate(contents)
    )
    _send(client, actions)
    client.indices.refresh(index=names.resolution_state)
    return buckets


class BucketsGone(Exception):
    """A bucket of the generation read is gone: a full run saved a new model and dropped this one's."""


def read_tables(client: OpenSearch, names: IndexNames, stored: StoredCounts) -> tuple[Tables, list[dict[str, Any]]]:
    """The stored counts, and the debts found. The buckets are read by id, as stored (a search
    would parse and filter each on the node: 1.2-3.2 s at 1M against 0.2 s for the model in one
    document); the debts' ids by a scan of ids only, refreshed first (a debt is written unrefreshed).
    BucketsGone when any bucket is missing: partial counts would make every missing value rare."""
    client.indices.refresh(index=names.resolution_state)
    owed_ids = [hit["_id"] for hit in _scan_ids_with(client, names, OWED_PREFIX, False)]
    tables: Tables = {}
    ids = [bucket_id(stored.generation, n) for n in range(stored.buckets)]
    for start in range(0, len(ids), MGET_BUCKETS):
        for document in client.mget(index=names.resolution_state, body={"ids": ids[start : start + MGET_BUCKETS]})["docs"]:
            if not document.get("found"):
                raise BucketsGone(document["_id"])
            for column, counts in document["_source"]["counts"].items():
                tables.setdefault(column, {}).update(counts)
    debts = (
        [d["_source"] for d in client.mget(index=names.resolution_state, body={"ids": owed_ids})["docs"] if d.get("found")]
        if owed_ids
        else []
    )
    return tables, debts


def drop_other_generations(client: OpenSearch, names: IndexNames, generation: str) -> None:
    """Delete the buckets of every generation but `generation` (an earlier model's)."""
    kept = f"{TF_PREFIX}{generation}:"
    stale = (hit["_id"] for hit in _scan_ids_with(client, names, TF_PREFIX, False) if not hit["_id"].startswith(kept))
    _send(client, ({"_op_type": "delete", "_index": names.resolution_state, "_id": doc_id} for doc_id in stale))


def counts_of(model_document: dict[str, Any]) -> StoredCounts | None:
    """Where the counts of a stored model document are (None: inside it, stored by an earlier rcu)."""
    if not model_document.get("tf_generation"):
        return None
    # Owed by this model: the erasures after the scan it was trained on (when saved, for an earlier rcu's).
    trained_from = model_document.get("trained_from") or model_document.get("saved_at", "")
    return StoredCounts(model_document["tf_generation"], model_document.get("tf_buckets", 1), trained_from)


def stored_counts(client: OpenSearch, names: IndexNames) -> StoredCounts | None:
    """Where the stored model's counts are (None without a model). A model stored by an earlier rcu,
    its counts inside its document, has them moved to buckets first (once)."""
    includes = ["tf_generation", "tf_buckets", "saved_at", "trained_from"]
    model = client.get(index=names.resolution_state, id=MODEL_ID, _source_includes=includes, ignore=[404])
    if not model.get("found"):
        return None
    stored = counts_of(model["_source"])
    if stored:
        return stored
    document = client.get(index=names.resolution_state, id=MODEL_ID)
    source = document["_source"]
    generation = new_generation()
    buckets = write_tables(client, names, generation, source["model"].pop("term_frequencies", None) or {})
    body = {**source, "tf_generation": generation, "tf_buckets": buckets}
    # Only over the model read (a full run saving meanwhile wins: a conflict, the erasure fails and is retried).
    client.index(
        index=names.resolution_state,
        id=MODEL_ID,
        body=body,
        refresh=True,
        if_seq_no=document["_seq_no"],
        if_primary_term=document["_primary_term"],
    )
    drop_other_generations(client, names, generation)
    log.info("event=model_counts_moved_to_buckets buckets=%d", buckets)
    return StoredCounts(generation, buckets, source.get("saved_at", ""))


def decrement_actions(names: IndexNames, stored: StoredCounts, erasure: str, values: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Bulk actions taking `values` ({column: [value, …]}, a value once per record holding it) out
    of the stored counts, once for this erasure id, and marking the model document. A bucket holding
    none of them changes nothing."""
    by_bucket: dict[int, dict[str, dict[str, int]]] = {}
    for column, column_values in values.items():
        for value in column_values:
            counts = by_bucket.setdefault(bucket_of(column, value, stored.buckets), {}).setdefault(column, {})
            counts[value] = counts.get(value, 0) + 1
    now = datetime.now(UTC)
    forget_before = (now - timedelta(days=ERASURE_MEMORY_DAYS)).isoformat()
    actions: list[dict[str, Any]] = [
        {
            "_op_type": "update",
            "_index": names.resolution_state,
            "_id": bucket_id(stored.generation, bucket),
            "script": {
                "source": _DECREMENT,
                "lang": "painless",
                "params": {"erasure": erasure, "at": now.isoformat(), "forget_before": forget_before, "values": bucket_values},
            },
            "retry_on_conflict": 5,
        }
        for bucket, bucket_values in sorted(by_bucket.items())
    ]
    if actions:
        script = {"source": _MODEL_FORGOT, "lang": "painless", "params": {"erasure": erasure}}
        actions.append({"_op_type": "update", "_index": names.resolution_state, "_id": MODEL_ID, "script": script, "retry_on_conflict": 5})
    return actions


def record_debt(client: OpenSearch, names: IndexNames, key: bytes, erasure: str, values: dict[str, list[str]]) -> None:
    """Record what the model owes for this erasure (keyed hashes only, a hash per record holding the
    value), dated when written: a model saved after it was trained without the person."""
    if values:
        hashes = {column: [_hash(key, column, value) for value in column_values] for column, column_values in values.items()}
        source = {"erasure": erasure, "at": datetime.now(UTC).isoformat(), "hashes": hashes}
        client.index(index=names.resolution_state, id=OWED_PREFIX + erasure, body=source)


def settled(client: OpenSearch, names: IndexNames, erasure: str, generation: str | None = None) -> None:
    """The model's part of this erasure is done on the counts of `generation` (the current ones when
    None): its debt becomes a receipt (absent already is fine), which a model saved later consults
    (owed_since). When a full run replaced the counts meanwhile, the debt stays: the next load
    settles it on the new counts."""
    if generation is not None and (current := stored_counts(client, names)) and current.generation != generation:
        log.info("event=model_debt_kept reason=model_replaced_during_erasure")
        return
    debt = client.get(index=names.resolution_state, id=OWED_PREFIX + erasure, ignore=[404])
    if debt.get("found"):
        client.index(index=names.resolution_state, id=ERASED_PREFIX + erasure, body=debt["_source"])
    client.delete(index=names.resolution_state, id=OWED_PREFIX + erasure, ignore=[404])


def generation_of(actions: list[dict[str, Any]]) -> str | None:
    """The generation of counts that decrement_actions' `actions` change (None: no bucket)."""
    ids = [action["_id"] for action in actions if action["_id"].startswith(TF_PREFIX)]
    return ids[0][len(TF_PREFIX) :].rsplit(":", 1)[0] if ids else None


def owed_since(client: OpenSearch, names: IndexNames, since: str) -> list[dict[str, Any]]:
    """The debts and receipts of the erasures at or after `since` (ISO): what a model trained on a
    scan started at `since` still holds of erased people (none before the state's index exists)."""
    if not client.indices.exists(index=names.resolution_state):
        return []
    client.indices.refresh(index=names.resolution_state)
    found = [hit["_source"] for prefix in (OWED_PREFIX, ERASED_PREFIX) for hit in _scan_ids_with(client, names, prefix, True)]
    return sorted((d for d in found if d["at"] >= since), key=lambda d: d["erasure"])


def without_erased(key: bytes, debts: list[dict[str, Any]], tables: Tables) -> Tables:
    """`tables` with the values `debts` name taken out, as the stored decrement does (a count at
    one or below leaves)."""
    for debt in debts:
        for column, values in _owed_values(key, debt, tables).items():
            counts = tables[column]
            for value in set(values):
                left = counts.get(value, 0) - values.count(value)
                if left <= 1:
                    counts.pop(value, None)
                else:
                    counts[value] = left
    return tables


def forget_receipts_before(client: OpenSearch, names: IndexNames, before: str) -> None:
    """Receipts of erasures before `before` go: the stored model was trained without them."""
    old = (hit["_id"] for hit in _scan_ids_with(client, names, ERASED_PREFIX, ["at"]) if hit["_source"]["at"] < before)
    _send(client, ({"_op_type": "delete", "_index": names.resolution_state, "_id": doc_id} for doc_id in old))


def settle_debts(client: OpenSearch, names: IndexNames, key: bytes, debts: list[dict[str, Any]]) -> list[str]:
    """Apply what `debts` owe to the stored counts (idempotently: a bucket that applied an erasure
    does not apply it again), then delete them. A model saved after a debt was written was trained
    without the person and owes nothing. The values are found by hashing the counted ones (every
    table entry: the rare path only). Returns the erasures settled."""
    stored, tables = _current_tables(client, names)
    owing = [debt for debt in debts if stored and stored.saved_at <= debt["at"]]
    if stored and owing:
        settle_on(client, names, key, stored, owing, tables)
    for debt in debts:
        settled(client, names, debt["erasure"])
    return [debt["erasure"] for debt in debts]


def settle_on(client: OpenSearch, names: IndexNames, key: bytes, stored: StoredCounts, debts: list[dict[str, Any]], tables: Tables) -> None:
    """Apply `debts` to the counts `stored` (whose values are `tables`), once per erasure per bucket."""
    actions = [action for debt in debts for action in decrement_actions(names, stored, debt["erasure"], _owed_values(key, debt, tables))]
    if actions:
        _send(client, actions)
        client.indices.refresh(index=names.resolution_state)


def _current_tables(client: OpenSearch, names: IndexNames) -> tuple[StoredCounts | None, Tables]:
    """Where the stored model's counts are and the counts, read again when a full run replaced them
    in between (BucketsGone after MODEL_READ_ATTEMPTS)."""
    for attempt in range(MODEL_READ_ATTEMPTS):
        stored = stored_counts(client, names)
        try:
            return stored, read_tables(client, names, stored)[0] if stored else {}
        except BucketsGone:
            if attempt == MODEL_READ_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def owed(client: OpenSearch, names: IndexNames, erasures: list[str] | None = None) -> list[dict[str, Any]]:
    """The debts of the erasures named (every debt when None)."""
    if erasures is None:
        client.indices.refresh(index=names.resolution_state)
        return [hit["_source"] for hit in _scan_ids_with(client, names, OWED_PREFIX, True)]
    ids = [OWED_PREFIX + erasure for erasure in erasures]
    return [d["_source"] for d in client.mget(index=names.resolution_state, body={"ids": ids})["docs"] if d.get("found")] if ids else []


def _owed_values(key: bytes, debt: dict[str, Any], tables: Tables) -> dict[str, list[str]]:
    """The values a debt names, found among the counted values by their keyed hash."""
    values: dict[str, list[str]] = {}
    for column, hashes in debt["hashes"].items():
        by_hash = {_hash(key, column, value): value for value in tables.get(column, {})}
        found = [by_hash[h] for h in hashes if h in by_hash]
        if found:
            values[column] = found
    return values


def _hash(key: bytes, column: str, value: str) -> str:
    return keyed_hash(key, f"model-{column}", value)


def _scan_ids_with(client: OpenSearch, names: IndexNames, prefix: str, source: list[str] | bool) -> Iterator[dict[str, Any]]:
    """Documents of the resolution state whose id starts with `prefix` (nothing there is indexed:
    every document is scanned, the buckets being nearly all of them)."""
    query: dict[str, Any] = {"query": {"match_all": {}}, "_source": source}
    for hit in scan(client, index=names.resolution_state, query=query, size=2_000):
        if hit["_id"].startswith(prefix):
            yield hit


def _send(client: OpenSearch, actions: Iterable[dict[str, Any]]) -> None:
    for ok, item in streaming_bulk(client, actions, chunk_size=2000, max_retries=6, raise_on_error=False):
        operation, result = next(iter(item.items()))
        if not ok and result.get("status") != 404:
            raise RuntimeError(f"term frequencies: {operation} of {result.get('_id')} failed: {result.get('error')}")
