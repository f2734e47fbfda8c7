"""The match model's term frequencies as stored: one document per counted value, beside the model.

The model document holds the weights and a `tf_generation`; each value its tables count (held by two
records or more) is a document `tf:<generation>:<digest>` of the resolution state, {column, value,
count}. Why not inside the model document: an erasure must take the person's values out of the
counts, and the tables are megabytes at 1M records — rewriting them cost an erasure 1.6 s at 1M
(bench/RESULTS.md, session 11). Stored one per value, an erasure sends a scripted decrement to the
few documents of the person's values, by id, in the bulk that deletes the person's documents; a
count falling to one deletes its document (a count of one is what an absent value means), so the
value leaves the index.

An erasure records first what the model owes (`model-owed:<erasure id>`: the values as keyed hashes,
HMAC-SHA256 with the suppression key, never the values), then sends its bulk, then deletes the
debt. A debt left behind (the bulk failed half-way, the process stopped) is settled by a retry of
the erasure, by `reapply_erasures`, and by the next load of the model (read_model), which applies
it before it hands out the counts: no erased value is ever read back into a model.

A new model is saved under a new generation: its documents first, then the model document naming
it, then the previous generation's documents go — a reader never sees a model without its tables.
The digest is SHA-256 of the generation, column and value: the document holds the value itself
anyway while it exists, and the generation (random) makes the ids of two models unrelated.
The resolution state's mapping indexes nothing, so the tables are read by a scan of the index.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan, streaming_bulk

from search.indices import IndexNames
from search.rights.suppression import keyed_hash

Tables = dict[str, dict[str, int]]
TF_PREFIX = "tf:"
OWED_PREFIX = "model-owed:"
MODEL_ID = "model"
log = logging.getLogger(__name__)

# One value's count loses the times the erased person held it, once per erasure (a retried bulk
# finds the erasure's id and changes nothing); at one or below the value is no longer counted and
# its document goes. The model document records the erasure too: its version changes, so a
# process holding the model (search.resolve.realtime) reads the new counts.
_DECREMENT = """
def done = ctx._source.erasures;
if (done != null && done.contains(params.erasure)) { ctx.op = 'noop'; }
else if (ctx._source.count - params.times <= 1) { ctx.op = 'delete'; }
else {
  ctx._source.count -= params.times;
  if (done == null) { ctx._source.erasures = [params.erasure]; } else { done.add(params.erasure); }
}
"""
_MODEL_FORGOT = """
def done = ctx._source.forgotten_erasures;
if (done == null) { ctx._source.forgotten_erasures = [params.erasure]; }
else if (done.contains(params.erasure)) { ctx.op = 'noop'; }
else { done.add(params.erasure); }
"""


def new_generation() -> str:
    return uuid.uuid4().hex


def tf_id(generation: str, column: str, value: str) -> str:
    digest = hashlib.sha256(f"{generation}\0{column}\0{value}".encode()).hexdigest()[:40]
    return f"{TF_PREFIX}{generation}:{digest}"


def write_tables(client: OpenSearch, names: IndexNames, generation: str, tables: Tables) -> None:
    """Index one document per counted value under `generation` (refreshed: read by scans)."""
    actions = (
        {"_op_type": "index", "_index": names.resolution_state, "_id": tf_id(generation, column, value), "_source": source}
        for column, counts in tables.items()
        for value, count in counts.items()
        for source in ({"column": column, "value": value, "count": count},)
    )
    _send(client, actions)
    client.indices.refresh(index=names.resolution_state)


def read_tables(client: OpenSearch, names: IndexNames, generation: str) -> tuple[Tables, list[dict[str, Any]]]:
    """The counts stored under `generation`, and the debts found (one scan reads both)."""
    tables: Tables = {}
    debts: list[dict[str, Any]] = []
    prefix = f"{TF_PREFIX}{generation}:"
    for hit in _scan_ids_with(client, names, "", True):
        if hit["_id"].startswith(prefix):
            source = hit["_source"]
            tables.setdefault(source["column"], {})[source["value"]] = source["count"]
        elif hit["_id"].startswith(OWED_PREFIX):
            debts.append(hit["_source"])
    return tables, debts


def stored_generation(client: OpenSearch, names: IndexNames) -> tuple[str, str] | None:
    """The stored model's generation and when it was saved (None without a model). A model stored
    by an earlier rcu, its counts inside its document, is moved to value documents first (once)."""
    model = client.get(index=names.resolution_state, id=MODEL_ID, _source_includes=["tf_generation", "saved_at"], ignore=[404])
    if not model.get("found"):
        return None
    if model["_source"].get("tf_generation"):
        return model["_source"]["tf_generation"], model["_source"].get("saved_at", "")
    document = client.get(index=names.resolution_state, id=MODEL_ID)
    source = document["_source"]
    generation = new_generation()
    write_tables(client, names, generation, source["model"].pop("term_frequencies", None) or {})
    body = {**source, "tf_generation": generation}
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
    log.info("event=model_counts_moved_to_value_documents")
    return generation, source.get("saved_at", "")


def record_debt(client: OpenSearch, names: IndexNames, key: bytes, erasure: str, values: dict[str, list[str]]) -> None:
    """Record what the model owes for this erasure (keyed hashes only, a hash per record holding the
    value), dated when written: a model saved after it was trained without the person."""
    if values:
        hashes = {column: [_hash(key, column, value) for value in column_values] for column, column_values in values.items()}
        source = {"erasure": erasure, "at": datetime.now(UTC).isoformat(), "hashes": hashes}
        client.index(index=names.resolution_state, id=OWED_PREFIX + erasure, body=source)


def settled(client: OpenSearch, names: IndexNames, erasure: str) -> None:
    """The model's part of this erasure is done: its debt goes (absent already is fine)."""
    client.delete(index=names.resolution_state, id=OWED_PREFIX + erasure, ignore=[404])


