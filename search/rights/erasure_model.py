"""The erasure's share of the match model: the person's values leave its term-frequency tables,
exactly once per erasure, even when the update fails after the records are gone.

The model update runs beside the erasure's bulk (it costs about as much: search.rights.erasure).
So that a failed update is never lost with the records it was computed from, the erasure writes,
before its bulk, what the model still owes — the values to forget as keyed hashes (HMAC-SHA256 with
the suppression key, never the values), in a `model-owed:<customer id>` document of the resolution
state. The update
records the erasure's id in the model document (`forgotten_erasures`) and subtracts nothing for an id
already there; the debt is deleted once the update is done. A retry of the erasure or
`reapply_erasures` settles what is left: the values are found again by hashing the model's own
table entries (read once, on that rare path only).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_of
from search.rights.suppression import keyed_hash

# A column's values to forget: {column: [value, …]}, a value once per record holding it.
Values = dict[str, list[str]]
OWED_PREFIX = "model-owed:"

# Decrements, on the node, the counts of the erased person's values in the model's term-frequency
# tables: the model (every value held twice, megabytes at 1M records) is neither fetched nor sent.
# An erasure already applied to this model (its id in forgotten_erasures) subtracts nothing.
_FORGET_VALUES = """
def tables = ctx._source.model.term_frequencies;
def done = ctx._source.forgotten_erasures;
boolean changed = false;
if (done == null || !done.contains(params.erasure)) {
  for (entry in params.values.entrySet()) {
    def counts = tables == null ? null : tables.get(entry.getKey());
    if (counts == null) { continue; }
    for (value in entry.getValue()) {
      def count = counts.get(value);
      if (count == null) { continue; }
      if (count <= 2) { counts.remove(value); } else { counts.put(value, count - 1); }
      changed = true;
    }
  }
}
if (changed) {
  if (done == null) { ctx._source.forgotten_erasures = [params.erasure]; } else { done.add(params.erasure); }
} else {
  ctx.op = 'noop';
}
"""


def model_values(config: ResolutionConfig, records: list[dict[str, Any]]) -> Values:
    """The person's values as the model counts them (term frequencies of the comparison features)."""
    values: Values = {}
    for features in features_of(records, tuple(config.extra_identifiers)) if records else []:
        for column in dataclasses.fields(features):
            value = getattr(features, column.name)
            if isinstance(value, str) and value and column.name not in ("record_id", "source", "updated_at"):
                values.setdefault(column.name, []).append(value)
    return values


def forget_in_model(client: OpenSearch, names: IndexNames, erasure: str, values: Values) -> None:
    """Subtract the values from the stored model once for this erasure id (none without a model)."""
    if values:
        body = {"script": {"source": _FORGET_VALUES, "lang": "painless", "params": {"values": values, "erasure": erasure}}}
        client.update(index=names.resolution_state, id="model", body=body, retry_on_conflict=5, ignore=[404])


def record_debt(client: OpenSearch, names: IndexNames, key: bytes, erasure: str, values: Values) -> None:
    """Record what the model owes for this erasure (keyed hashes only), dated when written: a model
    saved after it was trained without the person. Unrefreshed: read by id, or after a refresh."""
    if values:
        hashes = {column: [_hash(key, column, value) for value in column_values] for column, column_values in values.items()}
        source = {"erasure": erasure, "at": datetime.now(UTC).isoformat(), "hashes": hashes}
        client.index(index=names.resolution_state, id=OWED_PREFIX + erasure, body=source)


def settled(client: OpenSearch, names: IndexNames, erasure: str) -> None:
    """The model's part of this erasure is done: its debt goes (absent already is fine)."""
    client.delete(index=names.resolution_state, id=OWED_PREFIX + erasure, ignore=[404])


def settle_model_debts(client: OpenSearch, names: IndexNames, key: bytes, erasures: list[str] | None = None) -> list[str]:
    """Finish the model part of the erasures named (every one owed when None), idempotently.
    Returns the erasures whose debt was settled."""
    if not client.indices.exists(index=names.resolution_state):
        return []
    if erasures is None:
        client.indices.refresh(index=names.resolution_state)
        query = {"query": {"match_all": {}}, "_source": False}
        ids = [hit["_id"] for hit in scan(client, index=names.resolution_state, query=query) if hit["_id"].startswith(OWED_PREFIX)]
    else:
        ids = [OWED_PREFIX + erasure for erasure in erasures]
    debts = [d["_source"] for d in client.mget(index=names.resolution_state, body={"ids": ids})["docs"] if d.get("found")] if ids else []
    for debt in debts:
        forget_in_model(client, names, debt["erasure"], _owed_values(client, names, key, debt))
        settled(client, names, debt["erasure"])
    return [debt["erasure"] for debt in debts]


def _owed_values(client: OpenSearch, names: IndexNames, key: bytes, debt: dict[str, Any]) -> Values:
    """The values a debt names, found among the model's table entries by their keyed hash. Nothing
    when the model was trained after the erasure (the person was no longer in its data)."""
    includes = ["model.term_frequencies", "saved_at", "forgotten_erasures"]
    model = client.get(index=names.resolution_state, id="model", _source_includes=includes, ignore=[404])
    source = model.get("_source") if model.get("found") else None
    if not source or debt["erasure"] in source.get("forgotten_erasures", []) or source.get("saved_at", "") > debt["at"]:
        return {}
    tables = source.get("model", {}).get("term_frequencies") or {}
    values: Values = {}
    for column, hashes in debt["hashes"].items():
        by_hash = {_hash(key, column, value): value for value in tables.get(column, {})}
        values[column] = [by_hash[h] for h in hashes if h in by_hash]
    return {column: found for column, found in values.items() if found}


def _hash(key: bytes, column: str, value: str) -> str:
    return keyed_hash(key, f"model-{column}", value)
