"""Ships the audit journal (search.audit_journal) to the audit index in the background.

At least once, nothing lost: entries are sent in bulk `create` requests under their journal ids, so
an entry sent twice (a crash between the bulk and the cursor's save) is kept once — the second
create answers 409, taken as shipped. The cursor moves only past entries the index acknowledged;
a failed bulk is sent again, later, from the same place. A segment the index holds entirely is
deleted. Slots left by a process that died are shipped first, then removed.

Entries about a customer erased in the meantime (by the CLI, or before a crash) are pseudonymized
on the way as `search.rights.trail` does for the entries already in the index: the customer's id
becomes its pseudonym and the query typed goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch

from search.audit_journal import AuditFailed, AuditJournal, JournalSlot, Position
from search.indices import IndexNames
from search.rights.trail import erased_marker, pseudonym

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippingLimits:
    batch_bytes: int  # journal bytes per bulk request
    interval_s: float  # least time between two bulks while entries keep coming
    retry_s: float  # wait after a failed bulk


class AuditShipper:
    """Sends each slot's entries from its cursor to what is durable, in order."""

    def __init__(
        self, journal: AuditJournal, client: AsyncOpenSearch, names: IndexNames, limits: ShippingLimits, suppression_key: bytes | None
    ) -> None:
        self.journal = journal
        self.client = client
        self.names = names
        self.limits = limits
        self.suppression_key = suppression_key
        self.orphans: list[JournalSlot] = []
        self.shipped_entries = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.orphans = self.journal.orphans()
        if self.orphans:
            log.info("audit_journal_replay slots=%s", len(self.orphans))
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await self.ship()
            except Exception as error:  # noqa: BLE001 - the node is away or busy: the journal keeps the entries
                log.warning("audit_ship_failed error=%s", type(error).__name__)
                await asyncio.sleep(self.limits.retry_s)
                continue
            await self.journal.written.wait()
            self.journal.written.clear()
            await asyncio.sleep(self.limits.interval_s)  # entries keep coming: the next bulk carries them all

    async def ship(self) -> int:
        """Ships everything durable now (the orphans' entries first); entries shipped."""
        async with self._lock:
            shipped = 0
            for slot in list(self.orphans):
                shipped += await self._ship_slot(slot, None)
                slot.remove()
                self.orphans.remove(slot)
            if self.journal.slot is not None:
                shipped += await self._ship_slot(self.journal.slot, self.journal.durable)
            self.shipped_entries += shipped
            return shipped

    async def flush(self, timeout_s: float) -> None:
        """Everything written so far is in the audit index on return (AuditFailed after `timeout_s`):
        what a reader of the trail in this process must see."""
        try:
            await asyncio.wait_for(self.ship(), timeout_s)
        except Exception as error:
            raise AuditFailed(f"the audit journal could not be shipped: {type(error).__name__}") from error

    async def stop(self, timeout_s: float) -> None:
        """Stops shipping after a last attempt; the process's slot goes if everything was shipped."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.wait_for(self.ship(), timeout_s)
        except Exception as error:  # noqa: BLE001 - the slot stays; the next process ships it
            log.warning("audit_ship_at_stop_failed error=%s", type(error).__name__)
            return
        finally:
            for slot in self.orphans:
                slot.release()
        if self.journal.slot is not None:
            self.journal.slot.remove()

    async def _ship_slot(self, slot: JournalSlot, durable: Position | None) -> int:
        """From the slot's cursor to `durable` (to the end of every segment for a dead process's slot)."""
        shipped = 0
        for segment in slot.segments():
            cursor = slot.cursor()
            if segment < cursor.segment:
                slot.path(segment).unlink(missing_ok=True)  # shipped before a crash, not yet deleted
                continue
            start = cursor.offset if segment == cursor.segment else 0
            end = durable.offset if durable is not None and segment == durable.segment else None
            with slot.path(segment).open("rb") as file:
                while True:
                    file.seek(start)
                    chunk = file.read(self.limits.batch_bytes if end is None else min(self.limits.batch_bytes, end - start))
                    complete = chunk[: chunk.rfind(b"\n") + 1]
                    if not complete:
                        break
                    shipped += await self._send(complete)
                    start += len(complete)
                    slot.save_cursor(Position(segment, start))
            if durable is not None and segment == durable.segment:
                break  # the segment being written: more comes
            slot.save_cursor(Position(segment + 1, 0))
            slot.path(segment).unlink(missing_ok=True)
        return shipped

    async def _send(self, lines: bytes) -> int:
        entries = []
        for line in lines.splitlines():
            try:
                entries.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                log.warning("audit_journal_unreadable_line bytes=%s", len(line))  # never the line: it holds personal data
        if not entries:
            return 0
        await self._pseudonymize_erased(entries)
        body: list[dict[str, Any]] = []
        for entry in entries:
            body += [{"create": {"_index": self.names.audit, "_id": entry.pop("id")}}, entry]
        response = await self.client.bulk(body=body)
        failed = [
            item["create"] for item in response["items"] if item["create"].get("status", 500) >= 300 and item["create"]["status"] != 409
        ]
        if failed:
            raise AuditFailed(f"{len(failed)} audit entries refused by the index: {failed[0].get('error', {}).get('type')}")
        return len(entries)

    async def _pseudonymize_erased(self, entries: list[dict[str, Any]]) -> None:
        ids = sorted({customer_id for entry in entries for customer_id in entry.get("customer_ids", [])})
        if not ids or self.suppression_key is None:  # no key, no erasure possible
            return
        response = await self.client.mget(index=self.names.redirects, body={"ids": [erased_marker(i) for i in ids]}, ignore=[404])
        stand_ins = {
            customer_id: doc["_source"].get("pseudonym") or pseudonym(self.suppression_key, customer_id)
            for customer_id, doc in zip(ids, response.get("docs", []), strict=True)
            if doc.get("found")
        }
        for entry in entries:
            named = [i for i in entry.get("customer_ids", []) if i in stand_ins]
            if named:
                kept = [i for i in entry["customer_ids"] if i not in stand_ins]
                entry["customer_ids"] = kept + sorted({stand_ins[i] for i in named})
                entry.pop("query", None)
