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
import os
from dataclasses import dataclass

import orjson
from opensearchpy import AsyncOpenSearch

from search.audit_journal import AuditFailed, AuditJournal, JournalSlot, Position, split_line
from search.indices import IndexNames
from search.redirects import ERASED_MARKER
from search.rights.trail import pseudonym

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
        """One bulk request for `lines`, built from the journal's bytes as they are (no document is
        decoded unless erasures must be looked for): shipping costs the API little per entry."""
        entries = []
        for line in lines.splitlines():
            if (entry := split_line(line)) is not None:
                entries.append(entry)
            else:
                log.warning("audit_journal_unreadable_line bytes=%s", len(line))  # never the line: it holds personal data
        if not entries:
            return 0
        if self.suppression_key is not None:
            entries = await self._pseudonymize_erased(entries)
        index = orjson.dumps(self.names.audit)
        body = b"".join(b'{"create":{"_index":%s,"_id":"%s"}}\n%s\n' % (index, entry_id, document) for entry_id, document in entries)
        response = await self.client.bulk(body=body)
        refused = []
        for (entry_id, document), item in zip(entries, response["items"], strict=True):
            status = item["create"].get("status", 500)
            if status < 300 or status == 409:  # 409: shipped before (a replay)
                continue
            if status == 429 or status >= 500:
                raise AuditFailed(f"the audit index is busy or failing ({status})")
            refused.append((entry_id, document, item["create"].get("error", {}).get("type", "unknown")))
        if refused:
            self._keep_refused(refused)
        return len(entries)

    def _keep_refused(self, refused: list[tuple[bytes, bytes, str]]) -> None:
        """Entries the index refuses for good (a mapping it no longer accepts) would stop the
        shipper forever: they are kept aside in the journal folder, for an operator, and reported."""
        path = self.journal.folder / "refused.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, b"".join(b"%s %s\n" % (entry_id, document) for entry_id, document, _ in refused))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        log.error("audit_entries_refused count=%s error=%s kept_in=%s", len(refused), refused[0][2], path)

    async def _pseudonymize_erased(self, entries: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The entries naming a customer erased meanwhile, pseudonymized as the erasure did to the index."""
        assert self.suppression_key is not None
        documents = [orjson.loads(document) for _, document in entries]
        ids = sorted({customer_id for document in documents for customer_id in document.get("customer_ids") or []})
        if not ids:
            return entries
        response = await self.client.mget(index=self.names.redirects, body={"ids": [ERASED_MARKER.format(i) for i in ids]}, ignore=[404])
        stand_ins = {
            customer_id: doc["_source"].get("pseudonym") or pseudonym(self.suppression_key, customer_id)
            for customer_id, doc in zip(ids, response.get("docs", []), strict=True)
            if doc.get("found")
        }
        if not stand_ins:
            return entries
        changed = []
        for (entry_id, document), parsed in zip(entries, documents, strict=True):
            named = [i for i in parsed.get("customer_ids") or [] if i in stand_ins]
            if named:
                kept = [i for i in parsed["customer_ids"] if i not in stand_ins]
                parsed["customer_ids"] = kept + sorted({stand_ins[i] for i in named})
                parsed.pop("query", None)
                document = orjson.dumps(parsed)
            changed.append((entry_id, document))
        return changed
