"""The audit trail: every customer a caller sees is recorded — who, which role, when, which
customer, through which action and query. Append-only: entries are created with ids of their own
and never updated; the API offers no way to change them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from opensearchpy import AsyncOpenSearch

from search.indices import IndexNames

AUDIT_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "at": {"type": "date"},
        "caller": {"type": "keyword"},
        "role": {"type": "keyword"},
        "action": {"type": "keyword"},
        "customer_ids": {"type": "keyword"},
        "query": {"type": "keyword", "ignore_above": 512},
    },
}


@dataclass
class AuditEntry:
    caller: str
    role: str
    action: str  # search, card, customer, record
    customer_ids: list[str]
    query: str | None = None


async def ensure_audit_index(client: AsyncOpenSearch, names: IndexNames) -> None:
    if not await client.indices.exists(index=names.audit):
        await client.indices.create(
            index=names.audit, body={"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": AUDIT_MAPPINGS}, ignore=[400]
        )


async def record_access(client: AsyncOpenSearch, names: IndexNames, entry: AuditEntry) -> None:
    """Written before the answer leaves: a look-up that cannot be audited is not served."""
    document = {**asdict(entry), "at": datetime.now(timezone.utc).isoformat()}
    await client.index(index=names.audit, body=document, op_type="create")


async def audit_entries(client: AsyncOpenSearch, names: IndexNames, customer_id: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest entries, for one customer or all, newest first (refreshed first: an auditor reads everything)."""
    await client.indices.refresh(index=names.audit, ignore_unavailable=True)
    query: dict[str, Any] = {"term": {"customer_ids": customer_id}} if customer_id else {"match_all": {}}
    response = await client.search(index=names.audit, body={"query": query, "sort": [{"at": "desc"}], "size": limit}, ignore_unavailable=True)
    return [hit["_source"] for hit in response["hits"]["hits"]]
