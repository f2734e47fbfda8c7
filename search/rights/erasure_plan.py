"""What an erasure writes, found and written in two round trips instead of one per index.

Every document naming the erased customer (its ids, or its records) is found by id in one
multi-search, and every write of the erasure — suppression list, deletions, the `erased` markers,
changes without their record ids, audit entries pseudonymized, the model's term frequencies, the
`erased` change — goes in one bulk request with `refresh=true`. OpenSearch refreshes, for such a
bulk, only the shards it wrote to: what the erasure changed is searchable when it answers (no search
returns the person afterwards), without refreshing every shard of every index rcu owns, as the
delete-by-query and update-by-query calls this replaces needed (bench/RESULTS.md, session 11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan, streaming_bulk

from search.changes import naming_customers
from search.events.figures import record_filter
from search.indices import IndexNames
from search.rights.export import naming
from search.rights.trail import pseudonymized_entry

# A person's documents in one index come back in one page up to this many (a loyal customer's
# events beyond it are read by scrolling).
PAGE = 10_000


@dataclass
class Found:
    """The documents naming the person, as (concrete index, id), per index of rcu."""

    deleted: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    audit: list[tuple[str, str]] = field(default_factory=list)
    changes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.deleted.get("events", []))


def searched_indices(names: IndexNames) -> list[str]:
    """The indices searched for the person's documents: refreshed once before, so that what was
    written just before the erasure (an event, an audit entry) is found too."""
    return [
        names.events,
        names.audit,
        names.changes,
        names.subject_statements,
        names.redirects,
        names.possible_matches,
        names.decisions,
        names.identity_conflicts,
        names.profiles,
    ]


def _queries(names: IndexNames, ids: list[str], record_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Name → (index, query) of every document the erasure deletes or rewrites."""
    records = record_ids or ["\u0000none"]  # a terms query needs one term at least
    return {
        "events": (names.events, {"bool": {"filter": [record_filter(records)]}}),
        "statements": (names.subject_statements, naming(ids, records, "customer_id", "record_ids")),
        "redirects": (names.redirects, {"bool": {"should": [{"terms": {"old_id": ids}}, {"terms": {"new_id": ids}}]}}),
        "possible_matches": (names.possible_matches, naming(ids, records, "customer_ids", "records")),
        "decisions": (names.decisions, naming(ids, records, "customer_ids", "records")),
        "identity_conflicts": (names.identity_conflicts, naming(ids, records, "customer_id", "records")),
        "profiles": (names.profiles, {"terms": {"customer_id": ids}}),
        "audit": (names.audit, {"bool": {"should": [{"terms": {"customer_ids": ids}}, {"terms": {"query": [*ids, *record_ids]}}]}}),
        "changes": (names.changes, naming_customers(ids)),
    }


def find_documents(client: OpenSearch, names: IndexNames, ids: list[str], record_ids: list[str]) -> Found:
    """Every document naming the customer's ids or records, in one multi-search (an index holding
    more than a page of them is scrolled). The indices must have been refreshed before."""
    queries = _queries(names, ids, record_ids)
    body: list[dict[str, Any]] = []
    for index, query in queries.values():
        body += [
            {"index": index, "ignore_unavailable": True, "allow_no_indices": True},
            {"query": query, "_source": False, "size": PAGE, "track_total_hits": True},
        ]
    found = Found()
    for (name, (index, query)), response in zip(queries.items(), client.msearch(body=body)["responses"], strict=True):
        if "error" in response:
            raise RuntimeError(f"finding the erased customer's documents in {index} failed: {response['error']}")
        hits = response["hits"]["hits"]
        if response["hits"]["total"]["value"] > len(hits):
            hits = list(scan(client, index=index, query={"query": query, "_source": False}, size=5000, ignore_unavailable=True))
        located = [(hit["_index"], hit["_id"]) for hit in hits]
        if name == "audit":
            found.audit = located
        elif name == "changes":
            found.changes = located
        else:
            found.deleted[name] = located
    return found


def rewrites(found: Found, ids: list[str], stand_in: str) -> Iterable[dict[str, Any]]:
    """Bulk actions: the documents found deleted, the changes kept without their record ids, the
    audit entries pseudonymized."""
    for located in found.deleted.values():
        for index, doc_id in located:
            yield {"_op_type": "delete", "_index": index, "_id": doc_id}
    for index, doc_id in found.changes:
        yield {"_op_type": "update", "_index": index, "_id": doc_id, "doc": {"records": []}}
    for index, doc_id in found.audit:
        yield pseudonymized_entry(index, doc_id, ids, stand_in)


def write_refreshed(client: OpenSearch, actions: list[dict[str, Any]]) -> None:
    """One bulk request (a chunk per 5,000 actions), each refreshing the shards it wrote to. A
    document already gone (deleted meanwhile, or a model never saved) is not an error."""
    for ok, item in streaming_bulk(client, actions, chunk_size=5000, max_retries=6, raise_on_error=False, refresh="true"):
        operation, result = next(iter(item.items()))
        if not ok and result.get("status") != 404:
            raise RuntimeError(f"erasure: {operation} in {result.get('_index')} failed: {result.get('error')}")
