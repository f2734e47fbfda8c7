"""The erasure's share of the match model: the person's values leave its term-frequency tables,
exactly once per erasure, even when the erasure stops after the records are gone.

The counts are stored in small buckets (search.resolve.term_frequencies): the erasure's bulk carries
a scripted decrement for each bucket holding one of the person's values, by id, beside its
deletions — nothing of the model is read, and only those buckets are rewritten. Before the bulk it records what the model owes
(keyed hashes, never the values); the debt is deleted once the bulk is done. A retry of the erasure,
`reapply_erasures` and the next load of the model settle a debt left behind.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_of
from search.resolve.term_frequencies import (
    OWED_PREFIX,
    decrement_actions,
    generation_of,
    owed,
    record_debt,
    settle_debts,
    settled,
    stored_counts,
)

__all__ = ["OWED_PREFIX", "Values", "generation_of", "model_actions", "model_values", "record_debt", "settle_model_debts", "settled"]

# A column's values to forget: {column: [value, …]}, a value once per record holding it.
Values = dict[str, list[str]]


def model_values(config: ResolutionConfig, records: list[dict[str, Any]]) -> Values:
    """The person's values as the model counts them (term frequencies of the comparison features)."""
    values: Values = {}
    for features in features_of(records, tuple(config.extra_identifiers)) if records else []:
        for column in dataclasses.fields(features):
            value = getattr(features, column.name)
            if isinstance(value, str) and value and column.name not in ("record_id", "source", "updated_at"):
                values.setdefault(column.name, []).append(value)
    return values


def model_actions(client: OpenSearch, names: IndexNames, erasure: str, values: Values) -> list[dict[str, Any]]:
    """The bulk actions taking `values` out of the stored model's counts (none without a model)."""
    stored = stored_counts(client, names) if values else None
    return decrement_actions(names, stored, erasure, values) if stored else []


def settle_model_debts(client: OpenSearch, names: IndexNames, key: bytes, erasures: list[str] | None = None) -> list[str]:
    """Finish the model part of the erasures named (every one owed when None), idempotently.
    Returns the erasures whose debt was settled."""
    if not client.indices.exists(index=names.resolution_state):
        return []
    debts = owed(client, names, erasures)
    return settle_debts(client, names, key, debts) if debts else []
