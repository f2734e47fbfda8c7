"""Access and portability (GDPR art. 15 and 20): everything rcu holds about one customer, in one
document — every source record as received and normalized, the golden record with provenance,
consents and their history, what was stated through the API, the customer's history in the change
feed and its former ids, the possible matches involving it, and the audit trail of who looked at it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.audit_keys import keyring_by_token, keys_of, naming_query, own_keyring
from search.audit_seal import open_entry
from search.events.rights import events_of_records
from search.indices import IndexNames
from search.resolve.decision_rules import decisions_query
from search.rights.overlay import CustomerNotFound

EXPORT_FORMAT = "rcu-subject-export/1"


def _scan(client: OpenSearch, index: str, query: dict[str, Any], sort: str) -> list[dict[str, Any]]:
    if not client.indices.exists(index=index):
        return []
    client.indices.refresh(index=index)
    found = [hit["_source"] for hit in scan(client, index=index, query={"query": query}, size=2000)]
    return sorted(found, key=lambda document: document.get(sort) or "")


def former_ids(client: OpenSearch, names: IndexNames, customer_id: str) -> list[dict[str, Any]]:
    """Merges and splits that led to `customer_id`, followed back through merge chains."""
    events: list[dict[str, Any]] = []
    frontier, seen = [customer_id], {customer_id}
    while frontier:
        query = {"terms": {"new_id": frontier}}
        found = _scan(client, names.redirects, query, "at")
        events += found
        frontier = [e["old_id"] for e in found if e["old_id"] not in seen and e.get("kind") == "merge"]
        seen.update(frontier)
    return sorted(events, key=lambda e: e.get("at") or "")


def merged_ids(history: list[dict[str, Any]]) -> list[str]:
    """The ids merged into a customer (a split's other side is another, living customer)."""
    return [e["old_id"] for e in history if e.get("kind") == "merge"]


def naming(ids: list[str], record_ids: list[str], id_field: str, record_field: str) -> dict[str, Any]:
    """The query for documents naming any of the customer's ids or records."""
    return {"bool": {"should": [{"terms": {id_field: ids}}, {"terms": {record_field: record_ids}}]}}


def possible_matches_of(client: OpenSearch, names: IndexNames, ids: list[str], record_ids: list[str]) -> list[dict[str, Any]]:
    """The stored relations (search.resolve.possible_store) between the customer and another one
    that may be the same person, as the customer may read them: why, how probable, and which of its
    own records was compared, field by field (levels and weights, no values). The other side is
    someone else until a steward says otherwise: neither its customer id nor its record is shown."""
    relations = []
    for relation in _scan(client, names.possible_matches, naming(ids, record_ids, "customer_ids", "records"), "created_at"):
        explanation = relation.get("explanation") or {}
        relations.append(
            {
                "kind": relation["kind"],
                "probability": relation["probability"],
                "rule": relation.get("rule"),
                "reason": relation.get("reason"),
                "your_records": [r for r in relation.get("records", []) if r in record_ids],
                "fields": [{k: v for k, v in f.items() if k in ("field", "level", "weight_bits")} for f in explanation.get("fields", [])],
                "created_at": relation.get("created_at"),
                "updated_at": relation.get("updated_at"),
            }
        )
    return relations


def subject_export(client: OpenSearch, names: IndexNames, customer_id: str) -> dict[str, Any]:
    """The whole file of one customer (CustomerNotFound when there is none)."""
    response = client.get(index=names.customers, id=customer_id, ignore=[404])
    if not response.get("found"):
        raise CustomerNotFound(customer_id)
    customer = response["_source"]
    record_ids = customer.get("records", [])
    records = (
        [d["_source"] for d in client.mget(index=names.records, body={"ids": record_ids})["docs"] if d.get("found")] if record_ids else []
    )
    history = former_ids(client, names, customer_id)
    ids = sorted({customer_id, *merged_ids(history)})
    statements = _scan(client, names.subject_statements, naming(ids, record_ids, "customer_id", "record_ids"), "at")
    changes = _scan(client, names.changes, {"bool": {"should": [{"terms": {"customer_id": ids}}, {"terms": {"old_id": ids}}]}}, "seq")
    entries = _scan(client, names.audit, naming_query(ids, own_keyring(keys_of(client, names, ids))), "at")
    # The other customers' keys open the queries (each needs every shown customer's), never shown.
    keyring = keyring_by_token(client, names, (t for entry in entries for t in entry.get("customer_tokens") or []))
    audit = [
        # An entry of a look-up that showed several customers names only this one.
        {**opened, "customer_ids": [c for c in opened["customer_ids"] if c in ids]}
        for opened in (open_entry(entry, keyring) for entry in entries)
    ]
    return {
        "format": EXPORT_FORMAT,
        "customer_id": customer_id,
        "generated_at": datetime.now(UTC).isoformat(),
        "customer": customer,
        "records": records,
        "consents": {
            "decided": customer.get("consents", {}),
            "restricted": bool(customer.get("restricted")),
            "history": customer.get("consent_history", []),
        },
        "statements": statements,
        "former_ids": history,
        "changes": [{k: v for k, v in c.items()} for c in changes],
        "audit": audit,
        "events": events_of_records(client, names, record_ids),
        "possible_matches": possible_matches_of(client, names, ids, record_ids),
        # What data stewards decided about this customer: who, when, why, and what it did.
        "steward_decisions": _scan(client, names.decisions, decisions_query(ids, record_ids), "at"),
    }
