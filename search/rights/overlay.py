"""Where resolution meets the customer's rights: each customer document resolution writes gets its
consents and rectifications (search.rights.statements), and what changed goes to the change feed
(search.changes). Also rebuilds one customer in place after a statement, without re-clustering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from search.changes import append_changes, document_changes, previous_customers, redirect_changes, removed_changes
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.ids import Redirect
from search.resolve.store import customer_document, get_records, write_customers
from search.resolve.survivorship import golden_record
from search.rights.statements import overlay, statements_of

_CHUNK = 1000


class CustomerNotFound(LookupError):
    """No live customer has this id."""


def subject_changes(
    client: OpenSearch,
    names: IndexNames,
    documents: list[dict[str, Any]],
    members: list[list[dict[str, Any]]],
    removed: list[str],
    redirects: list[Redirect],
    everything: bool = False,
    stored: dict[str, dict[str, Any]] | None = None,
    statements: dict[str, list[dict[str, Any]]] | None = None,
    stored_ids: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Apply statements to the documents about to be written (in place) and return the changes
    they make to the stored customers, in order: merges and splits, then created, updated and
    consent changes, then customers gone. `everything`: a full run, all statements read at once
    (or given: `statements`, by record). `stored_ids`, when known, are the only customers that can
    be stored: the others are not asked for. Stored documents are read a chunk at a time, so a
    full run holds one chunk of them; `stored`: the caller read every stored customer concerned
    already (search.changes.COMPARED_FIELDS)."""
    if statements is not None:
        by_record = statements
    else:
        by_record = statements_of(client, names, None if everything else [r["record_id"] for group in members for r in group])
    pairs = [(r.old_id, r.new_id, r.kind) for r in redirects]
    ends = previous_customers(client, names, sorted(set(removed) | {old for old, _, _ in pairs} | {new for _, new, _ in pairs}), stored)
    changes = redirect_changes(pairs, {d["customer_id"]: d for d in documents}, ends)
    split_off = {new for _, new, kind in pairs if kind == "split"}
    for start in range(0, len(documents), _CHUNK):
        chunk = documents[start : start + _CHUNK]
        ids = [d["customer_id"] for d in chunk]
        previous = previous_customers(client, names, ids if stored_ids is None else [i for i in ids if i in stored_ids], stored)
        for document, group in zip(chunk, members[start : start + _CHUNK], strict=True):
            overlay(document, group, by_record, (previous.get(document["customer_id"]) or {}).get("consent_history"))
        changes += document_changes(chunk, previous, split_off)
    return changes + removed_changes(removed, ends, {old for old, _, kind in pairs if kind == "merge"})


def customer_records(client: OpenSearch, names: IndexNames, customer_id: str) -> list[str]:
    """The record ids of a live customer (real-time get); CustomerNotFound otherwise."""
    response = client.get(index=names.customers, id=customer_id, _source_includes=["records"], ignore=[404])
    if not response.get("found"):
        raise CustomerNotFound(customer_id)
    return list(response["_source"]["records"])


def rebuild_customer(client: OpenSearch, names: IndexNames, config: ResolutionConfig, customer_id: str) -> dict[str, Any]:
    """Rebuild one customer's document from its records and statements (after a consent or a
    rectification), write it, and tell the change feed. Its records stay where they are."""
    members = get_records(client, names, customer_records(client, names, customer_id))
    document = customer_document(customer_id, members, golden_record(members, config), datetime.now(UTC))
    changes = subject_changes(client, names, [document], [members], [], [])
    write_customers(client, names, [document], [], {}, [])
    client.indices.refresh(index=names.customers)
    append_changes(client, names, changes)
    return document
