"""What an erasure writes, found and written in a few round trips instead of one per index.

Every document naming the erased customer (its ids, or its records) is found by id in one
multi-search, and every write of the erasure — suppression list, deletions, the `erased` markers,
changes without their record ids, the audit keys deleted, the model's term frequencies, the
`erased` change — goes in two bulk requests (by_refresh): first what no search must show at
once, unrefreshed; then the deletions a search must not return, with `refresh=true` (OpenSearch
refreshes, for such a bulk, only the shards it wrote to). A refresh makes the node cut a new
segment of every shard it touches and is most of an erasure's cost under load (bench/RESULTS.md,
sessions 12 and 13): it is paid only where a reader searches without refreshing first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    changes: list[tuple[str, str]] = field(default_factory=list)
    audit: list[tuple[str, str]] = field(default_factory=list)  # entries written before the trail was sealed

    @property
    def events(self) -> int:
        return len(self.deleted.get("events", []))


def searched_indices(names: IndexNames) -> list[str]:
    """The indices searched for the person's documents: refreshed once before, so that what was
    written just before the erasure (an event, a change, an audit entry in clear) is found too.
    The audit's sealed entries need no finding (their keys go), but an entry that showed nobody
    keeps its query in clear: a record id pushed as deleted, a merged-away id asked for."""
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
        "changes": (names.changes, naming_customers(ids)),
        # Entries in clear: written before the trail was sealed (search.audit_seal), or showing nobody
        # with an id or a record id as their query. Sealed entries are forgotten by their keys.
        "audit": (names.audit, {"bool": {"should": [{"terms": {"customer_ids": ids}}, {"terms": {"query": [*ids, *record_ids]}}]}}),
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
    audit entries in clear (found.audit) pseudonymized. Sealed entries are not rewritten: their
    keys are deleted (search.audit_keys)."""
    for located in found.deleted.values():
        for index, doc_id in located:
            yield {"_op_type": "delete", "_index": index, "_id": doc_id}
    for index, doc_id in found.changes:
        yield {"_op_type": "update", "_index": index, "_id": doc_id, "doc": {"records": []}}
    for index, doc_id in found.audit:
        yield pseudonymized_entry(index, doc_id, ids, stand_in)


def unrefreshed_indices(names: IndexNames) -> set[str]:
    """The indices an erasure writes without refreshing them: no reader searches them without a
    refresh of its own, or their readers get documents by id (real time), so that the erasure's
    writes are seen by every reader the moment it answers.

    - keyring: the erasure deletes the audit keys of the customer's ids; the keyring is read by id
      (real time: the audit shipper, the erasure) or by token after a refresh (the trail's readers).
    - audit: sealed entries are not written (their keys go); entries in clear from before the seal
      are rewritten, and every reader refreshes first (search.audit.audit_entries, search.misuse,
      the export); the index refreshes every 60 s on its own (AUDIT_REFRESH);
    - changes: the feed's readers refresh first (search.changes.read_changes, the export, the
      erasure's own read);
    - redirects: an erased id's 410 is a real-time get of its `erased` marker, looked at before any
      merge redirect is followed (api.routes.customers._not_here, search.redirects.erased_among);
      the export's reads refresh first;
    - suppression list: a push checks it by real-time gets (lookup_refusal), an ingest run
      refreshes it before loading it (SuppressionList.load);
    - resolution state: the model and its count buckets are read by id; the debts are found by a
      scan after a refresh (search.resolve.term_frequencies).

    What is left refreshed: customers and records (the look-up, the type-ahead and a push's
    candidate search must not return the person), events (the 360 view's figures and segments),
    and the statements, possible matches, decisions, identity conflicts and profiles deleted.
    The record links are read by real-time gets and would need no refresh, but their deletions go
    in the request that deletes the records (and so are refreshed with them): sent a round trip
    earlier, they left the records standing without links, and a push in that window could
    resolve against those records and write a customer and links from them after the records
    went. In one request the window is the request's own, as it was before the split."""
    return {names.keyring, names.audit, names.changes, names.redirects, names.suppression, names.resolution_state}


def by_refresh(names: IndexNames, actions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The erasure's writes split in two bulk requests, each in the order given: those to the
    unrefreshed indices (write_unrefreshed, first: the suppression list first among them), then
    the others (write_refreshed)."""
    quiet = unrefreshed_indices(names)
    first = [a for a in actions if a["_index"] in quiet or _behind(a["_index"], quiet)]
    return first, [a for a in actions if not (a["_index"] in quiet or _behind(a["_index"], quiet))]


def _behind(index: str, aliases: set[str]) -> bool:
    """A concrete index behind one of the aliases (`<alias>-v<N>`, search.indices) — the audit's
    entries are found, and rewritten, in the index that holds them."""
    return any(index.startswith(f"{alias}-v") for alias in aliases)


def write_unrefreshed(client: OpenSearch, actions: list[dict[str, Any]]) -> list[str]:
    """One bulk request (a chunk per 5,000 actions) that refreshes nothing. Its failures are
    returned, not raised: the refreshed writes go all the same, as every action of one bulk would
    (write_refreshed raises them), and what failed is finished by a retry or the model's debt."""
    return _bulk(client, actions, refresh="false")


def write_refreshed(client: OpenSearch, actions: list[dict[str, Any]], failed_before: Sequence[str] = ()) -> None:
    """One bulk request (a chunk per 5,000 actions), each refreshing the shards it wrote to. A
    document already gone (deleted meanwhile, or a model never saved) is not an error; an action
    that failed, here or in `failed_before`, is (RuntimeError)."""
    failures = [*failed_before, *_bulk(client, actions, refresh="true")]
    if failures:
        raise RuntimeError(f"erasure: {len(failures)} writes failed, the first: {failures[0]}")


def _bulk(client: OpenSearch, actions: list[dict[str, Any]], refresh: str) -> list[str]:
    failures: list[str] = []
    if not actions:
        return failures
    for ok, item in streaming_bulk(client, actions, chunk_size=5000, max_retries=6, raise_on_error=False, refresh=refresh):
        operation, result = next(iter(item.items()))
        if not ok and result.get("status") != 404:
            failures.append(f"{operation} in {result.get('_index')}: {result.get('error')}")
    return failures