def settle_debts(client: OpenSearch, names: IndexNames, key: bytes, debts: list[dict[str, Any]]) -> list[str]:
    """Apply what `debts` owe to the stored counts (idempotently: a value already decremented for an
    erasure is not decremented again), then delete them. A model saved after a debt was written was
    trained without the person and owes nothing. The values are found by hashing the counted ones
    (every table entry: the rare path only). Returns the erasures settled."""
    stored = stored_generation(client, names)
    generation, saved_at = stored if stored else (None, "")
    owing = [debt for debt in debts if generation and saved_at <= debt["at"]]
    if owing:
        tables, _ = read_tables(client, names, generation or "")
        actions = [
            action
            for debt in owing
            for action in decrement_actions(names, generation or "", debt["erasure"], _owed_values(key, debt, tables))
        ]
        _send(client, actions)
        client.indices.refresh(index=names.resolution_state)
    for debt in debts:
        settled(client, names, debt["erasure"])
    return [debt["erasure"] for debt in debts]


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


def drop_other_generations(client: OpenSearch, names: IndexNames, generation: str) -> None:
    """Delete the value documents of every generation but `generation` (an earlier model's)."""
    kept = f"{TF_PREFIX}{generation}:"
    stale = (hit["_id"] for hit in _scan_ids_with(client, names, TF_PREFIX, False) if not hit["_id"].startswith(kept))
    _send(client, ({"_op_type": "delete", "_index": names.resolution_state, "_id": doc_id} for doc_id in stale))


def decrement_actions(names: IndexNames, generation: str, erasure: str, values: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Bulk actions taking `values` ({column: [value, …]}, a value once per record holding it) out
    of the counts of `generation`, once for this erasure id, and marking the model document. A value
    the tables do not count has no document: its update answers 404, which the erasure's bulk accepts."""
    actions: list[dict[str, Any]] = []
    for column, column_values in values.items():
        for value in sorted(set(column_values)):
            params = {"erasure": erasure, "times": column_values.count(value)}
            actions.append(
                {
                    "_op_type": "update",
                    "_index": names.resolution_state,
                    "_id": tf_id(generation, column, value),
                    "script": {"source": _DECREMENT, "lang": "painless", "params": params},
                }
            )
    if actions:
        script = {"source": _MODEL_FORGOT, "lang": "painless", "params": {"erasure": erasure}}
        actions.append({"_op_type": "update", "_index": names.resolution_state, "_id": MODEL_ID, "script": script})
    return actions


def _scan_ids_with(client: OpenSearch, names: IndexNames, prefix: str, source: list[str] | bool) -> Iterator[dict[str, Any]]:
    """Documents of the resolution state whose id starts with `prefix` (nothing there is indexed:
    every document is scanned, the value documents being nearly all of them)."""
    query: dict[str, Any] = {"query": {"match_all": {}}, "_source": source}
    for hit in scan(client, index=names.resolution_state, query=query, size=10_000):
        if hit["_id"].startswith(prefix):
            yield hit


def _send(client: OpenSearch, actions: Iterable[dict[str, Any]]) -> None:
    for ok, item in streaming_bulk(client, actions, chunk_size=5000, max_retries=6, raise_on_error=False):
        operation, result = next(iter(item.items()))
        if not ok and result.get("status") != 404:
            raise RuntimeError(f"term frequencies: {operation} of {result.get('_id')} failed: {result.get('error')}")
