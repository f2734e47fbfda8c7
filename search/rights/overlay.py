"""Where resolution meets the customer's rights: each customer document resolution writes gets its
consents and rectifications (search.rights.statements), and what changed goes to the change feed
(search.changes). Also rebuilds one customer in place after a statement, without re-clustering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from search.changes import append_changes, customer_changes, previous_customers
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.ids import Redirect
from search.resolve.store import customer_document, get_records, write_customers
from search.resolve.survivorship import golden_record
from search.rights.statements import overlay, statements_of


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
) -> list[dict[str, Any]]:
    """Apply statements to the documents about to be written (in place) and return the changes
    they make to the stored customers. `everything`: a full run, all statements read at once."""
    record_ids = None if everything else [r["record_id"] for group in members for r in group]
    by_record = statements_of(client, names, record_ids)
    for document, group in zip(documents, members, strict=True):
        overlay(document, group, by_record)
    touched = sorted({d["customer_id"] for d in documents} | set(removed) | {r.old_id for r in redirects} | {r.new_id for r in redirects})
    previous = previous_customers(client, names, touched)
    return customer_changes(documents, previous, removed, [(r.old_id, r.new_id, r.kind) for r in redirects])


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
