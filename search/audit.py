"""The audit trail: every customer a caller sees is recorded — who, which role, when, which
customers (household members shown included), through which action and query — and so is every
look-up that found nothing, was refused or failed, and every record pushed, with its outcome.
Append-only: entries are created with ids of their own and never updated; the API offers no way
to change them. An entry is durable in the local journal before its answer leaves, and in the audit
index about a second later (settings.audit_ship_interval_s)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import AsyncOpenSearch

from analyzers.index_settings import AUDIT_REFRESH
from search.audit_journal import AuditFailed, AuditJournal
from search.audit_keys import async_keyring_by_token, async_keys_of, naming_query, own_keyring
from search.audit_seal import open_entry
from search.indices import IndexNames, index_bodies, stamped

__all__ = ["OUTCOMES", "AuditEntry", "AuditFailed", "AuditWriter", "audit_entries", "ensure_audit_index"]

OUTCOMES = {
    "found": "customers were shown",
    "nothing": "nothing was found",
    "refused": "the caller's role or key may not do what was asked",
    "error": "what was asked was not understood (a 422)",
    "redirected": "a merged-away customer id, sent on to its survivor",
}
"""Look-up outcomes; a record push records its ingest outcome (indexed, unchanged, stale, deleted) or `rejected`."""


@dataclass
class AuditEntry:
    caller: str
    role: str
    action: str  # search, card, customer, record, audit
    customer_ids: list[str]
    query: str | None = None
    outcome: str = "found"  # OUTCOMES, or a pushed record's ingest outcome


async def ensure_audit_index(client: AsyncOpenSearch, names: IndexNames) -> None:
    """The audit index behind its alias (`<audit>-v1` on first use), like every index rcu creates."""
    if not await client.indices.exists(index=names.audit):
        body = stamped(index_bodies(names)[names.audit])
        await client.indices.create(
            index=f"{names.audit}-v1", body={**body, "aliases": {names.audit: {"is_write_index": True}}}, ignore=[400]
        )
    else:
        await client.indices.put_settings(index=names.audit, body={"index": AUDIT_REFRESH})
        await client.indices.put_mapping(index=names.audit, body=index_bodies(names)[names.audit]["mappings"])  # fields added since


class AuditWriter:
    """Writes each entry to the local audit journal before the answer it records leaves: the
    look-up waits for the journal's group-commit fsync (search.audit_journal), and the shipper
    (search.audit_shipper) carries the entries to the audit index in the background."""

    def __init__(self, journal: AuditJournal, clock: Callable[[], datetime] | None = None) -> None:
        self.journal = journal
        # What stamps each entry (`at`): the wall clock; a test pins it to stay within one clock hour.
        self.clock = clock or utc_now

    async def record(self, entry: AuditEntry) -> None:
        await self.journal.append(entry_document(entry, self.clock()))


def utc_now() -> datetime:
    return datetime.now(UTC)


def entry_document(entry: AuditEntry, at: datetime) -> dict[str, Any]:
    """The audit index's document for `entry` (built field by field: dataclasses.asdict deep-copies,
    and this runs for every look-up)."""
    return {
        "caller": entry.caller,
        "role": entry.role,
        "action": entry.action,
        "customer_ids": entry.customer_ids,
        "query": entry.query,
        "outcome": entry.outcome,
        "at": at.isoformat(),
    }


async def audit_entries(client: AsyncOpenSearch, names: IndexNames, customer_id: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest entries, for one customer (its id, or an erased customer's pseudonym) or all,
    newest first (refreshed first: an auditor reads everything), opened (search.audit_seal): each
    token whose key exists back to its id, the query typed readable while a customer it showed is."""
    await client.indices.refresh(index=names.audit, ignore_unavailable=True)
    query: dict[str, Any] = {"match_all": {}}
    if customer_id:
        query = naming_query([customer_id], own_keyring(await async_keys_of(client, names, [customer_id])))
    response = await client.search(
        index=names.audit, body={"query": query, "sort": [{"at": "desc"}], "size": limit}, ignore_unavailable=True
    )
    documents = [hit["_source"] for hit in response["hits"]["hits"]]
    keyring = await async_keyring_by_token(client, names, (t for d in documents for t in d.get("customer_tokens") or []))
    return [open_entry(document, keyring) for document in documents]
