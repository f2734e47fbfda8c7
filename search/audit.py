"""The audit trail: every customer a caller sees is recorded — who, which role, when, which
customer, through which action and query. Append-only: entries are created with ids of their own
and never updated; the API offers no way to change them."""

from __future__ import annotations

import asyncio
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


class AuditFailed(Exception):
    """The audit trail refused an entry: the look-up it records is not served."""


class AuditWriter:
    """Writes entries before the answers they record leave, with group commit: the entries of
    look-ups running at the same moment go to OpenSearch in one bulk request, and each look-up
    waits for its own entry to be acknowledged."""

    def __init__(self, client: AsyncOpenSearch, names: IndexNames) -> None:
        self.client = client
        self.names = names
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flush: asyncio.Task[None] | None = None

    async def record(self, entry: AuditEntry) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(({**asdict(entry), "at": datetime.now(timezone.utc).isoformat()}, future))
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_batch())
        await future

    async def _flush_batch(self) -> None:
        await asyncio.sleep(0)  # the look-ups already under way join this batch
        batch, self._pending, self._flush = self._pending, [], None
        body: list[dict[str, Any]] = []
        for document, _future in batch:
            body += [{"create": {"_index": self.names.audit}}, document]
        try:
            response = await self.client.bulk(body=body)
        except Exception as error:  # noqa: BLE001 - every waiting look-up gets the failure
            for _document, future in batch:
                future.set_exception(error)
            return
        for (_document, future), item in zip(batch, response["items"], strict=True):
            result = item["create"]
            if result.get("status", 500) >= 300:
                future.set_exception(AuditFailed(str(result.get("error"))))
            else:
                future.set_result(None)


async def audit_entries(client: AsyncOpenSearch, names: IndexNames, customer_id: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest entries, for one customer or all, newest first (refreshed first: an auditor reads everything)."""
    await client.indices.refresh(index=names.audit, ignore_unavailable=True)
    query: dict[str, Any] = {"term": {"customer_ids": customer_id}} if customer_id else {"match_all": {}}
    response = await client.search(index=names.audit, body={"query": query, "sort": [{"at": "desc"}], "size": limit}, ignore_unavailable=True)
    return [hit["_source"] for hit in response["hits"]["hits"]]
