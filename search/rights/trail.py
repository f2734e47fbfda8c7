"""The audit trail seen from the customer's rights: entries written by the command line (an
operator's export or erasure), and entries about an erased customer pseudonymized — the fact that
something happened, who did it and when stay; the customer's id and what was typed go."""

from __future__ import annotations

import getpass
import hashlib
import hmac
from datetime import UTC, datetime

from opensearchpy import OpenSearch

from analyzers.index_settings import audit_index_body
from search.indices import IndexNames, ensure_versioned_index


def operator() -> str:
    """Who runs the command line: the system user, as the audit trail names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:  # no user name on this system (a container without passwd entry)
        return "cli:unknown"


def record_operator_action(client: OpenSearch, names: IndexNames, action: str, customer_ids: list[str]) -> None:
    """One audit entry for what an operator did from the command line, written before it returns."""
    ensure_versioned_index(client, names.audit, audit_index_body(names.layout.replicas))
    entry = {"at": datetime.now(UTC).isoformat(), "caller": operator(), "role": "operator", "action": action, "customer_ids": customer_ids}
    client.index(index=names.audit, body=entry, refresh=True)  # the audit index refreshes rarely: no waiting for it


def pseudonym(key: bytes, customer_id: str) -> str:
    """A stable stand-in for an erased customer id: the entries about one person stay countable
    together, and nobody without the key can tell whom they were about."""
    return "erased-" + hmac.new(key, f"customer:{customer_id}".encode(), hashlib.sha256).hexdigest()[:20]


def pseudonymize_entries(client: OpenSearch, names: IndexNames, customer_ids: list[str], record_ids: list[str], stand_in: str) -> int:
    """Replace `customer_ids` by `stand_in` in every audit entry naming them, or asking for one of
    `record_ids` (a record pushed or deleted), and drop the query typed (it may hold the person's
    name). Returns how many entries changed. Not refreshed after: the erasure refreshes what it
    touched at its end."""
    client.indices.refresh(index=names.audit, ignore_unavailable=True)
    response = client.update_by_query(
        index=names.audit,
        body={
            "query": {"bool": {"should": [{"terms": {"customer_ids": customer_ids}}, {"terms": {"query": [*customer_ids, *record_ids]}}]}},
            "script": {
                "lang": "painless",
                "source": "List kept = new ArrayList(); for (def id : ctx._source.customer_ids) { if (!params.ids.contains(id)) kept.add(id); }"
                " kept.add(params.stand_in); ctx._source.customer_ids = kept; ctx._source.remove('query');",
                "params": {"ids": customer_ids, "stand_in": stand_in},
            },
        },
        conflicts="proceed",
        slices="auto",
        ignore_unavailable=True,
    )
    return int(response.get("updated", 0))
