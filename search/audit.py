"""The audit trail: every customer a caller sees is recorded — who, which role, when, which
customers (household members shown included), through which action and query — and so is every
look-up that found nothing, was refused or failed, and every record pushed, with its outcome.
Append-only: entries are created with ids of their own and never updated; the API offers no way
to change them."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import AsyncOpenSearch

from analyzers.index_settings import AUDIT_REFRESH
from search.indices import IndexNames, index_bodies, stamped

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


class AuditFailed(Exception):
    """The audit trail refused an entry: the look-up it records is not served."""


class AuditWriter:
    """Writes entries before the answers they record leave, with group commit: one bulk request
    is in flight at a time, the entries of look-ups arriving meanwhile wait and go together in the
    next one, and each look-up waits for its own entry to be acknowledged. Under load, batches
    grow instead of requests multiplying (each bulk costs the node a translog sync)."""

    max_batch = 1000

    def __init__(self, client: AsyncOpenSearch, names: IndexNames) -> None:
        self.client = client
        self.names = names
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, entry: AuditEntry) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(({**asdict(entry), "at": datetime.now(UTC).isoformat()}, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_batches())
        await future

    async def _write_batches(self) -> None:
        try:
            await asyncio.sleep(0)  # the look-ups already under way join the first batch
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    await self._write(batch)
                except Exception as error:  # noqa: BLE001 - every look-up of the batch gets the failure
                    for _document, future in batch:
                        if not future.done():
                            future.set_exception(error)
        finally:
            self._writer = None

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        body: list[dict[str, Any]] = []
        for document, _future in batch:
            body += [{"create": {"_index": self.names.audit}}, document]
        response = await self.client.bulk(body=body)
        for (_document, future), item in zip(batch, response["items"], strict=True):
            result = item["create"]
            if future.done():  # the look-up was cancelled (its client went away): nothing waits
                continue
            if result.get("status", 500) >= 300:
                future.set_exception(AuditFailed(str(result.get("error"))))
            else:
                future.set_result(None)


async def audit_entries(client: AsyncOpenSearch, names: IndexNames, customer_id: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest entries, for one customer or all, newest first (refreshed first: an auditor reads everything)."""
    await client.indices.refresh(index=names.audit, ignore_unavailable=True)
    query: dict[str, Any] = {"term": {"customer_ids": customer_id}} if customer_id else {"match_all": {}}
    response = await client.search(
        index=names.audit, body={"query": query, "sort": [{"at": "desc"}], "size": limit}, ignore_unavailable=True
    )
    return [hit["_source"] for hit in response["hits"]["hits"]]
