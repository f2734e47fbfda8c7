"""The audit trail seen from the customer's rights: entries written by the command line (an
operator's export or erasure), sealed like the API's (search.audit_seal), and entries written in
clear before the trail was sealed pseudonymized by an erasure — the fact that something happened,
who did it and when stay; the customer's id and what was typed go."""

from __future__ import annotations

import getpass
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from analyzers.index_settings import audit_index_body
from search.audit_keys import keys_for
from search.audit_seal import is_pseudonym, seal_entry
from search.indices import IndexNames, ensure_versioned_index, stamped


def operator() -> str:
    """Who runs the command line: the system user, as the audit trail names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:  # no user name on this system (a container without passwd entry)
        return "cli:unknown"


def record_operator_action(client: OpenSearch, names: IndexNames, action: str, customer_ids: list[str]) -> None:
    """One audit entry for what an operator did from the command line, written before it returns."""
    _ensure_audit_index(client, names)
    entry = {"at": datetime.now(UTC).isoformat(), "caller": operator(), "role": "operator", "action": action, "customer_ids": customer_ids}
    keys = keys_for(client, names, [c for c in customer_ids if not is_pseudonym(c)])
    client.index(index=names.audit, body=seal_entry(entry, keys, {}), refresh=True)  # the audit index refreshes rarely: no waiting for it


def _ensure_audit_index(client: OpenSearch, names: IndexNames) -> None:
    """The audit index, created, or given the fields added since it was (the sealed trail's tokens
    and queries, session 14): an audit index is never rebuilt for a new field, its entries stay."""
    if client.indices.exists(index=names.audit):
        client.indices.put_mapping(index=names.audit, body=stamped(audit_index_body(names.layout.replicas))["mappings"])
    else:
        ensure_versioned_index(client, names.audit, audit_index_body(names.layout.replicas))


def pseudonym(key: bytes, customer_id: str) -> str:
    """A stable stand-in for an erased customer id: the entries about one person stay countable
    together, and nobody without the key can tell whom they were about."""
    return "erased-" + hmac.new(key, f"customer:{customer_id}".encode(), hashlib.sha256).hexdigest()[:20]


# Replaces the customer's ids by its pseudonym in one audit entry and drops the query typed (it may
# hold the person's name): the fact, who and when stay.
_PSEUDONYMIZE_ENTRY = (
    "List kept = new ArrayList(); for (def id : ctx._source.customer_ids) { if (!params.ids.contains(id)) kept.add(id); }"
    " kept.add(params.stand_in); ctx._source.customer_ids = kept; ctx._source.remove('query');"
)


def pseudonymized_entry(index: str, entry_id: str, customer_ids: list[str], stand_in: str) -> dict[str, Any]:
    """The bulk action replacing `customer_ids` by `stand_in` in one audit entry naming them (or
    asking for one of their records) and dropping the query typed."""
    script = {"lang": "painless", "source": _PSEUDONYMIZE_ENTRY, "params": {"ids": customer_ids, "stand_in": stand_in}}
    return {"_op_type": "update", "_index": index, "_id": entry_id, "script": script, "retry_on_conflict": 5}
