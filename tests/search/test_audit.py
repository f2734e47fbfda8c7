"""The audit trail under concurrent look-ups (real node): every entry is written and acknowledged
before its look-up goes on, concurrent entries share bulk requests, and a look-up that goes away
(its client hung up) neither loses the others' entries nor stops the writer."""

from __future__ import annotations

import asyncio
from typing import Any

from opensearchpy import AsyncOpenSearch

from search.audit import AuditEntry, AuditWriter, audit_entries, ensure_audit_index
from search.client import async_client
from search.indices import IndexNames
from settings import Settings


class CountingWriter(AuditWriter):
    """The real writer, counting the bulk requests it sends."""

    bulks = 0

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        self.bulks += 1
        await super()._write(batch)


async def _entries_of(client: AsyncOpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    return await audit_entries(client, names, None, 1000)


def test_concurrent_look_ups_each_wait_for_their_entry_and_share_bulks(opensearch_settings: Settings, names: IndexNames) -> None:
    async def scenario() -> tuple[int, list[dict[str, Any]], int]:
        client = async_client(opensearch_settings)
        try:
            await ensure_audit_index(client, names)
            writer = CountingWriter(client, names)
            entries = [AuditEntry(f"agent-{n}", "counter", "search", [f"C{n:012d}"], f"dup{n}") for n in range(200)]
            await asyncio.gather(*(writer.record(entry) for entry in entries))
            return writer.bulks, await _entries_of(client, names), len(entries)
        finally:
            await client.close()

    bulks, written, sent = asyncio.run(scenario())
    assert sorted(e["customer_ids"][0] for e in written) == [f"C{n:012d}" for n in range(sent)]
    assert all(e["at"] and e["role"] == "counter" for e in written)
    assert bulks < sent / 10, f"{bulks} bulk requests for {sent} concurrent entries"


def test_a_look_up_gone_away_loses_no_other_entry(opensearch_settings: Settings, names: IndexNames) -> None:
    async def scenario() -> list[dict[str, Any]]:
        client = async_client(opensearch_settings)
        try:
            await ensure_audit_index(client, names)
            writer = AuditWriter(client, names)
            gone = asyncio.create_task(writer.record(AuditEntry("agent-gone", "counter", "search", ["C000000000001"], "dup")))
            staying = [
                asyncio.create_task(writer.record(AuditEntry(f"agent-{n}", "counter", "search", [f"C1{n:011d}"], "dup"))) for n in range(5)
            ]
            await asyncio.sleep(0)
            gone.cancel()  # its entry was queued; nobody waits for it any more
            await asyncio.wait_for(asyncio.gather(*staying), timeout=30)
            # The writer keeps working after the cancelled look-up.
            await asyncio.wait_for(writer.record(AuditEntry("agent-later", "counter", "card", ["C200000000000"], None)), timeout=30)
            return await _entries_of(client, names)
        finally:
            await client.close()

    callers = {e["caller"] for e in asyncio.run(scenario())}
    assert {f"agent-{n}" for n in range(5)} | {"agent-later"} <= callers
