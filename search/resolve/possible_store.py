"""Possible matches in OpenSearch: one document per pair of customers, its id the pair's, so a
relation found again by a later run keeps its id and creation date.

Customer ids are stable (search.resolve.ids), so a relation lives as long as both customers do: it
follows a customer merged into another, and is removed when its two customers become one or one of
them disappears. A run owns the relations between the customers it resolved with all their records
(every customer for a full run, the touched neighbourhood for an incremental or real-time one): a
relation between two of them that the run did not find again is stale and removed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.resolve.possible import PossibleMatch, most_probable_per_customer
from search.resolve.store import send_actions


def pair_id(first: str, second: str) -> str:
    """The id of the relation between two customers, whatever their order."""
    return "_".join(sorted((first, second)))


def relation_document(match: PossibleMatch, customers: tuple[str, str], explanation: dict[str, Any]) -> dict[str, Any]:
    """The stored relation between two customers (dates and id are added when it is saved)."""
    return {
        "customer_ids": sorted(customers),
        "kind": match.kind,
        "probability": round(match.probability, 6),
        "rule": match.rule,
        "reason": match.reason,
        "records": list(explanation["records"]),
        "explanation": explanation,
    }


@dataclass(frozen=True)
class CustomerChanges:
    """What a run did to customer ids: the ones it resolved with all their records (None: every
    customer, a full run), the ones it started from, merged-away ids and where they went, and the
    ids that disappeared."""

    resolved: set[str] | None
    previous: set[str]
    merged: dict[str, str]
    removed: set[str]


def save_possible_matches(
    client: OpenSearch,
    names: IndexNames,
    found: list[dict[str, Any]],
    changes: CustomerChanges,
    now: datetime,
    per_customer: int | None = None,
) -> None:
    """Write the relations a run found (documents without dates or id) and retire the stale ones,
    searchable once this returns (stored_relations reads them without refreshing)."""
    if send_actions(client, possible_match_actions(client, names, found, changes, now, per_customer=per_customer)):
        client.indices.refresh(index=names.possible_matches)


def possible_match_actions(
    client: OpenSearch,
    names: IndexNames,
    found: list[dict[str, Any]],
    changes: CustomerChanges,
    now: datetime,
    stored: list[dict[str, Any]] | None = None,
    per_customer: int | None = None,
) -> list[dict[str, Any]]:
    """The bulk actions of save_possible_matches; `stored`: the relations of the customers the run
    started from (stored_relations), read now when not given. `per_customer`: the bound on a
    customer's relations (most_probable_per_customer), applied to what the run found together with
    what stays stored for its customers, so a run over a neighbourhood keeps what a full run would
    keep instead of piling new relations beside the old ones."""
    if stored is None:
        # Only customers that existed before the run can hold stored relations.
        stored = stored_relations(client, names, None if changes.resolved is None else changes.previous)
    deletes: set[str] = set()
    created: dict[str, str] = {}
    carried: dict[str, dict[str, Any]] = {}  # kept, outside what the run saw: rewritten only when re-keyed
    standing: dict[str, dict[str, Any]] = {}  # every stored relation kept, outside what the run saw
    for document in stored:
        moved = _after_merges(document, changes)
        if moved is None or moved["pair_id"] != document["pair_id"]:
            deletes.add(document["pair_id"])
        if moved is None:
            continue
        key = moved["pair_id"]
        created[key] = min(created.get(key, moved["created_at"]), moved["created_at"])
        if _owned(moved, changes):
            deletes.add(key)  # the run saw both customers whole: unless found again, the relation is stale
            continue
        standing[key] = moved
        if moved is not document:
            carried[key] = moved
    writes = {key: {**document, "created_at": created[key]} for key, document in carried.items()}
    for document in found:
        key = pair_id(*document["customer_ids"])
        writes[key] = {**document, "pair_id": key, "created_at": created.get(key, now.isoformat()), "updated_at": now.isoformat()}
    if per_customer is not None:
        stored_ids = {document["pair_id"] for document in stored}
        for key in _beyond_bound(client, names, {**standing, **writes}, changes, per_customer):
            writes.pop(key, None)
            if key in stored_ids:
                deletes.add(key)  # beyond the bound now that more probable relations stand beside it
    return [
        *({"_op_type": "index", "_index": names.possible_matches, "_id": d["pair_id"], "_source": d} for d in writes.values()),
        *({"_op_type": "delete", "_index": names.possible_matches, "_id": key} for key in deletes - set(writes)),
    ]


def _beyond_bound(
    client: OpenSearch, names: IndexNames, candidates: dict[str, dict[str, Any]], changes: CustomerChanges, per_customer: int
) -> set[str]:
    """The keys of `candidates` (pair id → relation) that most_probable_per_customer leaves out. A
    relation reaching outside what the run saw stays while the outside customer ranks it among its
    own most probable: when some customer passes the bound, the outside customers' other stored
    relations are read (one search) and ranked with the rest, as a full run would rank them."""
    ends: Counter[str] = Counter(c for relation in candidates.values() for c in relation["customer_ids"])
    outside: set[str] = set()
    if changes.resolved is not None and any(count > per_customer for count in ends.values()):
        outside = {c for c in ends if c not in changes.resolved}
    seen = (changes.resolved or set()) | changes.previous  # their relations were read with the run's
    context = {d["pair_id"]: d for d in stored_relations(client, names, outside) if seen.isdisjoint(d["customer_ids"])}
    ranked = {**context, **candidates}
    kept = most_probable_per_customer(
        list(ranked), lambda key: tuple(ranked[key]["customer_ids"]), lambda key: ranked[key]["probability"], per_customer
    )
    return set(candidates) - set(kept)


def _after_merges(document: dict[str, Any], changes: CustomerChanges) -> dict[str, Any] | None:
    """A stored relation with merged-away customers replaced by their survivors; None when its two
    customers are now one, or one of them is gone."""
    first, second = (changes.merged.get(c, c) for c in document["customer_ids"])
    if first == second or first in changes.removed or second in changes.removed:
        return None
    if [first, second] == document["customer_ids"]:
        return document
    return {**document, "pair_id": pair_id(first, second), "customer_ids": sorted((first, second))}


def _owned(document: dict[str, Any], changes: CustomerChanges) -> bool:
    return changes.resolved is None or all(c in changes.resolved for c in document["customer_ids"])


# A neighbourhood's customers hold far fewer relations than this; a full run scans them all.
NEIGHBOURHOOD_RELATIONS = 10_000


def stored_relations(client: OpenSearch, names: IndexNames, customers: set[str] | None) -> list[dict[str, Any]]:
    """The stored relations touching any of `customers` (None: all of them)."""
    if customers is None:
        return [hit["_source"] for hit in scan(client, index=names.possible_matches, query={"query": {"match_all": {}}}, size=2000)]
    if not customers:
        return []
    # No refresh first: every writer leaves what it wrote searchable before it returns (a push or a
    # decision in its refreshed bulk, an incremental run after each batch, a full run at its end, an
    # erasure in its refreshed bulk). One plain search, not a scroll: the real-time path pays for
    # every request.
    body = {"query": {"terms": {"customer_ids": sorted(customers)}}, "size": NEIGHBOURHOOD_RELATIONS}
    return [hit["_source"] for hit in client.search(index=names.possible_matches, body=body)["hits"]["hits"]]


def relations_query(customer_id: str, limit: int) -> dict[str, Any]:
    """The search for one customer's stored relations, most probable first."""
    return {"query": {"term": {"customer_ids": customer_id}}, "sort": [{"probability": "desc"}], "size": limit}
